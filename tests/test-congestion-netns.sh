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

here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns-test-common.sh"

# In an ASan build ~1 run in 4 fell under 25 fps.
netns_require "$sanitize" tc python3
netns_tbf_up pccc$$ 10.78 $cap_kbit peercam-cc

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
# What the caller offers the link, for the call's duration.
netns_sample_offered netns_before $(( $(date +%s) + duration )) >"$tmp/offered.txt" 2>/dev/null &
wire=$!
sleep "$duration"
wait "$wire" 2>/dev/null
netns_term "$ns_b" "$ns_a"
wait

PYTHONPATH="$here" python3 - "$tmp/caller.jsonl" "$tmp/viewer.jsonl" "$cap_kbit" "$tmp/offered.txt" "$start_wall" <<'EOF'
import sys
from netns_check import events, check, finish, wire_rates, sustained_over

caller, viewer, cap = events(sys.argv[1]), events(sys.argv[2]), float(sys.argv[3])
def connected_at(evs):
    return next((e["t_ms"] for e in evs if e.get("event") == "connected"), None)
tc, tv = connected_at(caller), connected_at(viewer)
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
start = float(sys.argv[5]) + tc / 1000.0 + 5.0
rates = wire_rates(sys.argv[4], start)
sustained = sustained_over(rates, cap * 1.1)
if rates:
    print("# offered on the wire after 5 s: %d 1-s rates, max %.0f kbit/s, mean %.0f kbit/s"
          % (len(rates), max(r for _, r in rates), sum(r for _, r in rates) / len(rates)))
check(len(rates) >= 10, "the wire was sampled (%d 1-s rates)" % len(rates))
check(not sustained, "the offered rate is never over the cap (+10 %) for over 1 s"
      + ("" if not sustained else " (%.0f kbit/s at %.1f s)" % (sustained[0][1], sustained[0][0] - start + 5)))
check(all(e["send_kbps"] >= cap * 0.3 for e in cs), "and uses the link (>= 30 % of it)")
finish()
EOF
netns_finish $? caller viewer
