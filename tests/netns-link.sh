#!/usr/bin/env bash
# netns-link.sh — an impaired link between two network namespaces, for
# benchmarks (tools/bench network) and short CI tests. Needs root.
#
#   netns-link.sh start NAME NETEM [--delay MS] [--jitter MS] [--loss PCT]
#                                  [--ab D,J,L] [--ba D,J,L] [--rate KBIT]
#                                  [--seed N] [--timeout S]
#   netns-link.sh rate  NAME KBIT|none     # tc qdisc change, mid-call
#   netns-link.sh stop  NAME               # kill everything inside, delete
#   netns-link.sh stats NAME               # the forwarder's last counters
#
# start creates three namespaces, NAME-a (sender side, 10.77.0.1/24 on
# veth0), NAME-b (receiver side, 10.77.0.2/24 on veth0) and NAME-m between
# them, where NETEM (bench/peercam-netem) copies frames between its ends
# "side-a" and "side-b" with the delay/jitter/loss ("ab" is a → b, the sender's direction;
# --delay/--jitter/--loss set both). --rate puts `tbf rate KBIT burst 32kbit
# latency 100ms` on NAME-m's egress towards the receiver (dev side-b). Nothing is
# created in the caller's namespace; no address outside 10.77.0.0/24 exists
# in them. Neighbours are static, so ARP is neither delayed nor lost.
#
# The forwarder prints its counters every 500 ms into $STATE/stats.jsonl
# (STATE=${TMPDIR:-/tmp}/peercam-netns-NAME); it exits by itself after
# --timeout S (default 3600), so even a crashed caller leaves nothing running
# for long, and stop always removes the namespaces.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -u

usage () {
  sed -n '3,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

cmd=${1:-}
name=${2:-}
[ -n "$cmd" ] && [ -n "$name" ] || usage
case "$name" in *[!a-z0-9-]*|'') echo "netns-link: NAME must be [a-z0-9-]" >&2; exit 2 ;; esac
[ ${#name} -le 40 ] || { echo "netns-link: NAME too long" >&2; exit 2; }
shift 2
state=${TMPDIR:-/tmp}/peercam-netns-$name
ns_a=$name-a ns_b=$name-b ns_m=$name-m
addr_a=10.77.0.1 addr_b=10.77.0.2

tbf_args () {
  echo "tbf rate ${1}kbit burst 32kbit latency 100ms"
}

link_stop () {
  local ns pid
  for ns in "$ns_a" "$ns_b" "$ns_m"; do
    # Only processes started for this link live in its namespaces.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill -TERM "$pid" 2>/dev/null
    done
  done
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    [ -z "$(for ns in "$ns_a" "$ns_b" "$ns_m"; do ip netns pids "$ns" 2>/dev/null; done)" ] && break
    sleep 0.2
  done
  for ns in "$ns_a" "$ns_b" "$ns_m"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill -KILL "$pid" 2>/dev/null
    done
    ip netns delete "$ns" 2>/dev/null
  done
  rm -rf "$state"
  return 0
}

link_start () {
  local netem=${1:-}
  [ -n "$netem" ] && [ -x "$netem" ] || { echo "netns-link: NETEM binary missing: $netem" >&2; exit 2; }
  shift
  local rate="" timeout=3600 fwd=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --delay|--jitter|--loss|--ab|--ba|--seed) [ $# -ge 2 ] || usage; fwd+=("$1" "$2"); shift 2 ;;
      --rate) [ $# -ge 2 ] || usage; rate=$2; shift 2 ;;
      --timeout) [ $# -ge 2 ] || usage; timeout=$2; shift 2 ;;
      *) usage ;;
    esac
  done
  [ "$(id -u)" -eq 0 ] || { echo "netns-link: needs root (ip netns)" >&2; exit 77; }
  link_stop    # leftovers of an earlier run with this name

  # Any failed step removes what the earlier ones made.
  trap 'echo "netns-link: setup failed at line $LINENO" >&2; link_stop; exit 1' ERR
  set -E
  mkdir -p "$state"
  for ns in "$ns_a" "$ns_b" "$ns_m"; do
    ip netns add "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
  done
  ip -n "$ns_m" link add name side-a type veth peer name veth0 netns "$ns_a"
  ip -n "$ns_m" link add name side-b type veth peer name veth0 netns "$ns_b"
  ip -n "$ns_a" addr add "$addr_a/24" dev veth0
  ip -n "$ns_b" addr add "$addr_b/24" dev veth0
  for dev in side-a side-b; do ip -n "$ns_m" link set "$dev" up; done
  ip -n "$ns_a" link set veth0 up
  ip -n "$ns_b" link set veth0 up
  mac_a=$(ip netns exec "$ns_a" cat /sys/class/net/veth0/address)
  mac_b=$(ip netns exec "$ns_b" cat /sys/class/net/veth0/address)
  ip -n "$ns_a" neigh replace "$addr_b" lladdr "$mac_b" dev veth0 nud permanent
  ip -n "$ns_b" neigh replace "$addr_a" lladdr "$mac_a" dev veth0 nud permanent
  if [ -n "$rate" ] && [ "$rate" != none ]; then
    # shellcheck disable=SC2046
    tc -n "$ns_m" qdisc add dev side-b root $(tbf_args "$rate")
  fi
  trap - ERR

  ip netns exec "$ns_m" "$netem" --a side-a --b side-b --stats-ms 500 --timeout "$timeout" "${fwd[@]}" \
    >"$state/stats.jsonl" 2>"$state/netem.log" &
  echo $! >"$state/netem.pid"
  # Ready when it has bound both sockets and printed its first counters.
  for _ in $(seq 50); do
    [ -s "$state/stats.jsonl" ] && break
    if ! kill -0 "$(cat "$state/netem.pid")" 2>/dev/null; then
      echo "netns-link: the forwarder died: $(cat "$state/netem.log")" >&2
      link_stop
      exit 1
    fi
    sleep 0.1
  done
  [ -s "$state/stats.jsonl" ] || { echo "netns-link: the forwarder never reported" >&2; link_stop; exit 1; }
  cat "$state/netem.log" >&2
  echo "netns-link: $ns_a ($addr_a) ⇄ $ns_m ⇄ $ns_b ($addr_b)${rate:+, tbf $rate kbit towards $ns_b}"
}

link_rate () {
  local rate=${1:-}
  [ -n "$rate" ] || usage
  if [ "$rate" = none ]; then
    tc -n "$ns_m" qdisc del dev side-b root 2>/dev/null
    return 0
  fi
  # shellcheck disable=SC2046
  tc -n "$ns_m" qdisc change dev side-b root $(tbf_args "$rate") 2>/dev/null ||
    tc -n "$ns_m" qdisc add dev side-b root $(tbf_args "$rate")
}

case "$cmd" in
  start) link_start "$@" ;;
  stop)  link_stop ;;
  rate)  link_rate "$@" ;;
  stats) tail -n 1 "$state/stats.jsonl" ;;
  *) usage ;;
esac
