"""What we send: instructions, the rendered input, few-shot examples, prompt variants.

``PROMPT_VERSION`` changes whenever the wording changes (it is recorded in every result's
extras and, through the messages, in the cache key).

**Prompt variants** (``prompt=`` in ``llm:<model>?prompt=...``): ``plain`` (no stimulus),
``emotionprompt`` (= ``ep02``, "This is very important to my career."), and ``ep01`` ...
``ep11``: the eleven emotional stimuli of EmotionPrompt (Li et al. 2023, *Large Language
Models Understand and Can Be Enhanced by Emotional Stimuli*, arXiv:2307.11760), appended
to the end of the instruction as in the paper.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from affectlens.inputs import TextItem
from affectlens.llm.dialogue import Dialogue
from affectlens.types import EmotionResult, Segment

PROMPT_VERSION = "1"

_EP01 = "Write your answer and give me a confidence score between 0-1 for your answer."
_EP02 = "This is very important to my career."
_EP03 = "You'd better be sure."
EMOTION_STIMULI: Mapping[str, str] = {
    "ep01": _EP01,
    "ep02": _EP02,
    "ep03": _EP03,
    "ep04": "Are you sure?",
    "ep05": "Are you sure that's your final answer? It might be worth taking another look.",
    "ep06": f"{_EP01} {_EP02} {_EP03}",
    "ep07": "Are you sure that's your final answer? Believe in your abilities and strive for excellence. "
            "Your hard work will yield remarkable results.",
    "ep08": "Embrace challenges as opportunities for growth. Each obstacle you overcome brings you closer "
            "to success.",
    "ep09": "Stay focused and dedicated to your goals. Your consistent efforts will lead to outstanding "
            "achievements.",
    "ep10": "Take pride in your work and give it your best. Your commitment to excellence sets you apart.",
    "ep11": "Remember that progress is made one step at a time. Stay determined and keep moving forward.",
}
PROMPT_VARIANTS: Mapping[str, str | None] = {"plain": None, "emotionprompt": _EP02, **EMOTION_STIMULI}

SYSTEM_PROMPT = (
    "You are a careful annotator of emotions. You read a text, a dialogue, or a description of cues "
    "that automatic recognizers perceived in audio or video, and you say which emotions are expressed, "
    "which cues show them, and how sure you are. You answer with one JSON object and nothing else."
)

_EMOTION = {"type": "object", "additionalProperties": False, "required": ["label", "intensity"],
            "properties": {"label": {"type": "string"}, "intensity": {"type": "number"}}}
_CUE = {"type": "object", "additionalProperties": False, "required": ["phrase", "emotion"],
        "properties": {"phrase": {"type": "string"}, "emotion": {"type": "string"}}}
_JUDGEMENT_PROPERTIES: dict[str, Any] = {
    "emotions": {"type": "array", "items": _EMOTION},
    "cues": {"type": "array", "items": _CUE},
    "rationale": {"type": "string"},
    "confidence": {"type": "number"},
}
JUDGEMENT_SCHEMA: Mapping[str, Any] = {
    "type": "object", "additionalProperties": False,
    "required": ["emotions", "cues", "rationale", "confidence"], "properties": _JUDGEMENT_PROPERTIES}
DIALOGUE_SCHEMA: Mapping[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["turns"],
    "properties": {"turns": {"type": "array", "items": {
        "type": "object", "additionalProperties": False,
        "required": ["turn", "emotions", "cues", "rationale", "confidence"],
        "properties": {"turn": {"type": "integer"}, **_JUDGEMENT_PROPERTIES}}}},
}

_ANSWER_SHAPE = ('{"emotions": [{"label": "<emotion>", "intensity": <0..1>}], '
                 '"cues": [{"phrase": "<exact words from the input>", "emotion": "<emotion>"}], '
                 '"rationale": "<one or two sentences citing the cues>", "confidence": <0..1>}')


@dataclass(frozen=True)
class FewShotExample:
    """An annotated text shown to the model (drawn from a TRAIN split only)."""

    text: str
    labels: tuple[str, ...]


def stimulus_for(variant: str) -> str | None:
    if variant not in PROMPT_VARIANTS:
        raise ValueError(f"unknown prompt variant {variant!r}; known: {', '.join(PROMPT_VARIANTS)}")
    return PROMPT_VARIANTS[variant]


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def render_text(item: TextItem) -> str:
    return f"Text: {_quote(item.text)}"


def render_dialogue(dialogue: Dialogue) -> str:
    lines = ["Dialogue (turn index, speaker, utterance):"]
    for position, turn in enumerate(dialogue.turns):
        speaker = turn.speaker or "speaker"
        lines.append(f"[{dialogue.turn_index(position)}] {speaker}: {_quote(turn.text)}")
    targets = ", ".join(str(dialogue.turn_index(p)) for p in dialogue.target_positions)
    lines.append(f"Label these turns: {targets}.")
    return "\n".join(lines)


def _render_one_segment(segment: Segment, n_scores: int = 5, n_cues: int = 8) -> list[str]:
    """A segment's perceived cues as plain lines.  File paths and record ids are never rendered."""
    where: list[str] = []
    if segment.start is not None or segment.end is not None:
        where.append(f"{segment.start if segment.start is not None else '?'}-"
                     f"{segment.end if segment.end is not None else '?'} s")
    if segment.speaker:
        where.append(f"speaker {segment.speaker}")
    if segment.track_id is not None:
        where.append(f"face track {segment.track_id}")
    head = f"Observation from a {segment.modality.value} recognizer ({segment.provenance.recognizer})"
    lines = [head + (f", {', '.join(where)}" if where else "") + ":"]
    if segment.text:
        lines.append(f"- transcript/text: {_quote(segment.text)}")
    top = sorted(segment.scores.items(), key=lambda kv: -kv[1])[:n_scores]
    if top:
        scores = ", ".join(f"{label} {score:.2f}" for label, score in top)
        lines.append(f"- its scores ({segment.label_set}): {scores}; predicted: {', '.join(segment.labels) or '-'}")
    if segment.vad is not None:
        lines.append(f"- valence {segment.vad.valence:+.2f}, arousal {segment.vad.arousal:+.2f}, "
                     f"dominance {segment.vad.dominance:+.2f} (each -1..1)")
    for cue in sorted(segment.cues, key=lambda c: -abs(c.weight))[:n_cues]:
        details = [f"weight {cue.weight:+.2f}"]
        if cue.label:
            details.append(f"for {cue.label}")
        if cue.value is not None:
            details.append(f"value {cue.value:g}")
        if cue.time is not None:
            details.append(f"at {cue.time[0]:g}-{cue.time[1]:g} s")
        lines.append(f"- cue ({cue.kind}): {_quote(cue.phrase)} [{', '.join(details)}]")
    return lines


def render_cues(value: Segment | EmotionResult) -> str:
    segments = (value,) if isinstance(value, Segment) else tuple(value.segments)
    lines = ["Cues perceived in a media segment (the raw media is not available to you):"]
    for segment in segments:
        lines += _render_one_segment(segment)
    return "\n".join(lines)


def instruction(kind: str, labels: Sequence[str], examples: Sequence[FewShotExample] = (),
                stimulus: str | None = None) -> str:
    """The task text; ``kind`` is ``text``, ``dialogue`` or ``cues``."""
    target = {"text": "the text", "dialogue": "each requested turn of the dialogue (use the earlier turns as "
              "context)", "cues": "the person in the media segment, reasoning over the perceived cues"}[kind]
    neutral = ('Use "neutral" when no emotion is expressed.' if "neutral" in labels
               else "Return an empty emotions list when no emotion is expressed.")
    parts = [
        f"Identify the emotions expressed by {target}.",
        f"Prefer these emotion words when they fit: {', '.join(labels)}. If none fits, use your own "
        f"emotion word. {neutral}",
        "List only the emotions that are present (usually one or two), each with an intensity from 0 to 1.",
        "Quote the cues (exact words or phrases from the input) that support each emotion, and write a "
        "short rationale that cites them. Give your confidence (0 to 1) that your answer is right.",
    ]
    if kind == "dialogue":
        parts.append('Answer with JSON: {"turns": [{"turn": <turn index>, ' + _ANSWER_SHAPE[1:] + "]}")
    else:
        parts.append(f"Answer with JSON: {_ANSWER_SHAPE}")
    if examples:
        parts.append("Examples annotated by people:")
        parts += [f"Text: {_quote(ex.text)}\nEmotions: {', '.join(ex.labels)}" for ex in examples]
    if stimulus:
        parts.append(stimulus)
    return "\n".join(parts)


def build_messages(kind: str, rendered_input: str, labels: Sequence[str],
                   examples: Sequence[FewShotExample] = (), stimulus: str | None = None) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": instruction(kind, labels, examples, stimulus) + "\n\n" + rendered_input},
    ]
