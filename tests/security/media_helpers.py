"""Hostile media, built in memory, and watchers for what an upload does to the process (UDP ports, RSS, the loop)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import socket
import struct
import tempfile
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np
from aiohttp.test_utils import TestClient

# Text FFmpeg's SDP demuxer accepts: it opens RTP sockets on the port the uploader chose (and the next).
SDP = ("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
       "m=video {port} RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n")
# Prefixes that pass the type sniff (MP3, WebM, OGG) without a NUL byte (the SDP parser stops at one).
PREFIXES = {
    "id3": b"ID3\x03\x01\x01\x01\x01\x01\x01\n",  # an ID3v2 header with a non-zero (syncsafe) size
    "ebml": b"\x1a\x45\xdf\xa3\n",
    "oggs": b"OggS\n",
}


def free_udp_port() -> int:
    """A UDP port nobody holds (and the one after it, RTCP's)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("0.0.0.0", 0))
            port = int(s.getsockname()[1])
        if port % 2 == 0 and port < 65534:
            return port


def sdp_behind(prefix: str, port: int) -> bytes:
    """An SDP session description behind a media prefix: about 140 bytes."""
    return PREFIXES[prefix] + SDP.format(port=port).encode()


def _bound_udp_ports() -> set[int]:
    ports: set[int] = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            for line in fh.readlines()[1:]:
                ports.add(int(line.split()[1].rsplit(":", 1)[1], 16))
    return ports


class UdpWatch:
    """Records, from a thread (the event loop may be the thing that is stuck), whether `ports` get bound."""

    def __init__(self, ports: set[int]) -> None:
        self.ports = ports
        self.seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.seen |= _bound_udp_ports() & self.ports
            self._stop.wait(0.005)

    def __enter__(self) -> UdpWatch:
        assert not _bound_udp_ports() & self.ports, "the ports were taken before the test"
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.seen |= _bound_udp_ports() & self.ports


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@contextlib.contextmanager
def peak_rss_growth() -> Iterator[list[int]]:
    """Yields a one-item list that ends up holding this process's peak RSS growth (bytes) over the block."""
    base = _rss()
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _rss() - base)
            stop.wait(0.005)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()
        peak[0] = max(peak[0], _rss() - base)


async def slowest_answer_while(client: TestClient[Any, Any], chat: str,
                               work: Callable[[], Awaitable[Any]]) -> tuple[Any, float]:
    """Run `work` while asking the playground for messages again and again; (its result, the slowest answer in s).

    A loop that a decoder blocks answers nothing until the decoder is done.
    """
    slowest = 0.0
    task = asyncio.ensure_future(work())
    while True:
        started = time.monotonic()
        resp = await client.get("/api/messages", params={"chat": chat})
        assert resp.status == 200
        slowest = max(slowest, time.monotonic() - started)
        if task.done():
            return task.result(), slowest
        await asyncio.sleep(0.01)


def _black_frame(codec: Any, side: int) -> Any:
    import av

    frame = av.VideoFrame(side, side, "yuv420p")
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))  # all zero: black-green, which compresses to nothing
    return frame


def _mkv_of_packet(codec_name: str, side: int, options: dict[str, str], copies: int, fps: int) -> bytes:
    """A Matroska file whose video is one encoded frame repeated `copies` times (encoding once keeps it cheap)."""
    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="matroska") as out:
        stream = out.add_stream(codec_name, rate=Fraction(fps))
        stream.width = stream.height = side
        stream.pix_fmt = "yuv420p"
        stream.options = options
        frame = _black_frame(stream, side)
        frame.pts = 0
        packets = [*stream.encode(frame), *stream.encode()]
        payload = bytes(packets[0])
        for i in range(copies):
            packet = av.Packet(payload)
            packet.stream = stream
            packet.pts = packet.dts = i
            packet.time_base = Fraction(1, fps)
            packet.is_keyframe = True
            out.mux(packet)
    return buf.getvalue()


@lru_cache(maxsize=1)
def huge_mkv(frames: int = 48) -> bytes:
    """8192x8192 H.264 in Matroska, `frames` black keyframes (about 200 KB each); decoding one costs ~0.2 s."""
    return _mkv_of_packet("libx264", 8192, {"preset": "ultrafast", "tune": "zerolatency"}, frames, 24)


def many_frames_mkv(frames: int = 5000, fps: int = 100) -> bytes:
    """A tiny 16x16 WebM-style clip with `frames` frames (50 s at 100 fps): no header counts them."""
    return _mkv_of_packet("libx264", 16, {"preset": "ultrafast", "tune": "zerolatency"}, frames, fps)


def long_mp4(frames: int = 300, side: int = 1024, fps: int = 24) -> bytes:
    """An H.264 MP4 of `frames` black side x side frames (a few dozen KB)."""
    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps))
        stream.width = stream.height = side
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast"}
        frame = _black_frame(stream, side)
        for i in range(frames):
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def rgba_png(side: int = 4096) -> bytes:
    """A valid transparent side x side RGBA PNG (4096: 64 MB decoded, inside the default pixel cap) in ~65 KB."""
    row = b"\x00" + b"\x00" * (side * 4)
    comp = zlib.compressobj(9)
    body = comp.compress(row * side) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def m4a_without_samples(seconds: float = 2.0) -> bytes:
    """An M4A whose header describes `seconds` of AAC but whose samples are gone (cut after `mdat`)."""
    import av

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "a.m4a")
        with av.open(path, "w", format="ipod", options={"movflags": "faststart"}) as out:
            stream = out.add_stream("aac", rate=48000, layout="stereo")
            for start in range(0, int(48000 * seconds), 1024):
                frame = av.AudioFrame.from_ndarray(np.zeros((2, 1024), np.float32), format="fltp", layout="stereo")
                frame.sample_rate = 48000
                frame.pts = start
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        with open(path, "rb") as fh:
            data = fh.read()
    return data[: data.index(b"mdat") + 4]  # moov first (faststart): the sample table stays, the samples go
