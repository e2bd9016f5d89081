"""Confidence that drops on faces unlike the training data.

A face whose head input (CNN features + geometry) lies far from every training face is one the
model has not learnt to read, yet a linear head extrapolates and can grow *more* confident there.
So the fusion head divides its logits by a per-face factor that grows with the face's distance
from the training faces:

    d(x)     = sqrt(mean(((x - mean) @ whiten) ** 2))     (Mahalanobis distance per dimension,
                                                          shrunk covariance of the training inputs)
    scale(x) = 1 + slope * max(0, d(x) - reference)      (reference: a high quantile of d on the
                                                          training faces: familiar faces keep 1)
    logits   = head(x) / scale(x), then the model's temperature as before

The temperature is fitted on the ordinary dev faces (FER2013Valid + the in-the-wild dev split);
``slope`` is then chosen by negative log-likelihood over those and dev faces unlike the training
faces (FER2013Valid blurred, ``face_fusion_cache.BLURRED_PART``), with their true labels; ``slope``
0 is among the choices, so the factor only stays if the dev faces support it.  The factor is
part of the exported graph, so the recognizer is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from affectlens.calibration import softmax_nll

#: shrinkage of the covariance towards its mean variance (features are correlated and 600+ wide)
SHRINKAGE = 0.1
#: the share of training faces whose distance the factor leaves alone
REFERENCE_QUANTILE = 0.95
SLOPES = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
TEMPERATURES = tuple(float(t) for t in np.round(np.arange(0.5, 3.0001, 0.02), 2))


@dataclass(frozen=True)
class Familiarity:
    mean: np.ndarray  # [D]
    whiten: np.ndarray  # [D, D]
    reference: float
    slope: float = 0.0

    def distance(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x, np.float64) - self.mean) @ self.whiten
        return np.asarray(np.sqrt((z * z).mean(axis=1)))

    def scale(self, x: np.ndarray) -> np.ndarray:
        return 1.0 + self.slope * np.maximum(0.0, self.distance(x) - self.reference)

    def with_slope(self, slope: float) -> Familiarity:
        return Familiarity(self.mean, self.whiten, self.reference, slope)


def fit_familiarity(train_x: np.ndarray, *, shrinkage: float = SHRINKAGE,
                    quantile: float = REFERENCE_QUANTILE) -> Familiarity:
    """Mean, whitening (inverse square root of the shrunk covariance) and the reference distance."""
    x = np.asarray(train_x, np.float64)
    mean = x.mean(axis=0)
    cov = np.cov(x - mean, rowvar=False)
    cov = (1.0 - shrinkage) * cov + shrinkage * float(np.trace(cov)) / len(cov) * np.eye(len(cov))
    values, vectors = np.linalg.eigh(cov)
    whiten = vectors / np.sqrt(np.maximum(values, 1e-12))
    found = Familiarity(mean, whiten, 0.0)
    return Familiarity(mean, whiten, float(np.quantile(found.distance(x), quantile)))


def choose_slope(familiarity: Familiarity, logits: np.ndarray, x: np.ndarray, true: np.ndarray,
                 familiar: np.ndarray | None = None) -> tuple[Familiarity, float, list[dict[str, float]]]:
    """(familiarity with the chosen slope, temperature, every trial).

    The temperature is fitted on the ``familiar`` dev faces (a mask; default all) without the
    factor, so the calibration of ordinary faces does not bend to the unfamiliar ones; the slope is
    then the one with the lowest negative log-likelihood over every dev face at that temperature."""
    familiar = np.ones(len(true), bool) if familiar is None else np.asarray(familiar, bool)
    temperature = min(TEMPERATURES, key=lambda t: softmax_nll(logits[familiar] / t, true[familiar]))
    distance = familiarity.distance(x)
    trials = []
    for slope in SLOPES:
        scaled = logits / (1.0 + slope * np.maximum(0.0, distance - familiarity.reference))[:, None] / temperature
        trials.append({"slope": slope, "temperature": temperature, "dev_nll": round(softmax_nll(scaled, true), 5),
                       "familiar_dev_nll": round(softmax_nll(scaled[familiar], true[familiar]), 5)})
    best = min(trials, key=lambda t: t["dev_nll"])
    return familiarity.with_slope(best["slope"]), temperature, trials


def graph_nodes(familiarity: Familiarity, inputs: str, raw_logits: str, logits: str) -> tuple[list[Any], list[Any]]:
    """ONNX (nodes, initializers) that turn ``raw_logits`` into ``logits`` / scale(``inputs``) (opset 13-17)."""
    from onnx import helper, numpy_helper

    inits = [numpy_helper.from_array(familiarity.mean.astype(np.float32), "familiarity.mean"),
             numpy_helper.from_array(familiarity.whiten.astype(np.float32), "familiarity.whiten"),
             numpy_helper.from_array(np.asarray([familiarity.reference], np.float32), "familiarity.reference"),
             numpy_helper.from_array(np.asarray([familiarity.slope], np.float32), "familiarity.slope"),
             numpy_helper.from_array(np.asarray([1.0], np.float32), "familiarity.one")]
    nodes = [helper.make_node("Sub", [inputs, "familiarity.mean"], ["familiarity.centred"]),
             helper.make_node("MatMul", ["familiarity.centred", "familiarity.whiten"], ["familiarity.z"]),
             helper.make_node("Mul", ["familiarity.z", "familiarity.z"], ["familiarity.z2"]),
             helper.make_node("ReduceMean", ["familiarity.z2"], ["familiarity.d2"], axes=[1], keepdims=1),
             helper.make_node("Sqrt", ["familiarity.d2"], ["familiarity.distance"]),
             helper.make_node("Sub", ["familiarity.distance", "familiarity.reference"], ["familiarity.excess"]),
             helper.make_node("Relu", ["familiarity.excess"], ["familiarity.beyond"]),
             helper.make_node("Mul", ["familiarity.beyond", "familiarity.slope"], ["familiarity.growth"]),
             helper.make_node("Add", ["familiarity.growth", "familiarity.one"], ["familiarity.scale"]),
             helper.make_node("Div", [raw_logits, "familiarity.scale"], [logits])]
    return nodes, inits


__all__ = ["Familiarity", "choose_slope", "fit_familiarity", "graph_nodes"]
