"""Which models are ready to serve, and the rule that training on first use is opt-in.

Some peers (``peer.tfidf-logreg.v1``, ``peer.frozen-minilm-logreg.v1``) ship no weights: they
are fitted from the user's GoEmotions copy and cached.  Fitting takes minutes and hundreds of
MB, so it must never happen as a side effect:

* Library and CLI: off unless asked for, with ``train_if_missing=True`` (Python) or
  ``AFFECTLENS_PEER_TRAIN=1`` (environment; ``affectlens bench --train-peers`` sets it).
  Without it ``load()`` raises ``PeerModelMissing`` whose message says how to prepare the model.
* Service: never, whatever the environment says.  It asks ``readiness`` before building a
  model (a model that is not ready is refused with its reason) and loads inside
  ``training_forbidden()``, which overrides every opt-in in that thread.

A recognizer tells whether it can load now by an optional ``readiness() -> str | None``
method (``None``: ready; else the reason, one line).  Recognizers without it are ready when
they can be built.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from affectlens.registry import RecognizerSpec

TRAIN_ENV = "AFFECTLENS_PEER_TRAIN"
_TRUE = ("1", "true", "yes", "on")
_FORBIDDEN: contextvars.ContextVar[bool] = contextvars.ContextVar("affectlens_training_forbidden", default=False)


def training_allowed(explicit: bool | None = None) -> bool:
    """May a model be trained now?  ``explicit`` (the caller's option) wins over the environment;
    inside ``training_forbidden()`` the answer is always no."""
    if _FORBIDDEN.get():
        return False
    if explicit is not None:
        return explicit
    return os.environ.get(TRAIN_ENV, "").strip().lower() in _TRUE


@contextmanager
def training_forbidden() -> Iterator[None]:
    """No training in this block (this thread/context), whatever option or variable is set."""
    token = _FORBIDDEN.set(True)
    try:
        yield
    finally:
        _FORBIDDEN.reset(token)


def not_trained_message(name: str, path: Path) -> str:
    """Why ``name`` cannot load, and the one command that prepares it."""
    how = "the service never trains models" if _FORBIDDEN.get() else "training on first use is off by default"
    return (f"{name}: no trained model in the cache ({path}); {how}. Prepare it once with "
            f"`{TRAIN_ENV}=1 affectlens analyze --model {name} \"test\"` (needs GoEmotions in $AFFECTLENS_DATA; "
            "minutes), or pass train_if_missing=True in Python")


def readiness(spec: RecognizerSpec) -> str | None:
    """``None`` when ``spec`` can be loaded now without training or missing packages; else why not.

    Builds the recognizer (cheap: weights load in ``load()``) and asks its ``readiness()``.
    """
    try:
        recognizer = spec.build()
    except ImportError as exc:
        return f"needs a package that is not installed ({exc.name or exc})"
    except Exception as exc:
        return f"cannot be built: {type(exc).__name__}: {' '.join(str(exc).split())}"
    check = getattr(recognizer, "readiness", None)
    if check is None:
        return None
    try:
        reason = check()
    except Exception as exc:
        return f"readiness check failed: {type(exc).__name__}: {' '.join(str(exc).split())}"
    return None if reason is None else str(reason)


__all__ = ["TRAIN_ENV", "not_trained_message", "readiness", "training_allowed", "training_forbidden"]
