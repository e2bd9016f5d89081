"""Tolerant reading of an LLM's reply into a typed judgement.

Models wrap JSON in code fences, add a sentence after it, think aloud in ``<think>``
blocks, use single quotes or trailing commas, write intensities as ``"80%"``.  We accept
all of that; anything we still cannot read raises ``ReplyParseError`` (the client then
re-asks, a bounded number of times).
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class ReplyParseError(ValueError):
    """The reply is not (or does not contain) the JSON object we asked for."""


_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)```", re.DOTALL)
_PY_LITERALS = re.compile(r"\b(true|false|null)\b")


def _balanced(text: str, start: int) -> str | None:
    """The bracketed span starting at ``text[start]`` (``{`` or ``[``), quotes respected."""
    pairs = {"{": "}", "[": "]"}
    stack: list[str] = []
    quote: str | None = None
    escaped = False
    for i in range(start, len(text)):
        char = text[i]
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
            continue
        if char in "\"'":
            quote = char
        elif char in pairs:
            stack.append(pairs[char])
        elif stack and char == stack[-1]:
            stack.pop()
            if not stack:
                return text[start: i + 1]
    return None


def _loads_lenient(candidate: str) -> Any:
    try:
        return json.loads(candidate)
    except ValueError:
        pass
    # single quotes, trailing commas: Python literal syntax reads both
    python_like = _PY_LITERALS.sub(lambda m: {"true": "True", "false": "False", "null": "None"}[m.group()],
                                   candidate)
    try:
        return ast.literal_eval(python_like)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise ReplyParseError("not valid JSON") from None


def extract_json(text: str) -> Any:
    """The first JSON object (or array) in ``text``, read as leniently as is safe."""
    if not isinstance(text, str) or not text.strip():
        raise ReplyParseError("empty reply")
    cleaned = _THINK.sub("", text).strip()
    candidates: list[str] = [cleaned]
    candidates += [block.strip() for block in _FENCE.findall(cleaned)]
    for opener in ("{", "["):
        position = cleaned.find(opener)
        if position >= 0:
            span = _balanced(cleaned, position)
            if span:
                candidates.append(span)
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return json.loads(candidate)
        except ValueError:
            pass
        try:  # a JSON value followed by trailing text
            value, _ = json.JSONDecoder().raw_decode(candidate)
            return value
        except ValueError:
            pass
    for candidate in candidates[1:] or candidates:
        try:
            return _loads_lenient(candidate)
        except ReplyParseError:
            continue
    raise ReplyParseError(f"no JSON object found in the reply ({cleaned[:80]!r}...)")


@dataclass(frozen=True)
class StatedEmotion:
    word: str
    intensity: float


@dataclass(frozen=True)
class QuotedCue:
    phrase: str
    emotion: str | None


@dataclass(frozen=True)
class Judgement:
    """What the model said about one text (or one dialogue turn)."""

    emotions: tuple[StatedEmotion, ...]
    cues: tuple[QuotedCue, ...]
    rationale: str
    confidence: float | None  # verbalized: as stated by the model, not calibrated
    turn: int | None = None


def as_unit_number(value: Any) -> float | None:
    """0..1 from ``0.8``, ``"0.8"``, ``"80%"``, ``80`` (read as a percentage); None if unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip().rstrip("%").strip()
        percent = value.strip().endswith("%")
        try:
            number = float(text)
        except ValueError:
            return {"high": 0.9, "medium": 0.6, "low": 0.3}.get(text.lower())
        if percent:
            number /= 100.0
    elif isinstance(value, int | float):
        number = float(value)
    else:
        return None
    if not math.isfinite(number):
        return None
    if 1.0 < number <= 100.0:
        number /= 100.0
    return min(1.0, max(0.0, number))


def _first(data: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        if name in data:
            return data[name]
    return None


def _emotions(value: Any) -> tuple[StatedEmotion, ...]:
    items: list[StatedEmotion] = []
    if isinstance(value, Mapping):  # {"joy": 0.8, "anger": 0.1}
        for word, intensity in value.items():
            number = as_unit_number(intensity)
            items.append(StatedEmotion(str(word), 1.0 if number is None else number))
        return tuple(items)
    if isinstance(value, str):
        value = [part for part in re.split(r"[,;/]", value) if part.strip()]
    if not isinstance(value, Sequence):
        raise ReplyParseError("'emotions' must be a list")
    for entry in value:
        if isinstance(entry, str):
            items.append(StatedEmotion(entry, 1.0))
        elif isinstance(entry, Mapping):
            word = _first(entry, "label", "emotion", "name", "word")
            if not isinstance(word, str) or not word.strip():
                continue
            number = as_unit_number(_first(entry, "intensity", "score", "probability", "strength", "confidence"))
            items.append(StatedEmotion(word, 1.0 if number is None else number))
    return tuple(items)


def _cues(value: Any) -> tuple[QuotedCue, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return ()
    out: list[QuotedCue] = []
    for entry in value:
        if isinstance(entry, str) and entry.strip():
            out.append(QuotedCue(entry.strip(), None))
        elif isinstance(entry, Mapping):
            phrase = _first(entry, "phrase", "quote", "text", "cue")
            emotion = _first(entry, "emotion", "label")
            if isinstance(phrase, str) and phrase.strip():
                out.append(QuotedCue(phrase.strip(), emotion if isinstance(emotion, str) else None))
    return tuple(out)


def judgement_from(data: Any, turn: int | None = None) -> Judgement:
    if not isinstance(data, Mapping):
        raise ReplyParseError(f"expected a JSON object, got {type(data).__name__}")
    raw = _first(data, "emotions", "labels", "emotion")
    if raw is None:
        raise ReplyParseError("the reply has no 'emotions'")
    rationale = _first(data, "rationale", "explanation", "reasoning", "reason")
    turn_value = data.get("turn", turn)
    try:
        turn_index = int(turn_value) if turn_value is not None else None
    except (TypeError, ValueError):
        turn_index = turn
    return Judgement(
        emotions=_emotions(raw), cues=_cues(_first(data, "cues", "evidence")),
        rationale=rationale.strip() if isinstance(rationale, str) else "",
        confidence=as_unit_number(data.get("confidence")), turn=turn_index)


def parse_judgement(text: str) -> Judgement:
    """One judgement (a text or a media segment)."""
    return judgement_from(extract_json(text))


def parse_dialogue_judgements(text: str, n_turns: int) -> tuple[Judgement, ...]:
    """One judgement per labelled turn; turns with an index outside the dialogue are dropped."""
    data = extract_json(text)
    turns = data.get("turns") if isinstance(data, Mapping) else data
    if not isinstance(turns, Sequence) or isinstance(turns, str):
        raise ReplyParseError("the reply has no 'turns' list")
    out = [judgement_from(entry, turn=i) for i, entry in enumerate(turns)]
    kept = tuple(j for j in out if j.turn is not None and 0 <= j.turn < n_turns)
    if not kept:
        raise ReplyParseError("no turn of the dialogue was labelled")
    return kept
