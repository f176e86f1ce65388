#!/usr/bin/python3
# aiortc-remb.py URL ADDRESS SECONDS — an aiortc 1.4 caller that sends video
# only (320x240@30 of low-contrast noise: its VP8 encoder then makes what
# its target bitrate says, 250 kbit/s to 1.5 Mbit/s) to the Peercam viewer
# in room "aiortc" of the server at URL, for SECONDS, with ICE on ADDRESS
# only. aiortc adapts from REMB alone: its encoder's target is the last REMB
# bitrate (500 kbit/s until one comes). Prints one JSON line a second:
# {"t": s since connected, "target": encoder bps, "rembs": REMB packets so
# far, "remb_bps": the last one's bitrate}; and "offer"/"answer" lines with
# their video extmap and rtcp-fb attributes. Used by test-remb-netns.sh.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import asyncio
import fractions
import importlib.util
import json
import os
import random
import sys
import time

from peercam_peers import Failure, log, skip

try:
    import aioice.ice
    import av
    from aiortc import RTCSessionDescription
    from aiortc.mediastreams import VideoStreamTrack
    from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, unpack_remb_fci
except ImportError as error:
    skip(f"aiortc is missing ({error}): apt-get install python3-aiortc python3-av python3-socketio python3-aiohttp")

# The signalling glue of the interop cases (python-socketio in a room).
_spec = importlib.util.spec_from_file_location(
    "aiortc_cases", os.path.join(os.path.dirname(os.path.abspath(__file__)), "aiortc-cases.py"))
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

WIDTH, HEIGHT = 320, 240


class Noise(VideoStreamTrack):
    """Four frames of low-contrast noise in turn: nothing to predict, so
    VP8 spends what its rate control allows, and cheap to encode."""

    def __init__(self):
        super().__init__()
        rng = random.Random(1)
        self.planes = [bytes(rng.getrandbits(6) for _ in range(WIDTH * HEIGHT)) for _ in range(4)]
        self.count = 0

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(width=WIDTH, height=HEIGHT, format="yuv420p")
        frame.planes[0].update(self.planes[self.count % 4])
        for plane in frame.planes[1:]:
            plane.update(bytes([128]) * plane.buffer_size)
        self.count += 1
        frame.pts = pts
        frame.time_base = time_base
        return frame


def media_lines(sdp, kind="video"):
    out, inside = [], False
    for line in sdp.splitlines():
        if line.startswith("m="):
            inside = line.startswith(f"m={kind}")
        elif inside and line.startswith(("a=extmap", "a=rtcp-fb")):
            out.append(line)
    return out


async def run(url, address, seconds):
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [address] if use_ipv4 else []
    glue = cases.Glue(url)
    try:
        if await glue.join() != "join":
            raise Failure("aiortc's socket.io client was not told it joined (no viewer in the room)")
        glue.pc = cases.new_peer_connection()
        sender = glue.pc.addTrack(Noise())
        rembs = {"count": 0, "bps": 0}
        handle = sender._handle_rtcp_packet

        async def counting(packet):
            if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
                try:
                    bps, ssrcs = unpack_remb_fci(packet.fci)
                    if sender._ssrc in ssrcs:
                        rembs["count"] += 1
                        rembs["bps"] = bps
                except ValueError:
                    pass
            await handle(packet)
        sender._handle_rtcp_packet = counting

        await glue.pc.setLocalDescription(await glue.pc.createOffer())
        offer = glue.pc.localDescription
        print(json.dumps({"offer": media_lines(offer.sdp)}), flush=True)
        await glue.sio.emit("signal", {"type": offer.type, "sdp": offer.sdp})
        answer = await asyncio.wait_for(glue.answer, 20)
        print(json.dumps({"answer": media_lines(answer["sdp"])}), flush=True)
        await glue.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
        await glue.add_pending_ice()

        deadline = time.monotonic() + 20
        while glue.pc.connectionState != "connected":
            if time.monotonic() > deadline:
                raise Failure(f"aiortc did not connect: {glue.pc.connectionState}")
            await asyncio.sleep(0.1)
        start = time.monotonic()
        print(json.dumps({"connected": time.time()}), flush=True)
        while time.monotonic() - start < seconds:
            await asyncio.sleep(1)
            encoder = getattr(sender, "_RTCRtpSender__encoder", None)
            print(json.dumps({"t": round(time.monotonic() - start, 2),
                              "target": getattr(encoder, "target_bitrate", None),
                              "rembs": rembs["count"], "remb_bps": rembs["bps"]}), flush=True)
    finally:
        await glue.close()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print("usage: aiortc-remb.py URL ADDRESS SECONDS", file=sys.stderr)
        sys.exit(2)
    try:
        asyncio.run(asyncio.wait_for(run(sys.argv[1], sys.argv[2], float(sys.argv[3])), float(sys.argv[3]) + 40))
    except (Failure, asyncio.TimeoutError) as failure:
        log(f"aiortc caller failed: {failure!r}")
        sys.exit(1)
