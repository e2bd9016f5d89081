"""Image and video reading: formats, EXIF orientation, odd images, streamed sampling, bad files."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

PIL = pytest.importorskip("PIL")
av = pytest.importorskip("av")

from PIL import Image  # noqa: E402

from affectlens.inputs import ImageFrame, InputError  # noqa: E402
from affectlens.vision.io import (  # noqa: E402
    ImageDecodeError,
    VideoDecodeError,
    VideoOptions,
    as_image_frame,
    load_image,
    open_video,
    read_ahead,
)


def write_video(path: Path, seconds: float, fps: int = 10, size: tuple[int, int] = (64, 48),
                codec: str = "mpeg4") -> Path:
    """A tiny video whose frame i has brightness 10 * (i % 25) (so tests can tell frames apart)."""
    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(int(seconds * fps)):
            frame = np.full((height, width, 3), 10 * (i % 25), np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".bmp"])
def test_every_image_format_reads_as_rgb(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"img{suffix}"
    Image.new("RGB", (40, 30), (200, 10, 10)).save(path)
    frame = load_image(path)
    assert frame.pixels.shape == (30, 40, 3) and frame.pixels.dtype == np.uint8
    assert frame.pixels[0, 0, 0] > 150 and frame.source == str(path)


def test_exif_orientation_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    Image.new("RGB", (40, 20), (0, 0, 0)).save(path, exif=exif)
    assert load_image(path).pixels.shape == (40, 20, 3)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16"])
def test_grayscale_rgba_palette_and_16_bit_images_become_rgb(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "odd.png"
    Image.new(mode, (10, 12)).save(path)
    assert load_image(path).pixels.shape == (12, 10, 3)


def test_huge_images_are_reduced_and_tiny_ones_kept(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    Image.new("L", (7_000, 7_000), 128).save(big)  # 49 MP: under the pixel cap, over max_side
    assert max(load_image(big, max_side=1024).pixels.shape[:2]) == 1024
    small = tmp_path / "one.png"
    Image.new("RGB", (1, 1)).save(small)
    assert load_image(small).pixels.shape == (1, 1, 3)


def test_bad_image_files_raise_clear_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageDecodeError, match="empty file"):
        load_image(empty)
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG not really")
    with pytest.raises(ImageDecodeError, match="not a readable image"):
        load_image(corrupt)
    with pytest.raises(ImageDecodeError, match="cannot read"):
        load_image(tmp_path / "missing.png")


def test_as_image_frame_normalises_arrays() -> None:
    assert as_image_frame(np.zeros((5, 6), np.uint8)).pixels.shape == (5, 6, 3)
    assert as_image_frame(np.zeros((5, 6, 4), np.uint8)).pixels.shape == (5, 6, 3)
    assert as_image_frame(np.ones((5, 6, 3), np.float32)).pixels.max() == 255
    frame = ImageFrame(np.zeros((2, 2, 3), np.uint8))
    assert as_image_frame(frame) is frame
    with pytest.raises(InputError):
        as_image_frame(np.zeros((0, 3, 3), np.uint8))
    with pytest.raises(InputError):
        as_image_frame(42)


def test_video_frames_are_sampled_at_the_requested_rate(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", seconds=3.0, fps=10)
    video = open_video(path, options=VideoOptions(fps=2))
    assert video.width == 64 and video.height == 48
    frames = list(video.frames())
    times = [f.time for f in frames]
    assert len(frames) == 6 and times[0] == 0.0
    assert np.allclose(np.diff(times), 0.5, atol=0.11)
    assert frames[0].pixels.shape == (48, 64, 3)
    assert next(iter(video.frames())).time == 0.0  # re-iterable


def test_video_start_and_end_trim(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mkv", seconds=4.0, fps=10)
    frames = list(open_video(path, options=VideoOptions(fps=5, start=1.0, end=2.0)).frames())
    assert frames and frames[0].time is not None and frames[0].time >= 1.0
    assert all(f.time is not None and 1.0 <= f.time <= 2.0 for f in frames)
    assert 4 <= len(frames) <= 6


def test_video_options_come_from_the_analysis_options(tmp_path: Path) -> None:
    from affectlens.file_readers import FILE_TYPES
    from affectlens.options import AnalyzeOptions

    path = write_video(tmp_path / "clip.avi", seconds=1.0, fps=10)
    reader = FILE_TYPES[".avi"]
    assert reader.read_file(path, None, AnalyzeOptions(fps=1.0, end=0.5)).options == VideoOptions(1.0, 0.0, 0.5)
    assert reader.read_file(path, None, None).options.fps == 5.0  # no options: the defaults, no global state
    assert open_video(path).options.fps == 5.0
    with pytest.raises(InputError):
        VideoOptions(fps=0)
    with pytest.raises(InputError):
        VideoOptions(start=5, end=2)


def test_bad_videos_raise_clear_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoDecodeError, match="empty file"):
        open_video(empty)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x01garbage" * 100)
    with pytest.raises(VideoDecodeError):
        open_video(junk)
    audio_only = tmp_path / "audio.mp4"
    with av.open(str(audio_only), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with pytest.raises(VideoDecodeError, match="no video stream"):
        open_video(audio_only)


def test_frames_read_ahead_are_the_frames_read_in_place(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", seconds=3.0, fps=10)
    video = open_video(path, options=VideoOptions(fps=4))
    ahead = [(f.time, f.frame_index, f.pixels.tobytes()) for f in video.frames(prefetch=2)]
    in_place = [(f.time, f.frame_index, f.pixels.tobytes()) for f in video.frames(prefetch=0)]
    assert ahead == in_place and len(ahead) == 12


def test_prepared_frames_carry_what_the_reading_thread_computed(tmp_path: Path) -> None:
    video = open_video(write_video(tmp_path / "clip.mp4", seconds=1.0, fps=10), options=VideoOptions(fps=5))
    threads: set[str] = set()

    def brightness(pixels: np.ndarray) -> float:
        threads.add(threading.current_thread().name)
        return float(pixels.mean())

    pairs = list(video.prepared_frames(brightness))
    assert [f.frame_index for f, _ in pairs] == [f.frame_index for f in video.frames()]
    assert all(value == float(f.pixels.mean()) for f, value in pairs)
    assert threads == {"affectlens-read-ahead"}


def test_read_ahead_keeps_order_raises_in_the_caller_and_stops_when_closed() -> None:
    assert list(read_ahead(iter(range(50)), 3)) == list(range(50))

    def failing() -> Iterator[int]:
        yield 1
        raise VideoDecodeError("broken in the middle")

    got = []
    with pytest.raises(VideoDecodeError, match="broken in the middle"):
        for item in read_ahead(failing(), 2):
            got.append(item)
    assert got == [1]

    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            closed.set()

    stream = read_ahead(endless(), 2)
    assert next(stream) == 1
    stream.close()  # the caller stops: the thread stops and closes the source
    assert closed.wait(5.0)
    assert not any(t.name == "affectlens-read-ahead" for t in threading.enumerate())


def test_read_ahead_thread_sees_the_callers_pixel_limit(tmp_path: Path) -> None:
    from affectlens.media_limits import MediaTooLarge, media_limits

    video = open_video(write_video(tmp_path / "clip.mp4", seconds=1.0, fps=10))  # opened under the default cap
    with media_limits(max_pixels=100), pytest.raises(MediaTooLarge, match="a frame of video"):
        list(video.frames(prefetch=2))  # checked per frame, in the reading thread
