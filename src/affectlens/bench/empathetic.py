"""``affectlens bench empathetic``: how well the text model covers EmpatheticDialogues' 32 emotions.

Input per test conversation: the speaker's situation + their first turn (the official
"situation + first utterance" reading); gold: the conversation's emotion (one of 32).
Systems, in one run:

* ``text.minilm-goemotions.v1`` (ours, never trained on ED): its GoEmotions scores are
  expressed over ED's 32 labels and over Ekman's through the taxonomy (``convert_scores``),
  top label taken;
* ``tfidf-lr``: TF-IDF (1-2 grams) + logistic regression trained on ED train (C chosen on
  valid): an in-domain peer that ours is not;
* ``peer.nrc-lexicon.v1``: the NRC lexicon, Ekman view only (it has no 32-way answer);
* ``majority``: ED train's most frequent emotion.

Views: ED-32 (accuracy, macro-F1) and Ekman (gold ED labels that map to exactly one Ekman
label in the taxonomy; the others are left out of that view and counted).  Needs the
``empatheticdialogues`` label set in the taxonomy; without it the run says so and stops.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.metrics import accuracy, macro_f1

ED_SET = "empatheticdialogues"
COARSE_SET = "ekman"


class LabelSetMissing(RuntimeError):
    """The taxonomy has no EmpatheticDialogues label set yet."""


def ed_labels() -> tuple[str, ...]:
    from affectlens.taxonomy import get_label_set

    try:
        return tuple(get_label_set(ED_SET).labels)
    except Exception as exc:  # UnknownLabelSet
        raise LabelSetMissing(f"the taxonomy has no {ED_SET!r} label set ({exc})") from exc


def load_ed(split: str, data_root: Path | None = None, situation: bool = True) -> list[tuple[str, str, str]]:
    """``(conv_id, emotion, situation + first turn)`` per conversation of an ED split (the first turn alone
    with ``situation=False``)."""
    from affectlens.bench.datasets import DatasetMissing
    from affectlens.bench.datasets import data_root as shared_root

    path = shared_root(data_root) / "empatheticdialogues" / f"{split}.csv"
    if not path.is_file():
        raise DatasetMissing(f"EmpatheticDialogues not found at {path}")
    out: list[tuple[str, str, str]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["utterance_idx"] == "1":
                text = f"{row['situation']} {row['utterance']}" if situation else row["utterance"]
                out.append((row["conv_id"], row["emotion"], text.strip()))
    return out


def coarse_of(label: str) -> str | None:
    """The one Ekman label an ED label maps to in the taxonomy, None when it maps to several or none."""
    from affectlens.taxonomy import convert_scores

    scores = convert_scores({label: 1.0}, ED_SET, COARSE_SET)
    hits = [k for k, v in scores.items() if v > 1e-9]
    return hits[0] if len(hits) == 1 else None


def _scores(gold: np.ndarray, predicted: np.ndarray, labels: list[int], bootstrap: int) -> dict[str, Any]:
    from affectlens.bench.report import scores_with_intervals

    return scores_with_intervals({"accuracy": accuracy, "macro_f1": lambda g, p: macro_f1(g, p, labels)},
                                 gold, predicted, bootstrap)


def tfidf_predict(train: list[tuple[str, str, str]], valid: list[tuple[str, str, str]],
                  test: list[tuple[str, str, str]]) -> tuple[list[str], dict[str, Any]]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x_train = vectorizer.fit_transform([t for _, _, t in train])
    x_valid, x_test = vectorizer.transform([t for _, _, t in valid]), vectorizer.transform([t for _, _, t in test])
    best: tuple[float, Any, float] | None = None
    for c in (3.0, 10.0):
        model = LogisticRegression(C=c, max_iter=1000).fit(x_train, [e for _, e, _ in train])
        value = float((model.predict(x_valid) == np.array([e for _, e, _ in valid])).mean())
        if best is None or value > best[0]:
            best = (value, model, c)
    assert best is not None
    return [str(p) for p in best[1].predict(x_test)], {"C": best[2]}


def _top(scores: dict[str, float]) -> str:
    return max(scores, key=lambda k: scores[k]) if scores else ""


def run_empathetic(*, data_root: Path | None = None, bootstrap: int = 1000, limit: int | None = None,
                   on_progress: Callable[[str], None] = print) -> dict[str, Any]:
    from affectlens.bench.runner import machine_info
    from affectlens.registry import load_recognizer
    from affectlens.taxonomy import convert_scores

    labels = ed_labels()
    test = load_ed("test", data_root)[:limit] if limit else load_ed("test", data_root)
    train, valid = load_ed("train", data_root), load_ed("valid", data_root)
    index = {label: k for k, label in enumerate(labels)}
    coarse_labels = sorted({c for label in labels if (c := coarse_of(label))})
    coarse_index = {label: k for k, label in enumerate(coarse_labels)}
    gold = np.array([index[e] for _, e, _ in test])
    gold_coarse = [coarse_of(e) for _, e, _ in test]
    keep = np.array([c is not None for c in gold_coarse])
    gold_c = np.array([coarse_index[c] for c in gold_coarse if c is not None])

    def coarse_view(predicted: list[str]) -> dict[str, Any]:
        p = np.array([coarse_index.get(x, -1) for x, k in zip(predicted, keep, strict=True) if k])
        return _scores(gold_c, p, list(range(len(coarse_labels))), bootstrap)

    systems: dict[str, dict[str, Any]] = {}
    majority = max(set(e for _, e, _ in train), key=[e for _, e, _ in train].count)
    systems["majority"] = {"ed32": _scores(gold, np.full(len(gold), index[majority]), list(range(len(labels))),
                                           bootstrap),
                           "ekman": coarse_view([_top(convert_scores({majority: 1.0}, ED_SET, COARSE_SET))]
                                                * len(test))}
    on_progress("running text.minilm-goemotions.v1 ...")
    text = load_recognizer("text.minilm-goemotions.v1")
    started = time.perf_counter()
    results = text.analyze([t for _, _, t in test])
    seconds = time.perf_counter() - started
    scores = [r.segments[0].scores if r.segments else {} for r in results]
    ours_ed = [_top(convert_scores(s, "goemotions", ED_SET)) for s in scores]
    ours_coarse = [_top({k: v for k, v in convert_scores(s, "goemotions", COARSE_SET).items() if k != "neutral"})
                   for s in scores]
    systems["text.minilm-goemotions.v1"] = {
        "ed32": _scores(gold, np.array([index.get(p, -1) for p in ours_ed]), list(range(len(labels))), bootstrap),
        "ekman": coarse_view(ours_coarse), "texts_per_second": round(len(test) / seconds, 1)}
    on_progress("training the TF-IDF + LR peer on ED train ...")
    tfidf, chosen = tfidf_predict(train, valid, test)
    systems["tfidf-lr (ED train)"] = {
        "ed32": _scores(gold, np.array([index[p] for p in tfidf]), list(range(len(labels))), bootstrap),
        "ekman": coarse_view([_top(convert_scores({p: 1.0}, ED_SET, COARSE_SET)) for p in tfidf]),
        "chosen_on_valid": chosen}
    on_progress("running peer.nrc-lexicon.v1 ...")
    nrc = load_recognizer("peer.nrc-lexicon.v1")
    nrc_scores = [r.segments[0].scores if r.segments else {} for r in nrc.analyze([t for _, _, t in test])]
    systems["peer.nrc-lexicon.v1"] = {
        "ed32": None, "ekman": coarse_view([_top({k: v for k, v in s.items() if k != "neutral"}) for s in nrc_scores])}
    return {"task": "empathetic", "split": "test", "conversations": len(test), "limited": limit,
            "ekman_view": {"kept": int(keep.sum()), "left_out": int((~keep).sum()), "labels": coarse_labels},
            "systems": systems, "machine": machine_info(), "date": time.strftime("%Y-%m-%d", time.gmtime()),
            "data": "EmpatheticDialogues (Rashkin et al. 2019, CC BY-NC 4.0), official split; input: situation + "
                    "first turn"}


def to_markdown(report: dict[str, Any]) -> str:
    from affectlens.bench.report import interval_cell

    view = report["ekman_view"]
    lines = [f"### EmpatheticDialogues test ({report['conversations']} conversations; situation + first turn)", "",
             "| system | ED-32 accuracy | ED-32 macro-F1 [95% CI] | Ekman accuracy | Ekman macro-F1 [95% CI] |",
             "|---|---|---|---|---|"]

    def cell(m: dict[str, Any] | None, key: str) -> str:
        return "n/a" if m is None else interval_cell(m, key)

    for name, m in report["systems"].items():
        lines.append(f"| {name} | {cell(m['ed32'], 'accuracy')} | {cell(m['ed32'], 'macro_f1')} | "
                     f"{cell(m['ekman'], 'accuracy')} | {cell(m['ekman'], 'macro_f1')} |")
    lines += ["", f"Ekman view: {view['kept']} conversations whose ED label maps to one Ekman label "
                  f"({', '.join(view['labels'])}); {view['left_out']} left out. Data: {report['data']}. "
                  f"Date {report['date']}; machine {report['machine'].get('cpu', '?')} (loaded by other work)."]
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """Write ``<out>/empathetic-test.json`` and ``.md``; returns both paths."""
    from affectlens.bench.report import write_report_files

    return write_report_files(out, "empathetic-test", json.dumps(report, indent=2), to_markdown(report))


__all__ = ["LabelSetMissing", "coarse_of", "ed_labels", "load_ed", "run_empathetic", "to_markdown", "write_report"]
