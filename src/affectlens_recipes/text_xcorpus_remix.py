"""Exploratory (not shipped): re-mix the shipped text model's 28 logits with other corpora' labels.

``z' = A z + b`` (A 28x28 starting at the identity, b 28) on the GoEmotions logits ``z`` of the
shipped float graph.  Because the map is linear in the logits, per-word cues stay exact
(apply ``A`` to ``token_logits``), so a successor could ship it as a config entry.  Loss:
GoEmotions BCE on its 28 labels + ``other_weight`` x cross-entropy over Ekman-7 for
DailyDialog, ISEAR, EmoEvent and CrowdFlower, where an Ekman group's score is the
log-sum-exp of its members' logits (each corpus the same total weight, each class the same
weight inside it), + ``reg`` x ||A - I||^2.

It reads the cached features of ``bench/xcorpus_features.py`` (train subsets) and GoEmotions
dev/test logits it encodes itself; thresholds are tuned on GoEmotions dev only.

    python -m affectlens_recipes.text_xcorpus_remix --cache /work/cache/text/xcorpus
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from affectlens import metrics as m
from affectlens.bench.xcorpus_data import TRAINING_CORPORA, goemotions_ekman_matrix

Loss = Callable[[np.ndarray], tuple[float, np.ndarray]]
N_LABELS = 28


def remix_loss(ge_z: np.ndarray, ge_y: np.ndarray, other_z: np.ndarray, other_y: np.ndarray,
               other_w: np.ndarray, other_weight: float = 0.5, reg: float = 1e-3) -> Loss:
    """The loss and its gradient over the flat parameters ``[A (784), b (28)]``."""
    groups = goemotions_ekman_matrix().astype(np.float64)  # (28, 7)
    rows = np.arange(len(other_y))
    eye = np.eye(N_LABELS)
    weights = other_w / other_w.sum()

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        a, b = params[: N_LABELS * N_LABELS].reshape(N_LABELS, N_LABELS), params[N_LABELS * N_LABELS:]
        z1 = ge_z @ a.T + b
        s1 = 1.0 / (1.0 + np.exp(-z1))
        l1 = -np.mean(np.sum(ge_y * np.log(s1 + 1e-9) + (1 - ge_y) * np.log(1 - s1 + 1e-9), axis=1))
        g1 = (s1 - ge_y) / len(ge_z)
        z2 = other_z @ a.T + b
        top = z2.max(axis=1, keepdims=True)
        e = np.exp(z2 - top)
        group_sum = e @ groups
        scores = np.log(group_sum + 1e-30) + top
        soft = np.exp(scores - scores.max(axis=1, keepdims=True))
        soft /= soft.sum(axis=1, keepdims=True)
        l2 = -np.sum(weights * np.log(soft[rows, other_y] + 1e-12))
        d_scores = soft.copy()
        d_scores[rows, other_y] -= 1.0
        d_scores *= weights[:, None]
        g2 = (d_scores @ groups.T) * (e / (group_sum @ groups.T))
        d_a = g1.T @ ge_z + other_weight * (g2.T @ other_z) + 2 * reg * (a - eye)
        d_b = g1.sum(axis=0) + other_weight * g2.sum(axis=0)
        value = l1 + other_weight * l2 + reg * float(np.sum((a - eye) ** 2))
        return float(value), np.concatenate([d_a.ravel(), d_b])

    return loss


def fit_remix(loss: Loss, max_iter: int = 300) -> tuple[np.ndarray, np.ndarray]:
    from scipy.optimize import minimize

    start = np.concatenate([np.eye(N_LABELS).ravel(), np.zeros(N_LABELS)])
    result = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    return result.x[: N_LABELS * N_LABELS].reshape(N_LABELS, N_LABELS), result.x[N_LABELS * N_LABELS:]


def goemotions_f1(dev: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
                  a: np.ndarray, b: np.ndarray) -> float:
    """Test 28-label macro-F1 with per-label thresholds tuned on dev (the best label when none passes)."""
    p_dev = 1.0 / (1.0 + np.exp(-(dev[0] @ a.T + b)))
    p_test = 1.0 / (1.0 + np.exp(-(test[0] @ a.T + b)))
    thresholds = m.best_thresholds(dev[1], p_dev)
    predicted = (p_test >= thresholds).astype(np.int8)
    empty = predicted.sum(axis=1) == 0
    predicted[empty, np.argmax(p_test[empty] / thresholds, axis=1)] = 1
    return m.macro_f1_multilabel(test[1], predicted)


def meld_weighted_f1(z: np.ndarray, gold: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """MELD weighted-F1 of the top GoEmotions label grouped into Ekman-7 (MELD's 7 classes)."""
    groups = goemotions_ekman_matrix()
    top = np.argmax(z @ a.T + b, axis=1)
    return m.weighted_f1(gold, np.argmax(groups[top], axis=1), list(range(7)))


def main() -> None:  # pragma: no cover - needs the corpora and the cached features
    from threadpoolctl import threadpool_limits

    from affectlens.bench.datasets import load_goemotions
    from affectlens.bench.xcorpus import corpus_weights
    from affectlens.bench.xcorpus_features import LOGIT_COLUMNS, FeatureCache

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--other-weight", type=float, default=0.5)
    parser.add_argument("--reg", type=float, default=1e-3)
    args = parser.parse_args()
    cache = FeatureCache(args.cache, on_progress=print)
    with threadpool_limits(limits=1):
        ge, ge_x = cache.get("goemotions", "train", 6000)
        full = load_goemotions("train")
        index = {cid: k for k, cid in enumerate(full.ids)}
        ge_y = full.labels[[index[i] for i in ge.ids]].astype(np.float64)
        zs, ys, names = [], [], []
        for name in TRAINING_CORPORA[1:]:
            data, x = cache.get(name, "train", 6000)
            keep = data.ekman >= 0
            zs.append(x[keep, LOGIT_COLUMNS] * 5.0)
            ys.append(data.ekman[keep])
            names += [name] * int(keep.sum())
        y = np.concatenate(ys)
        loss = remix_loss(ge_x[:, LOGIT_COLUMNS] * 5.0, ge_y, np.concatenate(zs), y, corpus_weights(names, y),
                          args.other_weight, args.reg)
        a, b = fit_remix(loss)
        splits = {}
        for split in ("dev", "test"):
            corpus = load_goemotions(split)
            splits[split] = (cache.encode(corpus.texts)[:, LOGIT_COLUMNS] * 5.0, corpus.labels)
        meld, meld_x = cache.get("meld", "test")
        for tag, (aa, bb) in {"identity (shipped logits)": (np.eye(N_LABELS), np.zeros(N_LABELS)),
                              "remix": (a, b)}.items():
            print(f"{tag}: GoEmotions test macro-F1 {goemotions_f1(splits['dev'], splits['test'], aa, bb):.3f}, "
                  f"MELD test weighted-F1 {meld_weighted_f1(meld_x[:, LOGIT_COLUMNS] * 5.0, meld.ekman, aa, bb):.3f}")


if __name__ == "__main__":
    main()
