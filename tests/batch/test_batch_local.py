"""The local batch engine: outputs, manifest, bad input, resume rules (in-process, fast)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from batch_helpers import corpus_rows, read_output

from affectlens.batch import engine as batch_engine
from affectlens.batch import run_batch
from affectlens.batch.engine import BatchWarning
from affectlens.batch.manifest import OutputBusy, ResumeRefused, job_lock
from affectlens.inputs import InputError
from affectlens.io import MissingColumn

Writer = Callable[[str, list[dict[str, Any]]], Path]
DUMMY = "dummy.keywords.v1"
EKMAN = ["anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral"]


def _run(input_path: Path, out: Path, **kwargs: Any) -> Any:
    options: dict[str, Any] = {"model": DUMMY, "id_column": "id", "unit_rows": 7}
    options.update(kwargs)
    return run_batch(input_path, out, **options)


def test_csv_to_shards_with_passthrough_scores_and_errors(rows_writer: Writer, tmp_path: Path) -> None:
    rows = corpus_rows(30, bad_every=10)
    summary = _run(rows_writer("in.csv", rows), tmp_path / "out", time_column="day", group_columns=["forum"])
    table = read_output(tmp_path / "out")
    assert table.column("record_id").to_pylist() == [r["id"] for r in rows]
    assert table.column("row").to_pylist() == list(range(1, 31))
    assert table.column("day").to_pylist() == [r["day"] for r in rows]
    assert table.column("forum").to_pylist() == [r["forum"] for r in rows]
    for label in EKMAN:
        assert f"score_{label}" in table.column_names
    first = table.slice(0, 1).to_pylist()[0]
    assert first["top_label"] == "joy" and "joy" in first["labels"] and first["error"] is None
    assert first["cues"][0]["phrase"] in ("happy", "glad") and first["cues"][0]["label"] == "joy"
    assert first["recognizer"] == "dummy.keywords.v1@v1"
    assert -1 <= first["valence"] <= 1
    bad = table.filter(table.column("error").is_valid()).to_pylist()
    assert [b["record_id"] for b in bad] == ["r9", "r19", "r29"]
    assert all(b["score_joy"] is None and b["error"] == "missing value" for b in bad)
    errors = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert errors == [{"file": "in.csv", "row": n, "id": f"r{n - 1}", "reason": "missing value"} for n in (10, 20, 30)]
    assert summary.counts["input_rows"] == 30 and summary.counts["error_rows"] == 3
    assert summary.counts["analysed_rows"] == 27


def test_manifest_records_inputs_options_model_shards_and_timings(rows_writer: Writer, tmp_path: Path) -> None:
    _run(rows_writer("in.csv", corpus_rows(20)), tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    [entry] = manifest["identity"]["inputs"]
    assert entry["path"].endswith("in.csv") and entry["size"] > 0 and len(entry["sha256"]) == 64
    assert "mtime_ns" in entry
    assert manifest["identity"]["options"]["unit_rows"] == 7
    assert manifest["identity"]["model"] == [{"name": DUMMY, "version": "v1", "label_set": "ekman"}]
    assert [s["rows"] for s in manifest["shards"]] == [[1, 7], [8, 14], [15, 20]]
    assert all((tmp_path / "out" / s["path"]).is_file() for s in manifest["shards"])
    assert manifest["counts"]["output_rows"] == 20
    assert manifest["timings"]["runs"] == 1 and manifest["timings"]["wall_seconds"] >= 0


@pytest.mark.parametrize("suffix", [".tsv", ".jsonl", ".parquet"])
def test_every_table_format_gives_the_csv_result(rows_writer: Writer, tmp_path: Path, suffix: str) -> None:
    rows = corpus_rows(25, bad_every=6)
    _run(rows_writer("in.csv", rows), tmp_path / "csv")
    _run(rows_writer(f"in{suffix}", rows), tmp_path / "other")
    expected, got = read_output(tmp_path / "csv"), read_output(tmp_path / "other")
    assert got.drop_columns(["source"]).equals(expected.drop_columns(["source"]))


def test_folder_of_tables_with_a_corrupt_parquet_and_an_empty_csv(rows_writer: Writer, tmp_path: Path) -> None:
    rows_writer("corpus/a.csv", corpus_rows(10, "a"))
    rows_writer("corpus/b.parquet", corpus_rows(9, "b"))
    (tmp_path / "corpus" / "c.parquet").write_bytes(b"PAR1 this is not parquet")
    (tmp_path / "corpus" / "d.csv").write_text("")
    (tmp_path / "corpus" / "notes.txt").write_text("not a table")
    with pytest.warns(BatchWarning) as caught:
        summary = _run(tmp_path / "corpus", tmp_path / "out")
    messages = " | ".join(str(w.message) for w in caught)
    assert "c.parquet" in messages and "not a valid parquet file" in messages
    assert "d.csv" in messages and "notes.txt" in messages
    table = read_output(tmp_path / "out")
    assert sorted(table.column("record_id").to_pylist()) == sorted([f"a{i}" for i in range(10)] +
                                                                   [f"b{i}" for i in range(9)])
    errors = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert {e["file"] for e in errors} == {"c.parquet", "d.csv"}
    assert summary.counts["failed_sources"] == ["c.parquet", "d.csv"]


def test_a_damaged_parquet_row_group_is_recorded_and_the_rest_is_read(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "damaged.parquet"
    pq.write_table(pa.Table.from_pylist(corpus_rows(30)), path, row_group_size=10)
    group = pq.ParquetFile(path).metadata.row_group(1)
    data = bytearray(path.read_bytes())
    for c in range(group.num_columns):  # break the page headers of row group 1 (rows 11-20)
        offset = group.column(c).dictionary_page_offset or group.column(c).data_page_offset
        data[offset : offset + 12] = b"\xff" * 12
    path.write_bytes(bytes(data))
    with pytest.warns(BatchWarning, match=r"cannot read rows 11-14 of damaged.parquet \(row group 1\)"):
        summary = _run(path, tmp_path / "out")
    table = read_output(tmp_path / "out")
    assert table.column("record_id").to_pylist() == [f"r{i}" for i in range(10)] + [f"r{i}" for i in range(20, 30)]
    errors = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert [(e["row"], e["reason"][:29]) for e in errors] == [(11, "cannot read rows 11-14 of dam"),
                                                              (15, "cannot read rows 15-20 of dam")]
    assert summary.counts["analysed_rows"] == 20 and summary.counts["errors"] == 2


def test_missing_column_fails_before_any_work(rows_writer: Writer, tmp_path: Path) -> None:
    rows_writer("corpus/a.csv", corpus_rows(5))
    rows_writer("corpus/b.jsonl", [{"id": "x", "body": "no text column here"}])
    with pytest.raises(MissingColumn, match=r"column 'text' not found in b.jsonl"):
        _run(tmp_path / "corpus", tmp_path / "out", column="text")
    with pytest.raises(MissingColumn, match=r"column 'when' \(--time\) not found in a.csv"):
        _run(tmp_path / "corpus" / "a.csv", tmp_path / "out2", time_column="when")
    assert not list((tmp_path / "out").glob("shards/*.parquet"))


def test_mixed_types_nulls_and_bad_json_lines_are_row_errors(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"id": 1, "text": "so happy"}\n{"id": 2, "text": 42}\nnot json\n\n'
                    '{"id": 4, "text": null}\n{"id": 5}\n[1, 2]\n{"id": 7, "text": "   "}\n', encoding="utf-8")
    _run(path, tmp_path / "out")
    errors = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    reasons = {e["row"]: e["reason"] for e in errors}
    assert reasons == {2: "expected text, got int", 3: "not valid JSON", 4: "missing value", 5: "missing value",
                       6: "not a JSON object", 7: "empty text"}
    table = read_output(tmp_path / "out")
    assert table.num_rows == 7 and table.column("error").null_count == 1


def test_malformed_csv_rows_are_recorded(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text('id,text\n1,happy day\n2,"a, quoted\nnewline text"\n3,too,many,fields\n4,sad\n', encoding="utf-8")
    _run(path, tmp_path / "out")
    table = read_output(tmp_path / "out")
    assert table.column("record_id").to_pylist() == ["1", "2", "4"]
    [error] = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert error["file"] == "bad.csv" and "malformed row" in error["reason"] and "too,many" in error["reason"]


def test_folder_of_files_routes_by_file_type(tmp_path: Path) -> None:
    folder = tmp_path / "media"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("I am so happy")
    (folder / "sub" / "b.md").write_text("I hate this")
    (folder / "c.wav").write_bytes(b"RIFF....")
    (folder / ".hidden.txt").write_text("skip me")
    run_batch(folder, tmp_path / "out", model=DUMMY, unit_rows=2)
    table = read_output(tmp_path / "out")
    assert table.column("record_id").to_pylist() == ["a.txt", "c.wav", "sub/b.md"]
    assert table.column("top_label").to_pylist() == ["joy", None, "anger"]
    assert "cannot decode" in table.column("error").to_pylist()[1]  # .wav is speech input: a broken one is an error row


def test_tiny_onnx_model_gives_28_scores_and_label_mapping(rows_writer: Writer, tmp_path: Path,
                                                          tiny_text_model: Path) -> None:
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer

    path = rows_writer("in.csv", corpus_rows(12))
    model = TextOnnxRecognizer(tiny_text_model, name="text.tiny.v1")
    run_batch(path, tmp_path / "out", model=model, id_column="id", unit_rows=5, batch_size=4)
    table = read_output(tmp_path / "out")
    assert len([c for c in table.column_names if c.startswith("score_")]) == 28
    assert table.column("top_label").to_pylist()[0] == "joy"
    run_batch(path, tmp_path / "mapped", model=model, id_column="id", labels="sentiment")
    mapped = read_output(tmp_path / "mapped")
    assert [c for c in mapped.column_names if c.startswith("score_")] == [
        "score_positive", "score_negative", "score_neutral"]
    assert set(mapped.column("label_set").to_pylist()) == {"sentiment"}


def test_resume_after_a_crash_is_exactly_once(rows_writer: Writer, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = rows_writer("in.parquet", corpus_rows(50))
    real_commit = batch_engine.commit_shard
    calls = {"n": 0}

    def crash_on_fourth(out_dir: Path, table: Any, info: Any) -> Path:
        calls["n"] += 1
        if calls["n"] == 4:
            tmp = out_dir / "shards" / ".part-00000-0000003.parquet.999.tmp"
            tmp.write_bytes(b"half a shard")  # what a kill during the write leaves behind
            raise KeyboardInterrupt
        return real_commit(out_dir, table, info)

    monkeypatch.setattr(batch_engine, "commit_shard", crash_on_fourth)
    with pytest.raises(KeyboardInterrupt):
        _run(path, tmp_path / "out")
    assert len(list((tmp_path / "out" / "shards").glob("part-*.parquet"))) == 3
    monkeypatch.setattr(batch_engine, "commit_shard", real_commit)
    summary = _run(path, tmp_path / "out")
    assert summary.resumed_units == 3 and summary.rows_this_run == 50 - 21
    table = read_output(tmp_path / "out")
    assert table.column("record_id").to_pylist() == [f"r{i}" for i in range(50)]
    assert not list((tmp_path / "out" / "shards").glob(".*.tmp"))
    again = _run(path, tmp_path / "out")  # a finished job: nothing to do, same output
    assert again.rows_this_run == 0 and read_output(tmp_path / "out").equals(table)


def test_refuses_to_resume_a_different_job_and_restart_starts_over(rows_writer: Writer, tmp_path: Path) -> None:
    path = rows_writer("in.csv", corpus_rows(10))
    _run(path, tmp_path / "out")
    with pytest.raises(ResumeRefused, match=r"option unit_rows: was 7, now 5.*--restart"):
        _run(path, tmp_path / "out", unit_rows=5)
    rows_writer("in.csv", corpus_rows(11))
    with pytest.raises(ResumeRefused, match=r"input file changed \(size \d+ -> \d+ bytes, content\)"):
        _run(path, tmp_path / "out")
    summary = _run(path, tmp_path / "out", restart=True)
    assert summary.counts["input_rows"] == 11
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("user data")
    with pytest.raises(ResumeRefused, match="not empty and holds no batch manifest"):
        _run(path, tmp_path / "other")


def test_single_unreadable_input_is_an_error_and_busy_output_is_refused(tmp_path: Path, rows_writer: Writer) -> None:
    (tmp_path / "broken.parquet").write_bytes(b"nope")
    with pytest.raises(InputError, match=r"broken\.parquet: not a valid parquet file"):
        _run(tmp_path / "broken.parquet", tmp_path / "out")
    path = rows_writer("in.csv", corpus_rows(3))
    with job_lock(tmp_path / "busy"), pytest.raises(OutputBusy):
        _run(path, tmp_path / "busy")


def test_progress_callback_reaches_the_total(rows_writer: Writer, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _run(rows_writer("in.parquet", corpus_rows(20)), tmp_path / "out", progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (20, 20)
