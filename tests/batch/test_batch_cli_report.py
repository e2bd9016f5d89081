"""``affectlens batch`` / ``affectlens report`` through the CLI, and the DuckDB report itself."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from batch_helpers import corpus_rows, read_output, write_rows

from affectlens.batch import build_report, run_batch
from affectlens.batch.report import ReportError
from affectlens.cli import run


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_cli_batch_then_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("duckdb")
    pytest.importorskip("matplotlib")
    corpus = write_rows(tmp_path / "in.csv", corpus_rows(40, bad_every=8))
    out = tmp_path / "out"
    argv = ["batch", str(corpus), "--out", str(out), "--model", "dummy.keywords.v1", "--id", "id",
            "--time", "day", "--group", "forum", "--unit-rows", "16", "--no-progress"]
    assert run(argv) == 0
    err = capsys.readouterr().err
    assert "40 rows -> 3 shards" in err and "5 inputs gave no result" in err
    assert run(argv) == 0  # rerun of a finished job: nothing to do
    assert "analysed 0 rows" in capsys.readouterr().err
    assert run([*argv[:-3], "--unit-rows", "8", "--no-progress"]) == 2
    assert "cannot resume" in capsys.readouterr().err and read_output(out).num_rows == 40
    assert run(["batch", str(corpus), "--out", str(tmp_path / "o2"), "--column", "body"]) == 2
    assert "column 'body' not found in in.csv" in capsys.readouterr().err

    assert run(["report", str(out), "--period", "week"]) == 0
    report = out / "report"
    names = {p.name for p in report.iterdir()}
    assert {"index.html", "prevalence.csv", "prevalence.png", "prevalence_by_week.csv", "prevalence_by_week.png",
            "prevalence_by_forum.csv", "prevalence_by_forum.png", "cue_words.csv", "shifts_by_forum.csv",
            "transitions_by_forum.csv", "transitions_by_forum.png"} <= names
    index = (report / "index.html").read_text()
    for name in names - {"index.html"}:
        assert f"'{name}'" in index, name


def test_report_numbers(tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    rows = [
        {"id": "1", "text": "so happy", "when": "2024-01-01T10:00:00", "who": "ann"},
        {"id": "2", "text": "so happy and glad", "when": "2024-01-02T10:00:00", "who": "ann"},
        {"id": "3", "text": "I hate this", "when": "2024-01-03T10:00:00", "who": "ann"},
        {"id": "4", "text": "scared", "when": "2024-01-01T09:00:00", "who": "bob"},
        {"id": "5", "text": "", "when": "2024-01-02T09:00:00", "who": "bob"},
        {"id": "6", "text": "happy", "when": "not a date", "who": "bob"},
    ]
    corpus = write_rows(tmp_path / "in.jsonl", rows)
    run_batch(corpus, tmp_path / "out", model="dummy.keywords.v1", id_column="id", time_column="when",
              group_columns=["who"], unit_rows=4)
    index = build_report(tmp_path / "out", tmp_path / "rep", periods=("day",), top_cues=2, plots=False)
    overall = {r["label"]: r for r in _csv(tmp_path / "rep" / "prevalence.csv")}
    assert overall["joy"]["rows"] == "5" and float(overall["joy"]["top_share"]) == pytest.approx(3 / 5)
    by_day = [r for r in _csv(tmp_path / "rep" / "prevalence_by_day.csv") if r["label"] == "joy"]
    assert [(r["day"][:10], r["rows"]) for r in by_day] == [("2024-01-01", "2"), ("2024-01-02", "1"),
                                                            ("2024-01-03", "1")]
    by_who = {(r["who"], r["label"]): float(r["top_share"]) for r in _csv(tmp_path / "rep" / "prevalence_by_who.csv")}
    assert by_who[("ann", "joy")] == pytest.approx(2 / 3) and by_who[("bob", "fear")] == pytest.approx(1 / 2)
    cues = _csv(tmp_path / "rep" / "cue_words.csv")
    assert cues[0]["label"] == "anger" and cues[0]["word"] == "hate"
    assert [c["word"] for c in cues if c["label"] == "joy"] == ["happy", "glad"]
    shifts = _csv(tmp_path / "rep" / "shifts_by_who.csv")
    # ann: joy, joy, anger -> one shift; bob in time order: fear (09:00), joy (bad time sorts last)
    assert [(s["who"], s["from_label"], s["to_label"]) for s in shifts] == [("ann", "joy", "anger"),
                                                                          ("bob", "fear", "joy")]
    html = index.read_text()
    assert "1 analysed rows have no readable time" in html.replace(",", "")
    assert not list((tmp_path / "rep").glob("*.png"))


def test_report_needs_a_batch_output(tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    with pytest.raises(ReportError, match="not a batch output"):
        build_report(tmp_path)
    assert run(["report", str(tmp_path)]) == 2


def test_batch_help_lists_the_options() -> None:
    from typer.testing import CliRunner

    from affectlens.cli import app

    result = CliRunner().invoke(app, ["batch", "--help"])
    assert result.exit_code == 0
    for option in ("--column", "--id", "--time", "--group", "--restart", "--engine", "--address"):
        assert option in result.output
