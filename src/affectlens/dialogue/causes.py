"""Emotion causes: which turns (earlier ones, or the turn itself) caused a turn's emotion.

Causal emotion entailment as in RECCON (Poria et al. 2021): for an emotional turn ``t``,
every candidate turn ``c <= t`` is scored.  The scorer is a logistic regression over the
frozen turn features of the text encoder (the same 796 numbers the conversation model
reads) of both turns, their product, the distance ``t - c``, whether the same person
spoke, the turn positions and the target's emotion (``models/cause-reccon-logreg-v1``,
trained by ``affectlens_recipes/cause_reccon.py`` on RECCON's DailyDialog portion).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "cause-reccon-logreg-v1"
#: RECCON / DailyDialog emotion names, in the order of the feature one-hot
CAUSE_EMOTIONS: tuple[str, ...] = ("neutral", "happiness", "surprise", "anger", "sadness", "disgust", "fear")
#: MELD (the conversation model's labels) -> the names above
FROM_MELD = {"neutral": "neutral", "joy": "happiness", "surprise": "surprise", "anger": "anger",
             "sadness": "sadness", "disgust": "disgust", "fear": "fear"}
MAX_DISTANCE = 7


def pair_features(features: np.ndarray, speakers: Sequence[str], target: int, emotion: str) -> np.ndarray:
    """One row per candidate turn ``0..target`` of a dialogue (``features``: one row per turn)."""
    f_t = features[target]
    rows = []
    emotion_vec = np.zeros(len(CAUSE_EMOTIONS), dtype=np.float32)
    emotion_vec[CAUSE_EMOTIONS.index(emotion)] = 1.0
    for c in range(target + 1):
        distance = np.zeros(MAX_DISTANCE + 1, dtype=np.float32)
        distance[min(target - c, MAX_DISTANCE)] = 1.0
        f_c = features[c]
        extra = np.array([float(speakers[c] == speakers[target]), c / 10.0, target / 10.0], dtype=np.float32)
        rows.append(np.concatenate([f_t, f_c, f_t * f_c, distance, emotion_vec, extra]))
    return np.asarray(rows, dtype=np.float32)


def read_npz_model_folder(folder: Path, what: str, *, verify: bool = True) -> tuple[dict[str, Any], Path]:
    """``config.json`` of a numpy model folder and the path of its ``model.npz``, sha256 checked."""
    from affectlens.model_folder import ModelFolder

    model = ModelFolder.open(folder, kind=what.removesuffix(" model"), needs=("model.npz",), verify=verify, pinned=True)
    config, path = model.config, model.path / "model.npz"
    return config, path


@dataclass(frozen=True)
class CauseModel:
    """Standardisation + logistic regression + the decision threshold chosen on RECCON valid."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float
    name: str = "cause.reccon-logreg.v1"

    @classmethod
    def load(cls, folder: Path = DEFAULT_MODEL_DIR, *, verify: bool = True) -> CauseModel:
        config, path = read_npz_model_folder(folder, "cause model", verify=verify)
        with np.load(path) as data:
            return cls(data["mean"], data["scale"], data["weights"], float(data["bias"]),
                       float(config["threshold"]), str(config.get("name", cls.name)))

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        z = ((rows - self.mean) / self.scale) @ self.weights + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-z)))

    def causes(self, features: np.ndarray, speakers: Sequence[str], target: int,
               emotion: str) -> list[tuple[int, float]]:
        """``(candidate turn position, probability)`` of the turns judged causes, most likely first.

        The most likely candidate is always returned, so an emotional turn always names
        its likeliest cause even when no candidate passes the threshold.
        """
        p = self.probabilities(pair_features(features, speakers, target, emotion))
        chosen = [c for c in range(len(p)) if p[c] >= self.threshold] or [int(p.argmax())]
        return sorted(((c, float(p[c])) for c in chosen), key=lambda cp: -cp[1])


__all__ = ["CAUSE_EMOTIONS", "DEFAULT_MODEL_DIR", "FROM_MELD", "CauseModel", "pair_features"]
