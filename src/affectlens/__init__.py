"""affectlens: local, offline, explainable emotion recognition.

Public API: ``analyze``, ``analyze_stream`` (live audio), ``EmotionResult``, ``load_recognizer``,
``__version__``.  Names resolve lazily so that ``import affectlens`` stays fast and pulls in no heavy library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from affectlens.api import analyze
    from affectlens.live import analyze_stream
    from affectlens.registry import load_recognizer
    from affectlens.types import EmotionResult

__all__ = ["EmotionResult", "__version__", "analyze", "analyze_stream", "load_recognizer"]

_LAZY = {
    "analyze": "affectlens.api",
    "analyze_stream": "affectlens.live",
    "EmotionResult": "affectlens.types",
    "load_recognizer": "affectlens.registry",
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("affectlens")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"


__version__: str = _version()


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'affectlens' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
