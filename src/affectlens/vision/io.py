"""Read images (EXIF orientation honoured) and stream video frames at a sampled rate.

Why streaming: a one-hour 720p video holds about 100,000 frames (280 GB as RGB); frames are
decoded one by one with PyAV and only the sampled ones (``fps``, default 5 per second) are
turned into arrays, so memory stays flat whatever the video's length.  ``VideoFile`` is a
cheap, re-iterable handle: opening it validates the file (a container with a video stream)
and every call to ``frames()`` decodes afresh.

Bad input gives an ``InputError`` (a ``ValueError``) whose message says what is wrong:
zero-byte file, not an image, no video stream, undecodable data.  A frame that fails to
decode in the middle of a video is skipped and counted (``VideoFile.skipped``), never fatal.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.inputs import ImageFrame, InputError
from affectlens.media_limits import MediaTooLarge, check_pixels, checkpoint

DEFAULT_FPS = 5.0
#: sampled frames decoded ahead of the analysis, in a background thread (a 720p RGB frame is 2.8 MB)
PREFETCH_FRAMES = 4
#: the largest image side we decode at full size; bigger images are reduced (detection does
#: not need 10,000 px, and the RGB array of a 10000x10000 image is 300 MB)
MAX_IMAGE_SIDE = 4096


class ImageDecodeError(InputError):
    """The file is not a readable image."""


class VideoDecodeError(InputError):
    """The file is not a readable video (or it has no video stream)."""


@dataclass(frozen=True)
class VideoOptions:
    """How to sample a video: ``fps`` sampled frames per second, from ``start`` to ``end`` (s)."""

    fps: float = DEFAULT_FPS
    start: float = 0.0
    end: float | None = None

    def __post_init__(self) -> None:
        if not self.fps > 0:
            raise InputError(f"fps must be positive, got {self.fps}")
        if self.start < 0:
            raise InputError(f"start must be >= 0 s, got {self.start}")
        if self.end is not None and self.end <= self.start:
            raise InputError(f"end ({self.end} s) must be after start ({self.start} s)")


# -- images ------------------------------------------------------------------------------------


def _check_readable(path: Path, error: type[InputError]) -> None:
    """``error`` with the reason unless ``path`` is a readable, non-empty file."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or exc}") from exc
    if size == 0:
        raise error(f"empty file: {path} has 0 bytes")


def load_image(path: str | Path, *, record_id: str | None = None, max_side: int = MAX_IMAGE_SIDE) -> ImageFrame:
    """An image file as an RGB ``ImageFrame`` (EXIF orientation applied; grayscale/RGBA/palette -> RGB)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    _check_readable(path, ImageDecodeError)
    try:
        with warnings.catch_warnings():
            # big images are reduced below (draft/thumbnail); PIL still raises for 2x its pixel limit
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as opened:  # reads the header only: the size is known, nothing decoded
                check_pixels(*opened.size, f"image {path}")
                if max(opened.size) > max_side:
                    opened.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced scale
                image = ImageOps.exif_transpose(opened) or opened
                if max(image.size) > max_side:
                    image = image.copy()
                    image.thumbnail((max_side, max_side))
                image = _to_rgb(image)
                pixels = np.asarray(image, dtype=np.uint8)
    except MediaTooLarge:
        raise
    except Image.DecompressionBombError as exc:  # PIL's own header check, above twice its default limit
        raise MediaTooLarge(f"image {path} is too large to decode ({exc})") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageDecodeError(f"not a readable image: {path} ({exc})") from exc
    return ImageFrame(np.ascontiguousarray(pixels), source=str(path), record_id=record_id)


def _to_rgb(image: Any) -> Any:
    from PIL import Image

    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))  # transparent -> white
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = array.max() or 1.0
        return Image.fromarray((array / peak * 255).astype(np.uint8)).convert("RGB")
    return image.convert("RGB")


def as_image_frame(value: Any) -> ImageFrame:
    """An ``ImageFrame`` from an ImageFrame, an (H, W[, C]) uint8 array, or a path."""
    if isinstance(value, ImageFrame):
        frame = value
    elif isinstance(value, np.ndarray):
        frame = ImageFrame(value)
    elif isinstance(value, str | Path):
        return load_image(value)
    else:
        raise InputError(f"expected an image (ImageFrame, array or path), got {type(value).__name__}")
    pixels = np.asarray(frame.pixels)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 3, 4) or pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise InputError(f"an image must be (H, W), (H, W, 3) or (H, W, 4) and non-empty, got {pixels.shape}")
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    elif pixels.shape[2] == 4:
        pixels = pixels[:, :, :3]
    if pixels.dtype != np.uint8:
        if np.issubdtype(pixels.dtype, np.floating) and pixels.size and float(np.nanmax(pixels)) <= 1.0:
            pixels = pixels * 255.0
        pixels = np.clip(np.nan_to_num(pixels), 0, 255).astype(np.uint8)
    if pixels is frame.pixels:
        return frame
    return replace(frame, pixels=np.ascontiguousarray(pixels))


# -- videos ------------------------------------------------------------------------------------


@dataclass
class VideoFile:
    """A video on disk, validated on open; ``frames()`` streams the sampled frames as ``ImageFrame``s."""

    path: Path
    options: VideoOptions = field(default_factory=VideoOptions)
    record_id: str | None = None
    duration: float | None = None
    width: int = 0
    height: int = 0
    average_rate: float | None = None
    skipped: int = 0

    @property
    def source(self) -> str:
        return str(self.path)

    def frames(self, *, prefetch: int = PREFETCH_FRAMES) -> Iterator[ImageFrame]:
        """Decode the video once, yielding about ``options.fps`` frames per second (RGB).

        ``prefetch`` > 0: a background thread decodes and converts up to that many sampled
        frames ahead while the caller analyses the current one (PyAV and the RGB conversion
        release the GIL); 0 decodes in the caller's thread.  The frames are the same either way."""
        for frame, _ in self.prepared_frames(None, prefetch=prefetch):
            yield frame

    def prepared_frames(self, prepare: Callable[[np.ndarray], Any] | None, *, prefetch: int = PREFETCH_FRAMES
                        ) -> Iterator[tuple[ImageFrame, Any]]:
        """``frames()`` with ``prepare(pixels)`` of each frame, computed in the reading thread too
        (e.g. the detector's resized inputs: ``BlazeFaceDetector.prepare``); None: no preparation."""
        sampled: Generator[tuple[float, int, np.ndarray, Any], None, None] = self._sampled(prepare)
        if prefetch > 0:
            sampled = read_ahead(sampled, prefetch)
        try:
            for time, index, pixels, prepared in sampled:
                checkpoint(time, str(self.path))  # cancellation, time cap, yielding (media_limits)
                yield ImageFrame(pixels, source=self.source, time=round(time, 4), frame_index=index,
                                 record_id=self.record_id), prepared
        finally:
            sampled.close()  # stops the reading thread, closes the container

    def _sampled(self, prepare: Callable[[np.ndarray], Any] | None = None
                 ) -> Generator[tuple[float, int, np.ndarray, Any], None, None]:
        """(time, frame index, RGB pixels, ``prepare(pixels)``) of the sampled frames, in order."""
        import av

        opts = self.options
        step = 1.0 / opts.fps
        next_time = opts.start
        self.skipped = 0
        try:
            container = av.open(str(self.path))
        except (av.FFmpegError, OSError) as exc:
            raise VideoDecodeError(f"cannot open video {self.path}: {exc}") from exc
        with container:
            if not container.streams.video:
                raise VideoDecodeError(f"no video stream in {self.path}")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            if opts.start > 0 and stream.time_base is not None:
                with contextlib.suppress(av.FFmpegError):  # not seekable: decode from the start and skip
                    container.seek(int(opts.start / float(stream.time_base)), stream=stream, backward=True)
            index = -1
            packets = container.demux(stream)
            while True:
                try:
                    packet = next(packets)
                except StopIteration:
                    break
                except av.FFmpegError:
                    self.skipped += 1
                    continue
                try:
                    decoded = packet.decode()
                except av.FFmpegError:
                    self.skipped += 1
                    continue
                for frame in decoded:
                    index += 1
                    time = float(frame.time) if frame.time is not None else index / (self.average_rate or 25.0)
                    if opts.end is not None and time > opts.end:
                        return
                    if time + 1e-6 < next_time:
                        continue
                    # the next sample is one step after this one (no burst after a gap)
                    next_time = max(next_time + step, time + step * 0.5)
                    check_pixels(frame.width, frame.height, f"a frame of video {self.path}")  # size may change
                    pixels = frame.to_ndarray(format="rgb24")
                    yield time, index, pixels, None if prepare is None else prepare(pixels)


_DONE = object()


def read_ahead(items: Iterator[Any], depth: int) -> Generator[Any, None, None]:
    """``items`` drawn by a background thread, at most ``depth`` ahead of the caller, in order.

    An exception in ``items`` is raised in the caller at the point it was reached.  Closing the
    returned generator (or leaving it) stops the thread, which then closes ``items`` itself."""
    import contextvars
    import queue
    import threading

    buffer: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    break
            else:
                put((_DONE, None))
        except BaseException as exc:  # handed to the caller
            put((_DONE, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    # the thread sees the caller's context: its media_limits scope (pixel cap) holds there too
    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(produce,), name="affectlens-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = buffer.get()
            if item is _DONE:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        thread.join()


def open_video(path: str | Path, *, options: VideoOptions | None = None, record_id: str | None = None) -> VideoFile:
    """Validate ``path`` as a video (readable container with a video stream); decode nothing yet."""
    import av

    path = Path(path)
    _check_readable(path, VideoDecodeError)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoDecodeError(f"no video stream in {path}")
            stream = container.streams.video[0]
            duration = None
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / 1_000_000
            rate = float(stream.average_rate) if stream.average_rate else None
            width, height = stream.codec_context.width, stream.codec_context.height
    except av.FFmpegError as exc:
        raise VideoDecodeError(f"not a readable video: {path} ({exc})") from exc
    check_pixels(width or 0, height or 0, f"the frames of video {path}")  # from the header, before decoding
    return VideoFile(path, options or VideoOptions(), record_id, duration, width, height, rate)


def read_image_item(path: Path, record_id: str | None) -> ImageFrame:
    """The ``processing`` file reader for image suffixes."""
    return load_image(path, record_id=record_id)


def read_video_item(path: Path, record_id: str | None, options: VideoOptions | None = None) -> VideoFile:
    """The ``processing`` file reader for video suffixes (frames decode when iterated); ``options``
    come from the analysis' ``AnalyzeOptions.video()``, passed down by the processing layer."""
    return open_video(path, options=options, record_id=record_id)


__all__ = [
    "DEFAULT_FPS",
    "PREFETCH_FRAMES",
    "ImageDecodeError",
    "VideoDecodeError",
    "VideoFile",
    "VideoOptions",
    "as_image_frame",
    "load_image",
    "open_video",
    "read_ahead",
    "read_image_item",
    "read_video_item",
]
