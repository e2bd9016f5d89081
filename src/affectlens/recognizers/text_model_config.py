"""A text model folder's ``config.json``: labels, calibration, VAD scaling, pinned hashes, session entries."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.model_folder import ModelFilesError
from affectlens.model_folder import ModelFilesMissing as ModelFilesMissing

# the one error type of model folders (``model_folder``), under the names this module always had
ModelIntegrityError = ModelFilesError


@dataclass(frozen=True)
class TextModelConfig:
    labels: tuple[str, ...]
    label_set: str
    temperatures: np.ndarray
    thresholds: np.ndarray
    vad_mean: np.ndarray
    vad_std: np.ndarray
    vad_scale_center: float
    vad_scale_half_range: float
    neutral_label: str | None
    sha256: dict[str, str]
    version: str
    vad_branch_file: str | None = None
    vad_branch_input: str = "hidden_layer3"
    vad_branch_blend: np.ndarray | None = None  # the branch's weight per VAD dimension; None: it replaces
    session_config: Mapping[str, str] = field(default_factory=dict)
    model_file: str = "model.onnx"

    @classmethod
    def load(cls, path: Path) -> TextModelConfig:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TextModelConfig:
        n = len(raw["labels"])
        vad = raw.get("vad", {})
        branch = raw.get("vad_branch", {})
        return cls(
            labels=tuple(raw["labels"]),
            label_set=raw.get("label_set", "goemotions"),
            temperatures=np.asarray(raw.get("temperatures", [1.0] * n), dtype=np.float32),
            thresholds=np.asarray(raw.get("thresholds", [0.5] * n), dtype=np.float32),
            vad_mean=np.asarray(vad.get("mean", [0.0, 0.0, 0.0]), dtype=np.float32),
            vad_std=np.asarray(vad.get("std", [1.0, 1.0, 1.0]), dtype=np.float32),
            vad_scale_center=float(vad.get("scale_center", 0.0)),
            vad_scale_half_range=float(vad.get("scale_half_range", 1.0)),
            neutral_label=raw.get("neutral_label"),
            sha256=dict(raw.get("sha256", {})),
            version=str(raw.get("version", "v1")),
            vad_branch_file=branch.get("file"),
            vad_branch_input=str(branch.get("input", "hidden_layer3")),
            vad_branch_blend=_blend_weights(branch.get("blend")),
            session_config={str(k): str(v) for k, v in raw.get("onnxruntime_session_config", {}).items()},
            model_file=str(raw.get("model_file", "model.onnx")),
        )


def _blend_weights(raw: Any) -> np.ndarray | None:
    if raw is None:
        return None
    try:
        weights = np.asarray(raw, dtype=np.float32)
    except (TypeError, ValueError):
        weights = np.zeros(0, dtype=np.float32)
    if weights.shape != (3,) or not np.all((weights >= 0) & (weights <= 1)):
        raise ValueError(f"vad_branch blend must be three weights in [0, 1], not {raw!r}")
    return weights
