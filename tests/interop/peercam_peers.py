# peercam_peers.py: shared parts of the Python interop cases: the peercam
# processes (`--host-only`, `--headless --caller/--viewer`) and their
# --events streams, and the TAP/skip conventions meson expects.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import asyncio
import json
import os
import sys
import time

EVENT_TIMEOUT = 20


def skip(why):
    print(f"1..0 # SKIP {why}")
    print(f"# SKIP {why}", file=sys.stderr)
    sys.exit(77)


def log(message):
    print(f"# {message}", flush=True)


class Failure(Exception):
    """A case failed; the message says which side."""


class Peercam:
    """One peercam process and the JSON events it prints."""

    def __init__(self, name, *args):
        self.name = name
        self.args = args
        self.events = []
        self.proc = None
        self.changed = asyncio.Event()
        self.reader = None

    async def start(self):
        self.proc = await asyncio.create_subprocess_exec(
            os.environ["PEERCAM_BIN"], *self.args,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE)
        self.reader = asyncio.ensure_future(self._read())
        return self

    async def _read(self):
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                break
            text = line.decode("utf-8", "replace").rstrip("\n")
            if '"stats"' not in text:
                log(f"{self.name}: {text}")
            try:
                self.events.append(json.loads(text))
            except ValueError:
                log(f"{self.name}: not JSON: {text}")
            self.changed.set()
        self.changed.set()

    def find(self, name, start=0):
        for event in self.events[start:]:
            if event.get("event") == name:
                return event
        return None

    async def wait(self, name, timeout=EVENT_TIMEOUT, start=0):
        deadline = time.monotonic() + timeout
        while True:
            event = self.find(name, start)
            if event is not None:
                return event
            if self.reader.done():
                raise Failure(f"{self.name} (Peercam) exited before “{name}”; "
                              f"errors: {self.errors()}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure(f"{self.name} (Peercam) sent no “{name}” in {timeout} s; "
                              f"errors: {self.errors()}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    def errors(self):
        return [e.get("message") for e in self.events if e.get("event") == "error"]

    async def stop(self):
        if self.proc is None:
            return
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self.reader is not None:
            await self.reader


async def start_server(*extra):
    server = await Peercam("server", "--host-only", "--port", "0", "--bind", "127.0.0.1",
                           "--events", *extra).start()
    hosting = await server.wait("hosting", 10)
    return server, f"http://127.0.0.1:{hosting['port']}"


def headless(name, role, url, room, *extra):
    args = ["--headless", f"--{role}", "--server", url, "--room", room,
            "--ice-address", "127.0.0.1", "--events"]
    if role == "caller":
        args += ["--source", "test", "--call"]
    return Peercam(name, *args, *extra)


async def frames_flow(viewer, reports=3):
    """Whether one of the viewer's next stats reports shows frames arriving."""
    for _ in range(reports):
        stats = await viewer.wait("stats", 10, start=len(viewer.events))
        if stats.get("fps", 0) > 1 and stats.get("kbps", 0) > 0:
            return True
    return False


def run_cases(cases, argv, limit=55):
    """Runs the case named argv[1] as one TAP test, bounded by @limit s."""
    if len(argv) != 2 or argv[1] not in cases:
        print(f"usage: {argv[0]} {'|'.join(cases)}", file=sys.stderr)
        sys.exit(2)
    name = argv[1]

    async def bounded():
        await asyncio.wait_for(cases[name](), limit)

    print("1..1", flush=True)
    try:
        asyncio.run(bounded())
    except Failure as failure:
        print(f"not ok 1 {name}: {failure}", flush=True)
        sys.exit(1)
    except asyncio.TimeoutError:
        print(f"not ok 1 {name}: did not finish within {limit} s", flush=True)
        sys.exit(1)
    print(f"ok 1 {name}", flush=True)
