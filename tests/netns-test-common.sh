# netns-test-common.sh — sourced by the tests that run calls across network
# namespaces of their own (congestion-netns, lossy-viewer-netns,
# remb-netns): the TAP skip, the checks every one of them makes first, the
# caller — router — viewer topology with a tbf cap that two of them use,
# and their small steps (waiting for an event line, stopping what runs in
# a namespace, the verdict with the stderr of a failure).
# Nothing here reaches beyond loopback and the namespaces the test makes.
#
# SPDX-License-Identifier: GPL-3.0-or-later

skip () {
  echo "1..0 # SKIP $*"
  exit 77
}

# netns_require SANITIZE [TOOL...]: skip in a sanitizer build (these are
# timing tests: there they would measure the sanitizer), without root
# (network namespaces), or when ip or a named tool is missing.
netns_require () {
  local sanitize=$1 tool
  shift
  [ "$sanitize" = none ] || skip "timing test: a $sanitize build measures the sanitizer"
  [ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces (CI runs as root)"
  for tool in ip "$@"; do
    command -v "$tool" >/dev/null || skip "$tool is missing"
  done
}

# netns_tbf_up TAG NET CAP_KBIT TMP_NAME: three namespaces of this test,
# $ns_a (the caller's side, NET.1.1) — $ns_m (the router, NET.1.2 and
# NET.2.2) — $ns_b (the viewer's side, NET.2.1), with `tbf rate CAP_KBIT
# burst 32kbit latency 100ms` on the router's egress towards the viewer
# (interface b1; the caller's side of the router is a1). Makes $tmp, and
# sets a trap that kills what runs in the namespaces, deletes them and
# $tmp (kept with KEEP_TMP=1) when the test exits.
netns_tbf_up () {
  local tag=$1 net=$2 cap_kbit=$3 ns pair
  ns_a=$tag-a ns_m=$tag-m ns_b=$tag-b
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/$4-XXXXXX")
  trap netns_tbf_down EXIT
  trap 'exit 1' INT TERM

  for ns in "$ns_a" "$ns_m" "$ns_b"; do
    ip netns add "$ns" || skip "cannot create a network namespace"
    ip -n "$ns" link set lo up
  done
  ip link add a0 netns "$ns_a" type veth peer name a1 netns "$ns_m" || skip "cannot create veth pairs"
  ip link add b0 netns "$ns_b" type veth peer name b1 netns "$ns_m"
  ip -n "$ns_a" addr add "$net.1.1/24" dev a0
  ip -n "$ns_m" addr add "$net.1.2/24" dev a1
  ip -n "$ns_m" addr add "$net.2.2/24" dev b1
  ip -n "$ns_b" addr add "$net.2.1/24" dev b0
  for pair in "$ns_a a0" "$ns_m a1" "$ns_m b1" "$ns_b b0"; do
    set -- $pair
    ip -n "$1" link set "$2" up
  done
  ip -n "$ns_a" route add default via "$net.1.2"
  ip -n "$ns_b" route add default via "$net.2.2"
  ip netns exec "$ns_m" sysctl -qw net.ipv4.ip_forward=1
  ip netns exec "$ns_m" tc qdisc add dev b1 root tbf rate "${cap_kbit}kbit" burst 32kbit latency 100ms \
    || skip "the kernel has no tbf qdisc"
  ip -n "$ns_a" route get "$net.2.1" >/dev/null || { echo "not ok 1 # no route across the router"; exit 1; }
}

netns_tbf_down () {
  local ns pid
  for ns in "$ns_a" "$ns_m" "$ns_b"; do
    # Only processes of this test live in its namespaces.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill -KILL "$pid" 2>/dev/null
    done
    ip netns delete "$ns" 2>/dev/null
  done
  [ -n "${KEEP_TMP:-}" ] && echo "# kept $tmp" || rm -rf "$tmp"
}

# netns_wait_for FILE PATTERN TENTHS: until a line of FILE matches PATTERN
# (grep), at most TENTHS tenths of a second; fails when none did.
netns_wait_for () {
  local _
  for _ in $(seq "$3"); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# netns_sample_offered COMMAND...: what the caller's side offers the link,
# on the wire: the router's receive counter on a1, every 250 ms, as lines
# "SECONDS BYTES" on stdout, for as long as COMMAND succeeds.
netns_sample_offered () {
  while "$@"; do
    printf '%s %s\n' "$(date +%s.%N)" \
      "$(ip netns exec "$ns_m" cat /sys/class/net/a1/statistics/rx_bytes)"
    sleep 0.25
  done
}

# netns_before EPOCH_SECONDS: succeeds until then.
netns_before () {
  [ "$(date +%s)" -lt "$1" ]
}

# netns_term NS...: SIGTERM to every process in those namespaces, in that
# order (a viewer first hangs up as a user's would, then its caller).
netns_term () {
  local ns pid
  for ns in "$@"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill -TERM "$pid" 2>/dev/null
    done
  done
}

# netns_finish STATUS NAME...: exits with STATUS, showing the last 20 lines
# of $tmp/NAME.err for each NAME first when it is a failure.
netns_finish () {
  local status=$1 name
  shift
  if [ "$status" -ne 0 ]; then
    for name in "$@"; do
      echo "# $name stderr:"
      tail -n 20 "$tmp/$name.err" | sed 's/^/#   /'
    done
  fi
  exit "$status"
}
