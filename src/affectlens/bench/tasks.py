"""Benchmark tasks: a task is a dataset reader + the views that line gold up with predictions + metrics.

A **view** turns the gold annotations and a recognizer's results into two arrays of the
same shape: e.g. multi-hot GoEmotions labels, GoEmotions probabilities, Ekman groups, or
VAD.  A **metric** is a pure function of one view's (gold, predicted) pair.  When a
recognizer's output cannot be expressed in a view without guessing (VADER has no
GoEmotions probabilities; a sentiment label cannot be spread over 28 emotions), the view
raises ``NotApplicable`` and every metric built on it is reported as n/a with the reason:
numbers are never invented.

Label sets are compared through the taxonomy: a recognizer's labels take part in a view
over set B only when its own set *is* B, or when every one of its labels maps to exactly
one B label by a defined grouping (``taxonomy.mapping(A, B)`` rows that come from a
theory and are one-hot; ``bench.grouping``).  Gold goes through the same grouping.

Adding a corpus (MELD, RAVDESS, FER+) is one ``Task(...)`` with its reader, a gold view
(``single_label_view`` is written for those) and a metric list, passed to
``register_task``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from affectlens import metrics as m
from affectlens.bench.datasets import GOEMOTIONS_LABELS as GOEMOTIONS_LABELS  # re-exported
from affectlens.bench.datasets import (
    MELD_LABELS,
    data_root,
    load_emobank,
    load_goemotions,
    load_meld,
)
from affectlens.bench.grouping import NotApplicable as NotApplicable  # re-exported with the helpers below
from affectlens.bench.grouping import _target_labels, first_segment
from affectlens.bench.grouping import group_multi_hot as group_multi_hot
from affectlens.bench.grouping import label_grouping as label_grouping
from affectlens.bench.grouping import predicted_multi_hot as predicted_multi_hot
from affectlens.bench.grouping import predicted_probabilities as predicted_probabilities
from affectlens.inputs import TextItem
from affectlens.types import EmotionResult, Modality

VAD_DIMENSIONS = ("valence", "arousal", "dominance")


@dataclass(frozen=True)
class TaskData:
    """What a reader hands the runner: inputs in order, their gold annotations, where they came from."""

    inputs: Sequence[Any]
    gold: Any  # task-specific: a multi-hot matrix, class indices, a (n, 3) VAD array ...
    ids: Sequence[str]
    source: str

    def __len__(self) -> int:
        return len(self.inputs)

    def head(self, n: int) -> TaskData:
        """The first ``n`` examples in file order (what ``--limit`` runs on)."""
        return TaskData(list(self.inputs[:n]), self.gold[:n], list(self.ids[:n]), self.source)


@dataclass(frozen=True)
class ModelOutput:
    """A recognizer's results on a task's inputs, and what it declares about itself."""

    results: Sequence[EmotionResult]
    label_set: str
    vad_dimensions: tuple[str, ...] = VAD_DIMENSIONS


@dataclass(frozen=True)
class View:
    name: str
    gold: Callable[[Any], np.ndarray]
    predict: Callable[[ModelOutput], np.ndarray]  # raises NotApplicable


@dataclass(frozen=True)
class Metric:
    name: str
    view: str
    compute: Callable[[np.ndarray, np.ndarray], float]  # (gold, predicted) -> value; may raise NotApplicable
    description: str
    headline: bool = False  # headline metrics get a bootstrap confidence interval


@dataclass
class Evaluation:
    values: dict[str, float | None] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # metric -> why it is n/a
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)


Reader = Callable[[str, "str | Path | None"], TaskData]


@dataclass(frozen=True)
class Task:
    name: str
    title: str
    data: str  # corpus, citation, license: what a table's "data" line says
    modality: Modality
    read: Reader
    views: tuple[View, ...]
    metrics: tuple[Metric, ...]
    splits: tuple[str, ...] = ("train", "dev", "test")
    default_split: str = "test"

    def load(self, split: str | None = None, root: str | Path | None = None,
             limit: int | None = None) -> TaskData:
        split = split or self.default_split
        if split not in self.splits:
            raise ValueError(f"task {self.name!r} has splits {', '.join(self.splits)}, not {split!r}")
        data = self.read(split, root)
        return data.head(limit) if limit is not None and limit < len(data) else data

    def evaluate(self, data: TaskData, output: ModelOutput, bootstrap: int = 0,
                 seed: int = 0) -> Evaluation:
        if len(output.results) != len(data):
            raise ValueError(f"{len(output.results)} results for {len(data)} inputs")
        evaluation = Evaluation()
        pairs: dict[str, tuple[np.ndarray, np.ndarray] | str] = {}
        for view in self.views:
            try:
                pairs[view.name] = (view.gold(data.gold), view.predict(output))
            except NotApplicable as why:
                pairs[view.name] = str(why)
        for metric in self.metrics:
            pair = pairs[metric.view]
            if isinstance(pair, str):
                evaluation.values[metric.name] = None
                evaluation.notes[metric.name] = pair
                continue
            gold, predicted = pair
            try:
                value = float(metric.compute(gold, predicted))
            except NotApplicable as why:
                evaluation.values[metric.name] = None
                evaluation.notes[metric.name] = str(why)
                continue
            if not np.isfinite(value):
                evaluation.values[metric.name] = None
                evaluation.notes[metric.name] = "undefined on this data"
                continue
            evaluation.values[metric.name] = value
            if metric.headline and bootstrap > 0:
                # a resample can be degenerate on tiny data: then no interval
                with contextlib.suppress(NotApplicable):
                    evaluation.intervals[metric.name] = m.bootstrap_ci(
                        metric.compute, gold, predicted, n_resamples=bootstrap, seed=seed)
        return evaluation


# -- registry of tasks -----------------------------------------------------------------------
_TASKS: dict[str, Task] = {}


def register_task(task: Task, *, replace: bool = False) -> Task:
    if task.name in _TASKS and not replace:
        raise ValueError(f"task {task.name!r} is already registered")
    _TASKS[task.name] = task
    return task


def unregister_task(name: str) -> None:
    _TASKS.pop(name, None)


def get_task(name: str) -> Task:
    if name not in _TASKS:
        raise KeyError(f"unknown task {name!r}; tasks: {', '.join(sorted(_TASKS))}")
    return _TASKS[name]


def list_tasks() -> list[Task]:
    return [_TASKS[name] for name in sorted(_TASKS)]


# -- reading predictions out of results (label sets: ``bench.grouping``) --------------------
def predicted_vad(output: ModelOutput) -> np.ndarray:
    """(n, 3) VAD in [-1, 1]; a column is NaN when the recognizer does not predict that dimension."""
    out = np.zeros((len(output.results), 3))
    seen = False
    for i, result in enumerate(output.results):
        segment = first_segment(result)
        if segment is not None and segment.vad is not None:
            seen = True
            out[i] = (segment.vad.valence, segment.vad.arousal, segment.vad.dominance)
    if not seen:
        raise NotApplicable("gives no VAD")
    for j, dimension in enumerate(VAD_DIMENSIONS):
        if dimension not in output.vad_dimensions:
            out[:, j] = np.nan
    return out


def single_label_view(name: str, label_set: str) -> View:
    """Gold = class indices over ``label_set``; predicted = each result's top label there.

    For the single-label corpora (MELD, RAVDESS, FER+): a recognizer whose set groups
    one-to-one into ``label_set`` takes part through the grouping.
    """
    def predict(output: ModelOutput) -> np.ndarray:
        targets = _target_labels(label_set)
        group = None if output.label_set == label_set else label_grouping(output.label_set, label_set)
        out = np.full(len(output.results), -1, dtype=np.int64)  # -1: no prediction (counts as wrong)
        for i, result in enumerate(output.results):
            segment = first_segment(result)
            if segment is not None and segment.scores:
                top = segment.labels[0] if segment.labels else segment.top_label
                out[i] = targets.index(top if group is None else group[top])
        return out

    return View(name, lambda gold: np.asarray(gold, dtype=np.int64), predict)


# -- metric helpers --------------------------------------------------------------------------
def _column_metric(fn: Callable[[np.ndarray, np.ndarray], float], column: int,
                   gold_transform: Callable[[np.ndarray], np.ndarray] | None = None
                   ) -> Callable[[np.ndarray, np.ndarray], float]:
    dimension = VAD_DIMENSIONS[column]

    def compute(gold: np.ndarray, predicted: np.ndarray) -> float:
        pred = predicted[:, column]
        if np.isnan(pred).any():
            raise NotApplicable(f"does not predict {dimension}")
        if np.std(pred) == 0:
            raise NotApplicable(f"constant {dimension} prediction: correlation undefined")
        g = gold[:, column] if gold_transform is None else gold_transform(gold[:, column])
        return fn(g, pred)

    return compute


def emobank_to_unit(x: np.ndarray) -> np.ndarray:
    """EmoBank's 1..5 scale -> affectlens' [-1, 1] (3 is the neutral midpoint): v = (x - 3) / 2."""
    return (np.asarray(x, dtype=float) - 3.0) / 2.0


# -- the built-in tasks ----------------------------------------------------------------------
def _goemotions_reader(split: str, root: str | Path | None) -> TaskData:
    corpus = load_goemotions(split, root)
    inputs = [TextItem(text, record_id=cid) for text, cid in zip(corpus.texts, corpus.ids, strict=True)]
    return TaskData(inputs, corpus.labels, corpus.ids, str(data_root(root) / "goemotions" / f"{split}.tsv"))


def _emobank_reader(split: str, root: str | Path | None) -> TaskData:
    corpus = load_emobank(split, root)
    inputs = [TextItem(text, record_id=rid) for text, rid in zip(corpus.texts, corpus.ids, strict=True)]
    return TaskData(inputs, corpus.vad, corpus.ids, str(data_root(root) / "emobank" / "emobank.csv"))


def _grouped_view(name: str, target_set: str) -> View:
    return View(name, lambda gold: group_multi_hot(gold, "goemotions", target_set),
                lambda output: predicted_multi_hot(output, target_set))


def _gold_first(metric: Callable[[np.ndarray, np.ndarray], float]) -> Callable[[np.ndarray, np.ndarray], float]:
    """Adapt a calibration metric written as (probs, y_true) to the (gold, predicted) order of ``Metric``."""

    def compute(gold: np.ndarray, probs: np.ndarray) -> float:
        return metric(probs, gold)

    return compute


GOEMOTIONS_DATA = "GoEmotions (Demszky et al. 2020, CC BY 4.0), official split"
_GOEMOTIONS_VIEWS = (
    View("goemotions", np.asarray, lambda output: predicted_multi_hot(output, "goemotions")),
    View("goemotions_probs", np.asarray, lambda output: predicted_probabilities(output, "goemotions")),
    _grouped_view("ekman", "ekman"),
    _grouped_view("sentiment", "sentiment"),
)

GOEMOTIONS = Task(
    name="goemotions",
    title="GoEmotions, 28 labels, multi-label",
    data=GOEMOTIONS_DATA,
    modality=Modality.TEXT,
    read=_goemotions_reader,
    views=_GOEMOTIONS_VIEWS,
    metrics=(
        Metric("macro_f1", "goemotions", m.macro_f1_multilabel,
               "mean F1 over the 28 labels of the recognizer's own predicted labels "
               "(its dev-tuned thresholds)", headline=True),
        Metric("micro_f1", "goemotions", m.micro_f1_multilabel, "F1 over all (example, label) decisions"),
        Metric("ekman_macro_f1", "ekman", m.macro_f1_multilabel,
               "macro-F1 over Ekman-7 after mapping gold and predictions through the "
               "goemotions->ekman grouping"),
        Metric("sentiment_macro_f1", "sentiment", m.macro_f1_multilabel,
               "macro-F1 over positive/negative/neutral after mapping gold and predictions "
               "through the goemotions->sentiment grouping (ambiguous folded into neutral)"),
        Metric("ece", "goemotions_probs", _gold_first(m.ece_multilabel),
               "per-label-probability ECE over all (example, label) pairs, 15 bins"),
        Metric("brier", "goemotions_probs", _gold_first(m.brier_multilabel),
               "mean (p - y)^2 over all (example, label) pairs"),
    ),
)

GOEMOTIONS_EKMAN = Task(
    name="goemotions-ekman",
    title="GoEmotions grouped into Ekman-7, multi-label",
    data=GOEMOTIONS_DATA + "; labels grouped by the official goemotions->ekman mapping",
    modality=Modality.TEXT,
    read=_goemotions_reader,
    views=(
        _grouped_view("ekman", "ekman"),
        View("ekman_probs", lambda gold: group_multi_hot(gold, "goemotions", "ekman"),
             lambda output: predicted_probabilities(output, "ekman")),
    ),
    metrics=(
        Metric("macro_f1", "ekman", m.macro_f1_multilabel, "mean F1 over the 7 Ekman groups",
               headline=True),
        Metric("micro_f1", "ekman", m.micro_f1_multilabel, "F1 over all (example, group) decisions"),
        Metric("ece", "ekman_probs", _gold_first(m.ece_multilabel),
               "per-label-probability ECE over (example, group) pairs, 15 bins (native Ekman models only)"),
        Metric("brier", "ekman_probs", _gold_first(m.brier_multilabel),
               "mean (p - y)^2 over (example, group) pairs (native Ekman models only)"),
    ),
)

_EMOBANK_METRICS: list[Metric] = []
for _column, _dimension in enumerate(VAD_DIMENSIONS):
    _EMOBANK_METRICS.append(Metric(
        f"pearson_{_dimension}", "vad", _column_metric(m.pearson, _column),
        f"Pearson r of predicted vs. gold {_dimension} (scale-free)", headline=_column == 0))
for _column, _dimension in enumerate(VAD_DIMENSIONS):
    _EMOBANK_METRICS.append(Metric(
        f"ccc_{_dimension}", "vad", _column_metric(m.ccc, _column, emobank_to_unit),
        f"concordance correlation of predicted vs. gold {_dimension}, gold mapped to [-1, 1] "
        "by (x - 3) / 2"))

EMOBANK = Task(
    name="emobank",
    title="EmoBank valence, arousal, dominance",
    data="EmoBank (Buechel & Hahn 2017, CC BY-SA 4.0), weighted reader+writer VAD, official split",
    modality=Modality.TEXT,
    read=_emobank_reader,
    views=(View("vad", np.asarray, predicted_vad),),
    metrics=tuple(_EMOBANK_METRICS),
)

def _meld_reader(split: str, root: str | Path | None) -> TaskData:
    utterances = load_meld(split, root)
    inputs = [TextItem(u.text, record_id=f"{u.dialogue_id}_{u.turn}", speaker=u.speaker, turn=u.turn,
                       start=u.start, end=u.end, dialogue_id=u.dialogue_id) for u in utterances]
    gold = np.array([MELD_LABELS.index(u.emotion) for u in utterances], dtype=np.int64)
    ids = [item.record_id or "" for item in inputs]
    return TaskData(inputs, gold, ids, str(data_root(root) / "meld" / f"{split}_sent_emo.csv"))


def summed_label_view(name: str, label_set: str) -> View:
    """Gold = class indices; predicted = argmax of the scores converted into ``label_set``.

    The conversion is ``taxonomy.convert_scores(..., aggregate="sum")``: all of a
    recognizer's probability mass is moved through the mapping (e.g. the 28 GoEmotions
    scores summed into MELD's 7 groups) before the argmax, instead of grouping only
    the recognizer's own top label.
    """
    def predict(output: ModelOutput) -> np.ndarray:
        from affectlens.taxonomy import convert_scores

        targets = _target_labels(label_set)
        out = np.full(len(output.results), -1, dtype=np.int64)
        for i, result in enumerate(output.results):
            segment = first_segment(result)
            if segment is None or not segment.scores:
                continue
            scores = (dict(segment.scores) if output.label_set == label_set
                      else convert_scores(segment.scores, output.label_set, label_set))
            if any(v > 0 for v in scores.values()):
                out[i] = targets.index(max(scores, key=lambda k: scores[k]))
        return out

    return View(name, lambda gold: np.asarray(gold, dtype=np.int64), predict)


def _over_classes(fn: Callable[..., float], n_classes: int) -> Callable[[np.ndarray, np.ndarray], float]:
    """``fn`` over all ``n_classes`` (a class nobody predicted still counts, with F1 0)."""
    labels = list(range(n_classes))

    def compute(gold: np.ndarray, predicted: np.ndarray) -> float:
        return fn(gold, predicted, labels)

    return compute


def _meld_metric(fn: Callable[..., float]) -> Callable[[np.ndarray, np.ndarray], float]:
    return _over_classes(fn, len(MELD_LABELS))


MELD = Task(
    name="meld",
    title="MELD emotion in conversation, 7 classes, utterance level",
    data="MELD text (Poria et al. 2019, GPL-3.0; Friends transcripts), official split",
    modality=Modality.TEXT,
    read=_meld_reader,
    views=(single_label_view("meld", "meld"), summed_label_view("meld_summed", "meld")),
    metrics=(
        Metric("weighted_f1", "meld", _meld_metric(m.weighted_f1),
               "support-weighted F1 over the 7 MELD classes of the recognizer's top label "
               "(grouped into MELD through the taxonomy)", headline=True),
        Metric("macro_f1", "meld", _meld_metric(m.macro_f1), "unweighted mean F1 over the 7 classes"),
        Metric("accuracy", "meld", m.accuracy, "share of utterances whose top label is right"),
        Metric("weighted_f1_summed", "meld_summed", _meld_metric(m.weighted_f1),
               "weighted F1 of the argmax after all scores are summed into MELD's 7 classes "
               "(taxonomy.convert_scores)"),
    ),
)


def _ferplus_reader(split: str, root: str | Path | None) -> TaskData:
    """FER+ majority labels on the official FER2013 split (faces whose plurality is unknown or
    not-a-face dropped); each 48x48 image is a ``FaceCrop``, so no detector runs."""
    from affectlens.bench.ferplus_data import SPLITS, load_split
    from affectlens.inputs import FaceCrop

    folder = {"train": "train", "dev": "valid", "valid": "valid", "test": "test"}.get(split)
    if folder is None:
        raise ValueError(f"FER+ split must be train, dev or test, not {split!r}")
    base = data_root(root)
    if not (base / "fer2013_ferplus_images" / SPLITS[folder]).is_dir():
        raise FileNotFoundError(f"FER+ images not found under {base / 'fer2013_ferplus_images'}")
    faces = load_split(base, folder)
    inputs = [FaceCrop(np.repeat(image[:, :, None], 3, axis=2), source=name, record_id=name)
              for name, image in zip(faces.names, faces.images, strict=True)]
    return TaskData(inputs, faces.majority.astype(np.int64), list(faces.names),
                    str(base / "fer2013_ferplus_images" / SPLITS[folder]))


def _ferplus_metric(fn: Callable[..., float]) -> Callable[[np.ndarray, np.ndarray], float]:
    return _over_classes(fn, 8)


FERPLUS_CONTEMPT = 7  # index of contempt in the ferplus label set


def accuracy_without_contempt(gold: np.ndarray, predicted: np.ndarray) -> float:
    """Accuracy over the faces whose gold label is not contempt (a contempt prediction there is wrong).

    Comparable with figures for 7-class FER2013 models reported "on FER+ test without
    contempt"; the 8-class ``accuracy`` counts the contempt faces, which such a model never gets.
    """
    keep = np.asarray(gold) != FERPLUS_CONTEMPT
    if not keep.any():
        raise NotApplicable("no face without contempt")
    return m.accuracy(np.asarray(gold)[keep], np.asarray(predicted)[keep])


FERPLUS = Task(
    name="ferplus",
    title="FER+ facial expression, 8 classes, majority label",
    data="FER2013 faces (no license: research only) with FER+ votes (Barsoum et al. 2016, MIT), official split",
    modality=Modality.FACE,
    read=_ferplus_reader,
    views=(single_label_view("ferplus", "ferplus"),),
    metrics=(
        Metric("accuracy", "ferplus", m.accuracy, "share of faces whose top label is the majority vote "
               "(a 7-class model's labels are grouped into FER+; contempt faces then count as errors)",
               headline=True),
        Metric("accuracy_without_contempt", "ferplus", accuracy_without_contempt,
               "accuracy over the faces whose majority vote is not contempt"),
        Metric("macro_f1", "ferplus", _ferplus_metric(m.macro_f1), "unweighted mean F1 over the 8 classes"),
        Metric("weighted_f1", "ferplus", _ferplus_metric(m.weighted_f1), "support-weighted F1 over the 8 classes"),
    ),
)

for _task in (GOEMOTIONS, GOEMOTIONS_EKMAN, EMOBANK, MELD, FERPLUS):
    register_task(_task)


def describe_metrics(task: Task) -> Mapping[str, str]:
    return {metric.name: metric.description for metric in task.metrics}
