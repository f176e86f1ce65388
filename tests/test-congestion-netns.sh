#!/usr/bin/env bash
# test-congestion-netns.sh PEERCAM — a headless caller and viewer across a
# 1 Mbit/s bottleneck (issue 11): three network namespaces of this test's own,
# caller (10.78.1.1) — router — viewer (10.78.2.1), with
# `tbf rate 1mbit burst 32kbit latency 100ms` on the router's egress towards
# the viewer. The caller sends 1280x720@30 (the engine's default), which
# wants ~2.6 Mbit/s, so only congestion control keeps the video flowing.
#
# Passes when, after 5 s, the viewer decodes >= 25 fps (the mean of its 2 s
# stats windows; none below 15) and the caller's send rate has come under
# the cap (<= 1.1 Mbit/s) and stays there. (An AIMD probe past the cap can
# still cost one window a few frames: ~1 run in 10 dipped to 23 fps.) Exit status: 0 pass, 1 fail, 77 skip (not root, no tbf).
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -u

peercam=${1:?usage: test-congestion-netns.sh PEERCAM [SANITIZE]}
sanitize=${2:-none}
duration=${PEERCAM_CC_TEST_SECONDS:-16}
cap_kbit=1000

skip () {
  echo "1..0 # SKIP $*"
  exit 77
}

[ "$sanitize" = none ] || skip "timing test: a $sanitize build measures the sanitizer (~1 run in 4 fell under 25 fps)"
[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces (CI runs as root)"
command -v ip >/dev/null || skip "ip (iproute2) is missing"
command -v tc >/dev/null || skip "tc (iproute2) is missing"
command -v python3 >/dev/null || skip "python3 is missing"

tag=pccc$$
ns_a=$tag-a ns_m=$tag-m ns_b=$tag-b
tmp=$(mktemp -d "${TMPDIR:-/tmp}/peercam-cc-XXXXXX")

cleanup () {
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
trap cleanup EXIT
trap 'exit 1' INT TERM

for ns in "$ns_a" "$ns_m" "$ns_b"; do
  ip netns add "$ns" || skip "cannot create a network namespace"
  ip -n "$ns" link set lo up
done
ip link add a0 netns "$ns_a" type veth peer name a1 netns "$ns_m" || skip "cannot create veth pairs"
ip link add b0 netns "$ns_b" type veth peer name b1 netns "$ns_m"
ip -n "$ns_a" addr add 10.78.1.1/24 dev a0
ip -n "$ns_m" addr add 10.78.1.2/24 dev a1
ip -n "$ns_m" addr add 10.78.2.2/24 dev b1
ip -n "$ns_b" addr add 10.78.2.1/24 dev b0
for pair in "$ns_a a0" "$ns_m a1" "$ns_m b1" "$ns_b b0"; do
  set -- $pair
  ip -n "$1" link set "$2" up
done
ip -n "$ns_a" route add default via 10.78.1.2
ip -n "$ns_b" route add default via 10.78.2.2
ip netns exec "$ns_m" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$ns_m" tc qdisc add dev b1 root tbf rate ${cap_kbit}kbit burst 32kbit latency 100ms \
  || skip "the kernel has no tbf qdisc"
ip -n "$ns_a" route get 10.78.2.1 >/dev/null || { echo "not ok 1 # no route across the router"; exit 1; }

port=8090
common=(--headless --events --room cc)
start_wall=$(date +%s.%N)   # the caller's t_ms counts from about here
env XDG_DATA_HOME="$tmp/a" XDG_CONFIG_HOME="$tmp/a" GSETTINGS_BACKEND=memory \
  timeout --kill-after=5 $((duration + 10)) \
  env G_MESSAGES_DEBUG=${CC_DEBUG:-} ip netns exec "$ns_a" "$peercam" "${common[@]}" --caller --source test --call \
    --port $port --bind 10.78.1.1 --server http://10.78.1.1:$port --ice-address 10.78.1.1 >"$tmp/caller.jsonl" 2>"$tmp/caller.err" &
sleep 1
env XDG_DATA_HOME="$tmp/b" XDG_CONFIG_HOME="$tmp/b" GSETTINGS_BACKEND=memory \
  timeout --kill-after=5 $((duration + 8)) \
  ip netns exec "$ns_b" "$peercam" "${common[@]}" --viewer --server http://10.78.1.1:$port \
    --ice-address 10.78.2.1 >"$tmp/viewer.jsonl" 2>"$tmp/viewer.err" &
# What the caller offers the link, on the wire: the router's receive counter
# on the caller's side, every 250 ms ("SECONDS BYTES").
(
  end=$(( $(date +%s) + duration ))
  while [ "$(date +%s)" -lt "$end" ]; do
    printf '%s %s\n' "$(date +%s.%N)" \
      "$(ip netns exec "$ns_m" cat /sys/class/net/a1/statistics/rx_bytes)"
    sleep 0.25
  done
) >"$tmp/offered.txt" 2>/dev/null &
wire=$!
sleep "$duration"
wait "$wire" 2>/dev/null
for ns in "$ns_b" "$ns_a"; do
  for pid in $(ip netns pids "$ns" 2>/dev/null); do
    kill -TERM "$pid" 2>/dev/null
  done
done
wait

python3 - "$tmp/caller.jsonl" "$tmp/viewer.jsonl" "$cap_kbit" "$tmp/offered.txt" "$start_wall" <<'EOF'
import json, sys

def events(path):
    out = []
    for line in open(path):
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out

caller, viewer, cap = events(sys.argv[1]), events(sys.argv[2]), float(sys.argv[3])
def connected_at(evs):
    return next((e["t_ms"] for e in evs if e.get("event") == "connected"), None)
tc, tv = connected_at(caller), connected_at(viewer)
ok = True
def check(cond, what):
    global ok
    print(("ok - " if cond else "not ok - ") + what)
    ok = ok and cond
check(tc is not None and tv is not None, "both sides connected")
if tc is None or tv is None:
    sys.exit(1)
cs = [e for e in caller if e.get("event") == "stats" and e["t_ms"] - tc >= 5000]
vs = [e for e in viewer if e.get("event") == "stats" and e["t_ms"] - tv >= 5000]
for e in cs:
    print("# caller t=%.1fs estimate %s kbit/s, send %.0f kbit/s %sx%s@%.0f, loss %.1f%%, rtx %s"
          % ((e["t_ms"] - tc) / 1000, e.get("estimate_kbps"), e.get("send_kbps", -1),
             e.get("send_width"), e.get("send_height"), e.get("send_fps", -1),
             e.get("loss_pct", -1), e.get("retransmissions")))
for e in vs:
    print("# viewer t=%.1fs %.1f fps %.0f kbit/s %sx%s latency %s ms loss %.1f%%"
          % ((e["t_ms"] - tv) / 1000, e["fps"], e["kbps"], e["width"], e["height"],
             e.get("latency_ms"), e.get("loss_pct", -1)))
check(len(cs) >= 2 and len(vs) >= 2, "stats after 5 s from both sides")
check(all("estimate_kbps" in e and "send_kbps" in e for e in cs), "the caller reports its estimate")
mean_fps = sum(e["fps"] for e in vs) / max(len(vs), 1)
print("# viewer mean after 5 s: %.1f fps" % mean_fps)
check(mean_fps >= 25, "the viewer decodes >= 25 fps after 5 s (mean of the 2 s windows)")
check(all(e["fps"] >= 15 for e in vs), "and never freezes for long (every 2 s window >= 15 fps)")
# The estimate itself may run ahead of an encoder that sends less than it
# is allowed (application-limited, as in libwebrtc): only sanity here.
check(all(e["estimate_kbps"] <= cap * 1.5 for e in cs), "the estimate stays near the cap")
# Issue 11's target, on the wire: the offered rate is never over the cap by
# more than 10 % for over 1 s, i.e. no two 1-s rates 500 ms apart both over
# (as tools/bench network judges it). The caller's own send_kbps is a 500 ms
# window: a keyframe or a probe cluster may pass 1.1x there, as paced
# senders do (libwebrtc drains its queue at 2.5x the estimate).
samples = []
for line in open(sys.argv[4]):
    try:
        t, b = line.split()
        samples.append((float(t), int(b)))
    except ValueError:
        pass
start = float(sys.argv[5]) + tc / 1000.0 + 5.0
rates = []  # (end time, kbit/s over the second before it)
for i, (t, b) in enumerate(samples):
    earlier = [k for k in range(i) if samples[k][0] <= t - 0.95]
    if t < start + 1.0 or not earlier:
        continue
    t0, b0 = samples[earlier[-1]]
    rates.append((t, (b - b0) * 8 / 1000.0 / (t - t0)))
# A run of consecutive 1-s rates all over 1.1x the cap whose ends span
# 0.5 s or more: over for 1.5 s at least.
sustained, run = [], []
for t, r in rates + [(float("inf"), 0.0)]:
    if r > cap * 1.1:
        run.append((t, r))
        continue
    if run and run[-1][0] - run[0][0] >= 0.5:
        sustained.append(max(run, key=lambda x: x[1]))
    run = []
if rates:
    print("# offered on the wire after 5 s: %d 1-s rates, max %.0f kbit/s, mean %.0f kbit/s"
          % (len(rates), max(r for _, r in rates), sum(r for _, r in rates) / len(rates)))
check(len(rates) >= 10, "the wire was sampled (%d 1-s rates)" % len(rates))
check(not sustained, "the offered rate is never over the cap (+10 %) for over 1 s"
      + ("" if not sustained else " (%.0f kbit/s at %.1f s)" % (sustained[0][1], sustained[0][0] - start + 5)))
check(all(e["send_kbps"] >= cap * 0.3 for e in cs), "and uses the link (>= 30 % of it)")
sys.exit(0 if ok else 1)
EOF
status=$?
if [ $status -ne 0 ]; then
  echo "# caller stderr:"; tail -n 20 "$tmp/caller.err" | sed 's/^/#   /'
  echo "# viewer stderr:"; tail -n 20 "$tmp/viewer.err" | sed 's/^/#   /'
fi
exit $status
