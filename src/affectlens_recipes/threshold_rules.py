"""Ways to fit per-label decision thresholds on dev, compared by ``text_thresholds --compare``.

Each rule maps ``(gold 0/1 matrix, probabilities)`` to one threshold per label.  The plain
per-label F1 peak (``metrics.best_thresholds``) is noisy for rare labels; the others trade that
variance for bias in different ways.  Bagging won on GoEmotions dev (``docs/training.md``,
"Bagged thresholds") and is what ``text_thresholds`` writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from affectlens.metrics import THRESHOLD_GRID as GRID
from affectlens.metrics import bagged_thresholds, best_thresholds, f1_per_label, macro_f1_multilabel

Rule = Callable[[np.ndarray, np.ndarray], np.ndarray]


def f1_curves(gold: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """(grid, labels): each label's F1 at every grid threshold."""
    return np.stack([f1_per_label(gold, probs >= t) for t in GRID])


def smoothed_peak(k: int) -> Rule:
    """The peak of each label's F1 curve after a moving average over +-k grid steps."""
    def fit(gold: np.ndarray, probs: np.ndarray) -> np.ndarray:
        curves = np.pad(f1_curves(gold, probs), ((k, k), (0, 0)), mode="edge")
        kernel = np.ones(2 * k + 1) / (2 * k + 1)
        smooth = np.stack([np.convolve(curves[:, j], kernel, mode="valid") for j in range(curves.shape[1])], 1)
        return GRID[smooth.argmax(0)]
    return fit


def global_threshold(gold: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """One threshold for every label, the grid value with the best macro-F1."""
    best = max(GRID, key=lambda t: macro_f1_multilabel(gold, probs >= t))
    return np.full(probs.shape[1], best)


def shrunk(weight: float) -> Rule:
    """``weight`` x the per-label peak + (1 - ``weight``) x the global threshold."""
    def fit(gold: np.ndarray, probs: np.ndarray) -> np.ndarray:
        return weight * best_thresholds(gold, probs) + (1 - weight) * global_threshold(gold, probs)
    return fit


def bagged(n_boot: int, statistic: Literal["mean", "median"] = "mean") -> Rule:
    """The per-label peak over ``n_boot`` bootstrap resamples, their mean or median."""
    def fit(gold: np.ndarray, probs: np.ndarray) -> np.ndarray:
        return bagged_thresholds(gold, probs, n_boot, statistic=statistic)
    return fit


RULES: dict[str, Rule] = {
    "per-label peak (packaged)": best_thresholds,
    "smoothed +-2": smoothed_peak(2),
    "smoothed +-4": smoothed_peak(4),
    "smoothed +-7": smoothed_peak(7),
    "global": global_threshold,
    "shrunk 70 % per-label": shrunk(0.7),
    "shrunk 50 % per-label": shrunk(0.5),
    "bagged median of 20": bagged(20, "median"),
    "bagged mean of 20": bagged(20),
    "bagged mean of 50 (written)": bagged(50),
}
