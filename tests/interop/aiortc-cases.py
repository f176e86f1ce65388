#!/usr/bin/python3
# aiortc-cases.py: Debian's aiortc 1.4 (python3-aiortc) as the foreign WebRTC
# peer of a Peercam caller or viewer, signalling through Peercam's server
# (`peercam --host-only`) with python-socketio over its websocket transport.
#
#   aiortc-cases.py viewer   aiortc watches a Peercam caller
#   aiortc-cases.py caller   aiortc calls a Peercam viewer with its standard
#                            offer (video + audio)
#
# aiortc does no trickle: its candidates are inside its SDP (with
# a=end-of-candidates), so these cases also check that Peercam uses
# candidates embedded in a remote description. Peercam's trickled `ice`
# messages are added with addIceCandidate. Everything stays on 127.0.0.1: no
# STUN server, and aioice's host addresses are overridden (it leaves
# 127.0.0.1 out). Exit 77 only when the packages are missing.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import asyncio
import fractions
import sys

from peercam_peers import Failure, log, run_cases, skip, start_server, headless, frames_flow

try:
    import aioice.ice
    import av
    import socketio
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
    from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
    from aiortc.sdp import candidate_from_sdp
except ImportError as error:
    skip(f"aiortc or python-socketio is missing ({error}): apt-get install python3-aiortc python3-av python3-socketio python3-aiohttp")

ROOM = "aiortc"


def loopback_only(use_ipv4, use_ipv6):
    return ["127.0.0.1"] if use_ipv4 else []


aioice.ice.get_host_addresses = loopback_only


def new_peer_connection():
    # No ICE servers at all: aiortc would otherwise ask a public STUN server.
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


def to_aiortc_candidate(message):
    text = message.get("candidate") or ""
    if text.startswith("candidate:"):
        text = text[len("candidate:"):]
    if not text:
        return None
    candidate = candidate_from_sdp(text)
    candidate.sdpMid = message.get("sdpMid")
    candidate.sdpMLineIndex = message.get("sdpMLineIndex")
    return candidate


class Glue:
    """python-socketio in a room, feeding one aiortc peer connection."""

    def __init__(self, url):
        self.url = url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.pc = None
        self.pending_ice = []
        self.answers = []
        self.joined = asyncio.get_running_loop().create_future()
        self.offer = asyncio.get_running_loop().create_future()
        self.answer = asyncio.get_running_loop().create_future()
        self.sio.on("create", lambda room, sid=None: self._joined("create"))
        self.sio.on("join", lambda room, sid=None: self._joined("join"))
        self.sio.on("full", lambda room: self._fail_join(f"room {room} is full"))
        self.sio.on("signal", self._on_signal)
        self.sio.on("ice", self._on_ice)

    def _joined(self, how):
        if not self.joined.done():
            self.joined.set_result(how)

    def _fail_join(self, why):
        if not self.joined.done():
            self.joined.set_exception(Failure(why))

    async def _on_signal(self, description):
        kind = description.get("type")
        if kind == "offer" and not self.offer.done():
            self.offer.set_result(description)
        elif kind == "answer" and not self.answer.done():
            self.answer.set_result(description)

    async def _on_ice(self, message):
        candidate = to_aiortc_candidate(message)
        if candidate is None:
            return
        if self.pc is None or self.pc.remoteDescription is None:
            self.pending_ice.append(candidate)
        else:
            await self.pc.addIceCandidate(candidate)

    async def add_pending_ice(self):
        for candidate in self.pending_ice:
            await self.pc.addIceCandidate(candidate)
        self.pending_ice.clear()

    async def join(self):
        await self.sio.connect(self.url, transports=["websocket"])
        await self.sio.emit("create or join", ROOM)
        return await asyncio.wait_for(self.joined, 10)

    async def close(self):
        if self.pc is not None:
            await self.pc.close()
        await self.sio.disconnect()


async def count_frames(track, wanted, until_size=None):
    """Sizes of the first @wanted frames; with @until_size, of as many more
    (up to 10x @wanted) as it takes to see a frame of that size."""
    sizes = set()
    for i in range(wanted * 10 if until_size else wanted):
        frame = await track.recv()
        sizes.add((frame.width, frame.height))
        if i + 1 >= wanted and (until_size is None or until_size in sizes):
            break
    return sizes


async def aiortc_views_peercam():
    server, url = await start_server()
    glue = Glue(url)
    caller = headless("caller", "caller", url, ROOM)
    try:
        if await glue.join() != "create":
            raise Failure("aiortc's socket.io client did not create the room")
        await caller.start()

        try:
            offer = await asyncio.wait_for(glue.offer, 20)
        except asyncio.TimeoutError:
            raise Failure(f"Peercam caller sent no offer; errors: {caller.errors()}")
        log(f"offer from Peercam: {len(offer['sdp'])} bytes")

        glue.pc = new_peer_connection()
        video = asyncio.get_running_loop().create_future()

        @glue.pc.on("track")
        def on_track(track):
            if track.kind == "video" and not video.done():
                video.set_result(track)

        await glue.pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], offer["type"]))
        await glue.add_pending_ice()
        await glue.pc.setLocalDescription(await glue.pc.createAnswer())
        answer = glue.pc.localDescription
        if "a=candidate:" not in answer.sdp:
            raise Failure("aiortc's answer carries no candidates")
        await glue.sio.emit("signal", {"type": answer.type, "sdp": answer.sdp})

        await caller.wait("connected", 20)
        try:
            track = await asyncio.wait_for(video, 10)
            # The caller starts in the format the start rate carries; with a
            # viewer that sends no transport-cc feedback (aiortc) it goes to
            # the source's 1280x720 after 1.5 s.
            sizes = await asyncio.wait_for(count_frames(track, 30, (1280, 720)), 20)
        except asyncio.TimeoutError:
            raise Failure(f"aiortc (viewer) received no video frames; ICE {glue.pc.iceConnectionState}, "
                          f"Peercam caller errors: {caller.errors()}")
        log(f"aiortc decoded frames of sizes {sorted(sizes)}")
        if (1280, 720) not in sizes:
            raise Failure(f"aiortc (viewer) decoded frames of {sorted(sizes)}, not 1280x720")
    finally:
        await glue.close()
        await caller.stop()
        await server.stop()


class Pattern(VideoStreamTrack):
    """aiortc's own video track, 640x480 frames that change over time."""

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(width=640, height=480, format="yuv420p")
        shade = (pts // 3000) % 200 + 20
        for plane, value in zip(frame.planes, (shade, 128, 128)):
            plane.update(bytes([value]) * plane.buffer_size)
        frame.pts = pts
        frame.time_base = time_base
        return frame


async def aiortc_calls_peercam():
    server, url = await start_server()
    viewer = await headless("viewer", "viewer", url, ROOM).start()
    glue = Glue(url)
    try:
        await viewer.wait("joined", 10)
        if await glue.join() != "join":
            raise Failure("aiortc's socket.io client was not told it joined")

        glue.pc = new_peer_connection()
        glue.pc.addTrack(Pattern())
        glue.pc.addTrack(AudioStreamTrack())
        await glue.pc.setLocalDescription(await glue.pc.createOffer())
        offer = glue.pc.localDescription
        log("aiortc's offer: " + " | ".join(l for l in offer.sdp.splitlines()
                                             if l.startswith(("m=", "a=ice-ufrag", "a=group"))))
        await glue.sio.emit("signal", {"type": offer.type, "sdp": offer.sdp})

        try:
            answer = await asyncio.wait_for(glue.answer, 20)
        except asyncio.TimeoutError:
            raise Failure(f"Peercam viewer sent no answer; errors: {viewer.errors()}")
        await glue.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
        await glue.add_pending_ice()

        first = await viewer.wait("first-frame", 25)
        if (first.get("width"), first.get("height")) != (640, 480):
            raise Failure(f"Peercam viewer's first frame is {first.get('width')}x{first.get('height')}, not 640x480")
        if not await frames_flow(viewer):
            raise Failure("Peercam viewer's stats show no frames after the first")
        if glue.pc.connectionState != "connected":
            raise Failure(f"aiortc (caller) is {glue.pc.connectionState}, not connected")
    finally:
        await glue.close()
        await viewer.stop()
        await server.stop()


if __name__ == "__main__":
    run_cases({"viewer": aiortc_views_peercam, "caller": aiortc_calls_peercam}, sys.argv)
