"""Audio input: decoding, mono mixdown, resampling to 16 kHz in chunks, voice activity.

Why a package of its own: every speech path (the CLI, the service upload, the batch
engine, the benchmark) needs the same decoding and the same segmentation, and a one-hour
file must never be held in memory whole.  Importing this package is cheap: ``soundfile``,
``av``, ``soxr`` and ``onnxruntime`` are imported inside the functions that use them.
"""

from __future__ import annotations

from affectlens.audio.decode import (
    AUDIO_SUFFIXES,
    TARGET_RATE,
    AudioDecodeError,
    AudioFile,
    AudioInfo,
    iter_chunks,
    open_audio,
    read_audio,
)

__all__ = [
    "AUDIO_SUFFIXES",
    "TARGET_RATE",
    "AudioDecodeError",
    "AudioFile",
    "AudioInfo",
    "iter_chunks",
    "open_audio",
    "read_audio",
]
