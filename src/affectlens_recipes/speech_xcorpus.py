"""Emotion, arousal and valence heads on pooled Whisper states, trained across corpora; their evaluation.

Features come from the cache of ``training.speech_whisper_cache`` (one 768-d row per clip).
Two input normalisations, both usable on a single clip or a file:

- ``global`` (the shipped utterance graph): every row, in training and at test, goes through the
  *pooled* standardiser (mean of the corpus means, root of the mean corpus variance), baked into
  the exported graph: one clip is enough.
- ``utterance``: as ``global`` at test, but each training corpus is z-scored with its own
  statistics (removes corpus offsets while the head learns; a lone test clip keeps its offset).
- ``corpus``: rows z-scored per corpus in training and at test (the held-out corpus as one
  unlabelled "file" of many speakers).
- ``speaker``: every row is z-scored against the rows of its speaker (in a user's file: the
  file's own utterances, when it has enough of them), as the shipped model's file mode.

Sample weights give every class the same total weight and, within a class, every corpus
that has it the same weight, so 2,474 ASED clips do not drown 400 URDU clips.
Evaluation: leave-one-corpus-out (train without the corpus, score all of it, UAR over the
classes it shares with the training corpora) and in-corpus speaker-independent folds (train
on every other corpus plus the other folds of this one).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from affectlens_recipes.speech_corpora import CLASSES, CORPORA, HIGH_AROUSAL, POSITIVE, Clip, load_all

MODES = ("utterance", "global", "speaker", "corpus")


@dataclass
class Dataset:
    x: np.ndarray  # (N, D) float64
    corpus: np.ndarray
    speaker: np.ndarray  # corpus-qualified
    label: np.ndarray  # index into CLASSES
    fold: np.ndarray
    seconds: np.ndarray

    def rows(self, mask: np.ndarray) -> Dataset:
        return Dataset(self.x[mask], self.corpus[mask], self.speaker[mask], self.label[mask], self.fold[mask],
                       self.seconds[mask])


def load_features(cache: Path, window: str = "clip", corpora: Sequence[str] = CORPORA,
                  clips: list[Clip] | None = None) -> Dataset:
    """The cached rows of ``clips`` (default: every staged clip of ``corpora``) in index order."""
    from affectlens_recipes.speech_whisper_cache import load_cache

    clips = clips if clips is not None else load_all(corpora=tuple(corpora))
    tables = {c: load_cache(cache / window / f"{c}.npz") for c in corpora}
    missing = [clip.key for clip in clips if clip.key not in tables[clip.corpus]]
    if missing:
        raise FileNotFoundError(f"{len(missing)} clips not cached under {cache / window} (e.g. {missing[0]})")
    x = np.stack([tables[c.corpus][c.key][0] for c in clips]).astype(np.float64)
    return Dataset(x, np.array([c.corpus for c in clips]), np.array([f"{c.corpus}:{c.speaker}" for c in clips]),
                   np.array([CLASSES.index(c.label) for c in clips]), np.array([c.fold for c in clips]),
                   np.array([tables[c.corpus][c.key][1] for c in clips]))


def concat(parts: Sequence[Dataset]) -> Dataset:
    return Dataset(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("x", "corpus", "speaker", "label", "fold", "seconds")))


def with_augmented(data: Dataset, cache: Path, window: str) -> Dataset:
    """``data`` plus the augmented copies cached under ``window`` (several: comma-separated) for the clips that
    have one (training only)."""
    if "," in window:
        copies = [with_augmented(data, cache, w) for w in window.split(",")]
        return concat([data, *(c.rows(np.arange(len(data.label), len(c.label))) for c in copies)])
    from affectlens_recipes.speech_whisper_cache import load_cache

    clips = load_all(corpora=tuple(dict.fromkeys(str(c) for c in data.corpus)))  # the corpora in data's order
    keys = [c.key for c in clips]
    if len(keys) != len(data.label) or any(c.corpus != k for c, k in zip(clips, data.corpus, strict=True)):
        raise ValueError("with_augmented needs the Dataset of every staged clip of its corpora, in index order")
    tables = {c: load_cache(cache / window / f"{c}.npz") for c in np.unique(data.corpus)}
    rows = [i for i, key in enumerate(keys) if key in tables[data.corpus[i]]]
    if not rows:
        return data
    extra = np.stack([tables[data.corpus[i]][keys[i]][0] for i in rows]).astype(np.float64)
    picked = data.rows(np.array(rows))
    # copies form their own speaker groups (as in benchmarks/speech_xcorpus_noise.py --augment, where measured):
    # z-scored per speaker, noise would otherwise shift the clean rows of the same speaker
    return Dataset(np.vstack([data.x, extra]), np.concatenate([data.corpus, picked.corpus]),
                   np.concatenate([data.speaker, np.char.add(picked.speaker.astype(str), f":{window}")]),
                   np.concatenate([data.label, picked.label]),
                   np.concatenate([data.fold, picked.fold]), np.concatenate([data.seconds, picked.seconds]))


def augmenting_fitter(fitter: Callable[[Dataset, str], Heads], copies: Dataset) -> Callable[[Dataset, str], Heads]:
    """``fitter`` trained also on the augmented ``copies`` of the clips in its training set.

    Every test set here is whole folds or whole corpora, so a copy is in the training set exactly
    when its (corpus, fold) is: copies of test clips never leak into training."""

    def fit(train: Dataset, mode: str) -> Heads:
        seen = {(str(c), int(f)) for c, f in zip(train.corpus, train.fold, strict=True)}
        keep = np.array([(str(c), int(f)) in seen for c, f in zip(copies.corpus, copies.fold, strict=True)])
        if not keep.any():
            return fitter(train, mode)
        return fitter(concat([train, copies.rows(keep)]), mode)

    return fit


def zscore_groups(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each row z-scored against the rows of its group (speaker or corpus)."""
    from affectlens.features.functionals import zscore_rows

    out = np.empty_like(x, dtype=np.float64)
    for g in np.unique(groups):
        rows = groups == g
        out[rows] = zscore_rows(x[rows])
    return out


def pooled_stats(x: np.ndarray, corpus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the corpus means and sqrt of the mean corpus variance: the single-clip standardiser."""
    names = np.unique(corpus)
    means = np.stack([x[corpus == c].mean(axis=0) for c in names])
    variances = np.stack([x[corpus == c].var(axis=0) for c in names])
    return means.mean(axis=0), np.sqrt(np.maximum(variances.mean(axis=0), 1e-12))


def sample_weights(label: np.ndarray, corpus: np.ndarray) -> np.ndarray:
    """Every class the same total weight; within a class every corpus the same share."""
    w = np.zeros(len(label), dtype=np.float64)
    for k in np.unique(label):
        in_k = label == k
        corpora_k = np.unique(corpus[in_k])
        for c in corpora_k:
            cell = in_k & (corpus == c)
            w[cell] = 1.0 / (cell.sum() * len(corpora_k))
    return w * len(label) / w.sum()


@dataclass
class Heads:
    """Fitted heads of one mode: input standardiser, emotion (softmax over ``classes``), arousal, valence."""

    mode: str
    mean: np.ndarray
    std: np.ndarray
    classes: tuple[int, ...]  # CLASSES indices the emotion head knows
    emotion_w: np.ndarray  # (D, K)
    emotion_b: np.ndarray  # (K,)
    arousal_w: np.ndarray  # (D,)
    arousal_b: float
    valence_w: np.ndarray
    valence_b: float
    # "emotion": arousal and valence are the emotion head's probability mass on the high-arousal / positive
    # classes (the binary heads are not used); "heads": the two binary heads
    axes: str = "heads"

    def emotion(self, z: np.ndarray) -> np.ndarray:
        """(N, 8) probabilities over CLASSES (0 for classes the head never saw)."""
        from affectlens.calibration import softmax

        p = softmax(z @ self.emotion_w + self.emotion_b)
        full = np.zeros((len(z), len(CLASSES)))
        full[:, list(self.classes)] = p
        return full

    def arousal(self, z: np.ndarray) -> np.ndarray:
        if self.axes == "emotion":
            return self.emotion(z)[:, [CLASSES.index(k) for k in sorted(HIGH_AROUSAL)]].sum(axis=1)
        return 1.0 / (1.0 + np.exp(-(z @ self.arousal_w + self.arousal_b)))

    def valence(self, z: np.ndarray) -> np.ndarray:
        if self.axes == "emotion":
            return self.emotion(z)[:, [CLASSES.index(k) for k in sorted(POSITIVE)]].sum(axis=1)
        return 1.0 / (1.0 + np.exp(-(z @ self.valence_w + self.valence_b)))

    def standardise(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.std


def normalise(data: Dataset, mode: str) -> np.ndarray:
    if mode == "global":  # training rows through the same pooled standardiser a lone clip gets
        mean, std = pooled_stats(data.x, data.corpus)
        return (data.x - mean) / std
    return zscore_groups(data.x, _groups(data, mode))


def _groups(data: Dataset, mode: str) -> np.ndarray:
    return data.speaker if mode == "speaker" else data.corpus


def _lr(z: np.ndarray, y: np.ndarray, w: np.ndarray, c: float) -> Any:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    # one BLAS thread: on a shared 2-core machine more threads made each fit ~20x slower (oversubscription)
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        return LogisticRegression(C=c, max_iter=100).fit(z, y, sample_weight=w)


AXES = ("heads", "emotion")


def fit_heads(train: Dataset, mode: str, *, c: float = 0.05, axes: str = "heads") -> Heads:
    """Heads on ``train`` (normalised for ``mode``); the utterance standardiser is the pooled corpus stats.

    ``axes="emotion"``: arousal and valence come from the emotion head (measured with Whisper base's blocks
    3+4: in-corpus RAVDESS binary arousal accuracy 0.913 instead of 0.865 per utterance)."""
    if axes not in AXES:
        raise ValueError(f"axes must be one of {AXES}, got {axes!r}")
    z = normalise(train, mode)
    if mode in ("speaker", "corpus"):
        mean, std = np.zeros(z.shape[1]), np.ones(z.shape[1])
    else:
        mean, std = pooled_stats(train.x, train.corpus)
    w = sample_weights(train.label, train.corpus)
    emotion = _lr(z, train.label, w, c)
    axis_w = {"arousal": (np.zeros(z.shape[1]), 0.0), "valence": (np.zeros(z.shape[1]), 0.0)}
    if axes == "heads":  # two binary heads; with axes="emotion" they are not fitted (the emotion head answers)
        for axis, classes in (("arousal", HIGH_AROUSAL), ("valence", POSITIVE)):
            target = np.isin(train.label, [CLASSES.index(k) for k in classes]).astype(int)
            fitted = _lr(z, target, sample_weights(target, train.corpus), c)
            axis_w[axis] = (fitted.coef_[0].copy(), float(fitted.intercept_[0]))
    return Heads(mode, mean, std, tuple(int(k) for k in emotion.classes_), emotion.coef_.T.copy(),
                 emotion.intercept_.copy(), *axis_w["arousal"], *axis_w["valence"], axes)


def head_inputs(test: Dataset, heads: Heads) -> np.ndarray:
    """What the recognizer feeds the heads: rows z-scored per speaker (or per corpus: the whole held-out set as
    one "file"), or single clips through the pooled standardiser."""
    if heads.mode in ("utterance", "global"):
        return heads.standardise(test.x)
    return zscore_groups(test.x, _groups(test, heads.mode))


def uar(y: np.ndarray, pred: np.ndarray, classes: Sequence[int]) -> float:
    from affectlens.metrics import recall_per_class

    return float(recall_per_class(y, pred, [k for k in classes if np.any(y == k)]).mean())


def score(heads: Heads, test: Dataset, classes: Sequence[int] | None = None) -> dict[str, Any]:
    """UAR over ``classes`` (argmax restricted to them), WAR, binary arousal accuracy and balanced accuracy."""
    z = head_inputs(test, heads)
    p = heads.emotion(z)
    shared = [k for k in (classes if classes is not None else np.unique(test.label)) if k in heads.classes]
    keep = np.isin(test.label, shared)
    restricted = p[:, shared]
    pred = np.array(shared)[restricted.argmax(axis=1)]
    y = test.label
    high = np.isin(y, [CLASSES.index(k) for k in HIGH_AROUSAL])
    a_pred = heads.arousal(z) >= 0.5
    positive = np.isin(y, [CLASSES.index(k) for k in POSITIVE])
    v_pred = heads.valence(z) >= 0.5
    return {
        "uar": round(uar(y[keep], pred[keep], shared), 4),
        "war": round(float(np.mean(pred[keep] == y[keep])), 4),
        "classes": [CLASSES[k] for k in shared],
        "n": int(keep.sum()),
        "arousal_accuracy": round(float(np.mean(a_pred == high)), 4),
        "arousal_uar": round(uar(high.astype(int), a_pred.astype(int), [0, 1]), 4),
        "valence_uar": round(uar(positive.astype(int), v_pred.astype(int), [0, 1]), 4),
        "confusion": [[int(np.sum((y == a) & (pred == b))) for b in shared] for a in shared],
    }


Fitter = Callable[[Dataset, str], Heads]


def score_conditions(heads: Heads, test: Dataset, rows_by_condition: dict[str, np.ndarray]) -> dict[str, float]:
    """UAR of ``heads`` on ``test``'s clips with each condition's feature rows (same clips, same order): the
    noise benchmarks' degraded copies."""
    out = {}
    for condition, x in rows_by_condition.items():
        scored = test.rows(np.ones(len(test.label), bool))
        scored.x = x
        out[condition] = float(score(heads, scored)["uar"])
    return out


def leave_one_corpus_out(data: Dataset, mode: str, fitter: Fitter | None = None) -> dict[str, dict[str, Any]]:
    fit = fitter or fit_heads
    out = {}
    for corpus in np.unique(data.corpus):
        held = data.corpus == corpus
        out[str(corpus)] = score(fit(data.rows(~held), mode), data.rows(held))
    return out


def in_corpus_folds(data: Dataset, corpus: str, mode: str, *, with_other_corpora: bool = True,
                    fitter: Fitter | None = None) -> dict[str, Any]:
    """Speaker-independent folds of ``corpus``: pooled out-of-fold scores (and per-fold UAR)."""
    fit = fitter or fit_heads
    own = data.corpus == corpus
    per_fold, arousal = [], []
    for fold in np.unique(data.fold[own]):
        test = own & (data.fold == fold)
        train = ~test if with_other_corpora else own & ~test
        scores = score(fit(data.rows(train), mode), data.rows(test))
        per_fold.append(scores["uar"])
        arousal.append(scores["arousal_accuracy"])
    return {"uar_mean": round(float(np.mean(per_fold)), 4), "uar_per_fold": per_fold,
            "arousal_accuracy_mean": round(float(np.mean(arousal)), 4)}
