"""Cheap generators of media for tests: a huge-but-tiny PNG, long audio files, short video clips."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def huge_png(path: Path, width: int = 13_000, height: int = 13_000) -> Path:
    """A single-colour 1-bit PNG of ``width`` x ``height`` written row by row (a few tens of KB on
    disk, ~0.5 GB of pixels once decoded as RGB; the writer never holds more than one row)."""
    row = b"\x00" + b"\xff" * ((width + 7) // 8)  # filter byte 0, then the packed white pixels
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, grayscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b""))
    return path


def long_flac(path: Path, seconds: float, *, tone_every_s: float = 30.0, tone_s: float = 3.0,
              rate: int = 16_000) -> Path:
    """``seconds`` of digital silence with a short pure tone every ``tone_every_s`` (FLAC packs it to
    a few MB even for 90 minutes; written block by block)."""
    import soundfile as sf

    t = np.arange(int(tone_s * rate)) / rate
    tone = (0.3 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32)
    gap = np.zeros(int((tone_every_s - tone_s) * rate), dtype=np.float32)
    with sf.SoundFile(str(path), "w", samplerate=rate, channels=1, format="FLAC", subtype="PCM_16") as out:
        written = 0.0
        while written < seconds:
            block = np.concatenate([tone, gap])[: int((seconds - written) * rate)]
            out.write(block)
            written += tone_every_s
    return path


def write_frames_video(path: Path, frames: Iterable[np.ndarray], fps: int = 10) -> Path:
    """An MPEG-4 clip of RGB frames (all the same size), for video tests."""
    import av

    with av.open(str(path), "w") as container:
        stream = None
        for frame in frames:
            if stream is None:
                stream = container.add_stream("mpeg4", rate=fps)
                stream.height, stream.width = frame.shape[:2]
                stream.pix_fmt = "yuv420p"
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        if stream is not None:
            for packet in stream.encode():
                container.mux(packet)
    return path
