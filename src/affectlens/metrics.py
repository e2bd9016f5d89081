"""Evaluation metrics, each a pure function over numpy arrays: one home for the runtime, the benchmarks
and the recipes (F1s, recall/UAR, correlation, expected calibration error, Brier, bootstrap intervals).

Temperature fitting is in ``affectlens.calibration``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

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


THRESHOLD_GRID = np.arange(0.02, 0.96, 0.01)  # the thresholds best_thresholds tries by default


def best_thresholds(y_true: np.ndarray, probs: np.ndarray, grid: np.ndarray | None = None) -> np.ndarray:
    """Per-label threshold maximising that label's F1 (fit on dev, never on test)."""
    grid = THRESHOLD_GRID if grid is None else grid
    best = np.full(probs.shape[1], 0.5)
    best_f1 = np.full(probs.shape[1], -1.0)
    for thr in grid:
        f1 = f1_per_label(y_true, probs >= thr)
        better = f1 > best_f1
        best[better] = thr
        best_f1[better] = f1[better]
    return best


def bagged_thresholds(y_true: np.ndarray, probs: np.ndarray, n_boot: int = 50, seed: int = 0,
                      grid: np.ndarray | None = None, statistic: Literal["mean", "median"] = "mean") -> np.ndarray:
    """``best_thresholds`` averaged over ``n_boot`` bootstrap resamples of the rows (bagging).

    The F1-optimal threshold of a rare label sits on a jagged curve: a handful of dev examples
    move it far.  The mean over resamples is that estimate with most of its variance gone
    (Breiman 1996); on GoEmotions dev, fitted on one half and scored on the other, it adds
    0.005-0.007 macro-F1 over the plain per-label fit (``docs/training.md``; the median of the
    fits, ``statistic="median"``, about half that).
    """
    if n_boot < 1:
        raise ValueError("n_boot must be at least 1")
    y = np.asarray(y_true)
    p = np.asarray(probs)
    rng = np.random.default_rng(seed)
    resamples = (rng.integers(0, len(y), len(y)) for _ in range(n_boot))
    fits = [best_thresholds(y[rows], p[rows], grid) for rows in resamples]
    return np.mean(fits, axis=0) if statistic == "mean" else np.median(fits, axis=0)


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


# -- single-label classification -------------------------------------------------------------
# ``y_true`` / ``y_pred`` are integer class indices (n,).  ``labels`` fixes the classes a
# macro average runs over; without it, the classes seen in either array (as scikit-learn does).


def _classes(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[int] | None) -> np.ndarray:
    if labels is not None:
        return np.asarray(labels)
    return np.union1d(np.asarray(y_true), np.asarray(y_pred))


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    return float((t == p).mean()) if len(t) else 0.0


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int | None = None) -> np.ndarray:
    """Counts ``[true class, predicted class]`` (rows are the gold classes, as in scikit-learn)."""
    t = np.asarray(y_true, dtype=int)
    p = np.asarray(y_pred, dtype=int)
    n = int(n_classes) if n_classes is not None else int(max(t.max(initial=-1), p.max(initial=-1)) + 1)
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (t, p), 1)
    return matrix


def f1_per_class(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[int] | None = None) -> np.ndarray:
    """One-vs-rest F1 of each class in ``labels`` (0 where a class is neither gold nor predicted)."""
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    classes = _classes(t, p, labels)
    true_hot = t[:, None] == classes[None, :]
    pred_hot = p[:, None] == classes[None, :]
    return f1_per_label(true_hot, pred_hot)


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[int] | None = None) -> float:
    """Unweighted mean of per-class F1 (single-label)."""
    return float(f1_per_class(y_true, y_pred, labels).mean())


def weighted_f1(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[int] | None = None) -> float:
    """Per-class F1 averaged with the gold support of each class as weight (MELD's headline metric)."""
    t = np.asarray(y_true)
    classes = _classes(t, y_pred, labels)
    support = (t[:, None] == classes[None, :]).sum(0).astype(float)
    if support.sum() == 0:
        return 0.0
    return float((f1_per_class(t, y_pred, classes.tolist()) * support).sum() / support.sum())


def recall_per_class(y_true: np.ndarray, y_pred: np.ndarray,
                     labels: Sequence[int] | None = None) -> np.ndarray:
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    classes = np.unique(t) if labels is None else np.asarray(labels)
    support = (t[:, None] == classes[None, :]).sum(0).astype(float)
    hits = ((t[:, None] == classes[None, :]) & (p[:, None] == classes[None, :])).sum(0).astype(float)
    return np.divide(hits, support, out=np.zeros_like(hits), where=support > 0)


def unweighted_average_recall(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean recall over the classes present in the gold labels (= scikit-learn's balanced accuracy).

    The speech-emotion convention (RAVDESS, IEMOCAP): chance level is 1 / n_classes
    whatever the class balance.
    """
    t = np.asarray(y_true)
    if not len(t):
        return 0.0
    return float(recall_per_class(t, y_pred).mean())


# -- calibration -----------------------------------------------------------------------------
ECE_BINS = 15


def calibration_error(confidence: np.ndarray, outcome: np.ndarray, n_bins: int = ECE_BINS,
                      closed: Literal["right", "left"] = "right") -> float:
    """Expected calibration error of probabilities ``confidence`` for 0/1 events ``outcome``.

    ``sum_b (n_b / N) * |mean(outcome in b) - mean(confidence in b)|`` over ``n_bins``
    equal-width bins of [0, 1]; bin b holds ``(b/n_bins, (b+1)/n_bins]`` (the first bin
    also holds 0); with ``closed="left"``, ``[b/n_bins, (b+1)/n_bins)`` (the last bin also
    holds 1: the convention of the text model's card).  The building block of every ECE.
    """
    conf = np.asarray(confidence, dtype=float).ravel()
    hit = np.asarray(outcome, dtype=float).ravel()
    if not len(conf):
        return 0.0
    if closed == "right":
        bins = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    else:
        bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    conf_sum = np.bincount(bins, weights=conf, minlength=n_bins)
    hit_sum = np.bincount(bins, weights=hit, minlength=n_bins)
    return float(np.abs(hit_sum - conf_sum).sum() / len(conf))


def ece_top_label(probs: np.ndarray, y_true: np.ndarray, n_bins: int = ECE_BINS) -> float:
    """Top-label ECE for single-label tasks: the winning class's probability vs. being right."""
    p = np.asarray(probs, dtype=float)
    predicted = p.argmax(1)
    return calibration_error(p.max(1), predicted == np.asarray(y_true), n_bins)


def ece_multilabel(probs: np.ndarray, y_true: np.ndarray, n_bins: int = ECE_BINS) -> float:
    """Per-label-probability ECE for multi-label tasks, over all (example, label) pairs.

    Each pair's probability is read as P(label present) and compared with whether it is;
    the many confident negatives of a 28-label task make this value small: compare models
    with it, don't read it as the top-label ECE of a single-label task.
    """
    return calibration_error(np.asarray(probs, dtype=float), np.asarray(y_true, dtype=float), n_bins)


def brier_multiclass(probs: np.ndarray, y_true: np.ndarray) -> float:
    """Brier's original multi-class score: mean over examples of sum_k (p_k - onehot_k)^2, in [0, 2]."""
    p = np.asarray(probs, dtype=float)
    onehot = np.zeros_like(p)
    onehot[np.arange(len(p)), np.asarray(y_true, dtype=int)] = 1.0
    return float(((p - onehot) ** 2).sum(1).mean()) if len(p) else 0.0


def brier_multilabel(probs: np.ndarray, y_true: np.ndarray) -> float:
    """Mean over all (example, label) pairs of (p - y)^2 (the mean of per-label binary Brier scores)."""
    p = np.asarray(probs, dtype=float)
    return float(((p - np.asarray(y_true, dtype=float)) ** 2).mean()) if p.size else 0.0


KL_EPSILON = 1e-3  # added to every predicted share, so a class never predicted gives a finite KL


def distribution_kl(gold: np.ndarray, predicted: np.ndarray, n_classes: int, epsilon: float = KL_EPSILON) -> float:
    """KL(gold || predicted) between the class distributions of two label arrays (nats).

    ``epsilon`` is added to every predicted share (then renormalised), so a class never
    predicted gives a finite KL; negative predictions (no answer) count in the denominator only.
    """
    human = np.bincount(gold, minlength=n_classes) / len(gold)
    mix = np.bincount(predicted[predicted >= 0], minlength=n_classes) / max(len(predicted), 1) + epsilon
    mix /= mix.sum()
    keep = human > 0
    return float((human[keep] * np.log(human[keep] / mix[keep])).sum())


# -- uncertainty -----------------------------------------------------------------------------
def bootstrap_ci(
    metric: Callable[..., float],
    *arrays: np.ndarray,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``metric(*arrays)``, resampling examples (rows) with replacement.

    All arrays are indexed by the same resampled rows, so paired data stay paired.
    """
    if not arrays:
        raise ValueError("bootstrap_ci needs at least one array")
    data = [np.asarray(a) for a in arrays]
    n = len(data[0])
    if any(len(a) != n for a in data):
        raise ValueError("bootstrap_ci arrays must have the same number of rows")
    if n == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    values = np.empty(n_resamples)
    for r in range(n_resamples):
        rows = rng.integers(0, n, n)
        values[r] = metric(*(a[rows] for a in data))
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return (float(low), float(high))
