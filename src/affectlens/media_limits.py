"""Limits that decoders check before and while they decode: a pixel cap, a media-time cap, cancellation.

Pixel cap: width x height is read from the header (PIL reads only the header on ``open``;
PyAV gives a stream's size without decoding) and an image or video frame larger than
``max_pixels`` is refused with ``MediaTooLarge`` *before* any pixel is decoded.  A 500 KB
PNG can announce 13000 x 13000 pixels (2 GB once decoded); the cap stops that.  Default
``DEFAULT_MAX_PIXELS`` (50 megapixels: every phone or DSLR photo up to 8160 x 6120 passes), or
``$AFFECTLENS_MAX_IMAGE_PIXELS``, or ``media_limits(max_pixels=...)`` for a block of code.

Work scope (``media_limits(...)``, one per thread or task, as a context variable): the
service runs each analysis inside one, with

* ``cancel``: a ``threading.Event``; the decoders call ``checkpoint`` between audio chunks
  and sampled video frames, which raises ``OperationCancelled`` once it is set (the request
  timed out, its client went away, the job was cancelled);
* ``max_seconds``: media time past which ``checkpoint`` raises ``MediaTooLong`` (a kind of
  ``OperationCancelled``; for files whose header gives no duration);
* ``between``: called at every checkpoint (a job uses it to let interactive requests go first).

``OperationCancelled`` is a ``BaseException`` (like ``asyncio.CancelledError``) so that the
"one bad input must not lose the batch" handlers, which catch ``Exception``, do not turn a
cancellation into an empty result and carry on.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from affectlens.inputs import InputError

DEFAULT_MAX_PIXELS = 50_000_000
PIXELS_ENV = "AFFECTLENS_MAX_IMAGE_PIXELS"


class MediaTooLarge(InputError):
    """An image or video frame with more pixels than the cap, or media longer than allowed."""


class OperationCancelled(BaseException):
    """The work was cancelled at a checkpoint (timeout, client gone, job cancelled)."""


class MediaTooLong(OperationCancelled):
    """Decoded media time went past the scope's ``max_seconds`` (the work stops like a cancellation,
    so that no per-input error handler turns it into an empty result; ``str()`` says why)."""


@dataclass(frozen=True)
class _Scope:
    max_pixels: int | None = None  # None: the environment's or the default
    max_seconds: float | None = None
    cancel: threading.Event | None = None
    between: Callable[[], object] | None = None


_NO_SCOPE = _Scope()
_SCOPE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("affectlens_media_scope", default=None)


def _scope() -> _Scope:
    return _SCOPE.get() or _NO_SCOPE


def max_pixels() -> int:
    """The pixel cap in force here: the scope's, else ``$AFFECTLENS_MAX_IMAGE_PIXELS``, else the default."""
    scoped = _scope().max_pixels
    if scoped is not None:
        return scoped
    raw = os.environ.get(PIXELS_ENV, "").strip()
    if raw:
        try:
            return max(1, int(raw))
        except ValueError:
            raise InputError(f"{PIXELS_ENV}={raw!r} is not a whole number of pixels") from None
    return DEFAULT_MAX_PIXELS


@contextmanager
def media_limits(*, max_pixels: int | None = None, max_seconds: float | None = None,
                 cancel: threading.Event | None = None, between: Callable[[], object] | None = None) -> Iterator[None]:
    """Apply these limits to decoding in this block (unset ones keep the enclosing scope's)."""
    current = _scope()
    scope = replace(
        current,
        max_pixels=max_pixels if max_pixels is not None else current.max_pixels,
        max_seconds=max_seconds if max_seconds is not None else current.max_seconds,
        cancel=cancel if cancel is not None else current.cancel,
        between=between if between is not None else current.between,
    )
    token = _SCOPE.set(scope)
    try:
        yield
    finally:
        _SCOPE.reset(token)


def check_pixels(width: int, height: int, what: str) -> None:
    """``MediaTooLarge`` when ``width`` x ``height`` is over the cap (checked before decoding)."""
    limit = max_pixels()
    if width > 0 and height > 0 and width * height > limit:
        raise MediaTooLarge(
            f"{what} is {width} x {height} = {width * height / 1e6:.1f} megapixels, more than the limit of "
            f"{limit / 1e6:g} megapixels (refused before decoding; {PIXELS_ENV} sets the limit)")


def checkpoint(media_seconds: float | None = None, what: str = "the media") -> None:
    """Between chunks/frames: stop when cancelled or past ``max_seconds``; let others go first."""
    scope = _scope()
    if scope.cancel is not None and scope.cancel.is_set():
        raise OperationCancelled()
    if scope.max_seconds is not None and media_seconds is not None and media_seconds > scope.max_seconds:
        raise MediaTooLong(f"{what} lasts longer than the limit of {scope.max_seconds:g} s")
    if scope.between is not None:
        scope.between()


__all__ = [
    "DEFAULT_MAX_PIXELS",
    "PIXELS_ENV",
    "MediaTooLarge",
    "MediaTooLong",
    "OperationCancelled",
    "check_pixels",
    "checkpoint",
    "max_pixels",
    "media_limits",
]
