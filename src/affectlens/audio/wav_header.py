"""Whether a WAV file holds the audio its header announces (libsndfile silently reads what is there).

libsndfile (``soundfile``) trusts the file size over the ``data`` chunk's declared size, so a
WAV cut off in transfer opens as a shorter, valid-looking file: a 60-byte remnant of a
3-second recording reads as 0.0 s and gave "no speech found" with no hint of the damage.
Reading the RIFF header (a few hundred bytes) lets the decoder say how much is missing.
"""

from __future__ import annotations

import struct
from pathlib import Path

_UNKNOWN_SIZES = frozenset({0, 0xFFFFFFFF})  # streaming writers leave the size unset


def wav_truncation(path: str | Path) -> str | None:
    """A warning naming the file and how much audio is missing, or ``None`` when the data is complete.

    Only plain RIFF/WAVE files are checked (RF64 and files whose header is unreadable are
    left to the decoder, which reports them itself).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            offset, block_align, rate = 12, 0, 0
            while offset + 8 <= size:
                handle.seek(offset)
                chunk_id, chunk_size = struct.unpack("<4sI", handle.read(8))
                if chunk_id == b"fmt ":
                    fmt = handle.read(16)
                    if len(fmt) == 16:
                        _, _, rate, _, block_align, _ = struct.unpack("<HHIIHH", fmt)
                elif chunk_id == b"data":
                    if chunk_size in _UNKNOWN_SIZES:
                        return None
                    available = size - (offset + 8)
                    if available >= chunk_size:
                        return None
                    return _describe(path, chunk_size, available, block_align * rate)
                offset += 8 + chunk_size + (chunk_size & 1)
    except (OSError, struct.error):
        return None
    return None


def _describe(path: Path, declared: int, available: int, bytes_per_second: int) -> str:
    missing = declared - available
    if bytes_per_second > 0:
        return (f"{path}: truncated WAV: the header announces {declared / bytes_per_second:.1f} s of audio, "
                f"the file holds {max(available, 0) / bytes_per_second:.1f} s ({missing:,} bytes, "
                f"{missing / bytes_per_second:.1f} s missing)")
    return f"{path}: truncated WAV: the header announces {declared:,} bytes of audio, {missing:,} of them missing"
