"""``FaceModelConfig``: what a face model folder's ``config.json`` says (see ``recognizers.face_onnx``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FaceModelConfig:
    labels: tuple[str, ...]
    label_set: str
    input_size: tuple[int, int]
    channels: int
    input_name: str
    output_name: str
    scale: float
    mean: float
    std: float
    temperature: float
    margin: float
    version: str
    sha256: dict[str, str]
    #: average the logits of each crop and its mirror image (run as one batch of 2N: a mirror
    #: inside the graph kept int8 kernels from paying off)
    mirror_average: bool = False
    #: name of a second model input [N, 9] that takes the face's landmark geometry
    #: (``features.face_geometry.geometry_vector``), so the action-unit-like cues feed the decision
    geometry_input: str | None = None

    @classmethod
    def load(cls, path: Path) -> FaceModelConfig:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FaceModelConfig:
        size = raw.get("input_size", [48, 48])
        return cls(
            labels=tuple(raw["labels"]),
            label_set=str(raw.get("label_set", "ferplus")),
            input_size=(int(size[0]), int(size[1])),
            channels=int(raw.get("channels", 1)),
            input_name=str(raw.get("input_name", "image")),
            output_name=str(raw.get("output_name", "logits")),
            scale=float(raw.get("scale", 1.0 / 255.0)),
            mean=float(raw.get("mean", 0.0)),
            std=float(raw.get("std", 1.0)),
            temperature=float(raw.get("temperature", 1.0)),
            margin=float(raw.get("margin", 0.10)),
            version=str(raw.get("version", "v1")),
            sha256=dict(raw.get("sha256", {})),
            mirror_average=bool(raw.get("mirror_average", False)),
            geometry_input=raw.get("geometry_input") or None,
        )
