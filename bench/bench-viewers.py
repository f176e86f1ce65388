#!/usr/bin/env python3
# bench-viewers.py — one caller, N viewers (issue 15): the caller's CPU and
# memory as viewers are added, and how long the k-th viewer's call takes to
# set up. Real processes on 127.0.0.1 only: `peercam --host-only`, a headless
# caller (--call) and N headless viewers; every wait is bounded.
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
            with self.lock:
                self.events.append(event)

    def find(self, predicate):
        with self.lock:
            return next((e for e in self.events if predicate(e)), None)

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
        for k in range(n):
            viewer = Proc(f"viewer {k + 1}", [peercam, "--headless", "--viewer", "--server", url,
                                              "--room", "bench", "--ice-address", "127.0.0.1", "--events"])
            procs.append(viewer)
            vid = viewer.wait("joined", lambda e: e["event"] == "joined")["id"]
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
        return {"n": n, "preview_cpu": preview_pct, "cpu": cpu_pct, "rss": caller.rss_mb(),
                "setups": setups, "fps": fps, "load": load}
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
    print("| viewers | caller CPU | per viewer | preview alone | caller RSS | setup of each viewer (ms) | fps sent | load |")
    print("| ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |")
    for n in [int(x) for x in args.counts.split(",")]:
        try:
            r = run(args.peercam, n, args.size, args.seconds)
        except RuntimeError as e:
            print(f"| {n} | failed: {e} |")
            continue
        per = (r["cpu"] - r["preview_cpu"]) / n
        print(f"| {n} | {r['cpu']:.0f} % | {per:.1f} % | {r['preview_cpu']:.0f} % | {r['rss']:.0f} MB | "
              f"{', '.join(str(s) for s in r['setups'])} | {', '.join(str(f) for f in r['fps'])} | "
              f"{r['load']:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
