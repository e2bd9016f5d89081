"""A sample result segment for the tests of the result model and its flat forms."""

from __future__ import annotations

from affectlens.types import VAD, Cue, Modality, Provenance, Segment


def sample_segment(**overrides: object) -> Segment:
    fields: dict[str, object] = dict(
        modality=Modality.TEXT,
        label_set="ekman",
        scores={"joy": 0.7, "anger": 0.1, "neutral": 0.2},
        labels=("joy",),
        vad=VAD(0.6, 0.3, 0.2),
        confidence=0.7,
        provenance=Provenance("dummy.keywords.v1", "v1"),
        cues=(Cue("word", "happy", 1.0, "joy", (5, 10)),),
        text="I am happy",
        source="a.txt",
        record_id="r1",
    )
    fields.update(overrides)
    return Segment(**fields)  # type: ignore[arg-type]
