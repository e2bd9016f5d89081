"""Decoding: formats, mono mixdown, resampling, chunking, and every kind of bad file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

sf = pytest.importorskip("soundfile")
av = pytest.importorskip("av")
pytest.importorskip("soxr")

from affectlens.audio import AudioDecodeError, open_audio, read_audio  # noqa: E402
from affectlens.audio.decode import to_mono_16k  # noqa: E402
from affectlens.io import EmptyInput, InputNotFound  # noqa: E402


def tone(freq: float, seconds: float, rate: int, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_hz(x: np.ndarray, rate: int = 16_000) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / rate)[int(np.argmax(spectrum))])


def encode(path: Path, x: np.ndarray, rate: int, codec: str) -> Path:
    """Write mono ``x`` with PyAV's encoder ``codec`` (mp3, aac, libopus)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=rate)
        size = stream.codec_context.frame_size or 1024
        pts = 0
        for start in range(0, x.size, size):
            piece = x[start:start + size]
            frame = av.AudioFrame.from_ndarray(piece.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = rate
            frame.pts = pts
            pts += piece.size
            for converted in resampler.resample(frame):
                container.mux(stream.encode(converted))
        container.mux(stream.encode(None))
    return path


@pytest.mark.parametrize(("suffix", "rate", "subtype"), [(".wav", 44_100, "PCM_16"), (".flac", 48_000, "PCM_24"),
                                                         (".wav", 16_000, "FLOAT"), (".ogg", 22_050, "VORBIS")])
def test_soundfile_formats_resample_to_16k(tmp_path: Path, suffix: str, rate: int, subtype: str) -> None:
    path = tmp_path / f"a{suffix}"
    sf.write(path, tone(1000.0, 2.0, rate), rate, subtype=subtype)
    audio = open_audio(path)
    assert audio.info.decoder == "soundfile" and audio.info.sample_rate == rate
    x = np.concatenate(list(audio.chunks(0.5)))
    assert x.dtype == np.float32 and abs(x.size - 32_000) <= 16
    assert abs(dominant_hz(x) - 1000.0) < 5.0


@pytest.mark.parametrize(("suffix", "codec", "rate"), [(".mp3", "libmp3lame", 44_100), (".m4a", "aac", 48_000),
                                                       (".opus", "libopus", 48_000)])
def test_pyav_formats(tmp_path: Path, suffix: str, codec: str, rate: int) -> None:
    path = encode(tmp_path / f"a{suffix}", tone(440.0, 2.0, rate), rate, codec)
    audio = open_audio(path)
    assert audio.info.decoder == "pyav"
    x = np.concatenate(list(audio.chunks()))
    assert abs(x.size / 16_000 - 2.0) < 0.1  # encoders add a few ms of priming
    assert abs(dominant_hz(x) - 440.0) < 5.0


def test_video_audio_track(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as container:
        video = container.add_stream("mpeg4", rate=10)
        video.width, video.height = 64, 48
        audio = container.add_stream("aac", rate=16_000, layout="mono")
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20, np.uint8), format="rgb24")
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        x = tone(300.0, 1.0, 16_000)
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=16_000)
        for start in range(0, x.size, 1024):
            frame = av.AudioFrame.from_ndarray(x[start:start + 1024].reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate, frame.pts = 16_000, start
            for converted in resampler.resample(frame):
                container.mux(audio.encode(converted))
        container.mux(audio.encode(None))
    decoded = np.concatenate(list(open_audio(path).chunks()))
    assert abs(dominant_hz(decoded) - 300.0) < 5.0


def test_stereo_is_mixed_down(tmp_path: Path) -> None:
    left = tone(500.0, 1.0, 16_000)
    stereo = np.stack([left, -left], axis=1)  # opposite phases cancel in the mean
    path = tmp_path / "s.wav"
    sf.write(path, stereo, 16_000)
    assert open_audio(path).info.channels == 2
    assert np.abs(np.concatenate(list(open_audio(path).chunks()))).max() < 1e-3


def test_chunks_have_the_asked_size(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    sf.write(path, tone(200.0, 7.3, 16_000), 16_000)
    sizes = [c.size for c in open_audio(path).chunks(2.0)]
    assert sizes[:-1] == [32_000] * 3 and sizes[-1] == int(7.3 * 16_000) - 3 * 32_000


def test_telephone_rate_and_clipping_warn(tmp_path: Path) -> None:
    path = tmp_path / "phone.wav"
    sf.write(path, np.clip(tone(300.0, 1.0, 8_000, amp=2.0), -1, 1), 8_000)
    audio = open_audio(path)
    x = np.concatenate(list(audio.chunks()))
    assert abs(x.size - 16_000) <= 16
    assert any("8000 Hz" in w for w in audio.warnings)
    assert any("clipped" in w for w in audio.warnings)


def test_read_audio_and_in_memory_conversion(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    sf.write(path, tone(300.0, 0.5, 32_000), 32_000)
    clip = read_audio(path)
    assert clip.sample_rate == 16_000 and abs(clip.duration - 0.5) < 0.01
    ints = (tone(300.0, 0.5, 8_000) * 32767).astype(np.int16)
    assert to_mono_16k(ints, 8_000).size == 8_000
    with pytest.raises(ValueError, match="1-D"):
        to_mono_16k(np.zeros((2, 2, 2)), 16_000)


def test_bad_files_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(InputNotFound):
        open_audio(tmp_path / "missing.wav")
    (tmp_path / "zero.wav").write_bytes(b"")
    with pytest.raises(EmptyInput, match="zero-byte"):
        open_audio(tmp_path / "zero.wav")
    sf.write(tmp_path / "noframes.wav", np.zeros(0, np.float32), 16_000)
    with pytest.raises(EmptyInput, match="no audio samples"):
        open_audio(tmp_path / "noframes.wav")
    (tmp_path / "junk.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 10)
    with pytest.raises(AudioDecodeError, match="cannot decode"):
        open_audio(tmp_path / "junk.wav")
    (tmp_path / "text.mp3").write_text("this is not audio at all\n" * 20)
    with pytest.raises(AudioDecodeError):
        open_audio(tmp_path / "text.mp3")
    with pytest.raises(AudioDecodeError, match="not a file"):
        open_audio(tmp_path)


def test_truncated_file_yields_what_it_can(tmp_path: Path) -> None:
    path = tmp_path / "a.mp3"
    encode(path, tone(440.0, 3.0, 44_100), 44_100, "libmp3lame")
    data = path.read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) // 2])
    got: list[np.ndarray] = []
    try:
        for chunk in open_audio(cut).chunks(0.5):
            got.append(chunk)
    except AudioDecodeError as exc:
        assert "stopped at" in str(exc)
    seconds = sum(c.size for c in got) / 16_000
    assert 0.5 < seconds < 2.5


@pytest.mark.slow
def test_long_file_memory_stays_flat(tmp_path: Path) -> None:
    import tracemalloc

    path = tmp_path / "long.flac"
    with sf.SoundFile(path, "w", 44_100, 1, subtype="PCM_16") as handle:
        for _ in range(60):  # 10 minutes
            handle.write(tone(220.0, 10.0, 44_100, amp=0.1))
    tracemalloc.start()
    total = 0
    for chunk in open_audio(path).chunks(30.0):
        total += chunk.size
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert abs(total / 16_000 - 600.0) < 0.1
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.1f} MiB for 10 min of audio (38 MiB as float32 at 16 kHz)"
