"""Load the ONNX heads of a shipped model folder: ``config.json`` names them and pins their sha256.

The conversation model (``dialogue/context_model.py``) and the support model
(``dialogue/support.py``) ship the same kind of folder: a ``config.json`` with ``heads``
(mode -> ONNX file) and ``sha256`` (file -> digest), and one small ONNX head per mode that
runs on the text encoder's features.  This is the one loader for such folders.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_onnx_heads(model_dir: Path, *, kind: str, threads: int, verify: bool = True
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(config, sessions by mode)`` for the heads of ``model_dir``; ``kind`` names the folder in errors.

    Raises ``ModelFilesMissing`` where ``config.json`` or a head is absent, and
    ``ModelIntegrityError`` where ``verify`` is on and a head's sha256 is not the pinned one.
    Sessions are built with :func:`affectlens.runtime_threads.session_options` (``threads``
    intra-op threads, the process's spinning setting).
    """
    import onnxruntime as ort

    from affectlens.models import sha256_file
    from affectlens.recognizers.text_onnx import ModelFilesMissing, ModelIntegrityError
    from affectlens.runtime_threads import session_options

    config_path = model_dir / "config.json"
    if not config_path.is_file():
        raise ModelFilesMissing(f"no config.json in {kind} model folder {model_dir}")
    config: dict[str, Any] = json.loads(config_path.read_text(encoding="utf-8"))
    # small heads: graph optimisation is left at onnxruntime's default
    options = session_options(ort, threads=threads, optimize=False)
    heads: dict[str, Any] = {}
    for mode, filename in config["heads"].items():
        path = model_dir / filename
        if not path.is_file():
            raise ModelFilesMissing(f"missing {filename} in model folder {model_dir}")
        if verify and sha256_file(path) != config["sha256"][filename]:
            raise ModelIntegrityError(f"{path} does not match the sha256 pinned in config.json")
        heads[mode] = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return config, heads


__all__ = ["load_onnx_heads"]
