"""Decode any audio (or a video's audio track) to mono float32 at 16 kHz, in chunks.

Why chunks: a one-hour recording is 230 MB as float32 at 16 kHz (1.3 GB as 48 kHz
stereo float64); reading it whole makes memory grow with the file.  ``AudioFile.chunks``
yields ``chunk_seconds`` of resampled mono audio at a time, so callers (VAD, features,
the recognizer) keep memory flat.

Which decoder: ``soundfile`` (libsndfile) for WAV/FLAC/OGG-Vorbis/AIFF, which it reads
block by block with exact sample counts; PyAV (FFmpeg) for MP3, M4A/AAC, Opus, WebM and
the audio track of video files, and as the fallback when libsndfile cannot open a file.
Resampling: ``soxr`` streaming (``ResampleStream``) after soundfile, FFmpeg's own
resampler (``av.AudioResampler``, mono + 16 kHz in one step) after PyAV; see
``benchmarks/speech_throughput.py`` for the measured costs.

Errors: a missing, empty, corrupt or non-audio file raises ``AudioDecodeError`` (an
``InputError``) with a one-line message when it is opened; a file that breaks part-way
(truncated) raises ``AudioDecodeError`` from the chunk iterator, after the audio that
could be decoded was yielded, so callers can keep what came before.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from affectlens.audio.wav_header import wav_truncation
from affectlens.file_types import AUDIO_SUFFIXES as AUDIO_SUFFIXES  # re-exported: the one suffix table
from affectlens.file_types import SOUNDFILE_SUFFIXES
from affectlens.file_types import VIDEO_SUFFIXES as VIDEO_SUFFIXES
from affectlens.inputs import AudioClip, InputError
from affectlens.io import EmptyInput, InputNotFound
from affectlens.media_limits import checkpoint

TARGET_RATE = 16_000
LOW_RATE_WARNING_HZ = 16_000


class AudioDecodeError(InputError):
    """An audio file that cannot be (fully) decoded; the message says what and where."""


@dataclass(frozen=True)
class AudioInfo:
    """What the file header says (``duration`` is ``None`` when the container does not know)."""

    path: str
    decoder: str  # "soundfile" | "pyav"
    sample_rate: int
    channels: int
    duration: float | None
    codec: str = ""


@dataclass
class AudioFile:
    """A validated audio file, decoded lazily: iterate ``chunks()`` to get 16 kHz mono audio.

    This is the payload that ``processing`` hands the speech recognizer for a file: it
    opens nothing until iterated.  ``warnings`` collects what the user should know
    (telephone-band sample rate, clipping) as decoding goes.
    """

    info: AudioInfo
    record_id: str | None = None
    warnings: list[str] = field(default_factory=list)
    clipped_fraction: float = 0.0
    #: found when the file was opened (a truncated WAV); repeated in ``warnings`` on every decode
    header_warnings: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        return self.info.path

    @property
    def duration(self) -> float | None:
        return self.info.duration

    def chunks(self, chunk_seconds: float = 30.0, rate: int = TARGET_RATE) -> Iterator[np.ndarray]:
        """Mono float32 chunks of ``chunk_seconds`` (the last may be shorter) at ``rate`` Hz."""
        if chunk_seconds <= 0:
            raise ValueError(f"chunk_seconds must be positive, got {chunk_seconds}")
        self.warnings.clear()
        self.warnings.extend(self.header_warnings)
        if self.info.sample_rate < LOW_RATE_WARNING_HZ:
            self.warnings.append(
                f"low sample rate ({self.info.sample_rate} Hz, telephone band): upsampled to {rate} Hz; "
                "the model was trained on wide-band audio, expect lower accuracy")
        raw = _soundfile_chunks if self.info.decoder == "soundfile" else _pyav_chunks
        total = clipped = 0
        for chunk in _rechunk(raw(self.info, rate), round(chunk_seconds * rate)):
            checkpoint(total / rate, self.info.path)  # cancellation, time cap, yielding (media_limits)
            total += chunk.size
            clipped += int(np.count_nonzero(np.abs(chunk) >= 0.999))
            yield chunk
        self.clipped_fraction = clipped / total if total else 0.0
        expected = self.info.duration
        if expected and total / rate < expected - max(0.1, 0.01 * expected):
            self.warnings.append(f"decoded {total / rate:.1f} s of the {expected:.1f} s the header announces "
                                 "(truncated file?)")
        if self.clipped_fraction > 0.001:
            self.warnings.append(f"clipped audio: {100 * self.clipped_fraction:.1f}% of samples at full scale; "
                                 "loudness and voice-quality cues are unreliable")


def open_audio(path: str | Path, *, record_id: str | None = None) -> AudioFile:
    """Check that ``path`` is decodable audio and return it as a lazy ``AudioFile``.

    Raises ``InputNotFound``, ``EmptyInput`` (no samples) or ``AudioDecodeError``.
    """
    path = Path(path)
    if not path.exists():
        raise InputNotFound(f"file not found: {path}")
    if not path.is_file():
        raise AudioDecodeError(f"cannot read {path}: not a file")
    if path.stat().st_size == 0:
        raise EmptyInput(f"empty input: {path} is a zero-byte file")
    info: AudioInfo | None = None
    first_error: Exception | None = None
    if path.suffix.lower() in SOUNDFILE_SUFFIXES:
        try:
            info = _probe_soundfile(path)
        except AudioDecodeError as exc:
            first_error = exc
    if info is None:
        try:
            info = _probe_pyav(path)
        except AudioDecodeError:
            if first_error is not None:
                raise first_error from None
            raise
    if info.duration is not None and info.duration <= 0:
        truncated = wav_truncation(path)
        raise EmptyInput(f"empty input: {truncated}" if truncated else f"empty input: {path} holds no audio samples")
    truncated = wav_truncation(path) if info.decoder == "soundfile" else None
    return AudioFile(info, record_id=record_id, header_warnings=[truncated] if truncated else [])


def read_audio_item(path: Path, record_id: str | None) -> AudioFile:
    """The ``processing`` file reader for audio suffixes."""
    return open_audio(path, record_id=record_id)


def iter_chunks(path: str | Path, *, chunk_seconds: float = 30.0, rate: int = TARGET_RATE) -> Iterator[np.ndarray]:
    """Shortcut: ``open_audio(path).chunks(chunk_seconds, rate)``."""
    return open_audio(path).chunks(chunk_seconds, rate)


def read_audio(path: str | Path, *, rate: int = TARGET_RATE, max_seconds: float | None = 3600.0) -> AudioClip:
    """The whole file as one ``AudioClip`` (for short files; long ones should use ``chunks``)."""
    audio = open_audio(path)
    if max_seconds is not None and audio.duration is not None and audio.duration > max_seconds:
        raise AudioDecodeError(f"{path} lasts {audio.duration:.0f} s (> {max_seconds:.0f} s): stream it with chunks()")
    parts = list(audio.chunks(60.0, rate))
    samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    if samples.size == 0:
        raise EmptyInput(f"empty input: {path} holds no audio samples")
    return AudioClip(samples, rate, source=str(path))


def to_mono_16k(samples: np.ndarray, sample_rate: int, rate: int = TARGET_RATE) -> np.ndarray:
    """In-memory counterpart of the file path: (n,) or (n, channels) -> mono float32 at ``rate``."""
    x = np.asarray(samples)
    if x.ndim == 2:
        x = x.mean(axis=1)
    elif x.ndim != 1:
        raise InputError(f"audio must be 1-D (mono) or 2-D (samples, channels), got shape {x.shape}")
    if np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.float32) / float(np.iinfo(x.dtype).max)
    x = np.ascontiguousarray(x, dtype=np.float32)
    if sample_rate <= 0:
        raise InputError(f"sample rate must be positive, got {sample_rate}")
    if sample_rate != rate and x.size:
        import soxr

        x = np.ascontiguousarray(soxr.resample(x, sample_rate, rate, quality="HQ"), dtype=np.float32)
    return x


# -- soundfile -------------------------------------------------------------------------------------


def _probe_soundfile(path: Path) -> AudioInfo:
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception as exc:  # libsndfile raises LibsndfileError / RuntimeError for junk
        raise AudioDecodeError(f"cannot decode {path}: {_one_line(exc)}") from exc
    if info.frames <= 0:
        raise EmptyInput(f"empty input: {path} holds no audio samples")
    return AudioInfo(str(path), "soundfile", int(info.samplerate), int(info.channels),
                     info.frames / float(info.samplerate), f"{info.format}/{info.subtype}")


def _soundfile_chunks(info: AudioInfo, rate: int) -> Iterator[np.ndarray]:
    import soundfile as sf

    block = max(4096, info.sample_rate * 10)
    resampler = None
    if info.sample_rate != rate:
        import soxr

        resampler = soxr.ResampleStream(info.sample_rate, rate, 1, dtype="float32", quality="HQ")
    position = 0
    try:
        with sf.SoundFile(info.path) as handle:
            while True:
                try:
                    data = handle.read(block, dtype="float32", always_2d=True)
                except Exception as exc:
                    raise AudioDecodeError(f"decoding {info.path} stopped at {position / info.sample_rate:.1f} s: "
                                           f"{_one_line(exc)} (truncated or corrupt file?)") from exc
                if data.shape[0] == 0:
                    break
                position += data.shape[0]
                mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
                mono = np.ascontiguousarray(mono, dtype=np.float32)
                yield resampler.resample_chunk(mono, last=False) if resampler is not None else mono
    except AudioDecodeError:
        raise
    except Exception as exc:
        raise AudioDecodeError(f"cannot decode {info.path}: {_one_line(exc)}") from exc
    if resampler is not None:
        tail = resampler.resample_chunk(np.zeros(0, np.float32), last=True)
        if tail.size:
            yield tail


# -- PyAV ------------------------------------------------------------------------------------------


def _probe_pyav(path: Path) -> AudioInfo:
    try:
        import av
    except ImportError as exc:  # the 'speech' extra brings av
        raise AudioDecodeError(f"cannot decode {path}: PyAV is not installed (pip install 'affectlens[speech]')"
                               ) from exc
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioDecodeError(f"cannot decode {path}: no audio track")
            stream = container.streams.audio[0]
            rate = int(stream.codec_context.sample_rate or stream.rate or 0)
            channels = int(stream.codec_context.channels or 0) or 1
            duration: float | None = None
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / 1_000_000.0
            codec = stream.codec_context.name or ""
            if not duration:
                # no duration in the header: decode until the first frame to tell empty from unknown
                got = False
                for frame in container.decode(stream):
                    got = frame.samples > 0
                    if got:
                        break
                if not got:
                    raise EmptyInput(f"empty input: {path} holds no audio samples")
                duration = None
    except (AudioDecodeError, EmptyInput):
        raise
    except Exception as exc:  # av.error.InvalidDataError and friends
        raise AudioDecodeError(f"cannot decode {path}: {_one_line(exc)} (not an audio file, or corrupt)") from exc
    if rate <= 0:
        raise AudioDecodeError(f"cannot decode {path}: unknown sample rate")
    return AudioInfo(str(path), "pyav", rate, channels, duration, codec)


def _pyav_chunks(info: AudioInfo, rate: int) -> Iterator[np.ndarray]:
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    seconds = 0.0
    try:
        with av.open(info.path) as container:
            stream = container.streams.audio[0]
            try:
                for frame in container.decode(stream):
                    seconds += frame.samples / float(frame.sample_rate or info.sample_rate)
                    for out in resampler.resample(frame):
                        yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
            except av.error.EOFError:
                pass
            except Exception as exc:
                raise AudioDecodeError(f"decoding {info.path} stopped at {seconds:.1f} s: {_one_line(exc)} "
                                       "(truncated or corrupt file?)") from exc
            for out in resampler.resample(None):
                yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
    except AudioDecodeError:
        raise
    except Exception as exc:
        raise AudioDecodeError(f"cannot decode {info.path}: {_one_line(exc)}") from exc


# -- helpers ---------------------------------------------------------------------------------------


def _rechunk(parts: Iterator[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Regroup arbitrary-length pieces into ``size``-sample chunks (the last one shorter)."""
    pending: list[np.ndarray] = []
    have = 0
    try:
        for part in parts:
            if part.size == 0:
                continue
            pending.append(part)
            have += part.size
            while have >= size:
                joined = np.concatenate(pending) if len(pending) > 1 else pending[0]
                yield joined[:size]
                rest = joined[size:]
                pending = [rest] if rest.size else []
                have = rest.size
    except AudioDecodeError:
        if have:  # hand on what was decoded before the failure, then report it
            yield np.concatenate(pending) if len(pending) > 1 else pending[0]
        raise
    if have:
        yield np.concatenate(pending) if len(pending) > 1 else pending[0]


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
