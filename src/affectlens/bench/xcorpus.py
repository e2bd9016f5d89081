"""Leave-one-corpus-out (LOCO) text benchmark: what a user outside the training corpora can expect.

For each of GoEmotions, DailyDialog, ISEAR, EmoEvent, CrowdFlower and EmpatheticDialogues
(``xcorpus_data``), every trained system is fitted on the *other five* corpora' train splits and
scored once on the held-out corpus' test split, in Ekman-7 (each corpus scored over the Ekman
classes it can hold, ``CorpusInfo.scored_over``; predictions are the argmax over its classes).  In one run:

- ``xcorpus head`` (ours): a multinomial logistic regression on the frozen features of the
  shipped text encoder (``xcorpus_features``), each training corpus given the same total
  weight and, inside it, each class the same weight;
- ``tfidf+lr`` (peer): word 1-2-gram TF-IDF + the same regression and weights, same corpora;
- ``nrc lexicon`` (peer): NRC EmoLex word counts (no training);
- ``previous model`` (peer): ``text.minilm-goemotions.v1``'s float graph, its calibrated
  GoEmotions probabilities summed into Ekman groups (trained on GoEmotions only, so on the
  GoEmotions row it is in-domain);
- ``in-domain`` (reference, not a LOCO figure): our head trained on the held-out corpus' own
  train split.

VADER gives valence only: it has no Ekman prediction, so it is not in this table (n/a).
Macro-F1 with a 95 % bootstrap interval (resampling test texts).  The caveat that matters:
the shipped encoder was fine-tuned on GoEmotions, so on the GoEmotions row even the LOCO head
reads features that saw GoEmotions.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from affectlens import metrics as m
from affectlens.bench.xcorpus_data import (
    CORPORA,
    EKMAN7,
    TRAINING_CORPORA,
    CorpusTexts,
    goemotions_ekman_matrix,
)
from affectlens.bench.xcorpus_features import LOGIT_COLUMNS, MAX_TEST_TEXTS, MAX_TRAIN_TEXTS, FeatureCache

SYSTEMS = ("xcorpus head", "tfidf+lr", "nrc lexicon", "previous model", "in-domain")
PEERS = ("tfidf+lr", "nrc lexicon", "previous model")


@dataclass
class Score:
    macro_f1: float
    interval: tuple[float, float] | None
    n: int
    weighted_f1: float  # support-weighted F1 over the same classes (MELD's usual metric)
    note: str = ""


@dataclass
class XcorpusReport:
    command: str
    corpora: list[str]
    max_train: int | None = None  # train texts per corpus (hashed subset)
    models: list[str] = field(default_factory=list)  # registered text models scored beside the systems
    scores: dict[str, dict[str, Score]] = field(default_factory=dict)  # held-out corpus -> system -> score
    seconds: float = 0.0


def corpus_weights(corpora: Sequence[str], labels: np.ndarray) -> np.ndarray:
    """Sample weights: every corpus the same total, every (corpus, class) cell the same inside it."""
    corpora_arr = np.asarray(corpora)
    weights = np.zeros(len(labels), dtype=np.float64)
    names = sorted(set(corpora_arr.tolist()))
    for name in names:
        rows = corpora_arr == name
        classes = np.unique(labels[rows])
        for c in classes:
            cell = rows & (labels == c)
            weights[cell] = 1.0 / (len(names) * len(classes) * cell.sum())
    return weights * len(labels) / weights.sum()


def restricted_argmax(scores: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """Index into EKMAN7 of the best-scoring class among ``classes`` (what a corpus can hold)."""
    allowed = [EKMAN7.index(c) for c in classes]
    return np.asarray(allowed)[np.argmax(scores[:, allowed], axis=1)]


def score(gold: np.ndarray, predicted: np.ndarray, over: Sequence[str], bootstrap: int, seed: int = 0,
          note: str = "") -> Score:
    labels = [EKMAN7.index(c) for c in over]

    def metric(g: np.ndarray, p: np.ndarray) -> float:
        return m.macro_f1(g, p, labels)

    value = metric(gold, predicted)
    interval = m.bootstrap_ci(metric, gold, predicted, n_resamples=bootstrap, seed=seed) if bootstrap else None
    return Score(float(value), interval, len(gold), float(m.weighted_f1(gold, predicted, labels)), note)


class EkmanHead:
    """Standardised features -> multinomial logistic regression over the Ekman-7 classes seen."""

    def __init__(self, c: float = 0.1, max_iter: int = 500) -> None:
        self.c = c
        self.max_iter = max_iter
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None
        self.model: Any = None

    def fit(self, x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> EkmanHead:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        self.mean = x.mean(axis=0)
        self.scale = x.std(axis=0) + 1e-6
        self.model = LogisticRegression(C=self.c, max_iter=self.max_iter)
        with warnings.catch_warnings():  # lbfgs may stop at max_iter: a fixed budget, the same for every fold
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.fit((x - self.mean) / self.scale, y, sample_weight=weights)
        return self

    def scores(self, x: np.ndarray) -> np.ndarray:
        """(n, 7) probabilities in EKMAN7 order (0 for a class never seen in training)."""
        assert self.model is not None and self.mean is not None and self.scale is not None
        probs = self.model.predict_proba((x - self.mean) / self.scale)
        out = np.zeros((len(x), len(EKMAN7)))
        out[:, self.model.classes_] = probs
        return out


def _tfidf_scores(train: list[CorpusTexts], test: CorpusTexts, weights: np.ndarray, y: np.ndarray) -> np.ndarray:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = [t for data in train for t, e in zip(data.texts, data.ekman, strict=True) if e >= 0]
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=200_000)
    x = vectorizer.fit_transform(texts)
    model = LogisticRegression(C=4.0, max_iter=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y, sample_weight=weights)
    out = np.zeros((len(test), len(EKMAN7)))
    out[:, model.classes_] = model.predict_proba(vectorizer.transform(test.texts))
    return out


def _nrc_scores(test: CorpusTexts) -> np.ndarray:
    from affectlens.recognizers.peer_nrc import NrcLexiconRecognizer

    recognizer = NrcLexiconRecognizer()
    out = np.zeros((len(test), len(EKMAN7)))
    for i, result in enumerate(recognizer.analyze(test.texts)):
        if result.segments:
            scores = result.segments[0].scores
            out[i] = [float(scores.get(label, 0.0)) for label in EKMAN7]
    # ties (often all zero but neutral) fall to the first class: break them towards neutral
    out[:, EKMAN7.index("neutral")] += 1e-9
    return out


def previous_model_scores(features: np.ndarray) -> np.ndarray:
    """The shipped model's calibrated GoEmotions probabilities (float graph) summed into Ekman-7."""
    from affectlens.recognizers.text_onnx import DEFAULT_MODEL_DIR

    config = json.loads((DEFAULT_MODEL_DIR / "config_float.json").read_text())
    logits = features[:, LOGIT_COLUMNS] * 5.0
    probs = 1.0 / (1.0 + np.exp(-logits / np.asarray(config["temperatures"], dtype=np.float32)))
    return probs @ goemotions_ekman_matrix()


def model_scores(recognizer: Any, texts: list[str]) -> np.ndarray:
    """A registered GoEmotions text model's calibrated probabilities (what ``analyze`` runs) summed into Ekman-7."""
    temperatures = np.asarray(recognizer.config.temperatures, dtype=np.float32)
    probs = np.zeros((len(texts), temperatures.shape[0]), dtype=np.float32)
    for chunk, _, (logits,) in recognizer.first_window_batches(texts, ["logits"]):
        probs[chunk] = 1.0 / (1.0 + np.exp(-logits / temperatures))
    return probs @ goemotions_ekman_matrix()


def run_xcorpus(cache: FeatureCache, corpora: Sequence[str] | None = None, bootstrap: int = 1000,
                systems: Sequence[str] = SYSTEMS, command: str = "", max_train: int | None = MAX_TRAIN_TEXTS,
                on_progress: Callable[[str], None] | None = None, models: Sequence[str] = ()) -> XcorpusReport:
    """``models``: registered GoEmotions text models scored beside the systems (their own training data
    decides whether a row is leave-one-out for them: see their model cards)."""
    from threadpoolctl import threadpool_limits

    # one BLAS thread: on 2 shared cores, threaded lbfgs ran about 50x slower (oversubscription)
    with threadpool_limits(limits=1):
        return _run(cache, corpora, bootstrap, systems, command, max_train, on_progress, models)


def _run(cache: FeatureCache, corpora: Sequence[str] | None, bootstrap: int, systems: Sequence[str],
         command: str, max_train: int | None, on_progress: Callable[[str], None] | None,
         models: Sequence[str] = ()) -> XcorpusReport:
    from affectlens.registry import load_recognizer

    progress = on_progress or (lambda line: None)
    names = list(corpora or CORPORA)
    started = time.perf_counter()
    train = {name: cache.get(name, "train", max_train) for name in TRAINING_CORPORA}
    report = XcorpusReport(command=command, corpora=names, max_train=max_train, models=list(models))
    recognizers = {name: load_recognizer(name) for name in models}
    for held_out in names:
        info = CORPORA[held_out]
        test_data, test_x = cache.get(held_out, "test", MAX_TEST_TEXTS.get(held_out))
        keep = test_data.ekman >= 0
        test_texts = test_data.select(np.flatnonzero(keep))
        gold = test_texts.ekman
        test_x = test_x[keep]
        others = [name for name in TRAINING_CORPORA if name != held_out]
        x = np.concatenate([train[n][1][train[n][0].ekman >= 0] for n in others])
        y = np.concatenate([train[n][0].ekman[train[n][0].ekman >= 0] for n in others])
        which = [n for n in others for e in train[n][0].ekman if e >= 0]
        weights = corpus_weights(which, y)
        row: dict[str, Score] = {}

        def add(system: str, scores: np.ndarray, note: str = "", *, row: dict[str, Score] = row,
                info: Any = info, gold: np.ndarray = gold, held_out: str = held_out) -> None:
            row[system] = score(gold, restricted_argmax(scores, info.classes), info.scored_over, bootstrap,
                                note=note)
            progress(f"{held_out:<12} {system:<15} macro-F1 {row[system].macro_f1:.3f}")

        if "xcorpus head" in systems:
            add("xcorpus head", EkmanHead().fit(x, y, weights).scores(test_x))
        if "tfidf+lr" in systems:
            add("tfidf+lr", _tfidf_scores([train[n][0] for n in others], test_texts, weights, y))
        if "nrc lexicon" in systems:
            add("nrc lexicon", _nrc_scores(test_texts))
        if "previous model" in systems:
            add("previous model", previous_model_scores(test_x),
                "in-domain (trained on GoEmotions)" if held_out == "goemotions" else "")
        for name, recognizer in recognizers.items():
            add(name, model_scores(recognizer, test_texts.texts))
        if "in-domain" in systems and held_out in train:
            own_data, own_x = train[held_out]
            own = own_data.ekman >= 0
            own_y = own_data.ekman[own]
            add("in-domain", EkmanHead().fit(own_x[own], own_y, corpus_weights([held_out] * len(own_y), own_y))
                .scores(test_x), "trained on this corpus' train split (reference, not LOCO)")
        report.scores[held_out] = row
    report.seconds = time.perf_counter() - started
    return report


def _cell(s: Score | None) -> str:
    if s is None:
        return "n/a"
    interval = f" [{s.interval[0]:.3f}, {s.interval[1]:.3f}]" if s.interval else ""
    return f"{s.macro_f1:.3f}{interval}"


def to_markdown(report: XcorpusReport) -> str:
    systems = [s for s in (*SYSTEMS, *report.models) if any(s in row for row in report.scores.values())]
    lines = [
        "## Leave-one-corpus-out text benchmark (Ekman-7, macro-F1, 95 % bootstrap interval)",
        "",
        f"`{report.command}`" if report.command else "",
        "",
        "| held-out corpus (test texts) | scored over | " + " | ".join(systems) + " |",
        "|---|---|" + "---|" * len(systems),
    ]
    for name, row in report.scores.items():
        info = CORPORA[name]
        n = next(iter(row.values())).n if row else 0
        lines.append(f"| {info.title} ({n}) | {len(info.scored_over)} classes | "
                     + " | ".join(_cell(row.get(s)) for s in systems) + " |")
    if "meld" in report.scores:
        row = report.scores["meld"]
        lines.append("| MELD, **weighted**-F1 (its usual metric) | 7 classes | "
                     + " | ".join(f"{row[s].weighted_f1:.3f}" if s in row else "n/a" for s in systems) + " |")
    lines += ["", "Systems other than `in-domain` never saw the held-out corpus; `previous model` saw only "
              "GoEmotions (its GoEmotions row is in-domain). On MELD (never trained on) the systems learn from "
              "all six corpora. VADER (valence only) has no Ekman prediction: n/a."]
    if report.models:
        lines.append("Columns named like a model (`--model`) are that model as shipped, over its calibrated "
                     "probabilities summed into Ekman groups: its model card says which corpora it was trained on, "
                     "and so on which rows it is in-domain.")
    lines += [f"Train texts per corpus: at most {report.max_train} (a fixed hashed subset). "
              f"Run time {report.seconds:.0f} s.", ""]
    return "\n".join(line for line in lines if line is not None)


def write_report(report: XcorpusReport, out: Path) -> tuple[Path, Path]:
    """Write ``<out>/xcorpus-test.json`` and ``.md``; returns both paths."""
    from affectlens.bench.report import write_report_files

    return write_report_files(out, "xcorpus-test", json.dumps(asdict(report), indent=1), to_markdown(report))
