"""Emotion recognition in conversation (ERC): the contract, a context-free baseline, shifts.

* ``ConversationRecognizer`` is the contract a dialogue model meets: it gets whole
  ``Dialogue`` s (every turn with its speaker and all earlier turns), and returns one
  ``EmotionResult`` per dialogue with one segment per non-empty turn (``speaker``,
  ``turn``, ``start``/``end`` set).  A context-aware model (e.g. trained on MELD) reads
  the context through ``TurnInContext``; nothing else changes for the caller.
* ``UtteranceBaseline`` wraps any text ``Recognizer`` (the shipped
  ``text.minilm-goemotions.v1`` by default) and classifies every turn on its own: the
  **context-free baseline**.  Its segments say so (``extras["context"] == "none"``).
* ``speaker_trajectories`` and ``emotion_shifts`` are pure functions of a result: where
  a speaker's top emotion or valence band changes, and after whose turn.
  ``analyze_dialogue`` attaches each shift to the turn where it lands as a ``Cue`` of
  kind ``"emotion_shift"`` (``turn`` = the other speaker's turn it followed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

from affectlens.dialogue.types import Dialogue, Turn
from affectlens.types import Cue, EmotionResult, Modality, Segment

#: valence below -VALENCE_BAND is "negative", above +VALENCE_BAND "positive", else "neutral"
VALENCE_BAND = 0.15
SHIFT_CUE = "emotion_shift"
#: how a shift names a turn with no emotion in the chosen label set (neutral in Plutchik)
NO_EMOTION = "no emotion"


@dataclass(frozen=True)
class TurnInContext:
    """One turn with what a context-aware model may look at: the dialogue so far."""

    dialogue: Dialogue
    index: int

    @property
    def turn(self) -> Turn:
        return self.dialogue.turns[self.index]

    def history(self, window: int | None = None) -> tuple[Turn, ...]:
        return self.dialogue.history(self.index, window)

    def same_speaker_history(self, window: int | None = None) -> tuple[Turn, ...]:
        own = tuple(t for t in self.history() if t.speaker == self.turn.speaker)
        return own if window is None else own[max(0, len(own) - window):]

    def other_speaker_history(self, window: int | None = None) -> tuple[Turn, ...]:
        other = tuple(t for t in self.history() if t.speaker != self.turn.speaker)
        return other if window is None else other[max(0, len(other) - window):]


def turns_in_context(dialogue: Dialogue) -> list[TurnInContext]:
    return [TurnInContext(dialogue, i) for i in range(len(dialogue.turns))]


@runtime_checkable
class ConversationRecognizer(Protocol):
    """A dialogue model: whole dialogues in, one ``EmotionResult`` per dialogue out.

    ``uses_context`` is False for baselines that look at each turn alone.  Like every
    recognizer, ``__init__`` only stores parameters and ``load()`` loads weights; empty
    turns get no segment but a warning; a bad dialogue gives an empty result with a
    warning, not an exception.
    """

    modality: Modality
    uses_context: bool

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def label_set(self) -> str: ...

    def load(self) -> None: ...

    def analyze_dialogues(self, dialogues: Sequence[Dialogue]) -> list[EmotionResult]: ...


class UtteranceBaseline:
    """Context-free ERC baseline: each turn classified alone by a text recognizer."""

    modality = Modality.TEXT
    uses_context = False

    def __init__(self, recognizer: Any = None, batch_size: int = 64) -> None:
        self.recognizer = recognizer  # a text Recognizer, a registry name, or None (the default)
        self.batch_size = batch_size
        self._text: Any = None

    def load(self) -> None:
        if self._text is not None:
            return
        from affectlens.registry import default_for, load_recognizer

        rec = self.recognizer
        if rec is None:
            rec = default_for(Modality.TEXT).name
        self._text = load_recognizer(rec) if isinstance(rec, str) else rec
        if self._text.modality is not Modality.TEXT:
            raise ValueError(f"the context-free baseline needs a text recognizer, not {self._text.name!r}")
        self._text.load()

    @property
    def name(self) -> str:
        base = self._text.name if self._text is not None else (
            self.recognizer if isinstance(self.recognizer, str) else getattr(self.recognizer, "name", "default"))
        return f"context-free:{base}"

    @property
    def version(self) -> str:
        return str(getattr(self._text, "version", "")) if self._text is not None else ""

    @property
    def label_set(self) -> str:
        self.load()
        return str(self._text.label_set)

    def analyze_dialogues(self, dialogues: Sequence[Dialogue]) -> list[EmotionResult]:
        from affectlens.inputs import TextItem

        self.load()
        jobs: list[tuple[int, Turn]] = [(d, t) for d, dialogue in enumerate(dialogues)
                                        for t in dialogue.turns if not t.is_empty]
        outputs: list[EmotionResult] = []
        for i in range(0, len(jobs), self.batch_size):
            chunk = jobs[i:i + self.batch_size]
            items = [TextItem(t.text, record_id=dialogues[d].dialogue_id, source=dialogues[d].source,
                              speaker=t.speaker, turn=t.index, start=t.start, end=t.end) for d, t in chunk]
            outputs.extend(self._text.analyze(items))
        segments: list[list[Segment]] = [[] for _ in dialogues]
        warnings: list[list[str]] = [list(d.warnings) for d in dialogues]
        for (d, turn), result in zip(jobs, outputs, strict=True):
            warnings[d].extend(result.warnings)
            for seg in result.segments:
                segments[d].append(replace(
                    seg, speaker=turn.speaker, turn=turn.index, start=turn.start, end=turn.end,
                    record_id=dialogues[d].dialogue_id, source=dialogues[d].source, text=turn.text,
                    extras={**dict(seg.extras), "context": "none", "erc": self.name}))
        return [EmotionResult(tuple(segs), dialogue.source, tuple(warns), dialogue.dialogue_id)
                for dialogue, segs, warns in zip(dialogues, segments, warnings, strict=True)]


# -- trajectories and shifts -------------------------------------------------------------------
def valence_band(valence: float | None, band: float = VALENCE_BAND) -> str | None:
    if valence is None:
        return None
    return "positive" if valence > band else "negative" if valence < -band else "neutral"


@dataclass(frozen=True)
class TrajectoryPoint:
    turn: int
    top_label: str
    confidence: float
    valence: float | None
    arousal: float | None
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class EmotionShift:
    """A change in one speaker's emotion between two of their consecutive turns."""

    speaker: str
    turn: int  # where the new emotion shows
    previous_turn: int  # the speaker's previous turn
    from_label: str
    to_label: str
    from_valence: float | None
    to_valence: float | None
    label_changed: bool
    valence_changed: bool  # the valence band (negative / neutral / positive) changed
    after_turn: int | None  # the last other speaker's turn between the two, if any
    after_speaker: str | None

    @property
    def valence_delta(self) -> float | None:
        if self.from_valence is None or self.to_valence is None:
            return None
        return self.to_valence - self.from_valence

    def describe(self) -> str:
        text = f"{self.speaker}: {self.from_label or NO_EMOTION} \u2192 {self.to_label or NO_EMOTION}"
        if self.from_valence is not None and self.to_valence is not None:
            text += f" (valence {self.from_valence:+.2f} \u2192 {self.to_valence:+.2f})"
        if self.after_turn is not None:
            text += f" after {self.after_speaker}'s turn {self.after_turn}"
        else:
            text += " with no other speaker in between"
        return text

    def to_cue(self) -> Cue:
        delta = self.valence_delta
        return Cue(kind=SHIFT_CUE, phrase=self.describe(), weight=delta if delta is not None else 0.0,
                   label=self.to_label or None,
                   turn=self.after_turn if self.after_turn is not None else self.previous_turn, value=delta)

    def to_dict(self) -> dict[str, Any]:
        return {"speaker": self.speaker, "turn": self.turn, "previous_turn": self.previous_turn,
                "from_label": self.from_label, "to_label": self.to_label,
                "from_valence": self.from_valence, "to_valence": self.to_valence,
                "label_changed": self.label_changed, "valence_changed": self.valence_changed,
                "after_turn": self.after_turn, "after_speaker": self.after_speaker}


def _top(seg: Segment, label_set: str | None) -> tuple[str, float]:
    scores: Mapping[str, float] = seg.scores
    if label_set is not None and label_set != seg.label_set:
        from affectlens.taxonomy import convert_scores

        scores = convert_scores(seg.scores, seg.label_set, label_set)
    if not scores:
        return "", 0.0
    label = max(scores, key=lambda k: scores[k])
    if scores[label] <= 0:  # e.g. a neutral turn in a set without neutral: no emotion
        return "", 0.0
    return label, float(scores[label])


def _turn_segments(segments: Iterable[Segment]) -> list[Segment]:
    """Segments that belong to a turn, in turn order (first segment per turn)."""
    seen: dict[int, Segment] = {}
    for seg in segments:
        if seg.turn is not None and seg.turn not in seen:
            seen[seg.turn] = seg
    return [seen[k] for k in sorted(seen)]


def speaker_trajectories(result: EmotionResult, label_set: str | None = None) -> dict[str, list[TrajectoryPoint]]:
    """Speaker -> their turns' top emotion (in ``label_set``, default the segments' own), valence, arousal."""
    out: dict[str, list[TrajectoryPoint]] = {}
    for seg in _turn_segments(result.segments):
        label, confidence = _top(seg, label_set)
        assert seg.turn is not None
        out.setdefault(seg.speaker or "unknown", []).append(TrajectoryPoint(
            seg.turn, label, confidence, seg.vad.valence if seg.vad else None,
            seg.vad.arousal if seg.vad else None, seg.start, seg.end))
    return out


def emotion_shifts(result: EmotionResult, label_set: str | None = None,
                   band: float = VALENCE_BAND) -> list[EmotionShift]:
    """Where each speaker's top emotion or valence band changes from their previous turn.

    ``after_turn``/``after_speaker`` name the last turn by someone else between the two
    turns (None when the speaker spoke twice in a row).  Sorted by the turn where the
    shift lands.
    """
    ordered = _turn_segments(result.segments)
    last_of: dict[str, Segment] = {}
    shifts: list[EmotionShift] = []
    for position, seg in enumerate(ordered):
        speaker = seg.speaker or "unknown"
        prev = last_of.get(speaker)
        last_of[speaker] = seg
        if prev is None:
            continue
        from_label, _ = _top(prev, label_set)
        to_label, _ = _top(seg, label_set)
        v0 = prev.vad.valence if prev.vad else None
        v1 = seg.vad.valence if seg.vad else None
        label_changed = from_label != to_label
        b0, b1 = valence_band(v0, band), valence_band(v1, band)
        valence_changed = b0 is not None and b1 is not None and b0 != b1
        if not (label_changed or valence_changed):
            continue
        after: Segment | None = None
        for other in reversed(ordered[:position]):
            assert other.turn is not None and prev.turn is not None
            if other.turn <= prev.turn:
                break
            if (other.speaker or "unknown") != speaker:
                after = other
                break
        assert seg.turn is not None and prev.turn is not None
        shifts.append(EmotionShift(speaker, seg.turn, prev.turn, from_label, to_label, v0, v1,
                                   label_changed, valence_changed,
                                   after.turn if after else None,
                                   (after.speaker or "unknown") if after else None))
    return shifts


def with_shift_cues(result: EmotionResult, label_set: str | None = None) -> EmotionResult:
    """The same result with each shift added as a cue to the segment where it lands."""
    by_turn: dict[int, list[Cue]] = {}
    for shift in emotion_shifts(result, label_set):
        by_turn.setdefault(shift.turn, []).append(shift.to_cue())
    if not by_turn:
        return result
    done: set[int] = set()
    segments = []
    for seg in result.segments:
        if seg.turn in by_turn and seg.turn not in done:
            done.add(seg.turn)
            seg = replace(seg, cues=(*seg.cues, *by_turn[seg.turn]))
        segments.append(seg)
    return replace(result, segments=tuple(segments))


def analyze_dialogues(dialogues: Sequence[Dialogue], recognizer: ConversationRecognizer | None = None,
                      shift_labels: str | None = "ekman") -> list[EmotionResult]:
    """Every dialogue through ``recognizer`` (default: the context-free baseline), shifts as cues.

    ``shift_labels``: the label set in which a change of top emotion counts as a shift
    (``"ekman"`` by default, so that e.g. admiration -> approval is not a shift); None
    uses the recognizer's own labels.
    """
    model: ConversationRecognizer = recognizer if recognizer is not None else UtteranceBaseline()
    model.load()
    return [with_shift_cues(r, shift_labels) for r in model.analyze_dialogues(dialogues)]


def analyze_dialogue(dialogue: Dialogue, recognizer: ConversationRecognizer | None = None,
                     shift_labels: str | None = "ekman") -> EmotionResult:
    return analyze_dialogues([dialogue], recognizer, shift_labels)[0]
