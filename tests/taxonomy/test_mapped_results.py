"""Results expressed in another label set: which labels are predicted after mapping."""

from __future__ import annotations

import json

import pytest

from affectlens import cli
from affectlens.processing import closest_label, map_result
from affectlens.types import VAD, EmotionResult, Modality, Provenance, Segment


def _segment(labels: tuple[str, ...], scores: dict[str, float]) -> Segment:
    return Segment(modality=Modality.TEXT, label_set="goemotions", scores=scores, labels=labels,
                   vad=VAD(0.0, 0.0, 0.0), confidence=max(scores.values()),
                   provenance=Provenance("test", "0"))


def _mapped(labels: tuple[str, ...], scores: dict[str, float], to_set: str) -> Segment:
    return map_result(EmotionResult((_segment(labels, scores),)), to_set).segments[0]


def test_a_neutral_prediction_has_no_label_in_a_set_without_neutral() -> None:
    seg = _mapped(("neutral",), {"neutral": 0.85, "approval": 0.07, "realization": 0.05}, "plutchik")
    assert seg.labels == ()
    assert seg.extras["none_of_these"] == pytest.approx(0.85 / 0.97, abs=1e-4)
    assert seg.extras["mapped_from"] == "goemotions"
    assert sum(seg.scores.values()) == pytest.approx(0.12 / 0.97)


def test_a_dyad_prediction_gives_both_emotions() -> None:
    seg = _mapped(("love",), {"love": 0.95, "neutral": 0.02}, "plutchik")
    assert set(seg.labels) == {"joy", "trust"}
    seg = _mapped(("optimism", "pride"), {"optimism": 0.6, "pride": 0.5}, "plutchik")
    assert set(seg.labels) == {"anticipation", "joy", "anger"}
    assert seg.labels[0] == "joy"  # ordered by mapped score: joy gets half of both


def test_sets_with_neutral_keep_it() -> None:
    seg = _mapped(("neutral",), {"neutral": 0.85, "joy": 0.1}, "ekman")
    assert seg.labels == ("neutral",)
    assert "none_of_these" not in seg.extras


def test_closest_label_of_neutral_without_neutral_is_none() -> None:
    assert closest_label("neutral", "goemotions", "plutchik") is None
    assert closest_label("admiration", "goemotions", "plutchik") == "trust"


def test_through_the_shipped_text_model(capsys: pytest.CaptureFixture[str]) -> None:
    from affectlens.recognizers.text_onnx import DEFAULT_MODEL_DIR

    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        pytest.skip("shipped text model not present")

    def plutchik(text: str) -> dict:
        code = cli.run(["analyze", text, "--labels", "plutchik", "-f", "jsonl"])
        assert code == 0
        return json.loads(capsys.readouterr().out)["segments"][0]

    neutral = plutchik("The meeting is at 3 pm in room 204.")
    assert neutral["labels"] == []
    assert neutral["extras"]["none_of_these"] > 0.5
    loving = plutchik("I love you so much.")
    assert set(loving["labels"]) == {"joy", "trust"}


def test_emotion_shifts_name_a_neutral_turn_no_emotion_in_plutchik() -> None:
    from dataclasses import replace

    from affectlens.dialogue.conversation import emotion_shifts

    calm = replace(_segment(("neutral",), {"neutral": 0.9}), turn=0, speaker="A")
    warm = replace(_segment(("love",), {"love": 0.9}), turn=1, speaker="A")
    [shift] = emotion_shifts(EmotionResult((calm, warm)), "plutchik")
    assert shift.from_label == "" and shift.to_label in ("joy", "trust")
    assert "no emotion \u2192" in shift.describe()
    assert shift.to_cue().label == shift.to_label
