"""Label sets in benchmark views: one-to-one groupings between sets, predictions and gold expressed in a set.

A recognizer's labels take part in a view over set B only when its own set *is* B, or when
every one of its labels has exactly one counterpart in B (``label_grouping``); otherwise the
view raises ``NotApplicable`` and nothing is guessed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from affectlens.bench.datasets import GOEMOTIONS_LABELS
from affectlens.types import EmotionResult, Segment

if TYPE_CHECKING:
    from affectlens.bench.tasks import ModelOutput


class NotApplicable(Exception):
    """This recognizer's output cannot be compared in this view or metric (the message says why)."""


def first_segment(result: EmotionResult) -> Segment | None:
    """Text recognizers give one segment per input; an empty result (bad input) gives None."""
    return result.segments[0] if result.segments else None


def label_grouping(from_set: str, to_set: str) -> dict[str, str]:
    """Source label -> the one target label it belongs to, or ``NotApplicable``.

    Defined only when every row of ``taxonomy.mapping(from_set, to_set)`` comes from a
    theory (any kind but the VAD fallback) and is one-hot (e.g. the GoEmotions paper's own
    Ekman grouping, or tables composed through the hub set): then a predicted or gold label
    has exactly one counterpart and nothing is guessed.
    """
    try:
        from affectlens.taxonomy import UnknownLabelSet, mapping
    except ImportError as err:  # pragma: no cover - the taxonomy ships with the package
        raise NotApplicable(f"taxonomy unavailable ({err})") from None
    try:
        table = mapping(from_set, to_set)
    except UnknownLabelSet as err:
        raise NotApplicable(str(err)) from None
    out: dict[str, str] = {}
    for i, source in enumerate(table.source_labels):
        row = table.matrix[i]
        targets = np.flatnonzero(row > 1e-9)
        if table.kind[source] == "vad":
            raise NotApplicable(f"{from_set} label {source!r} has no defined counterpart in {to_set} "
                                "(only a VAD-similarity mapping)")
        if len(targets) == 0:
            raise NotApplicable(f"{from_set} label {source!r} means no emotion and {to_set} has no such class")
        if len(targets) != 1:
            raise NotApplicable(f"{from_set} label {source!r} corresponds to several {to_set} labels")
        out[source] = table.target_labels[int(targets[0])]
    return out


def _target_labels(label_set: str) -> tuple[str, ...]:
    if label_set == "goemotions":
        return GOEMOTIONS_LABELS
    from affectlens.taxonomy import get_label_set

    return tuple(get_label_set(label_set).labels)


def predicted_multi_hot(output: ModelOutput, target_set: str) -> np.ndarray:
    """(n, |target_set|) 0/1: each result's predicted ``labels`` expressed in ``target_set``."""
    targets = _target_labels(target_set)
    index = {label: j for j, label in enumerate(targets)}
    group = None if output.label_set == target_set else label_grouping(output.label_set, target_set)
    out = np.zeros((len(output.results), len(targets)), dtype=np.int8)
    for i, result in enumerate(output.results):
        segment = first_segment(result)
        if segment is None:
            continue
        for label in segment.labels:
            mapped = label if group is None else group[label]
            out[i, index[mapped]] = 1
    return out


def predicted_probabilities(output: ModelOutput, target_set: str) -> np.ndarray:
    """(n, |target_set|) scores, only when ``target_set`` is the recognizer's own set.

    Scores converted between sets are not calibrated probabilities of the target labels,
    so calibration metrics on them would measure the conversion, not the model.
    """
    if output.label_set != target_set:
        raise NotApplicable(f"its scores are over {output.label_set}, not {target_set} "
                            "(converted scores are not calibrated probabilities)")
    targets = _target_labels(target_set)
    out = np.zeros((len(output.results), len(targets)))
    for i, result in enumerate(output.results):
        segment = first_segment(result)
        if segment is not None:
            out[i] = [float(segment.scores.get(label, 0.0)) for label in targets]
    return out


def group_multi_hot(gold: np.ndarray, from_set: str, to_set: str) -> np.ndarray:
    """Multi-hot gold over ``from_set`` -> multi-hot over ``to_set`` (a row is on if any member is)."""
    if from_set == to_set:
        return np.asarray(gold)
    group = label_grouping(from_set, to_set)
    sources = _target_labels(from_set)
    targets = _target_labels(to_set)
    member = np.zeros((len(sources), len(targets)), dtype=np.int8)
    for i, label in enumerate(sources):
        member[i, targets.index(group[label])] = 1
    return (np.asarray(gold, dtype=np.int64) @ member > 0).astype(np.int8)
