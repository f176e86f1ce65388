# netns_check.py — what the netns tests' verdicts share (imported by the
# Python of test-congestion-netns.sh and test-remb-netns.sh): their event
# logs, TAP lines, and the wire rate judged as issue 11 does it.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import json
import sys

_ok = True


def events(path):
    """The JSON lines of @path (a headless --events log or a peer's)."""
    out = []
    for line in open(path):
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def check(cond, what):
    global _ok
    print(("ok - " if cond else "not ok - ") + what)
    _ok = _ok and bool(cond)


def finish():
    sys.exit(0 if _ok else 1)


def wire_rates(path, start):
    """1-s rates (end time, kbit/s over the second before it) from a
    counter log of "SECONDS BYTES [...]" lines sampled every 250 ms,
    those ending 1 s after @start or later."""
    samples = []
    for line in open(path):
        try:
            t, b = line.split()[:2]
            samples.append((float(t), int(b)))
        except ValueError:
            pass
    rates = []
    for i, (t, b) in enumerate(samples):
        earlier = [k for k in range(i) if samples[k][0] <= t - 0.95]
        if t < start + 1.0 or not earlier:
            continue
        t0, b0 = samples[earlier[-1]]
        rates.append((t, (b - b0) * 8 / 1000.0 / (t - t0)))
    return rates


def sustained_over(rates, limit):
    """The runs of consecutive 1-s rates all over @limit whose ends span
    0.5 s or more (over for 1.5 s at least: no two 1-s rates 500 ms apart
    both over), each as its highest (end time, rate)."""
    sustained, run = [], []
    for t, r in rates + [(float("inf"), 0.0)]:
        if r > limit:
            run.append((t, r))
            continue
        if run and run[-1][0] - run[0][0] >= 0.5:
            sustained.append(max(run, key=lambda x: x[1]))
        run = []
    return sustained
