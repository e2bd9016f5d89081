"""Pixel cap from the header (images, video frames), and cancellation between audio chunks."""

from __future__ import annotations

import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

from affectlens.media_limits import (
    DEFAULT_MAX_PIXELS,
    PIXELS_ENV,
    MediaTooLarge,
    MediaTooLong,
    OperationCancelled,
    check_pixels,
    max_pixels,
    media_limits,
)
from media_files import huge_png, long_flac


def test_pixel_cap_default_env_and_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PIXELS_ENV, raising=False)
    assert max_pixels() == DEFAULT_MAX_PIXELS
    check_pixels(8160, 6120, "a 50 MP photo")  # passes
    with pytest.raises(MediaTooLarge, match=r"169\.0 megapixels"):
        check_pixels(13_000, 13_000, "image x")
    monkeypatch.setenv(PIXELS_ENV, "1000")
    assert max_pixels() == 1000
    with media_limits(max_pixels=10):
        assert max_pixels() == 10
    assert max_pixels() == 1000


def test_decompression_bomb_png_is_refused_before_decoding(tmp_path: Path) -> None:
    pytest.importorskip("PIL")
    from affectlens.vision.io import load_image

    bomb = huge_png(tmp_path / "bomb.png")
    assert bomb.stat().st_size < 100_000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(MediaTooLarge, match="13000 x 13000"):
            load_image(bomb)
        with media_limits(max_pixels=100), pytest.raises(MediaTooLarge, match=r"limit of 0\.0001 megapixels"):
            load_image(huge_png(tmp_path / "small.png", 20, 20))


def test_cli_gives_one_line_error_for_a_bomb(tmp_path: Path) -> None:
    pytest.importorskip("PIL")
    bomb = huge_png(tmp_path / "bomb.png")
    # peak memory from VmHWM (this process image only: ru_maxrss can carry the forking parent's peak)
    script = ("import sys; from affectlens.cli import main\n"
              "sys.argv = ['affectlens', 'analyze', sys.argv[1]]\n"
              "try:\n    main()\nfinally:\n"
              "    hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')] or ['0']\n"
              "    print('peak_kb', hwm[0], file=sys.stderr)")
    run = subprocess.run([sys.executable, "-c", script, str(bomb)], capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    lines = [line for line in run.stderr.splitlines() if line.strip() and not line.startswith("peak_kb")]
    assert len(lines) == 1 and lines[0].startswith("error:") and "megapixels" in lines[0], run.stderr
    peak_kb = int(run.stderr.rsplit("peak_kb", 1)[1].split()[0])
    assert peak_kb < 400_000, run.stderr  # decoding it takes 0.6-2 GB; refusing it ~60 MB


def test_video_frame_size_is_checked_from_the_header(tmp_path: Path) -> None:
    av = pytest.importorskip("av")
    from affectlens.vision.io import open_video

    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
        for _ in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((96, 128, 3), np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    assert len(list(open_video(path).frames())) >= 1
    with media_limits(max_pixels=10_000), pytest.raises(MediaTooLarge, match="128 x 96"):
        open_video(path)


def test_audio_decoding_stops_when_cancelled_or_past_the_time_cap(tmp_path: Path) -> None:
    pytest.importorskip("soundfile")
    from affectlens.audio.decode import open_audio

    audio = open_audio(long_flac(tmp_path / "long.flac", 600))
    cancel = threading.Event()
    seen = 0
    with media_limits(cancel=cancel), pytest.raises(OperationCancelled):
        for _ in audio.chunks(10.0):
            seen += 1
            if seen == 3:
                cancel.set()
    assert seen == 3
    with media_limits(max_seconds=45.0), pytest.raises(MediaTooLong, match="limit of 45 s"):
        for _ in audio.chunks(10.0):
            pass
    calls: list[int] = []
    with media_limits(between=lambda: calls.append(1)):
        chunks = sum(1 for _ in audio.chunks(60.0))
    assert len(calls) == chunks == 10
