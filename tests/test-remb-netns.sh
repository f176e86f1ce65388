#!/usr/bin/env bash
# test-remb-netns.sh PEERCAM [SANITIZE] — an aiortc 1.4 caller, which adapts
# from REMB only, sends to a headless Peercam viewer across a 350 kbit/s
# bottleneck: three network namespaces of this test's own, caller
# (10.79.1.1, with the signalling server) — router — viewer (10.79.2.1),
# `tbf rate 350kbit burst 32kbit latency 100ms` on the router's egress
# towards the viewer. aiortc's encoder starts at 500 kbit/s (1.5x the cap)
# and only the viewer's REMB brings it down.
#
# Passes when the viewer's answer carries abs-send-time, aiortc gets REMB
# for its SSRC, after a settling time of 6 s no two 1-s wire rates 500 ms
# apart (aiortc's offered rate, counted on the router) are both over 1.1x
# the cap, and the viewer decodes >= 20 fps (mean of its 2 s windows after
# 6 s; none under 10). Then a Peercam caller calls a Peercam viewer across
# the same link for a few seconds: transport-cc, and the viewer (its debug
# log) sends no REMB. Exit status: 0 pass, 1 fail, 77 skip (not root, no
# tbf, no aiortc).
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -u

peercam=${1:?usage: test-remb-netns.sh PEERCAM [SANITIZE]}
sanitize=${2:-none}
duration=${PEERCAM_REMB_TEST_SECONDS:-20}
settle=6
cap_kbit=350
here=$(cd "$(dirname "$0")" && pwd)

. "$here/netns-test-common.sh"

netns_require "$sanitize" tc
/usr/bin/python3 -c 'import aiortc, av, socketio, aiohttp' 2>/dev/null \
  || skip "aiortc is missing: apt-get install python3-aiortc python3-av python3-socketio python3-aiohttp"
netns_tbf_up pcremb$$ 10.79 $cap_kbit peercam-remb

port=8092
url=http://10.79.1.1:$port
env XDG_DATA_HOME="$tmp/s" XDG_CONFIG_HOME="$tmp/s" GSETTINGS_BACKEND=memory \
  timeout --kill-after=5 $((duration + 70)) \
  ip netns exec "$ns_a" "$peercam" --host-only --events --port $port --bind 10.79.1.1 >"$tmp/server.jsonl" 2>"$tmp/server.err" &
netns_wait_for "$tmp/server.jsonl" '"hosting"' 50
start_wall=$(date +%s.%N)   # the viewer's t_ms counts from about here
env XDG_DATA_HOME="$tmp/b" XDG_CONFIG_HOME="$tmp/b" GSETTINGS_BACKEND=memory \
  timeout --kill-after=5 $((duration + 40)) \
  env G_MESSAGES_DEBUG=all ip netns exec "$ns_b" "$peercam" --headless --events --room aiortc --viewer \
    --server $url --ice-address 10.79.2.1 >"$tmp/viewer.jsonl" 2>"$tmp/viewer.err" &
viewer=$!
netns_wait_for "$tmp/viewer.jsonl" '"joined"' 100
# What aiortc offers the link, until aiortc is done.
timeout --kill-after=5 $((duration + 35)) \
  ip netns exec "$ns_a" env PYTHONPATH="$here/interop" "$here/interop/aiortc-remb.py" $url 10.79.1.1 "$duration" \
  >"$tmp/aiortc.jsonl" 2>"$tmp/aiortc.err" &
aiortc=$!
netns_sample_offered kill -0 $aiortc >"$tmp/offered.txt" 2>/dev/null &
wire=$!
wait $aiortc
aiortc_status=$?
wait "$wire" 2>/dev/null
kill -TERM $viewer 2>/dev/null
wait $viewer

# A Peercam caller and viewer across the same link: no REMB.
p2p=${PEERCAM_REMB_TEST_P2P_SECONDS:-8}
env XDG_DATA_HOME="$tmp/b2" XDG_CONFIG_HOME="$tmp/b2" GSETTINGS_BACKEND=memory \
  timeout --kill-after=5 $((p2p + 20)) \
  env G_MESSAGES_DEBUG=all ip netns exec "$ns_b" "$peercam" --headless --events --room cc --viewer \
    --server $url --ice-address 10.79.2.1 >"$tmp/p2p-viewer.jsonl" 2>"$tmp/p2p-viewer.err" &
p2p_viewer=$!
netns_wait_for "$tmp/p2p-viewer.jsonl" '"joined"' 100
env XDG_DATA_HOME="$tmp/a2" XDG_CONFIG_HOME="$tmp/a2" GSETTINGS_BACKEND=memory \
  timeout --kill-after=5 $((p2p + 20)) \
  ip netns exec "$ns_a" "$peercam" --headless --events --room cc --caller --source test --call \
    --server $url --ice-address 10.79.1.1 >"$tmp/p2p-caller.jsonl" 2>"$tmp/p2p-caller.err" &
netns_wait_for "$tmp/p2p-viewer.jsonl" '"first-frame"' $((p2p * 10 + 100))
sleep "$p2p"
kill -TERM $p2p_viewer 2>/dev/null
netns_term "$ns_b" "$ns_a"
wait

PYTHONPATH="$here" python3 - "$tmp/aiortc.jsonl" "$tmp/viewer.jsonl" "$cap_kbit" "$tmp/offered.txt" "$start_wall" "$settle" "$aiortc_status" \
  "$tmp/p2p-viewer.jsonl" <<'EOF'
import sys
from netns_check import events, check, finish, wire_rates, sustained_over

caller, viewer, cap, settle = events(sys.argv[1]), events(sys.argv[2]), float(sys.argv[3]), float(sys.argv[6])
offer = next((e["offer"] for e in caller if "offer" in e), [])
answer = next((e["answer"] for e in caller if "answer" in e), [])
print("# aiortc's offer (video): " + " | ".join(offer))
print("# Peercam's answer (video): " + " | ".join(answer))
connected = next((e["connected"] for e in caller if "connected" in e), None)
tv = next((e["t_ms"] for e in viewer if e.get("event") == "connected"), None)
check(sys.argv[7] == "0" and connected is not None and tv is not None, "aiortc and the viewer connected")
if connected is None or tv is None:
    sys.exit(1)
check(any("abs-send-time" in l for l in answer), "the viewer answers abs-send-time")
ticks = [e for e in caller if "t" in e]
for e in ticks:
    print("# aiortc t=%.0fs encoder target %s kbit/s, %d REMB so far (last %.0f kbit/s)"
          % (e["t"], (e["target"] or 0) // 1000, e["rembs"], e["remb_bps"] / 1000))
vs = [e for e in viewer if e.get("event") == "stats" and e["t_ms"] - tv >= settle * 1000]
for e in vs:
    print("# viewer t=%.1fs %.1f fps %.0f kbit/s %sx%s latency %s ms loss %.1f%%"
          % ((e["t_ms"] - tv) / 1000, e["fps"], e["kbps"], e["width"], e["height"],
             e.get("latency_ms"), e.get("loss_pct", -1)))
rembs = ticks[-1]["rembs"] if ticks else 0
seconds = ticks[-1]["t"] if ticks else 0
check(rembs >= seconds * 0.8, "aiortc got REMB for its stream, about once a second or more (%d in %.0f s)" % (rembs, seconds))
start = connected + settle
rates = wire_rates(sys.argv[4], start)
sustained = sustained_over(rates, cap * 1.1)
if rates:
    print("# offered on the wire after %.0f s: %d 1-s rates, max %.0f kbit/s, mean %.0f kbit/s, %d over 1.1x the cap"
          % (settle, len(rates), max(r for _, r in rates), sum(r for _, r in rates) / len(rates),
             sum(1 for _, r in rates if r > cap * 1.1)))
check(len(rates) >= 20, "the wire was sampled (%d 1-s rates)" % len(rates))
check(not sustained, "aiortc's offered rate is never over the cap (+10 %%) for over 1 s after %.0f s" % settle
      + ("" if not sustained else " (%.0f kbit/s at %.1f s)" % (sustained[0][1], sustained[0][0] - connected)))
check(bool(rates) and sum(r for _, r in rates) / len(rates) >= cap * 0.5, "and uses the link (>= 50 % of it)")
mean_fps = sum(e["fps"] for e in vs) / max(len(vs), 1)
print("# viewer mean after %.0f s: %.1f fps, lowest 2 s window %.1f" % (settle, mean_fps, min((e["fps"] for e in vs), default=0)))
check(len(vs) >= 4, "viewer stats after %.0f s" % settle)
check(mean_fps >= 20, "the viewer decodes >= 20 fps (mean of the 2 s windows)")
check(all(e["fps"] >= 10 for e in vs), "and never freezes for long (every 2 s window >= 10 fps)")
log = open(sys.argv[2], errors="replace").read()
check("the caller adapts from REMB only" in log and "congestion: REMB " in log,
      "the viewer's log says it estimates and sends REMB")

# Peercam to Peercam: transport-cc, no REMB from the viewer.
log = open(sys.argv[8], errors="replace").read()
p2p = events(sys.argv[8])
check(any(e.get("event") == "first-frame" for e in p2p), "a Peercam caller's frames reach the Peercam viewer")
check("congestion: " in log, "that viewer's debug log has its congestion controller's lines")
check("adapts from REMB" not in log and "congestion: REMB " not in log,
      "and that viewer sends no REMB (its debug log)")
finish()
EOF
netns_finish $? aiortc viewer
