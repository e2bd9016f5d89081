"""Evaluation metrics, each a pure function over numpy arrays."""

from __future__ import annotations

import numpy as np


def f1_per_label(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """F1 of every column of a 0/1 matrix (0 where a label has no positives and no predictions)."""
    t = np.asarray(y_true, dtype=bool)
    p = np.asarray(y_pred, dtype=bool)
    tp = (t & p).sum(0).astype(float)
    denom = t.sum(0) + p.sum(0)
    return np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)


def macro_f1_multilabel(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(f1_per_label(y_true, y_pred).mean())


def micro_f1_multilabel(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    t = np.asarray(y_true, dtype=bool)
    p = np.asarray(y_pred, dtype=bool)
    tp = float((t & p).sum())
    denom = float(t.sum() + p.sum())
    return 2 * tp / denom if denom else 0.0


def best_thresholds(y_true: np.ndarray, probs: np.ndarray, grid: np.ndarray | None = None) -> np.ndarray:
    """Per-label threshold maximising that label's F1 (fit on dev, never on test)."""
    grid = np.arange(0.02, 0.96, 0.01) if grid is None else grid
    best = np.full(probs.shape[1], 0.5)
    best_f1 = np.full(probs.shape[1], -1.0)
    for thr in grid:
        f1 = f1_per_label(y_true, probs >= thr)
        better = f1 > best_f1
        best[better] = thr
        best_f1[better] = f1[better]
    return best


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.std() == 0 or y.std() == 0:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1])


def ccc(x: np.ndarray, y: np.ndarray) -> float:
    """Lin's concordance correlation coefficient."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    cov = float(((x - x.mean()) * (y - y.mean())).mean())
    denom = x.var() + y.var() + (x.mean() - y.mean()) ** 2
    return 2 * cov / denom if denom else 0.0
