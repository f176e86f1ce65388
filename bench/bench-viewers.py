#!/usr/bin/env python3
# bench-viewers.py — one caller, N viewers (issue 15): the caller's CPU and
# memory as viewers are added, how long the k-th viewer's call takes to
# set up, and what the others see when one leaves and another joins (from
# N = 2: the first viewer quits as a user's would, saying bye, and a new one
# joins; the staying viewers' stats across that window give their longest
# wait for a frame, packets lost for good and frames shown against what the
# caller sent). Real processes on 127.0.0.1 only: `peercam --host-only`, a
# headless caller (--call) and N headless viewers; every wait is bounded.
#
#   tools/bench viewers [--counts 1,2,4,8] [--size 640x360@30] [--seconds 10]
#
# Figures, not a test: the machine is shared, so read them as a shape
# (per-viewer cost, growth of setup time), with the load printed beside.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import argparse
import json
import os
import subprocess
import sys
import threading
import time

TICKS = os.sysconf("SC_CLK_TCK")


class Proc:
    def __init__(self, name, args):
        self.name = name
        self.events = []
        self.lock = threading.Lock()
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  env={**os.environ, "GST_REGISTRY_UPDATE": "no"}, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            event["_seen"] = time.monotonic()
            with self.lock:
                self.events.append(event)

    def find(self, predicate):
        with self.lock:
            return next((e for e in self.events if predicate(e)), None)

    def select(self, predicate):
        with self.lock:
            return [e for e in self.events if predicate(e)]

    def wait(self, what, predicate, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.find(predicate)
            if event is not None:
                return event
            if self.p.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.p.returncode}) waiting for {what}")
            time.sleep(0.02)
        raise RuntimeError(f"{self.name}: timed out waiting for {what}")

    def cpu_seconds(self):
        with open(f"/proc/{self.p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS   # utime + stime

    def rss_mb(self):
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def is_stats(e, viewer=None):
    return e["event"] == "stats" and (viewer is None or e.get("viewer") == viewer)


def across(proc, start, end, viewer=None):
    """The last stats before @start, the first from 0.6 s after @end (past
    the congestion controller's 500 ms tick, which counts losses), and those
    between, from @proc."""
    proc.wait("stats after the window", lambda e: is_stats(e, viewer) and e["_seen"] >= end + 0.6, timeout=6)
    stats = proc.select(lambda e: is_stats(e, viewer))
    before = [e for e in stats if e["_seen"] < start][-1]
    after = next(e for e in stats if e["_seen"] >= end + 0.6)
    return before, after, [e for e in stats if before["_seen"] < e["_seen"] <= after["_seen"]]


def leave_and_join(caller, viewers, make_viewer):
    """The first viewer quits (SIGTERM: it hangs up and says bye) and a new
    one joins; the others' figures across the window."""
    staying = viewers[1:]
    for viewer in staying:
        viewer.wait("stats before the window", lambda e: is_stats(e), timeout=6)
    start = time.monotonic()
    viewers[0].stop()
    caller.wait("the bye", lambda e: e["event"] == "bye" and e.get("viewer") == viewers[0].vid, timeout=10)
    joining = make_viewer()
    joining.wait("first frame", lambda e: e["event"] == "first-frame")
    time.sleep(1)
    end = time.monotonic()
    gaps, lost, undecoded, shown, expected, span = [], 0, 0, 0, 0, 0
    for viewer in staying:
        before, after, between = across(viewer, start, end)
        sent_before, sent_after, _ = across(caller, start, end, viewer.vid)
        # what the caller sent that viewer, at its rate, over the viewer's window
        rate = (sent_after["frames"] - sent_before["frames"]) / (sent_after["t_ms"] - sent_before["t_ms"])
        gaps.append(max(e["max_gap_ms"] for e in between))
        lost += after["packets_lost"] - before["packets_lost"]
        undecoded += after["frames_undecoded"] - before["frames_undecoded"]
        shown += after["frames"] - before["frames"]
        expected += rate * (after["t_ms"] - before["t_ms"])
        span = max(span, (after["t_ms"] - before["t_ms"]) / 1000)
    return {"window": end - start, "span": span, "gap": max(gaps), "lost": lost, "undecoded": undecoded,
            "shown": shown, "expected": expected}


def run(peercam, n, size, seconds):
    procs = []
    try:
        host = Proc("host", [peercam, "--host-only", "--port", "0", "--bind", "127.0.0.1",
                             "--max-viewers", str(max(n, 1)), "--events"])
        procs.append(host)
        port = host.wait("hosting", lambda e: e["event"] == "hosting")["port"]
        url = f"http://127.0.0.1:{port}"
        caller = Proc("caller", [peercam, "--headless", "--caller", "--server", url, "--room", "bench",
                                 "--source", "test", "--call", "--video-size", size,
                                 "--ice-address", "127.0.0.1", "--events"])
        procs.append(caller)
        caller.wait("joined", lambda e: e["event"] == "joined")
        time.sleep(1)
        idle_cpu = caller.cpu_seconds()
        time.sleep(2)
        preview_pct = (caller.cpu_seconds() - idle_cpu) / 2 * 100
        setups = []
        viewers = []

        def make_viewer():
            viewer = Proc(f"viewer {len(procs)}", [peercam, "--headless", "--viewer", "--server", url,
                                                   "--room", "bench", "--ice-address", "127.0.0.1", "--events"])
            procs.append(viewer)
            viewers.append(viewer)
            viewer.vid = viewer.wait("joined", lambda e: e["event"] == "joined")["id"]
            return viewer

        for k in range(n):
            viewer = make_viewer()
            vid = viewer.vid
            arrived = caller.wait(f"viewer {k + 1} to arrive",
                                  lambda e: e["event"] == "peer-joined" and e.get("viewer") == vid)
            connected = caller.wait(f"viewer {k + 1} connected",
                                    lambda e: e["event"] == "connected" and e.get("viewer") == vid)
            viewer.wait("first frame", lambda e: e["event"] == "first-frame")
            setups.append(connected["t_ms"] - arrived["t_ms"])
        time.sleep(3)   # past the congestion controller's fast start
        load = os.getloadavg()[0]
        cpu0, t0 = caller.cpu_seconds(), time.monotonic()
        time.sleep(seconds)
        cpu_pct = (caller.cpu_seconds() - cpu0) / (time.monotonic() - t0) * 100
        stats = [e for e in caller.events if e["event"] == "stats" and "viewer" in e][-n:]
        fps = [round(e.get("fps", 0)) for e in stats]
        glitch = leave_and_join(caller, viewers, make_viewer) if n >= 2 else None
        return {"n": n, "preview_cpu": preview_pct, "cpu": cpu_pct, "rss": caller.rss_mb(),
                "setups": setups, "fps": fps, "load": load, "glitch": glitch}
    finally:
        for proc in reversed(procs):
            proc.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--peercam", default="build-bench/src/peercam")
    parser.add_argument("--counts", default="1,2,4,8")
    parser.add_argument("--size", default="640x360@30")
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    print(f"# one caller, N viewers at {args.size}; the caller's CPU is % of one core, "
          f"over {args.seconds} s after all are connected; {os.cpu_count()} cores")
    print("# then (N >= 2) one leaves and another joins; at the N - 1 others, from their stats before the leave to")
    print("# those after the join: the longest wait for a frame, packets lost for good, frames undecoded, and")
    print("# frames shown against what the caller sent them (at its rate over the same span; summed over them)")
    print("| viewers | caller CPU | per viewer | preview alone | caller RSS | setup of each viewer (ms) | fps sent "
          "| leave+join: longest gap at the others | packets lost, undecoded | frames shown / sent | load |")
    print("| ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | --- | ---: |")
    for n in [int(x) for x in args.counts.split(",")]:
        try:
            r = run(args.peercam, n, args.size, args.seconds)
        except RuntimeError as e:
            print(f"| {n} | failed: {e} |")
            continue
        per = (r["cpu"] - r["preview_cpu"]) / n
        g = r["glitch"]
        glitch = (f"{g['gap']:.0f} ms | {g['lost']}, {g['undecoded']} | {g['shown']} / {g['expected']:.0f} "
                  f"({g['span']:.1f} s, window {g['window']:.1f} s)" if g else "– | – | –")
        print(f"| {n} | {r['cpu']:.0f} % | {per:.1f} % | {r['preview_cpu']:.0f} % | {r['rss']:.0f} MB | "
              f"{', '.join(str(s) for s in r['setups'])} | {', '.join(str(f) for f in r['fps'])} | "
              f"{glitch} | {r['load']:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
