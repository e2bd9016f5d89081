"""The speech recipe's classical baselines (log-mel statistics or functionals + logistic regression,
optionally z-scored per speaker) and the degradations its robustness checks add (white noise, babble,
a simulated room)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from affectlens_recipes.speech_scores import metrics


def add_noise(x: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    noise = rng.standard_normal(x.size).astype(np.float32)
    power = float(np.mean(x.astype(np.float64) ** 2)) or 1e-10
    return (x + noise * math.sqrt(power / 10 ** (snr_db / 10))).astype(np.float32)


def reverb(x: np.ndarray, rng: np.random.Generator, rt60: float = 0.5, rate: int = 16000) -> np.ndarray:
    """``x`` in a simulated room: convolved with exponentially decaying noise (-60 dB at ``rt60``), peak kept."""
    from scipy.signal import fftconvolve

    t = np.arange(int(rt60 * rate)) / rate
    impulse = rng.standard_normal(t.size) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    impulse[0] = 1.0
    y = fftconvolve(x.astype(np.float64), impulse)[: x.size]
    return (y * (np.abs(x).max() / max(np.abs(y).max(), 1e-9))).astype(np.float32)


def babble(x: np.ndarray, others: list[np.ndarray], snr_db: float, rng: np.random.Generator,
           talkers: int = 6) -> np.ndarray:
    """``x`` plus the sum of ``talkers`` other utterances (tiled to its length) at ``snr_db``."""
    mix = np.zeros(x.size, np.float64)
    for i in rng.choice(len(others), size=talkers, replace=False):
        mix += np.resize(others[i], x.size)
    power_x = float(np.mean(x.astype(np.float64) ** 2)) or 1e-10
    power_n = float(np.mean(mix**2)) or 1e-10
    return (x + mix * np.sqrt(power_x / (power_n * 10 ** (snr_db / 10)))).astype(np.float32)


def _baseline_features(logmels: list[np.ndarray]) -> np.ndarray:
    return np.array([np.concatenate([m.mean(axis=1), m.std(axis=1)]) for m in logmels])


def baseline(train_ids: list[int], test_ids: list[int], index: list[dict[str, Any]], logmels: list[np.ndarray],
             speaker_norm: bool) -> dict[str, Any]:
    return baseline_on_features(train_ids, test_ids, index, _baseline_features(logmels), speaker_norm)


def speaker_zscored(feats: np.ndarray, actors: np.ndarray) -> np.ndarray:
    """Each row z-scored against all rows of the same actor (the unlabelled speaker baseline)."""
    from affectlens.features.functionals import zscore_rows

    out = np.array(feats, dtype=np.float64)
    for actor in np.unique(actors):
        rows = actors == actor
        out[rows] = zscore_rows(feats[rows])
    return out


def baseline_on_features(train_ids: list[int], test_ids: list[int], index: list[dict[str, Any]], feats: np.ndarray,
                         speaker_norm: bool) -> dict[str, Any]:
    """Logistic regression on per-file functionals; ``speaker_norm`` z-scores them per actor first
    (unlabelled statistics of every file of that actor, as at inference on a whole recording)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    if speaker_norm:
        feats = speaker_zscored(feats, np.array([r["actor"] for r in index]))
    scaler = StandardScaler().fit(feats[train_ids])
    y = np.array([r["label"] for r in index])
    clf = LogisticRegression(max_iter=2000, C=0.5, class_weight="balanced")
    clf.fit(scaler.transform(feats[train_ids]), y[train_ids])
    probs = clf.predict_proba(scaler.transform(feats[test_ids]))
    return metrics(probs, y[test_ids])
