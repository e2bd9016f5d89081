from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from affectlens.dialogue import (
    UNKNOWN_SPEAKER,
    DialogueFormatError,
    build_dialogue,
    read_dialogues,
)
from affectlens.dialogue.subtitles import parse_srt, parse_vtt

ROWS = [
    {"dialogue_id": "d1", "speaker": "Anna", "text": "I am so happy", "turn": 1},
    {"dialogue_id": "d1", "speaker": "Ben", "text": "so scared", "turn": 0},
    {"dialogue_id": "d2", "speaker": "Cara", "text": "", "turn": 0},
    {"dialogue_id": "d2", "speaker": "", "text": "hello", "turn": 1},
]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", ".tsv"])
def test_turn_tables_group_order_and_warn(tmp_path: Path, suffix: str) -> None:
    frame = pd.DataFrame(ROWS)
    path = tmp_path / f"turns{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path)
    d1, d2 = read_dialogues(path)
    assert d1.dialogue_id == "d1" and [t.speaker for t in d1] == ["Ben", "Anna"]
    assert [t.index for t in d1] == [0, 1]
    assert any("not in order" in w for w in d1.warnings)
    # nothing dropped: the empty turn and the speakerless turn are kept and flagged
    assert len(d2) == 2 and d2.turns[0].is_empty and d2.turns[1].speaker == UNKNOWN_SPEAKER
    assert any("empty turn" in w for w in d2.warnings)
    assert any("no speaker" in w for w in d2.warnings)


def test_missing_columns_are_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"text": ["hi"]}).to_csv(path, index=False)
    with pytest.raises(DialogueFormatError, match="missing dialogue_id, speaker"):
        read_dialogues(path)


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "x.docx").write_text("x")
    with pytest.raises(DialogueFormatError, match="unsupported"):
        read_dialogues(tmp_path / "x.docx")
    with pytest.raises(FileNotFoundError):
        read_dialogues(tmp_path / "nope.csv")


def test_json_dialogues_with_cast(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"dialogues": [
        {"dialogue_id": "a", "speakers": ["Anna", "Ben"],
         "turns": [{"speaker": "Anna", "text": "hi", "start": 0, "end": 1},
                   {"speaker": "Zed", "text": "who?", "start": 0.5, "end": 2}]},
        {"dialogue_id": "b", "turns": [{"speaker": "Cara", "text": "alone"}]},
    ]}))
    a, b = read_dialogues(path)
    assert a.speakers == ("Anna", "Zed") and b.turns[0].text == "alone"
    assert any("unknown speaker 'Zed'" in w for w in a.warnings)
    assert any("overlaps turn 0" in w for w in a.warnings)


def test_bad_json_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text("{nope")
    with pytest.raises(DialogueFormatError, match="not valid JSON"):
        read_dialogues(path)


def test_timing_warnings_unsorted_and_inverted() -> None:
    d = build_dialogue("x", [{"speaker": "A", "text": "one", "start": 5.0, "end": 4.0},
                             {"speaker": "B", "text": "two", "start": 1.0, "end": 2.0}])
    assert any("ends (4.000 s) before it starts" in w for w in d.warnings)
    assert any("out of order" in w for w in d.warnings)
    assert len(d) == 2


def test_unreadable_times_are_reported() -> None:
    d = build_dialogue("x", [{"speaker": "A", "text": "one", "start": "soon"}])
    assert d.turns[0].start is None and any("unreadable time" in w for w in d.warnings)


SRT = """1
00:00:01,000 --> 00:00:02,500
ANNA: <i>I can't believe</i> it!

2
00:00:02,000 --> 00:00:04,000
- Ben: Sorry.
Really sorry.

garbage line
3
00:01:00,000 --> 00:01:01,000
no speaker here
"""


def test_parse_srt_times_speakers_tags_and_garbage() -> None:
    cues, warnings = parse_srt(SRT)
    assert [(c.start, c.end) for c in cues] == [(1.0, 2.5), (2.0, 4.0), (60.0, 61.0)]
    assert cues[0].speaker == "ANNA" and cues[0].text == "I can't believe it!"
    assert cues[1].speaker == "Ben" and cues[1].text == "Sorry. Really sorry."
    assert cues[2].speaker is None
    assert any("garbage line" in w for w in warnings)


VTT = """WEBVTT

NOTE this is a comment
that spans lines

intro
00:01.000 --> 00:02.000 align:start
<v Anna>Hello there</v>

00:00:02.500 --> 00:00:03.000
<v.loud Ben>Hi!
"""


def test_parse_vtt_voice_tags_settings_and_notes() -> None:
    cues, warnings = parse_vtt(VTT)
    assert [(c.start, c.end, c.speaker, c.text) for c in cues] == [
        (1.0, 2.0, "Anna", "Hello there"), (2.5, 3.0, "Ben", "Hi!")]
    assert warnings == []
    _, warnings = parse_vtt("00:01.000 --> 00:02.000\nhi\n")
    assert any("WEBVTT" in w for w in warnings)


def test_subtitle_files_become_one_dialogue(tmp_path: Path) -> None:
    srt = tmp_path / "talk.srt"
    srt.write_text(SRT)
    (d,) = read_dialogues(srt)
    assert d.dialogue_id == "talk" and len(d) == 3
    assert d.turns[2].speaker == UNKNOWN_SPEAKER
    assert any("overlaps turn 0" in w for w in d.warnings)
    vtt = tmp_path / "plain.vtt"
    vtt.write_text("WEBVTT\n\n00:01.000 --> 00:02.000\nhello\n")
    (v,) = read_dialogues(vtt)
    assert v.turns[0].speaker == UNKNOWN_SPEAKER and any("no speaker names" in w for w in v.warnings)
    empty = tmp_path / "empty.srt"
    empty.write_text("")
    (e,) = read_dialogues(empty)
    assert len(e) == 0 and any("no subtitle cues" in w for w in e.warnings)


def test_history_and_context_views() -> None:
    from affectlens.dialogue import turns_in_context

    d = build_dialogue("x", [{"speaker": s, "text": t} for s, t in
                             [("A", "a1"), ("B", "b1"), ("A", "a2"), ("B", "b2")]])
    ctx = turns_in_context(d)[3]
    assert [t.text for t in ctx.history()] == ["a1", "b1", "a2"]
    assert [t.text for t in ctx.history(window=1)] == ["a2"]
    assert [t.text for t in ctx.same_speaker_history()] == ["b1"]
    assert [t.text for t in ctx.other_speaker_history(window=1)] == ["a2"]
