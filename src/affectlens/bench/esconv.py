"""``affectlens bench esconv``: next-strategy prediction on ESConv test, our model and peers in one run.

At every supporter turn of ESConv test, each system predicts the strategy of that turn
from what came before it (the turn's own text is never read).  Peers, trained on ESConv
train in the same run (choices on valid only):

* ``majority``: the most frequent strategy of train (Question);
* ``repeat-previous``: the strategy the supporter used last in this dialogue (the *gold*
  label: stronger than what a deployed system could know), else the majority;
* ``tfidf-lr``: TF-IDF (word 1-2 grams) + logistic regression over the seeker's last turn
  and the supporter's previous turn; C and class weighting chosen on valid.

Ours is the shipped ``support.esconv-minilm.v1``, run through ``SupportRecognizer.suggest``
(the path every surface uses), reading the history of strategies with its own ``observe``
head, not gold labels.  Where it routes a turn to a person (crisis language) it makes no
suggestion, and that counts as wrong.

Metrics: accuracy, weighted-F1 and macro-F1 over the 8 strategies, with 95 % bootstrap
intervals (resampling turns); and **preference bias**: the KL divergence from the human
strategy distribution to the predicted one (0 = the same mix of strategies; a system that
always reassures scores high) and recall per strategy.  Published systems' figures are
listed as published, marked as not re-measured (their setups differ: most generate the
reply and read the strategy from the output, on their own splits and preprocessing).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.dialogue.support_features import N_STRATEGIES, STRATEGIES
from affectlens.metrics import KL_EPSILON, accuracy, distribution_kl, macro_f1, recall_per_class, weighted_f1

#: published figures, as published; not re-measured here (different setups and splits)
PUBLISHED: tuple[dict[str, Any], ...] = (
    {"system": "MISC (Tu et al., ACL 2022)", "accuracy": 0.3134,
     "source": "strategy accuracy on ESConv test as listed for MISC by wizwand.com "
               "(https://www.wizwand.com/paper/68fa6c2e1e209131cea32a21); not checked against the paper's table",
     "note": "generation model (BlenderBot + COMET); strategy read from its output"},
)


@dataclass(frozen=True)
class Points:
    """The supporter turns of a split: gold strategy, context texts, gold previous strategy."""

    gold: np.ndarray
    seeker_text: list[str]
    supporter_text: list[str]
    previous: list[int | None]


def points_of(dialogues: list[Any]) -> Points:
    gold: list[int] = []
    seeker: list[str] = []
    supporter: list[str] = []
    previous: list[int | None] = []
    for d in dialogues:
        last_seeker, last_supporter, last_strategy = "", "", None
        for speaker, text, strategy in zip(d.speakers, d.texts, d.strategies, strict=True):
            if speaker == "sys":
                gold.append(STRATEGIES.index(strategy))
                seeker.append(last_seeker)
                supporter.append(last_supporter)
                previous.append(last_strategy)
                last_supporter, last_strategy = text, STRATEGIES.index(strategy)
            else:
                last_seeker = text
    return Points(np.array(gold), seeker, supporter, previous)


def tfidf_peer(train: Points, valid: Points, test: Points) -> tuple[np.ndarray, dict[str, Any]]:
    """TF-IDF + LR over the context; C and class weighting chosen on valid by accuracy + macro-F1."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    seeker_vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    supporter_vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x_train = hstack([seeker_vec.fit_transform(train.seeker_text), supporter_vec.fit_transform(train.supporter_text)])

    def transform(p: Points) -> Any:
        return hstack([seeker_vec.transform(p.seeker_text), supporter_vec.transform(p.supporter_text)])

    x_valid, x_test = transform(valid), transform(test)
    best: tuple[float, Any, dict[str, Any]] | None = None
    for c in (0.3, 1.0, 3.0):
        for weighting in (None, "balanced"):
            model = LogisticRegression(C=c, max_iter=1000, class_weight=weighting).fit(x_train, train.gold)
            pred = model.predict(x_valid)
            value = accuracy(valid.gold, pred) + macro_f1(valid.gold, pred, list(range(N_STRATEGIES)))
            if best is None or value > best[0]:
                best = (value, model, {"C": c, "class_weight": weighting})
    assert best is not None
    return np.asarray(best[1].predict(x_test)), best[2]


def kl_to_human(gold: np.ndarray, predicted: np.ndarray) -> float:
    """KL(human || predicted) between the two strategy distributions (nats)."""
    return distribution_kl(gold, predicted, N_STRATEGIES, KL_EPSILON)


def score(gold: np.ndarray, predicted: np.ndarray, bootstrap: int) -> dict[str, Any]:
    from affectlens.bench.report import scores_with_intervals

    labels = list(range(N_STRATEGIES))
    metrics: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
        "accuracy": accuracy,
        "weighted_f1": lambda g, p: weighted_f1(g, p, labels),
        "macro_f1": lambda g, p: macro_f1(g, p, labels),
    }
    out = scores_with_intervals(metrics, gold, predicted, bootstrap)
    out["kl_to_human"] = round(kl_to_human(gold, predicted), 4)
    recall = recall_per_class(gold, predicted, labels)
    out["recall"] = {s: round(float(r), 4) for s, r in zip(STRATEGIES, recall, strict=True)}
    counts = np.bincount(predicted[predicted >= 0], minlength=N_STRATEGIES)
    out["predicted_share"] = {s: round(float(c) / len(predicted), 4) for s, c in zip(STRATEGIES, counts, strict=True)}
    return out


def ours(dialogues: list[Any], model_dir: Path | None) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Our predictions at every supporter turn (-1 where routed to a person), probabilities, timing."""
    from affectlens.dialogue.support import SupportRecognizer
    from affectlens.dialogue.types import Dialogue, Turn

    recognizer = SupportRecognizer(model_dir, supporter="sys")
    recognizer.load()
    predicted, probs = [], []
    started = time.perf_counter()
    n_turns = 0
    for d in dialogues:
        dialogue = Dialogue(d.dialogue_id, tuple(Turn(i, s, t) for i, (s, t) in enumerate(zip(d.speakers, d.texts,
                                                                                              strict=True))))
        n_turns += len(dialogue)
        by_next = {p.next_turn: p for p in recognizer.suggest(dialogue, "sys")}
        for i, speaker in enumerate(d.speakers):
            if speaker != "sys":
                continue
            point = by_next.get(i)
            if point is None or point.probabilities is None:
                predicted.append(-1)
                probs.append(np.full(N_STRATEGIES, np.nan))
            else:
                predicted.append(STRATEGIES.index(point.suggested))
                probs.append(np.array([point.probabilities[s] for s in STRATEGIES]))
    seconds = time.perf_counter() - started
    return np.array(predicted), np.stack(probs), {"turns": n_turns, "seconds": round(seconds, 1),
                                                  "turns_per_second": round(n_turns / seconds, 1)}


def run_esconv(*, data_root: Path | None = None, model_dir: Path | None = None, bootstrap: int = 1000,
               limit: int | None = None, on_progress: Callable[[str], None] = print) -> dict[str, Any]:
    from affectlens.bench.esconv_data import load_esconv
    from affectlens.bench.runner import machine_info
    from affectlens.metrics import ece_top_label

    splits = {s: load_esconv(s, data_root) for s in ("train", "valid", "test")}
    if limit is not None:
        splits["test"] = splits["test"][:limit]
    points = {s: points_of(d) for s, d in splits.items()}
    test = points["test"]
    systems: dict[str, dict[str, Any]] = {}
    majority = int(np.bincount(points["train"].gold, minlength=N_STRATEGIES).argmax())
    systems["majority"] = score(test.gold, np.full(len(test.gold), majority), bootstrap)
    repeat = np.array([majority if p is None else p for p in test.previous])
    systems["repeat-previous (gold)"] = score(test.gold, repeat, bootstrap)
    on_progress("training the TF-IDF + LR peer ...")
    tfidf, chosen = tfidf_peer(points["train"], points["valid"], test)
    systems["tfidf-lr"] = {**score(test.gold, tfidf, bootstrap), "chosen_on_valid": chosen}
    on_progress("running support.esconv-minilm.v1 ...")
    predicted, probs, timing = ours(splits["test"], model_dir)
    ours_scores = score(test.gold, predicted, bootstrap)
    answered = predicted >= 0
    ours_scores["routed_to_person"] = int((~answered).sum())
    ours_scores["ece_top_label"] = round(ece_top_label(probs[answered], test.gold[answered]), 4)
    ours_scores["speed"] = timing
    systems["support.esconv-minilm.v1"] = ours_scores
    human = np.bincount(test.gold, minlength=N_STRATEGIES) / len(test.gold)
    return {
        "task": "esconv", "split": "test", "points": len(test.gold), "dialogues": len(splits["test"]),
        "limited": limit, "labels": list(STRATEGIES),
        "human_share": {s: round(float(v), 4) for s, v in zip(STRATEGIES, human, strict=True)},
        "systems": systems, "published": list(PUBLISHED), "machine": machine_info(),
        "data": "ESConv (Liu et al. 2021, CC BY-NC 4.0), seed-13 70/15/15 split (../shared/datasets/esconv)",
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }


def run_llm_study(client: Any, limit: int, data_root: Path | None,
                  on_progress: Callable[[str], None]) -> dict[str, Any]:
    """The LLM's own strategy vs the human's, without and with our suggestion (``llm/support.py``)."""
    from affectlens.bench.esconv_data import load_esconv
    from affectlens.dialogue.support import SupportRecognizer
    from affectlens.llm.support import strategy_study

    return strategy_study(load_esconv("test", data_root), client=client, recognizer=SupportRecognizer(),
                          limit=limit, on_progress=on_progress)


def to_markdown(report: dict[str, Any]) -> str:
    lines = [f"### ESConv next-strategy prediction, {report['split']} ({report['points']} supporter turns, "
             f"{report['dialogues']} dialogues{', LIMITED' if report['limited'] else ''})", "",
             "| system | accuracy [95% CI] | weighted-F1 [95% CI] | macro-F1 [95% CI] | KL to human mix |",
             "|---|---|---|---|---|"]
    from affectlens.bench.report import interval_cell as cell

    for name, m in report["systems"].items():
        lines.append(f"| {name} | {cell(m, 'accuracy')} | {cell(m, 'weighted_f1')} | {cell(m, 'macro_f1')} | "
                     f"{m['kl_to_human']:.3f} |")
    for p in report["published"]:
        lines.append(f"| {p['system']} (published, not re-measured) | {p['accuracy']:.3f} | n/a | n/a | n/a |")
    lines += ["", "Recall per strategy (and share of predictions vs the human share):", "",
              "| strategy | human share | " + " | ".join(report["systems"]) + " |",
              "|---|---|" + "---|" * len(report["systems"])]
    for s in report["labels"]:
        row = [f"{m['recall'][s]:.2f} ({m['predicted_share'][s]:.2f})" for m in report["systems"].values()]
        lines.append(f"| {s} | {report['human_share'][s]:.2f} | " + " | ".join(row) + " |")
    ours_m = report["systems"].get("support.esconv-minilm.v1", {})
    if ours_m:
        lines += ["", f"Ours: top-label ECE {ours_m['ece_top_label']:.3f}; {ours_m['routed_to_person']} turns "
                      f"routed to a person (counted wrong); {ours_m['speed']['turns_per_second']} turns/s "
                      "including the text encoder."]
    machine = report["machine"]
    lines += ["", f"Data: {report['data']}. Date {report['date']}; machine: {machine.get('cpu', '?')}, "
                  f"{machine.get('cores', '?')} cores (loaded by other work)."]
    for p in report["published"]:
        lines.append(f"- {p['system']}: {p['source']}; {p['note']}.")
    study = report.get("llm_study")
    if study:
        lines += ["", f"LLM study ({study.get('model')}, {study['points']} test points; draft strategies read by our "
                      "observe head):", "", "| | matches the human strategy | KL to human mix |", "|---|---|---|"]
        for key, name in (("llm_alone", "LLM alone"), ("llm_with_our_suggestion", "LLM with our suggestion"),
                          ("our_suggestion", "our suggestion")):
            lines.append(f"| {name} | {study[key]['match_human']} | {study[key]['kl_to_human']} |")
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """Write ``<out>/esconv-test.json`` and ``.md``; returns both paths."""
    from affectlens.bench.report import write_report_files

    return write_report_files(out, "esconv-test", json.dumps(report, indent=2), to_markdown(report))


__all__ = ["PUBLISHED", "kl_to_human", "points_of", "run_esconv", "score", "to_markdown", "write_report"]

