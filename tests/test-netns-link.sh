#!/usr/bin/env bash
# test-netns-link.sh NETEM — tests/netns-link.sh and bench/peercam-netem end
# to end: a 30 ms + 10 ms delay gives a ~40 ms UDP round trip, a tbf cap of
# 1000 kbit/s holds a TCP stream under it, a mid-call change to 400 kbit/s
# takes effect, and stop leaves no namespace behind. Needs root (skip 77).
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
netem=${1:?usage: test-netns-link.sh NETEM}
here=$(cd "$(dirname "$0")" && pwd)
name=pcl-$$

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root for network namespaces"; exit 77; }
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is missing"; exit 77; }
trap '"$here/netns-link.sh" stop "$name"' EXIT
trap 'exit 1' INT TERM

echo "1..4"
"$here/netns-link.sh" start "$name" "$netem" --ab 30,0,0 --ba 10,0,0 --rate 1000 --timeout 60 >/dev/null ||
  { echo "not ok 1 start"; exit 1; }

# probe.py MODE: a UDP round trip (median ms) or TCP goodput (kbit/s over S s).
probe () {
  timeout 20 ip netns exec "$name-$1" python3 - "${@:2}" <<'PY'
import socket, sys, time
mode = sys.argv[1]
if mode == 'echo':
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('10.77.0.2', 9000)); s.settimeout(1.5)
    try:
        while True:
            d, a = s.recvfrom(2000); s.sendto(d, a)
    except socket.timeout: pass
elif mode == 'ping':
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1); rtts = []
    for i in range(20):
        t = time.monotonic(); s.sendto(b'x' * 100, ('10.77.0.2', 9000))
        try: s.recvfrom(2000); rtts.append((time.monotonic() - t) * 1000)
        except socket.timeout: pass
        time.sleep(0.02)
    rtts.sort(); print('%.1f' % (rtts[len(rtts) // 2] if rtts else -1))
elif mode == 'sink':
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('10.77.0.2', 9001)); s.listen(1); s.settimeout(10); c, _ = s.accept(); n = 0; t0 = None
    while True:
        d = c.recv(65536)
        if not d: break
        if t0 is None: t0 = time.monotonic()
        n += len(d)
    print('%.0f' % (n * 8 / 1000 / (time.monotonic() - t0)))
elif mode == 'blast':
    # The sink starts in its own python at the same time: on a loaded
    # machine it may not listen yet, so retry a refused connect for 5 s.
    deadline = time.monotonic() + 5
    while True:
        try: c = socket.create_connection(('10.77.0.2', 9001), timeout=5); break
        except ConnectionRefusedError:
            if time.monotonic() > deadline: raise
            time.sleep(0.05)
    end = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < end: c.send(b'y' * 16384)
    c.close()
PY
}

check () {   # check N WHAT VALUE MIN MAX
  if awk -v v="$3" -v lo="$4" -v hi="$5" 'BEGIN { exit !(v >= lo && v <= hi) }'; then
    echo "ok $1 $2: $3 (expected $4..$5)"
  else
    echo "not ok $1 $2: $3 (expected $4..$5)"; failed=1
  fi
}
failed=0

probe b echo & sleep 0.3
check 1 "UDP round trip ms" "$(probe a ping)" 39 48
wait

goodput () {
  probe b sink >"$TMPDIR_/kbps" & sleep 0.3
  probe a blast 3; wait; cat "$TMPDIR_/kbps"
}
TMPDIR_=$(mktemp -d); trap '"$here/netns-link.sh" stop "$name"; rm -rf "$TMPDIR_"' EXIT
check 2 "TCP kbit/s under a 1000 kbit/s tbf" "$(goodput)" 600 1010
"$here/netns-link.sh" rate "$name" 400
check 3 "TCP kbit/s after tc qdisc change to 400" "$(goodput)" 220 410

"$here/netns-link.sh" stop "$name"
left=$(ip netns list | grep -c "^$name-")
check 4 "namespaces left after stop" "$left" 0 0
exit $failed
