from __future__ import annotations

import json

from affectlens.types import (
    SCHEMA_VERSION,
    EmotionResult,
)
from result_samples import sample_segment as _segment


def test_json_round_trip_is_exact_for_rounded_values() -> None:
    result = EmotionResult((_segment(),), "a.txt", ("note",), "r1")
    again = EmotionResult.from_json(result.to_json())
    assert again == result
    assert again.to_json() == result.to_json()


def test_json_document_fields() -> None:
    data = json.loads(EmotionResult((_segment(),), "a.txt", (), "r1").to_json())
    assert data["schema_version"] == SCHEMA_VERSION
    assert set(data) == {"schema_version", "source", "record_id", "warnings", "segments"}
    seg = data["segments"][0]
    assert seg["cues"][0] == {
        "kind": "word",
        "phrase": "happy",
        "weight": 1.0,
        "label": "joy",
        "span": [5, 10],
    }
    assert seg["vad"] == {"valence": 0.6, "arousal": 0.3, "dominance": 0.2}
    assert "start" not in seg  # unset optional fields are left out


def test_empty_result_keeps_record_id_and_warning() -> None:
    empty = EmotionResult((), "t.csv", ("row 3: empty text",), "r3")
    again = EmotionResult.from_json(empty.to_json())
    assert again.is_empty and again.record_id == "r3" and again.warnings == ("row 3: empty text",)
