from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from affectlens.dialogue import (
    ConversationRecognizer,
    UtteranceBaseline,
    analyze_dialogue,
    build_dialogue,
    emotion_shifts,
    speaker_trajectories,
)
from affectlens.testing import DummyRecognizer
from affectlens.types import VAD, EmotionResult, Modality, Provenance, Segment


def _dialogue() -> Any:
    return build_dialogue("d", [
        {"speaker": "Anna", "text": "I am so happy today", "start": 0.0, "end": 1.0},
        {"speaker": "Ben", "text": "I am so angry at you", "start": 1.0, "end": 2.0},
        {"speaker": "Anna", "text": "that makes me sad", "start": 2.0, "end": 3.0},
        {"speaker": "Ben", "text": "   ", "start": 3.0, "end": 4.0},
        {"speaker": "Anna", "text": "still sad", "start": 4.0, "end": 5.0},
    ])


def test_context_free_baseline_keeps_speakers_turns_and_flags_empty_turns() -> None:
    baseline = UtteranceBaseline(DummyRecognizer())
    assert isinstance(baseline, ConversationRecognizer) and baseline.uses_context is False
    (result,) = baseline.analyze_dialogues([_dialogue()])
    assert [(s.turn, s.speaker) for s in result.segments] == [(0, "Anna"), (1, "Ben"), (2, "Anna"), (4, "Anna")]
    assert all(s.extras["context"] == "none" for s in result.segments)
    assert result.segments[1].start == 1.0 and result.record_id == "d"
    assert any("empty turn" in w for w in result.warnings)
    assert baseline.name == "context-free:dummy.keywords.v1"


def test_shifts_name_the_turn_they_followed() -> None:
    result = analyze_dialogue(_dialogue(), UtteranceBaseline(DummyRecognizer()))
    shifts = emotion_shifts(result)
    assert [(s.speaker, s.from_label, s.to_label, s.turn, s.after_turn, s.after_speaker) for s in shifts] == [
        ("Anna", "joy", "sadness", 2, 1, "Ben")]
    assert shifts[0].valence_changed and shifts[0].valence_delta is not None and shifts[0].valence_delta < 0
    cues = [c for c in result.segments[2].cues if c.kind == "emotion_shift"]
    assert len(cues) == 1 and cues[0].turn == 1 and "after Ben's turn 1" in cues[0].phrase
    traj = speaker_trajectories(result)
    assert [p.top_label for p in traj["Anna"]] == ["joy", "sadness", "sadness"]
    assert [p.turn for p in traj["Ben"]] == [1]


def _seg(turn: int, speaker: str, scores: dict[str, float], valence: float) -> Segment:
    return Segment(Modality.TEXT, "ekman", scores, (max(scores, key=lambda k: scores[k]),),
                   VAD(valence, 0.0, 0.0), 0.9, Provenance("t", "1"), turn=turn, speaker=speaker)


def test_valence_band_change_alone_is_a_shift_and_self_shift_has_no_trigger() -> None:
    result = EmotionResult((
        _seg(0, "A", {"neutral": 0.9, "joy": 0.1}, 0.3),
        _seg(1, "A", {"neutral": 0.9, "joy": 0.1}, -0.3),
        _seg(2, "A", {"neutral": 0.9, "joy": 0.1}, -0.25),
    ))
    (shift,) = emotion_shifts(result)
    assert shift.turn == 1 and not shift.label_changed and shift.valence_changed
    assert shift.after_turn is None and "no other speaker" in shift.describe()


def test_shift_labels_can_be_mapped_through_the_taxonomy() -> None:
    a = Segment(Modality.TEXT, "goemotions", {"admiration": 0.9, "neutral": 0.1}, ("admiration",),
                VAD(0.5, 0, 0), 0.9, Provenance("t", "1"), turn=0, speaker="A")
    b = Segment(Modality.TEXT, "goemotions", {"approval": 0.9, "neutral": 0.1}, ("approval",),
                VAD(0.5, 0, 0), 0.9, Provenance("t", "1"), turn=1, speaker="A")
    result = EmotionResult((a, b))
    assert len(emotion_shifts(result)) == 1  # admiration -> approval in goemotions
    assert emotion_shifts(result, "ekman") == []  # both are joy in Ekman-7


class _ContextEcho:
    """A context-aware stand-in: labels a turn 'surprise' when the previous speaker differs."""

    name = "test.context"
    version = "1"
    modality = Modality.TEXT
    label_set = "ekman"
    uses_context = True

    def load(self) -> None:
        pass

    def analyze_dialogues(self, dialogues: Sequence[Any]) -> list[EmotionResult]:
        from affectlens.dialogue import turns_in_context

        out = []
        for d in dialogues:
            segs = []
            for ctx in turns_in_context(d):
                prev = ctx.history(window=1)
                label = "surprise" if prev and prev[0].speaker != ctx.turn.speaker else "neutral"
                segs.append(_seg(ctx.index, ctx.turn.speaker, {label: 1.0}, 0.0))
            out.append(EmotionResult(tuple(segs), record_id=d.dialogue_id))
        return out


def test_a_context_aware_model_plugs_in() -> None:
    rec = _ContextEcho()
    assert isinstance(rec, ConversationRecognizer)
    d = build_dialogue("x", [{"speaker": "A", "text": "a"}, {"speaker": "A", "text": "b"},
                             {"speaker": "B", "text": "c"}])
    result = analyze_dialogue(d, rec)
    assert [s.top_label for s in result.segments] == ["neutral", "neutral", "surprise"]
