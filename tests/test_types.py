from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from affectlens.types import (
    SCHEMA_VERSION,
    EmotionResult,
    Segment,
    StreamedResult,
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


def test_a_streamed_result_is_read_once_and_knows_its_warnings_at_the_end() -> None:
    warnings: list[str] = []

    def segments() -> Iterator[Segment]:
        yield _segment()
        yield _segment()
        warnings.append("2 undecodable packet(s) skipped")

    streamed = StreamedResult(segments(), "clip.mp4", lambda: warnings, "7")
    with pytest.raises(RuntimeError):
        _ = streamed.is_empty  # not known before the segments were read
    assert streamed.warnings == ()
    whole = streamed.collect()
    assert len(whole) == 2 and streamed.count == 2 and not streamed.is_empty
    assert whole.warnings == ("2 undecodable packet(s) skipped",) and whole.record_id == "7"
    with pytest.raises(RuntimeError):
        list(streamed)  # the segments are not kept


def test_a_streamed_result_makes_its_segments_as_they_are_read() -> None:
    made: list[int] = []

    def segments() -> Iterator[Segment]:
        for n in range(3):
            made.append(n)
            yield _segment()

    streamed = StreamedResult(segments(), "clip.mp4", ("w",))
    reading = iter(streamed)
    assert made == []  # nothing is made before it is read
    next(reading)
    assert made == [0] and streamed.count == 1
    with pytest.raises(RuntimeError):
        _ = streamed.is_empty  # not read to its end yet
    assert len(list(reading)) == 2 and streamed.count == 3 and not streamed.is_empty
