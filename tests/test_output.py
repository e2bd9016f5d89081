from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from affectlens.output import (
    ColumnMismatch,
    _bar,
    highlight_text,
    render_table,
    result_rows,
    write_csv,
    write_json,
    write_jsonl,
    write_parquet,
    write_results,
)
from affectlens.testing import DummyRecognizer
from affectlens.types import EmotionResult, Segment, StreamedResult


def _results() -> list[EmotionResult]:
    empty = EmotionResult((), "t.csv", ("row 1: empty text",), "1")
    return [empty, *DummyRecognizer().analyze(["I am happy", "so scared"])]


def test_empty_result_keeps_a_row() -> None:
    (row,) = result_rows(_results()[0])
    assert row == {"record_id": "1", "source": "t.csv", "warnings": "row 1: empty text"}


def test_csv_header_comes_from_the_first_real_row() -> None:
    buffer = io.StringIO()
    assert write_csv(_results(), buffer) == 3
    header, first, *_ = buffer.getvalue().splitlines()
    assert header.startswith("record_id,source,modality") and header.endswith("warnings")
    assert "score_joy" in header and first.startswith("1,t.csv,")


def test_parquet_with_empty_first_rows(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    path = tmp_path / "out.parquet"
    assert write_parquet(_results(), path) == 3
    table = pq.read_table(path)
    assert table.column("record_id").to_pylist()[0] == "1"
    assert table.column("score_joy").to_pylist()[0] is None


def test_new_columns_after_the_header_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from affectlens import output
    from affectlens.processing import map_result

    monkeypatch.setattr(output, "_CSV_SCHEMA_ROWS", 1)
    first = DummyRecognizer().analyze(["happy"])[0]
    buffer = io.StringIO()
    with pytest.warns(ColumnMismatch, match="score_positive"):
        write_csv([first, map_result(first, "sentiment")], buffer)
    assert len(buffer.getvalue().splitlines()) == 3


def test_json_document_streams_valid_json() -> None:
    buffer = io.StringIO()
    write_json(_results(), buffer)
    assert len(json.loads(buffer.getvalue())["results"]) == 3
    empty = io.StringIO()
    write_json([], empty)
    assert json.loads(empty.getvalue()) == {"schema_version": "1.0", "results": []}


def test_cue_words_are_highlighted() -> None:
    seg = DummyRecognizer().analyze(["I am happy"])[0].segments[0]
    text = highlight_text("I am happy", seg)
    assert [(s.start, s.end) for s in text.spans] == [(5, 10)]
    assert "yellow" in str(text.spans[0].style)


def test_bar_is_centred() -> None:
    assert _bar(0.6).plain == "+0.60 ·····│███··"
    assert _bar(-1.0).plain == "-1.00 █████│·····"
    assert _bar(None).plain == "—"


def test_rich_table_lists_every_result() -> None:
    console = Console(file=io.StringIO(), width=160)
    assert render_table(_results(), console) == 3
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    assert "row 1: empty text" in printed and "joy" in printed and "fear" in printed


def test_parquet_needs_a_path() -> None:
    with pytest.raises(ValueError, match="--out"):
        write_results([], "parquet")


def test_parquet_keeps_labels_and_cues_as_lists(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from affectlens.result_schema import cue_struct_type

    path = tmp_path / "out.parquet"
    write_parquet(_results(), path)
    table = pq.read_table(path)
    assert table.schema.field("cues").type.value_type == cue_struct_type()
    happy = table.to_pylist()[1]
    assert happy["labels"] == ["joy"] and happy["cues"][0]["phrase"] == "happy"
    assert happy["cues"][0]["kind"] == "word" and happy["warnings"] == ""


def test_parquet_and_batch_shards_share_the_segment_columns(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from affectlens.batch.engine import JobSpec, output_schema

    path = tmp_path / "out.parquet"
    write_parquet(_results(), path)
    cli = pq.read_schema(path)
    labels = tuple(n[len("score_"):] for n in cli.names if n.startswith("score_"))
    shard = output_schema(JobSpec(tmp_path, (), (), {}, labels, (), None, 1, 1, True))
    shared = [n for n in cli.names if n in shard.names]
    assert len(shared) == len(cli.names) - 1  # all but warnings (the shard has error instead)
    assert all(cli.field(n).type == shard.field(n).type for n in shared)


def test_output_and_timeline_do_not_import_each_other() -> None:
    import ast
    import inspect

    from affectlens import label_colors, timeline

    for module in (timeline, label_colors):
        tree = ast.parse(inspect.getsource(module))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert "affectlens.output" not in imported, module.__name__


def test_parquet_columns_wait_for_the_first_result_with_a_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    from affectlens import output

    monkeypatch.setattr(output, "_PARQUET_GROUP_ROWS", 1)  # the empty first result is a row group alone
    path = tmp_path / "out.parquet"
    assert write_parquet(_results(), path) == 3
    table = pq.read_table(path)
    assert table.column("score_joy").to_pylist()[1] is not None
    empty = tmp_path / "empty.parquet"
    assert write_parquet([], empty) == 0
    assert pq.read_table(empty).num_rows == 0 and "cues" in pq.read_schema(empty).names


def _video(n: int, warnings: tuple[str, ...] = ()) -> tuple[EmotionResult, Callable[[], StreamedResult]]:
    """A multi-segment result and a factory of the same result streamed (a video written as it goes)."""
    segments = tuple(replace(s, start=float(i), track_id=1) for i, s in
                     enumerate(seg for r in DummyRecognizer().analyze(["happy", "sad"] * (n // 2)) for seg in r))
    whole = EmotionResult(segments, "clip.mp4", warnings, "v1")
    return whole, lambda: StreamedResult(iter(segments), "clip.mp4", warnings, "v1")


@pytest.mark.parametrize("warnings", [(), ("3 undecodable packet(s) skipped",)])
def test_a_streamed_video_writes_the_same_json_as_the_whole_result(warnings: tuple[str, ...]) -> None:
    whole, streamed = _video(6, warnings)
    for writer in (write_jsonl, write_json):
        as_whole, as_stream = io.StringIO(), io.StringIO()
        writer([_results()[0], whole], as_whole)
        writer([_results()[0], streamed()], as_stream)
        assert as_stream.getvalue() != as_whole.getvalue()  # the warnings come last in the streamed object
        if writer is write_json:
            assert json.loads(as_stream.getvalue()) == json.loads(as_whole.getvalue())
        else:
            assert [json.loads(x) for x in as_stream.getvalue().splitlines()] == \
                   [json.loads(x) for x in as_whole.getvalue().splitlines()]


def test_a_streamed_video_is_written_segment_by_segment() -> None:
    """Each segment is in the output before the next one is made: nothing is gathered."""
    buffer = io.StringIO()
    written_before: list[int] = []
    whole, _ = _video(6)

    def segments() -> Iterator[Segment]:
        for segment in whole.segments:
            written_before.append(buffer.getvalue().count('"modality"'))
            yield segment

    write_jsonl([StreamedResult(segments(), "clip.mp4")], buffer)
    assert written_before == [0, 1, 2, 3, 4, 5]


def test_a_streamed_video_in_csv_and_parquet_has_its_warnings_in_a_last_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow.parquet as pq

    from affectlens import output

    whole, streamed = _video(6, ("3 undecodable packet(s) skipped",))
    buffer = io.StringIO()
    assert write_csv([streamed()], buffer) == 7
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert [r["warnings"] for r in rows] == [""] * 6 + ["3 undecodable packet(s) skipped"]
    assert rows[-1]["record_id"] == "v1" and rows[-1]["score_joy"] == "" and rows[0]["score_joy"] != ""
    monkeypatch.setattr(output, "_PARQUET_GROUP_ROWS", 4)  # the stream is cut into row groups of 4
    path = tmp_path / "v.parquet"
    assert write_parquet([streamed()], path) == 7
    table = pq.read_table(path)
    assert table.column("start").to_pylist()[:6] == [s.start for s in whole.segments]
    assert table.column("warnings").to_pylist()[-1] == "3 undecodable packet(s) skipped"
    no_face = StreamedResult(iter(()), "dark.mp4", ("no face found in the sampled frames",), "v2")
    assert write_csv([no_face], io.StringIO()) == 1
