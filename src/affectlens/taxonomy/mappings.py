"""Mappings between label sets, and the one score-conversion function.

A mapping from set A to set B is a row-stochastic ``len(A) x len(B)`` matrix. Each row
(one source label) is built by the first rule that applies:

1. identity, when A and B are the same set;
2. a defined grouping A -> B (``data/exact_mappings.json``): a one-hot row;
3. a defined grouping B -> A read backwards: the source label spreads over the B labels
   grouped under it, weighted by VAD proximity to its anchor;
4. rules 2-3 composed through the hub set ``ekman`` (A -> ekman -> B), when every step
   of the row is defined;
5. otherwise VAD: a softmax over negative Euclidean distances between the source
   label's anchor and every B anchor (temperature ``VAD_TEMPERATURE``).

Rows from rules 1-4 are marked ``"exact"``, rows from rule 5 ``"vad"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from affectlens.taxonomy._data import load_json
from affectlens.taxonomy.label_sets import LabelSet, get_label_set
from affectlens.types import VAD

__all__ = [
    "HUB_SET",
    "VAD_TEMPERATURE",
    "Aggregate",
    "Kind",
    "LabelMapping",
    "convert_scores",
    "grouping",
    "mapping",
    "vad_from_scores",
]

Kind = Literal["exact", "vad"]
Aggregate = Literal["sum", "max"]

#: Softmax temperature on VAD distances (anchors live in [-1, 1]^3, so distances are in
#: [0, 3.46]). At 0.25 a label 0.5 closer than another gets e^2 (about 7x) the weight.
VAD_TEMPERATURE = 0.25
#: The set exact rows are composed through when two sets have no direct grouping.
HUB_SET = "ekman"


@dataclass(frozen=True, eq=False)
class LabelMapping:
    """A row-stochastic matrix from ``from_set`` labels (rows) to ``to_set`` labels (columns).

    ``kind[source_label]`` says how that source label's targets were obtained:
    ``"exact"`` (a defined grouping, possibly composed) or ``"vad"`` (nearest anchors).
    """

    from_set: str
    to_set: str
    source_labels: tuple[str, ...]
    target_labels: tuple[str, ...]
    matrix: np.ndarray
    kind: AbcMapping[str, Kind]

    @property
    def is_exact(self) -> bool:
        return all(value == "exact" for value in self.kind.values())

    def row(self, label: str) -> dict[str, float]:
        """Target label -> weight for one source label (all targets, weights sum to 1)."""
        index = _index_of(label, self.source_labels, self.from_set)
        weights = self.matrix[index]
        return {target: float(weight) for target, weight in zip(self.target_labels, weights, strict=True)}

    def targets(self, label: str, min_weight: float = 0.0) -> list[tuple[str, float]]:
        """``(target, weight)`` pairs with weight > ``min_weight``, heaviest first."""
        pairs = [(target, weight) for target, weight in self.row(label).items() if weight > min_weight]
        return sorted(pairs, key=lambda pair: (-pair[1], self.target_labels.index(pair[0])))

    def to_dict(self, min_weight: float = 0.0) -> dict[str, Any]:
        """JSON-ready form: one entry per source label with its kind and weighted targets."""
        return {
            "from": self.from_set,
            "to": self.to_set,
            "rows": [
                {"label": label, "kind": self.kind[label],
                 "targets": [{"label": target, "weight": round(weight, 4)}
                             for target, weight in self.targets(label, min_weight)]}
                for label in self.source_labels
            ],
        }


def _index_of(label: str, labels: Sequence[str], set_name: str) -> int:
    try:
        return labels.index(label)
    except ValueError:
        raise ValueError(f"{label!r} is not a label of {set_name!r} (labels: {', '.join(labels)})") from None


@cache
def _groupings() -> dict[tuple[str, str], dict[str, str]]:
    """(from, to) -> {source label: target label} for every defined grouping."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for spec in load_json("exact_mappings.json")["groupings"]:
        source_to_target: dict[str, str] = {}
        for target, sources in spec["groups"].items():
            for source in sources:
                if source in source_to_target:
                    raise ValueError(f"{spec['from']}->{spec['to']}: {source!r} is in two groups")
                source_to_target[source] = target
        out[(spec["from"], spec["to"])] = source_to_target
    return out


def grouping(from_set: str, to_set: str) -> dict[str, str] | None:
    """The defined many-to-one grouping ``from_set -> to_set`` (source -> target), if any."""
    table = _groupings().get((get_label_set(from_set).name, get_label_set(to_set).name))
    return dict(table) if table is not None else None


def _vad_weights(anchor: VAD, candidates: LabelSet, members: Iterable[str]) -> np.ndarray:
    """Softmax over negative distances from ``anchor`` to ``members`` (zero elsewhere)."""
    point = np.array([anchor.valence, anchor.arousal, anchor.dominance])
    row = np.zeros(len(candidates))
    indices = [candidates.labels.index(member) for member in members]
    targets = np.array([[candidates.anchors[candidates.labels[i]].valence,
                         candidates.anchors[candidates.labels[i]].arousal,
                         candidates.anchors[candidates.labels[i]].dominance] for i in indices])
    distances = np.linalg.norm(targets - point, axis=1)
    logits = -distances / VAD_TEMPERATURE
    weights = np.exp(logits - logits.max())  # shift for numerical stability
    row[indices] = weights / weights.sum()
    return row


def _direct_exact_rows(source: LabelSet, target: LabelSet) -> dict[str, np.ndarray]:
    """Rows defined by identity or by a grouping in either direction."""
    rows: dict[str, np.ndarray] = {}
    if source.name == target.name:
        for i, label in enumerate(source.labels):
            rows[label] = np.eye(len(target))[i]
        return rows
    forward = _groupings().get((source.name, target.name))
    if forward is not None:
        for label, target_label in forward.items():
            row = np.zeros(len(target))
            row[target.labels.index(target_label)] = 1.0
            rows[label] = row
        return rows
    backward = _groupings().get((target.name, source.name))
    if backward is not None:
        for label in source.labels:
            members = [member for member, grouped_under in backward.items() if grouped_under == label]
            if members:
                rows[label] = _vad_weights(source.anchors[label], target, members)
    return rows


def _exact_rows(source: LabelSet, target: LabelSet) -> dict[str, np.ndarray]:
    rows = _direct_exact_rows(source, target)
    if HUB_SET in (source.name, target.name) or len(rows) == len(source):
        return rows
    hub = get_label_set(HUB_SET)
    to_hub = _direct_exact_rows(source, hub)
    from_hub = _direct_exact_rows(hub, target)
    for label in source.labels:
        if label in rows or label not in to_hub:
            continue
        via = to_hub[label]
        steps = [hub.labels[i] for i in np.flatnonzero(via)]
        if all(step in from_hub for step in steps):
            rows[label] = sum((via[hub.labels.index(step)] * from_hub[step] for step in steps),
                              np.zeros(len(target)))
    return rows


@cache
def _build(from_name: str, to_name: str) -> LabelMapping:
    source, target = get_label_set(from_name), get_label_set(to_name)
    exact = _exact_rows(source, target)
    matrix = np.zeros((len(source), len(target)))
    kind: dict[str, Kind] = {}
    for i, label in enumerate(source.labels):
        if label in exact:
            matrix[i] = exact[label]
            kind[label] = "exact"
        else:
            matrix[i] = _vad_weights(source.anchors[label], target, target.labels)
            kind[label] = "vad"
    matrix /= matrix.sum(axis=1, keepdims=True)  # guard against rounding drift
    matrix.setflags(write=False)
    return LabelMapping(from_set=source.name, to_set=target.name, source_labels=source.labels,
                        target_labels=target.labels, matrix=matrix, kind=MappingProxyType(kind))


def mapping(from_set: str, to_set: str) -> LabelMapping:
    """The (cached) mapping from ``from_set`` to ``to_set``; ``UnknownLabelSet`` for bad names."""
    return _build(get_label_set(from_set).name, get_label_set(to_set).name)


def _score_vector(scores: AbcMapping[str, float], labels: Sequence[str], set_name: str) -> np.ndarray:
    vector = np.zeros(len(labels))
    for label, value in scores.items():
        score = float(value)
        if not np.isfinite(score) or score < 0:
            raise ValueError(f"score for {label!r} must be a finite number >= 0, got {value!r}")
        vector[_index_of(label, labels, set_name)] = score
    return vector


def convert_scores(scores: AbcMapping[str, float], from_set: str, to_set: str,
                   *, aggregate: Aggregate = "sum") -> dict[str, float]:
    """Express ``scores`` over ``from_set`` labels as scores over ``to_set`` labels.

    ``scores`` may be a softmax distribution or independent (sigmoid) multi-label scores;
    labels left out count as 0. With ``aggregate="sum"`` (the default) each label's score
    is pushed through the mapping matrix and the result renormalised to sum to 1 (all
    zeros in, all zeros out). With ``aggregate="max"`` each target gets the largest
    ``score * weight`` over source labels, unnormalised: for many-to-one groupings this is
    the score of the strongest member, which keeps per-label thresholds meaningful.
    """
    table = mapping(from_set, to_set)
    vector = _score_vector(scores, table.source_labels, table.from_set)
    if aggregate == "sum":
        out = vector @ table.matrix
        total = out.sum()
        if total > 0:
            out = out / total
    elif aggregate == "max":
        out = (vector[:, None] * table.matrix).max(axis=0)
    else:
        raise ValueError(f"aggregate must be 'sum' or 'max', got {aggregate!r}")
    return {label: float(value) for label, value in zip(table.target_labels, out, strict=True)}


def vad_from_scores(scores: AbcMapping[str, float], label_set: str) -> VAD:
    """Score-weighted mean of the label anchors (``VAD(0, 0, 0)`` when all scores are 0)."""
    labels = get_label_set(label_set)
    vector = _score_vector(scores, labels.labels, labels.name)
    total = vector.sum()
    if total <= 0:
        return VAD(0.0, 0.0, 0.0)
    anchors = np.array([[labels.anchors[label].valence, labels.anchors[label].arousal,
                         labels.anchors[label].dominance] for label in labels.labels])
    valence, arousal, dominance = (vector / total) @ anchors
    return VAD(float(valence), float(arousal), float(dominance))
