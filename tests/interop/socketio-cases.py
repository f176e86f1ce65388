#!/usr/bin/python3
# socketio-cases.py: Debian's python-socketio 5.7 / python-engineio 4.3
# (python3-socketio, python3-aiohttp) against Peercam, both ways.
#
#   socketio-cases.py websocket   AsyncClients on Peercam's server (`peercam
#   socketio-cases.py polling       --host-only`) over that transport: rooms,
#   socketio-cases.py upgrade       60 KB and Unicode relays once and in order,
#                                   bye; "upgrade" is polling then websocket
#   socketio-cases.py relay       an AsyncServer with the reference relay's
#                                 logic carries a Peercam caller → viewer call
#
# Loopback only. Exit 77 only when the packages are missing.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import asyncio
import logging
import sys

from peercam_peers import Failure, frames_flow, headless, log, run_cases, skip, start_server

try:
    import socketio
    from aiohttp import web
except ImportError as error:
    skip(f"python-socketio or aiohttp is missing ({error}): apt-get install python3-socketio python3-aiohttp")

class TransportErrors(logging.Handler):
    """python-engineio's own account of a failed request, for the report."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


TRANSPORT_ERRORS = TransportErrors()

TRANSPORTS = {
    "websocket": ["websocket"],
    "polling": ["polling"],
    "upgrade": ["polling", "websocket"],
}

# Every BMP plane class the JSON and UTF-8 paths must carry, an emoji
# (a surrogate pair in JSON), the JavaScript line separators, escapes, and
# U+0000, which the stock relay forwards and so must Peercam's server.
UNICODE = "视频通话 ☃ Grüße — 🎥📷 \u2028\u2029 \"quoted\" \\back\\ \t tab é \u0000 nul"


class Member:
    """One python-socketio client and what it received, in order."""

    def __init__(self, name, url, transports):
        self.name = name
        self.url = url
        self.transports = transports
        engineio_logger = logging.getLogger(f"engineio.client.{name}")
        engineio_logger.addHandler(TRANSPORT_ERRORS)
        engineio_logger.propagate = False
        self.sio = socketio.AsyncClient(reconnection=False, engineio_logger=engineio_logger)
        self.received = []
        self.changed = asyncio.Event()
        for event in ("create", "join", "full", "call", "signal", "ice", "bye", "error"):
            self.sio.on(event, self._recorder(event))

    def _recorder(self, event):
        async def record(*args):
            self.received.append((event, args))
            self.changed.set()
        return record

    async def connect(self):
        try:
            await self.sio.connect(self.url, transports=self.transports, wait_timeout=10)
        except socketio.exceptions.ConnectionError as error:
            raise Failure(f"{self.name} (python-socketio, {'+'.join(self.transports)}) "
                          f"could not connect to Peercam's server: {error}")

    def count(self, event):
        return sum(1 for e, _ in self.received if e == event)

    def of(self, event):
        return [args for e, args in self.received if e == event]

    async def wait(self, what, predicate, timeout=10):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            left = deadline - loop.time()
            if left <= 0:
                raise Failure(f"{self.name} (python-socketio) never got {what} from Peercam's server; "
                              f"it got {[e for e, _ in self.received]}; "
                              f"python-engineio said {TRANSPORT_ERRORS.messages[-3:]}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass


def payloads():
    """60 KB offers and Unicode candidates, each one distinct."""
    out = []
    for i in range(8):
        if i % 2 == 0:
            body = f"v=0\r\n#{i}\r\n" + "a=x:" + ("0123456789abcdef" * 3840) + "\r\n"
            out.append(("signal", {"type": "offer", "sdp": body}))
        else:
            out.append(("ice", {"candidate": f"candidate:{i} 1 udp 1 127.0.0.1 {5000 + i} typ host {UNICODE}",
                                "sdpMid": UNICODE, "sdpMLineIndex": 0}))
    return out


async def clients_on_peercam(case):
    transports = TRANSPORTS[case]
    # The demo's two-member room, so a third client finds it full.
    server, url = await start_server("--max-viewers", "1")
    a = Member("a", url, transports)
    b = Member("b", url, transports)
    c = Member("c", url, transports)
    try:
        await a.connect()
        await a.sio.emit("create or join", "py")
        await a.wait("create", lambda: a.count("create") == 1)
        room, a_id = a.of("create")[0]
        if room != "py" or a_id != a.sio.get_sid():
            raise Failure(f"Peercam's server answered create({room!r}, {a_id!r}), "
                          f"not create('py', {a.sio.get_sid()!r})")

        await b.connect()
        await b.sio.emit("create or join", "py")
        await b.wait("join", lambda: b.count("join") == 1)
        await a.wait("call", lambda: a.count("call") == 1)
        await c.connect()
        await c.sio.emit("create or join", "py")
        await c.wait("full", lambda: c.count("full") == 1)

        if case == "upgrade":
            await asyncio.sleep(0.5)
            for member in (a, b):
                if member.sio.transport() != "websocket":
                    raise Failure(f"{member.name} (python-socketio) did not upgrade from polling "
                                  f"to websocket on Peercam's server: still {member.sio.transport()}")

        sent = payloads()
        for event, data in sent:
            await a.sio.emit(event, data)
        back = [("signal", {"type": "answer", "sdp": f"v=0\r\n{UNICODE}\r\n"}),
                ("ice", {"candidate": f"candidate:9 1 udp 1 127.0.0.1 6000 typ host {UNICODE}",
                         "sdpMid": "0", "sdpMLineIndex": 0})]
        for event, data in back:
            await b.sio.emit(event, data)

        relayed = lambda m: [(e, args[0]) for e, args in m.received if e in ("signal", "ice")]
        await b.wait(f"the {len(sent)} relayed messages", lambda: len(relayed(b)) >= len(sent), 15)
        await a.wait(f"the {len(back)} relayed messages", lambda: len(relayed(a)) >= len(back), 15)
        await asyncio.sleep(0.3)    # a duplicate would arrive by now
        if relayed(b) != sent:
            got = [(e, len(str(d))) for e, d in relayed(b)]
            raise Failure(f"Peercam's server relayed a → b not once and in order: "
                          f"{len(relayed(b))} of {len(sent)} messages, {got}")
        if relayed(a) != back:
            raise Failure(f"Peercam's server relayed b → a wrongly: {relayed(a)}")
        if c.count("signal") + c.count("ice") != 0:
            raise Failure("Peercam's server relayed to a client that found the room full")

        await b.sio.emit("bye", b.sio.get_sid())
        await a.wait("bye", lambda: a.count("bye") == 1)
        if a.of("bye")[0] != (b.sio.get_sid(),):
            raise Failure(f"bye came with {a.of('bye')[0]}, not b's id")
        await a.sio.disconnect()
        await b.wait("the server's bye for a", lambda: b.count("bye") == 1)
        if b.of("bye")[0] != (a_id,):
            raise Failure(f"the server's bye came with {b.of('bye')[0]}, not a's id")
        errors = a.of("error") + b.of("error")
        if errors:
            raise Failure(f"Peercam's server sent errors: {errors}")
        log(f"{case}: {len(sent)} messages ({sum(len(str(d)) for _, d in sent)} bytes) a → b, "
            f"{len(back)} b → a, in order")
    finally:
        for member in (a, b, c):
            await member.sio.disconnect()
        await server.stop()


async def reference_relay():
    """python-socketio's AsyncServer with the reference relay's handlers."""
    sio = socketio.AsyncServer(async_mode="aiohttp")
    app = web.Application()
    sio.attach(app)

    @sio.on("create or join")
    async def create_or_join(sid, room):
        count = len(list(sio.manager.get_participants("/", room)))
        sio.enter_room(sid, room)
        if count == 0:
            await sio.emit("create", (room, sid), to=sid)
        else:
            await sio.emit("call", room=room, skip_sid=sid)

    @sio.on("signal")
    async def signal(sid, message):
        await sio.emit("signal", message, room="room", skip_sid=sid)

    @sio.on("ice")
    async def ice(sid, message):
        await sio.emit("ice", message, room="room", skip_sid=sid)

    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


async def call_through_python_relay():
    runner, url = await reference_relay()
    viewer = headless("viewer", "viewer", url, "room")
    caller = headless("caller", "caller", url, "room")
    try:
        await viewer.start()
        joined = await viewer.wait("joined", 10)
        if not joined.get("first"):
            raise Failure("Peercam viewer did not create the room on python-socketio's relay")
        await caller.start()
        await caller.wait("joined", 10)
        await caller.wait("calling", 10)
        await caller.wait("connected", 20)
        first = await viewer.wait("first-frame", 20)
        # The caller starts at the size its start rate carries (a rung of the
        # 1280x720 source's ladder) and climbs to the full size in ~1-2 s.
        width, height = first.get("width", 0), first.get("height", 0)
        if not (0 < width <= 1280 and width * 9 == height * 16):
            raise Failure(f"Peercam viewer's first frame is {width}x{height}, not a 16:9 size up to 1280x720")
        if not await frames_flow(viewer):
            raise Failure("Peercam viewer's stats show no frames after the first")
        for _ in range(8):
            stats = await viewer.wait("stats", 10, start=len(viewer.events))
            if (stats.get("width"), stats.get("height")) == (1280, 720):
                break
        else:
            raise Failure(f"Peercam viewer never decoded 1280x720 (last {stats.get('width')}x{stats.get('height')})")
    finally:
        await caller.stop()
        await viewer.stop()
        await runner.cleanup()


if __name__ == "__main__":
    cases = {name: (lambda name=name: clients_on_peercam(name)) for name in TRANSPORTS}
    cases["relay"] = call_through_python_relay
    run_cases(cases, sys.argv)
