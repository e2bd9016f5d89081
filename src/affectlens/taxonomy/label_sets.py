"""Label sets and the VAD anchor of every label.

Anchors come from the NRC VAD Lexicon (Mohammad 2018), rescaled from [0, 1] to [-1, 1]
with ``2x - 1``; ``data/nrc_vad_anchors.json`` records the raw values and where they
were read from, ``data/label_sets.json`` the headword used for each label.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from affectlens.taxonomy._data import load_json
from affectlens.types import VAD

__all__ = [
    "AnchorSource",
    "LabelSet",
    "UnknownLabelSet",
    "get_label_set",
    "label_set_names",
    "lexicon_info",
    "list_label_sets",
]


class UnknownLabelSet(KeyError):
    """Raised for a label-set name that is not registered."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.message = f"unknown label set {name!r} (known: {', '.join(label_set_names())})"
        super().__init__(self.message)

    def __str__(self) -> str:  # KeyError would otherwise wrap the message in quotes
        return self.message


@dataclass(frozen=True)
class AnchorSource:
    """Where one label's anchor comes from: the lexicon headword and its raw [0, 1] ratings."""

    headword: str
    raw_valence: float
    raw_arousal: float
    raw_dominance: float

    def to_vad(self) -> VAD:
        return VAD(2 * self.raw_valence - 1, 2 * self.raw_arousal - 1, 2 * self.raw_dominance - 1)


@dataclass(frozen=True, eq=False)
class LabelSet:
    """A named, ordered set of emotion labels with one VAD anchor per label."""

    name: str
    labels: tuple[str, ...]
    anchors: Mapping[str, VAD]
    description: str
    source: str
    anchor_sources: Mapping[str, AnchorSource]
    #: the set's "no emotion" class (``neutral``), or None when the set has none (e.g. Plutchik)
    none_label: str | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def __contains__(self, label: object) -> bool:
        return label in self.anchors

    def index(self, label: str) -> int:
        """Position of ``label``; ``ValueError`` names the set when it is not a member."""
        try:
            return self.labels.index(label)
        except ValueError:
            raise ValueError(f"{label!r} is not a label of {self.name!r} "
                             f"(labels: {', '.join(self.labels)})") from None


def lexicon_info() -> Mapping[str, object]:
    """Citation, licence and provenance of the VAD lexicon the anchors come from."""
    data = load_json("nrc_vad_anchors.json")
    return MappingProxyType({key: value for key, value in data.items() if key != "entries"})


def label_set_names() -> tuple[str, ...]:
    return tuple(load_json("label_sets.json")["sets"])


@cache
def _build(name: str) -> LabelSet:
    spec = load_json("label_sets.json")["sets"][name]
    lexicon = load_json("nrc_vad_anchors.json")["entries"]
    labels: list[str] = []
    sources: dict[str, AnchorSource] = {}
    for item in spec["labels"]:
        label, headword = item["name"], item["headword"]
        valence, arousal, dominance = lexicon[headword]
        labels.append(label)
        sources[label] = AnchorSource(headword, float(valence), float(arousal), float(dominance))
    anchors = {label: source.to_vad() for label, source in sources.items()}
    return LabelSet(name=name, labels=tuple(labels), anchors=MappingProxyType(anchors),
                    description=spec["description"], source=spec["source"],
                    anchor_sources=MappingProxyType(sources), none_label=spec.get("none_label"))


def get_label_set(name: str) -> LabelSet:
    """The label set called ``name`` (case-insensitive); ``UnknownLabelSet`` otherwise."""
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in label_set_names():
        raise UnknownLabelSet(str(name))
    return _build(key)


def list_label_sets() -> list[LabelSet]:
    return [_build(name) for name in label_set_names()]
