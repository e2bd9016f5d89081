"""Parrott's (2001) primary / secondary / tertiary emotion tree, and grouping by primary.

A label is placed in the tree when its word (or a documented inflected alias such as
``happy`` -> ``happiness``) appears there; labels with no such word (``neutral``,
``admiration``, ``trust`` ...) are left unplaced rather than guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Literal

from affectlens.taxonomy._data import load_json
from affectlens.taxonomy.label_sets import get_label_set

__all__ = [
    "PARROTT_PRIMARIES",
    "ParrottPath",
    "parrott_groups",
    "parrott_path",
    "parrott_primary",
    "parrott_tree",
    "scores_by_parrott",
]

PARROTT_PRIMARIES: tuple[str, ...] = ("love", "joy", "surprise", "anger", "sadness", "fear")


@dataclass(frozen=True)
class ParrottPath:
    """Where a word sits in the tree; ``tertiary`` is None when it matched a secondary node."""

    primary: str
    secondary: str
    tertiary: str | None = None


def parrott_tree() -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    """primary -> secondary -> tertiary words, as transcribed in ``data/parrott.json``."""
    tree = load_json("parrott.json")["tree"]
    return {primary: {secondary: tuple(words) for secondary, words in children.items()}
            for primary, children in tree.items()}


@cache
def _index() -> dict[str, ParrottPath]:
    """word -> deepest path: tertiary words first, then secondary names not seen as words."""
    index: dict[str, ParrottPath] = {}
    for primary, children in parrott_tree().items():
        for secondary, words in children.items():
            for word in words:
                index.setdefault(word, ParrottPath(primary, secondary, word))
    for primary, children in parrott_tree().items():
        for secondary in children:
            index.setdefault(secondary, ParrottPath(primary, secondary, None))
    return index


def parrott_path(word: str) -> ParrottPath | None:
    """The tree node for an emotion word (label name), or None when it is not in the tree."""
    key = word.strip().lower()
    aliases = load_json("parrott.json")["aliases"]
    key = aliases.get(key, key) if not key.startswith("_") else key
    return _index().get(key)


def parrott_primary(word: str) -> str | None:
    path = parrott_path(word)
    return path.primary if path is not None else None


def parrott_groups(label_set: str) -> dict[str, tuple[str, ...]]:
    """Parrott primary -> the labels of ``label_set`` under it (all six keys, maybe empty)."""
    labels = get_label_set(label_set)
    groups: dict[str, list[str]] = {primary: [] for primary in PARROTT_PRIMARIES}
    for label in labels.labels:
        primary = parrott_primary(label)
        if primary is not None:
            groups[primary].append(label)
    return {primary: tuple(members) for primary, members in groups.items()}


def scores_by_parrott(scores: Mapping[str, float], label_set: str,
                      *, aggregate: Literal["sum", "max"] = "max") -> dict[str, float]:
    """Scores per Parrott primary: the strongest member (``max``, default) or the sum.

    Labels not placed in the tree (e.g. ``neutral``) do not contribute.
    """
    labels = get_label_set(label_set)
    out = dict.fromkeys(PARROTT_PRIMARIES, 0.0)
    for label, value in scores.items():
        labels.index(label)  # raises ValueError for a label outside the set
        primary = parrott_primary(label)
        if primary is None:
            continue
        if aggregate == "max":
            out[primary] = max(out[primary], float(value))
        elif aggregate == "sum":
            out[primary] += float(value)
        else:
            raise ValueError(f"aggregate must be 'sum' or 'max', got {aggregate!r}")
    return out
