"""Synchronous media requests: refused up front when too long or too large, cancelled when abandoned.

Policy (``docs/service.md``, "Media limits"):

* Duration cap, from the container header (libsndfile / PyAV metadata; nothing is decoded):
  audio longer than ``max_sync_audio_seconds`` or video longer than ``max_sync_video_seconds``
  is refused with 413 and a message pointing at ``POST /v1/jobs``.  A file whose header
  gives no duration is decoded under the same cap (413 when decoding passes it).
* Pixel cap: images and video frames over ``max_image_pixels`` (width x height from the
  header) are refused with 413 before decoding (``affectlens.media_limits``).
* Own threads: synchronous media run on ``media_workers`` threads of their own, so that
  model loading, job validation and jobs (their own pool) never wait behind them.  While
  one runs it counts as interactive work (``InteractiveGate``): a running job pauses at its
  next audio chunk / video frame (bounded by ``job_yield_ms``) to let it through.
* Cancellation: when the request times out (504) or its client disconnects, the work's
  cancel event is set and decoding stops at the next chunk or frame
  (``media_limits.checkpoint``), so abandoned work does not keep a worker busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from affectlens.media_limits import MediaTooLarge, MediaTooLong, OperationCancelled, media_limits
from affectlens.service.engine import InteractiveGate, ServiceError
from affectlens.service.settings import ServiceSettings
from affectlens.service.uploads import SavedUpload

T = TypeVar("T")
DISCONNECT_POLL_S = 0.25


def media_duration(saved: SavedUpload) -> float | None:
    """Seconds of an audio/video upload from its header (``None``: images, or unknown); also checks
    an image's or a video's frame size against the pixel cap (raises ``MediaTooLarge``), reading
    headers only.  Blocking: call in a thread."""
    kind = saved.sniffed.kind
    if kind == "image":
        from PIL import Image

        from affectlens.media_limits import check_pixels

        with Image.open(saved.path) as opened:  # the header only
            check_pixels(*opened.size, "the image")
        return None
    if kind == "audio":
        from affectlens.audio.decode import open_audio

        return open_audio(saved.path).duration
    if kind == "video":
        from affectlens.vision.io import open_video

        return open_video(saved.path).duration
    return None


def sync_cap(settings: ServiceSettings, kind: str) -> float | None:
    if kind == "audio":
        return settings.max_sync_audio_seconds
    if kind == "video":
        return settings.max_sync_video_seconds
    return None


def too_long_message(what: str, seconds: float | None, cap: float) -> str:
    length = f"lasts {seconds:.0f} s" if seconds is not None else "lasts"
    return (f"{what} {length}, longer than the {cap:g} s limit for synchronous analysis: "
            f"submit it as a job instead (POST /v1/jobs with the file; poll GET /v1/jobs/{{id}})")


class SyncMediaRunner:
    """The thread pool of synchronous media requests, with caps, cancellation and gate accounting."""

    def __init__(self, settings: ServiceSettings, gate: InteractiveGate) -> None:
        self.settings = settings
        self.gate = gate
        self._executor: ThreadPoolExecutor | None = None
        self.cancelled = 0  # requests whose work was told to stop (tests, metrics)

    @property
    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=max(1, self.settings.media_workers),
                                                thread_name_prefix="affectlens-media-sync")
        return self._executor

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    async def run(self, request: Any, saved: SavedUpload, work: Callable[[], T]) -> T:
        """Check the caps from the header, then run ``work`` (blocking) cancellably; 413/504 as due."""
        cap = sync_cap(self.settings, saved.sniffed.kind)
        cancel = threading.Event()
        seconds = await self._call(request, cancel, None, self.probe, saved)
        if cap is not None and seconds is not None and seconds > cap:
            raise ServiceError(413, too_long_message(saved.sniffed.what, seconds, cap))
        try:
            return await self._call(request, cancel, cap, self._guarded, work)
        except MediaTooLong:  # no duration in the header, and decoding went past the cap
            raise ServiceError(413, too_long_message(saved.sniffed.what, None, cap or 0.0)) from None

    @staticmethod
    def probe(saved: SavedUpload) -> float | None:
        """``media_duration`` with 413 for a pixel-cap breach (``None`` for unreadable files)."""
        try:
            return media_duration(saved)
        except MediaTooLarge as exc:
            raise ServiceError(413, saved.scrub(str(exc))) from None
        except (ValueError, OSError):  # unreadable: the analysis itself gives the precise 400/415
            return None

    def _guarded(self, work: Callable[[], T]) -> T:
        self.gate.enter()  # a running job pauses at its next chunk/frame while this runs
        try:
            return work()
        finally:
            self.gate.leave()

    async def _call(self, request: Any, cancel: threading.Event, max_seconds: float | None,
                    fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        settings = self.settings

        def scoped() -> T:
            if cancel.is_set():  # timed out or abandoned while it waited for a thread
                raise OperationCancelled()
            with media_limits(max_pixels=settings.max_image_pixels, max_seconds=max_seconds, cancel=cancel):
                return fn(*args)

        future = loop.run_in_executor(self.executor, scoped)
        future.add_done_callback(_consume)
        watcher = asyncio.ensure_future(_wait_disconnect(request))
        waiting: set[asyncio.Future[Any]] = {future, watcher}
        try:
            done, _ = await asyncio.wait(waiting, timeout=settings.request_timeout_s,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            watcher.cancel()
            if not future.done():
                cancel.set()
                self.cancelled += 1
        if future in done:
            try:
                return future.result()
            except MediaTooLong:
                raise
            except OperationCancelled:
                raise ServiceError(503, "the analysis was cancelled (the service is shutting down?)") from None
        if watcher in done:
            raise ServiceError(499, "the client closed the connection; the analysis was stopped")
        raise ServiceError(504, f"the request took longer than {settings.request_timeout_s:g} s; the analysis "
                                "was stopped (send long media as a job: POST /v1/jobs)")


async def _wait_disconnect(request: Any) -> None:
    """Returns when the client has gone (``request.is_disconnected()``), else runs until cancelled."""
    if request is None:
        await asyncio.Event().wait()
    while not await request.is_disconnected():
        await asyncio.sleep(DISCONNECT_POLL_S)


def _consume(future: asyncio.Future[Any]) -> None:
    """Retrieve the outcome of work nobody waits for any more (no "exception never retrieved")."""
    with contextlib.suppress(BaseException):
        future.result()


__all__ = ["SyncMediaRunner", "media_duration", "sync_cap", "too_long_message"]
