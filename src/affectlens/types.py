"""The one result model: an analysis is a list of segments, each with scores, VAD, cues.

Frozen dataclasses, JSON-stable (``SCHEMA_VERSION``; see ``docs/schema.md``); their flat
forms (CSV rows, Arrow/Parquet columns) are derived from them in ``result_schema``.  Every
segment carries ``scores`` (label -> calibrated probability over ``label_set``),
``labels`` (the predicted labels after thresholds or argmax), ``vad``, ``confidence``
and ``cues`` (the evidence), plus provenance (recognizer name and version).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

SCHEMA_VERSION = "1.0"


class Modality(str, Enum):
    TEXT = "text"
    SPEECH = "speech"
    FACE = "face"
    DIALOGUE = "dialogue"
    FUSED = "fused"


@dataclass(frozen=True)
class VAD:
    """Valence, arousal, dominance, each in [-1, 1] (0 = neutral midpoint)."""

    valence: float
    arousal: float
    dominance: float

    def to_dict(self) -> dict[str, float]:
        return {"valence": round(self.valence, 4), "arousal": round(self.arousal, 4),
                "dominance": round(self.dominance, 4)}

    @classmethod
    def from_dict(cls, data: Mapping[str, float]) -> VAD:
        return cls(float(data["valence"]), float(data["arousal"]), float(data["dominance"]))


@dataclass(frozen=True)
class Cue:
    """One piece of evidence behind a prediction.

    ``kind`` names what it is ("word", "prosody", "face_region", "context" ...);
    ``span`` is a character range in the text, ``time`` a (start, end) in seconds,
    ``region`` an (x, y, w, h) box in pixels, ``turn`` an earlier utterance index.
    ``weight`` is signed: positive cues push ``label`` up.
    """

    kind: str
    phrase: str
    weight: float
    label: str | None = None
    span: tuple[int, int] | None = None
    time: tuple[float, float] | None = None
    region: tuple[int, int, int, int] | None = None
    turn: int | None = None
    value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "phrase": self.phrase, "weight": round(self.weight, 4)}
        for name in ("label", "span", "time", "region", "turn", "value"):
            value = getattr(self, name)
            if value is not None:
                out[name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cue:
        def tup(name: str) -> Any:
            value = data.get(name)
            return tuple(value) if value is not None else None

        return cls(kind=data["kind"], phrase=data["phrase"], weight=float(data["weight"]),
                   label=data.get("label"), span=tup("span"), time=tup("time"),
                   region=tup("region"), turn=data.get("turn"), value=data.get("value"))


@dataclass(frozen=True)
class Provenance:
    recognizer: str
    version: str

    def to_dict(self) -> dict[str, str]:
        return {"recognizer": self.recognizer, "version": self.version}


@dataclass(frozen=True)
class Segment:
    """One analysed unit: a text, a stretch of audio, a face in a frame, a turn."""

    modality: Modality
    label_set: str
    scores: Mapping[str, float]
    labels: tuple[str, ...]
    vad: VAD | None
    confidence: float
    provenance: Provenance
    cues: tuple[Cue, ...] = ()
    source: str | None = None
    text: str | None = None
    start: float | None = None
    end: float | None = None
    turn: int | None = None
    speaker: str | None = None
    track_id: int | None = None
    record_id: str | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)

    @property
    def top_label(self) -> str:
        return max(self.scores, key=lambda k: self.scores[k]) if self.scores else ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "modality": self.modality.value,
            "label_set": self.label_set,
            "labels": list(self.labels),
            "scores": {k: round(float(v), 4) for k, v in self.scores.items()},
            "vad": self.vad.to_dict() if self.vad else None,
            "confidence": round(float(self.confidence), 4),
            "cues": [c.to_dict() for c in self.cues],
            "provenance": self.provenance.to_dict(),
        }
        for name in ("source", "text", "start", "end", "turn", "speaker", "track_id", "record_id"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.extras:
            out["extras"] = dict(self.extras)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Segment:
        vad = data.get("vad")
        return cls(
            modality=Modality(data["modality"]), label_set=data["label_set"],
            scores=dict(data["scores"]), labels=tuple(data["labels"]),
            vad=VAD.from_dict(vad) if vad else None, confidence=float(data["confidence"]),
            provenance=Provenance(**data["provenance"]),
            cues=tuple(Cue.from_dict(c) for c in data.get("cues", ())),
            source=data.get("source"), text=data.get("text"), start=data.get("start"),
            end=data.get("end"), turn=data.get("turn"), speaker=data.get("speaker"),
            track_id=data.get("track_id"), record_id=data.get("record_id"),
            extras=dict(data.get("extras", {})),
        )


@dataclass(frozen=True)
class EmotionResult:
    """The analysis of one input: its segments in order, and why some may be missing."""

    segments: tuple[Segment, ...]
    source: str | None = None
    warnings: tuple[str, ...] = ()
    record_id: str | None = None  # the input's id (table row id), kept even when no segment came out

    def __len__(self) -> int:
        return len(self.segments)

    def __iter__(self) -> Any:
        return iter(self.segments)

    @property
    def is_empty(self) -> bool:
        return not self.segments

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "source": self.source,
            "record_id": self.record_id,
            "warnings": list(self.warnings),
            "segments": [s.to_dict() for s in self.segments],
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmotionResult:
        return cls(tuple(Segment.from_dict(s) for s in data["segments"]), data.get("source"),
                   tuple(data.get("warnings", ())), data.get("record_id"))

    @classmethod
    def from_json(cls, text: str) -> EmotionResult:
        return cls.from_dict(json.loads(text))


class StreamedResult:
    """The analysis of one long input (a video) whose segments are handed on as they come.

    What an ``EmotionResult`` holds, except that the segments can be read **once**, in order,
    by iterating the result (or ``stream()``), and are not kept: a writer writes each as it
    comes, so an hour of video runs in flat memory.  ``warnings`` is complete only once the
    segments are exhausted (an undecodable stretch, a recognizer failure halfway, no face at
    all are known at the end); ``count`` is how many segments came out so far.  ``collect()``
    reads the rest into an ``EmotionResult``.  The processing layer makes these only when
    asked (``AnalyzeOptions.stream_segments``); the library's ``analyze`` returns ``EmotionResult``.
    """

    def __init__(self, segments: Iterable[Segment], source: str | None = None,
                 warnings: Callable[[], Sequence[str]] | Sequence[str] = (), record_id: str | None = None) -> None:
        self.source = source
        self.record_id = record_id
        self._segments: Iterator[Segment] | None = iter(segments)
        self._warnings = warnings
        self._read = False  # every segment has come out
        self.count = 0

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self._warnings() if callable(self._warnings) else self._warnings)

    @property
    def is_empty(self) -> bool:
        """No segment came out; known once the stream was read to its end (before that: ``RuntimeError``)."""
        if not self._read:
            raise RuntimeError("whether a streamed result is empty is known once its segments were read")
        return self.count == 0

    def stream(self) -> Iterator[Segment]:
        if self._segments is None:
            raise RuntimeError(f"the segments of {self.source or 'this result'} were already read")
        segments, self._segments = self._segments, None
        for segment in segments:
            self.count += 1
            yield segment
        self._read = True

    def __iter__(self) -> Iterator[Segment]:
        return self.stream()

    def collect(self) -> EmotionResult:
        segments = tuple(self.stream())
        return EmotionResult(segments, self.source, self.warnings, self.record_id)


def merge_results(results: Iterable[EmotionResult], source: str | None = None) -> EmotionResult:
    segments: list[Segment] = []
    warnings: list[str] = []
    for res in results:
        segments.extend(res.segments)
        warnings.extend(res.warnings)
    return EmotionResult(tuple(segments), source, tuple(warnings))


def normalise_scores(scores: Mapping[str, float]) -> dict[str, float]:
    total = float(sum(scores.values()))
    if total <= 0:
        n = len(scores)
        return {k: 1.0 / n for k in scores} if n else {}
    return {k: float(v) / total for k, v in scores.items()}


def top_k(scores: Mapping[str, float], k: int) -> Sequence[tuple[str, float]]:
    return sorted(scores.items(), key=lambda kv: -kv[1])[:k]
