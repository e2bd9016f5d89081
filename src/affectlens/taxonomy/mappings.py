"""Mappings between label sets, and the one score-conversion function.

A mapping from set A to set B is a ``len(A) x len(B)`` matrix whose rows sum to 1, except
the row of A's no-emotion label (``neutral``) when B has no such label: that row is all
zeros, because "no emotion" means *none of these* B emotions (the neutral rule). Each row
comes from the first rule that applies:

0. the neutral rule: A's no-emotion label goes to B's no-emotion label, or nowhere;
1. identity, when A and B are the same set;
2. a row of the table A -> B in ``data/mappings.json``, derived from B's theory;
3. the table B -> A read backwards: the B labels whose rows point at the source label
   (only those that are exactly it, when there are any), split by their weight and VAD
   proximity;
4. rules 0-3 composed through the hub set ``ekman`` (A -> ekman -> B), when every step of
   the row is defined;
5. otherwise VAD: a softmax over negative Euclidean distances between the source label's
   anchor and every B anchor (temperature ``VAD_TEMPERATURE``).

Every row records a kind (``exact``, ``intensity``, ``dyad``, ``approximation``, ``none``
for the neutral rule, ``vad`` for rule 5) and the source it comes from.
"""

from __future__ import annotations

import re
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
    "COMPONENT_SHARE",
    "DEFINED_KINDS",
    "HUB_SET",
    "VAD_TEMPERATURE",
    "Aggregate",
    "Kind",
    "LabelMapping",
    "convert_scores",
    "grouping",
    "mapping",
    "references",
    "vad_from_scores",
]

Kind = Literal["exact", "intensity", "dyad", "approximation", "none", "vad"]
Aggregate = Literal["sum", "max"]

#: Softmax temperature on VAD distances (anchors live in [-1, 1]^3, so distances are in
#: [0, 3.46]). At 0.25 a label 0.5 closer than another gets e^2 (about 7x) the weight.
VAD_TEMPERATURE = 0.25
#: The set rows are composed through when two sets have no table between them.
HUB_SET = "ekman"
#: Kinds whose targets come from a theory (everything but the VAD fallback).
DEFINED_KINDS: frozenset[str] = frozenset({"exact", "intensity", "dyad", "approximation", "none"})
#: A target is one of a row's components (a label the source label *is*, in the target
#: set) when its weight is at least this share of the row's largest weight: both halves of
#: a dyad, the one target of an exact or intensity row, the near-ties of a VAD row.
COMPONENT_SHARE = 0.5

# How far a composed row is from "the same emotion": the composition takes the weakest step.
_KIND_ORDER: dict[str, int] = {"exact": 0, "intensity": 1, "dyad": 2, "approximation": 3}
_NEUTRAL_RULE = "neutral rule: no emotion maps to no emotion [neutral_rule]"


@dataclass(frozen=True, eq=False)
class LabelMapping:
    """A matrix from ``from_set`` labels (rows) to ``to_set`` labels (columns).

    ``kind[label]`` says how the row was obtained (see the module docstring) and
    ``source[label]`` where it comes from (citation, and the reason for the choice).
    Rows sum to 1, except ``kind == "none"`` rows, which are all zeros.
    """

    from_set: str
    to_set: str
    source_labels: tuple[str, ...]
    target_labels: tuple[str, ...]
    matrix: np.ndarray
    kind: AbcMapping[str, Kind]
    source: AbcMapping[str, str]

    @property
    def is_exact(self) -> bool:
        """Every row is the same emotion (or the neutral rule): nothing is approximated."""
        return all(value in ("exact", "none") for value in self.kind.values())

    @property
    def is_defined(self) -> bool:
        """Every row comes from a theory; no row falls back to VAD proximity."""
        return all(value in DEFINED_KINDS for value in self.kind.values())

    @property
    def references(self) -> dict[str, str]:
        """The full citation of every ``[key]`` the rows' sources name."""
        keys = dict.fromkeys(key for text in self.source.values() for key in re.findall(r"\[(\w+)\]", text))
        citations = references()
        return {key: citations[key] for key in keys if key in citations}

    def row(self, label: str) -> dict[str, float]:
        """Target label -> weight for one source label (all targets)."""
        index = _index_of(label, self.source_labels, self.from_set)
        weights = self.matrix[index]
        return {target: float(weight) for target, weight in zip(self.target_labels, weights, strict=True)}

    def targets(self, label: str, min_weight: float = 0.0) -> list[tuple[str, float]]:
        """``(target, weight)`` pairs with weight > ``min_weight``, heaviest first."""
        pairs = [(target, weight) for target, weight in self.row(label).items() if weight > min_weight]
        return sorted(pairs, key=lambda pair: (-pair[1], self.target_labels.index(pair[0])))

    def components(self, label: str) -> tuple[str, ...]:
        """The target labels ``label`` counts as (``COMPONENT_SHARE`` of the row's top weight).

        A dyad gives both emotions, an exact or intensity row its one target, a ``none``
        row nothing. This is how a *predicted* label is carried into the target set.
        """
        pairs = self.targets(label)
        if not pairs:
            return ()
        top = pairs[0][1]
        return tuple(target for target, weight in pairs if weight >= COMPONENT_SHARE * top - 1e-12)

    def to_dict(self, min_weight: float = 0.0) -> dict[str, Any]:
        """JSON-ready form: one entry per source label with its kind, source and weighted targets."""
        return {
            "from": self.from_set,
            "to": self.to_set,
            "rows": [
                {"label": label, "kind": self.kind[label], "source": self.source[label],
                 "targets": [{"label": target, "weight": round(weight, 4)}
                             for target, weight in self.targets(label, min_weight)]}
                for label in self.source_labels
            ],
            "references": self.references,
        }


def _index_of(label: str, labels: Sequence[str], set_name: str) -> int:
    try:
        return labels.index(label)
    except ValueError:
        raise ValueError(f"{label!r} is not a label of {set_name!r} (labels: {', '.join(labels)})") from None


@dataclass(frozen=True)
class _Row:
    weights: np.ndarray  # over the target set's labels
    kind: Kind
    source: str


@cache
def _tables() -> dict[tuple[str, str], dict[str, tuple[dict[str, float], Kind, str]]]:
    """(from, to) -> {source label: (target weights, kind, source text)}, validated."""
    data = load_json("mappings.json")
    citations = references()
    out: dict[tuple[str, str], dict[str, tuple[dict[str, float], Kind, str]]] = {}
    for table in data["tables"]:
        source_set, target_set = get_label_set(table["from"]), get_label_set(table["to"])
        rows: dict[str, tuple[dict[str, float], Kind, str]] = {}
        for label, spec in table["rows"].items():
            where = f"{source_set.name}->{target_set.name} {label!r}"
            if label not in source_set or label == source_set.none_label:
                raise ValueError(f"{where}: not a mappable label of {source_set.name!r}")
            if spec["kind"] not in _KIND_ORDER or not spec["to"]:
                raise ValueError(f"{where}: bad kind {spec['kind']!r} or no targets")
            weights = {target: float(weight) for target, weight in spec["to"].items()}
            if not all(target in target_set for target in weights) or min(weights.values()) <= 0:
                raise ValueError(f"{where}: targets {weights} are not positive {target_set.name!r} labels")
            total = sum(weights.values())
            key = spec.get("source", table["source"])
            if key not in citations:
                raise ValueError(f"{where}: unknown source {key!r}")
            text = f"{spec['note']} [{key}]" if spec.get("note") else f"[{key}]"
            rows[label] = ({target: weight / total for target, weight in weights.items()}, spec["kind"], text)
        out[(source_set.name, target_set.name)] = rows
    return out


def references() -> dict[str, str]:
    """Source key -> full citation, for the ``[key]`` at the end of each row's ``source``."""
    return dict(load_json("mappings.json")["sources"])


def grouping(from_set: str, to_set: str) -> dict[str, str] | None:
    """The table ``from_set -> to_set`` as source -> target, if every row of it is one-hot.

    Includes ``neutral -> neutral`` when both sets have a no-emotion class (the neutral rule).
    """
    source, target = get_label_set(from_set), get_label_set(to_set)
    table = _tables().get((source.name, target.name))
    if table is None or any(len(weights) != 1 for weights, _, _ in table.values()):
        return None
    out = {label: next(iter(weights)) for label, (weights, _, _) in table.items()}
    if source.none_label is not None and target.none_label is not None:
        out[source.none_label] = target.none_label
    return out


def _vad_weights(anchor: VAD, candidates: LabelSet, members: Iterable[str],
                 prior: Sequence[float] | None = None) -> np.ndarray:
    """Softmax over negative distances from ``anchor`` to ``members`` (zero elsewhere), times ``prior``."""
    point = np.array([anchor.valence, anchor.arousal, anchor.dominance])
    row = np.zeros(len(candidates))
    indices = [candidates.labels.index(member) for member in members]
    targets = np.array([[candidates.anchors[candidates.labels[i]].valence,
                         candidates.anchors[candidates.labels[i]].arousal,
                         candidates.anchors[candidates.labels[i]].dominance] for i in indices])
    distances = np.linalg.norm(targets - point, axis=1)
    logits = -distances / VAD_TEMPERATURE
    weights = np.exp(logits - logits.max())  # shift for numerical stability
    if prior is not None:
        weights = weights * np.asarray(prior, dtype=float)
    row[indices] = weights / weights.sum()
    return row


def _one_hot(size: int, index: int) -> np.ndarray:
    row = np.zeros(size)
    row[index] = 1.0
    return row


def _neutral_row(source: LabelSet, target: LabelSet, label: str) -> _Row | None:
    if label != source.none_label:
        return None
    if target.none_label is None:
        return _Row(np.zeros(len(target)), "none", f"none of these: {target.name} has no no-emotion class. "
                    f"{_NEUTRAL_RULE}")
    return _Row(_one_hot(len(target), target.labels.index(target.none_label)), "exact", _NEUTRAL_RULE)


def _reverse_row(source: LabelSet, target: LabelSet, label: str) -> _Row | None:
    """``label`` (of source) read back from the table target -> source."""
    table = _tables().get((target.name, source.name))
    if table is None:
        return None
    members = {member: (weights[label], kind) for member, (weights, kind, _) in table.items() if label in weights}
    if not members:
        return None
    same = [member for member, (weight, kind) in members.items() if kind == "exact" and weight == 1.0]
    chosen = same or list(members)
    row = _vad_weights(source.anchors[label], target, chosen, [members[m][0] for m in chosen])
    kind: Kind = "exact" if len(same) == 1 else "approximation"
    text = (f"the {target.name} -> {source.name} table read backwards"
            + ("" if kind == "exact" else ": split over the labels that map to it, by weight and VAD proximity"))
    return _Row(row, kind, text)


def _defined_row(source: LabelSet, target: LabelSet, label: str) -> _Row | None:
    """Rules 0-3 for one source label, or None."""
    neutral = _neutral_row(source, target, label)
    if neutral is not None:
        return neutral
    if source.name == target.name:
        return _Row(_one_hot(len(target), target.labels.index(label)), "exact", "identity")
    table = _tables().get((source.name, target.name))
    if table is not None and label in table:
        weights, kind, text = table[label]
        row = np.zeros(len(target))
        for target_label, weight in weights.items():
            row[target.labels.index(target_label)] = weight
        return _Row(row, kind, text)
    return _reverse_row(source, target, label)


def _composed_row(source: LabelSet, target: LabelSet, label: str) -> _Row | None:
    """Rule 4: source -> hub -> target, when every step is defined."""
    hub = get_label_set(HUB_SET)
    if HUB_SET in (source.name, target.name):
        return None
    first = _defined_row(source, hub, label)
    if first is None:
        return None
    steps = [(hub.labels[i], float(first.weights[i])) for i in np.flatnonzero(first.weights)]
    second: dict[str, _Row] = {}
    for step, _ in steps:
        row = _defined_row(hub, target, step)
        if row is None:
            return None
        second[step] = row
    weights = sum((share * second[step].weights for step, share in steps), np.zeros(len(target)))
    kinds = [first.kind, *(row.kind for row in second.values())]
    kind: Kind = "none"
    if weights.any():
        kind = max((k for k in kinds if k != "none"), key=lambda k: _KIND_ORDER[k])
    texts = [first.source, *(row.source for row in second.values())]
    return _Row(weights, kind, f"via {HUB_SET}: " + " | ".join(dict.fromkeys(texts)))


@cache
def _build(from_name: str, to_name: str) -> LabelMapping:
    source, target = get_label_set(from_name), get_label_set(to_name)
    matrix = np.zeros((len(source), len(target)))
    kind: dict[str, Kind] = {}
    origin: dict[str, str] = {}
    for i, label in enumerate(source.labels):
        row = _defined_row(source, target, label) or _composed_row(source, target, label)
        if row is None:
            row = _Row(_vad_weights(source.anchors[label], target, target.labels), "vad",
                       f"no theory links {source.name} {label!r} to {target.name}: nearest NRC-VAD anchors "
                       f"(softmax, temperature {VAD_TEMPERATURE})")
        total = row.weights.sum()
        matrix[i] = row.weights / total if total > 0 else row.weights  # guard against rounding drift
        kind[label], origin[label] = row.kind, row.source
    matrix.setflags(write=False)
    return LabelMapping(from_set=source.name, to_set=target.name, source_labels=source.labels,
                        target_labels=target.labels, matrix=matrix, kind=MappingProxyType(kind),
                        source=MappingProxyType(origin))


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
    labels left out count as 0. With ``aggregate="sum"`` (the default) the scores are
    taken as shares of their total and pushed through the mapping matrix: the result sums
    to 1 minus the share of the source's no-emotion label when ``to_set`` has no such label
    (the neutral rule: that mass means "none of these" and lowers every target), and to 1
    otherwise; all zeros in, all zeros out. With ``aggregate="max"`` each target gets the
    largest ``score * weight`` over source labels, unnormalised: for many-to-one groupings
    this is the score of the strongest member, which keeps per-label thresholds meaningful.
    """
    table = mapping(from_set, to_set)
    vector = _score_vector(scores, table.source_labels, table.from_set)
    if aggregate == "sum":
        total = vector.sum()
        out = (vector / total) @ table.matrix if total > 0 else np.zeros(len(table.target_labels))
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
