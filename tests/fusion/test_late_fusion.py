from __future__ import annotations

import math

import pytest

from affectlens.fusion import (
    FusionConfig,
    disagreement,
    fuse_segments,
    fuse_timeline,
    js_divergence,
    pool_window,
    rationale,
    shared_scores,
)
from affectlens.types import VAD, Cue, Modality, Provenance, Segment


def seg(modality: Modality, scores: dict[str, float], *, label_set: str = "ekman", start: float | None = 0.0,
        end: float | None = 1.0, cues: tuple[Cue, ...] = (), text: str | None = None,
        valence: float = 0.0) -> Segment:
    top = max(scores, key=lambda k: scores[k])
    return Segment(modality, label_set, scores, (top,), VAD(valence, 0.0, 0.0), scores[top],
                   Provenance(f"{modality.value}.test", "1"), cues=cues, text=text, start=start, end=end,
                   speaker="A" if modality is Modality.TEXT else None)


TEXT = seg(Modality.TEXT, {"anger": 0.8, "neutral": 0.2}, text="I can't believe this", valence=-0.6,
           cues=(Cue("word", '"can\'t believe" → anger (+0.200)', 0.2, "anger", span=(2, 15)),
                 Cue("word", '"this" → neutral (-0.010)', -0.01, "neutral", span=(16, 20))))
SPEECH = seg(Modality.SPEECH, {"anger": 0.6, "surprise": 0.4}, valence=-0.2,
             cues=(Cue("prosody", "pitch +2 SD", 0.7), Cue("prosody", "loud", 0.5)))
FACE = seg(Modality.FACE, {"joy": 0.9, "neutral": 0.1}, valence=0.7,
           cues=(Cue("face_region", "brows lowered", 0.4),))


def test_js_divergence_known_values() -> None:
    assert js_divergence([{"a": 1.0}, {"a": 1.0}]) == pytest.approx(0.0)
    assert js_divergence([{"a": 1.0}, {"b": 1.0}]) == pytest.approx(1.0)
    # p = (1/2, 1/2), q = (1, 0): H(3/4, 1/4) - 1/2 * 1
    h = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert js_divergence([{"a": 0.5, "b": 0.5}, {"a": 1.0}]) == pytest.approx(h - 0.5)
    with pytest.raises(ValueError):
        js_divergence([{"a": 0.0}, {"a": 1.0}])


def test_disagreement_is_normalised_and_needs_two() -> None:
    assert disagreement({"text": {"a": 1.0}}) is None
    three = disagreement({"t": {"a": 1.0}, "s": {"b": 1.0}, "f": {"c": 1.0}})
    assert three == pytest.approx(1.0)
    assert disagreement({"t": {"a": 1.0}, "s": {"a": 1.0}}) == pytest.approx(0.0)


def test_shared_scores_go_through_the_taxonomy() -> None:
    go = seg(Modality.TEXT, {"annoyance": 0.6, "amusement": 0.2, "neutral": 0.2}, label_set="goemotions")
    shared = shared_scores(go, "ekman")
    assert sum(shared.values()) == pytest.approx(1.0)
    assert shared["anger"] == pytest.approx(0.6) and shared["joy"] == pytest.approx(0.2)


def test_fuse_three_modalities_keeps_each_visible() -> None:
    fused = fuse_segments({"text": TEXT, "speech": SPEECH, "face": FACE})
    assert fused is not None and fused.modality is Modality.FUSED
    assert fused.scores["anger"] == pytest.approx((0.8 + 0.6) / 3)
    assert fused.top_label == "anger" and fused.speaker == "A" and fused.text == TEXT.text
    assert set(fused.extras["modalities"]) == {"text", "speech", "face"}
    assert fused.extras["modalities"]["face"]["scores"]["joy"] == 0.9
    assert 0 < fused.extras["disagreement"] < 1 and fused.extras["missing"] == []
    assert fused.vad is not None and fused.vad.valence == pytest.approx((-0.6 - 0.2 + 0.7) / 3)
    assert fused.extras["rationale"] == "words: 'can't believe'; voice: pitch +2 SD, loud; face: brows lowered"
    assert [c.kind for c in fused.cues] == ["rationale", "disagreement"]
    assert fused.to_dict()["extras"]["weights"] == {"text": 0.3333, "speech": 0.3333, "face": 0.3333}


def test_weights_and_missing_modalities() -> None:
    config = FusionConfig(weights={"text": 3.0, "speech": 1.0, "face": 0.0})
    fused = fuse_segments({"text": TEXT, "speech": SPEECH, "face": FACE}, config)
    assert fused is not None
    assert fused.extras["weights"] == {"text": 0.75, "speech": 0.25}
    assert fused.extras["missing"] == ["face"]
    assert fused.scores["anger"] == pytest.approx(0.75 * 0.8 + 0.25 * 0.6)
    only_text = fuse_segments({"text": TEXT, "speech": None})
    assert only_text is not None and only_text.extras["disagreement"] is None
    assert only_text.extras["missing"] == ["face", "speech"]
    assert fuse_segments({"text": None, "speech": None}) is None


def test_rationale_skips_modalities_without_cues() -> None:
    bare = seg(Modality.SPEECH, {"anger": 1.0})
    assert rationale({"speech": bare, "text": TEXT}) == "words: 'can't believe'"


def test_pool_window_weights_by_overlap() -> None:
    a = seg(Modality.SPEECH, {"anger": 1.0}, start=0.0, end=1.0)
    b = seg(Modality.SPEECH, {"joy": 1.0}, start=1.0, end=4.0)
    pooled = pool_window([a, b], (0.5, 2.0), "ekman")
    assert pooled is not None and pooled.scores["anger"] == pytest.approx(0.5 / 1.5)
    assert pooled.extras["pooled_segments"] == 2
    assert pool_window([a], (5.0, 6.0), "ekman") is None


def test_fuse_timeline_on_transcript_windows() -> None:
    t1 = seg(Modality.TEXT, {"anger": 1.0}, start=0.0, end=2.0, text="no!")
    t2 = seg(Modality.TEXT, {"joy": 1.0}, start=10.0, end=12.0, text="yay")
    speech = [seg(Modality.SPEECH, {"anger": 1.0}, start=0.0, end=1.0),
              seg(Modality.SPEECH, {"anger": 1.0}, start=1.0, end=2.5)]
    faces = [seg(Modality.FACE, {"joy": 1.0}, start=11.0, end=11.2)]
    result = fuse_timeline({"text": [t1, t2], "speech": speech, "face": faces})
    first, second = result.segments
    assert first.top_label == "anger" and first.extras["disagreement"] == pytest.approx(0.0)
    assert first.extras["missing"] == ["face"] and second.extras["missing"] == ["speech"]
    assert (second.start, second.end) == (10.0, 12.0)
    empty = fuse_timeline({"speech": speech}, windows=[(50.0, 51.0), (3.0, 2.0)])
    assert empty.segments == () and len(empty.warnings) == 2
