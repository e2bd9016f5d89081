"""The ``taxonomy`` Typer app (mounted by the main CLI)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from affectlens.taxonomy import label_set_names
from affectlens.taxonomy.cli import app

runner = CliRunner()


def test_lists_sets_without_subcommand() -> None:
    result = runner.invoke(app, [], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in label_set_names():
        assert name in result.output
    assert "28" in result.output


def test_show() -> None:
    result = runner.invoke(app, ["show", "ekman"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "joy" in result.output and "+0.960" in result.output  # NRC VAD joy valence 0.980 -> 0.960
    assert "Mohammad" in result.output


def test_map_table() -> None:
    result = runner.invoke(app, ["map", "--from", "goemotions", "--to", "ekman"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "admiration" in result.output and "joy 1.00" in result.output
    assert "exact" in result.output


def test_map_marks_vad_rows() -> None:
    result = runner.invoke(app, ["map", "--from", "ravdess", "--to", "ekman"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    calm_line = next(line for line in result.output.splitlines() if "calm" in line)
    assert "vad" in calm_line and "neutral" in calm_line


def test_map_json() -> None:
    result = runner.invoke(app, ["map", "--from", "goemotions", "--to", "sentiment", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    rows = {row["label"]: row for row in data["rows"]}
    assert rows["grief"]["targets"] == [{"label": "negative", "weight": 1.0}]
    assert rows["grief"]["kind"] == "exact"


@pytest.mark.parametrize("args", [
    ["show", "nope"],
    ["map", "--from", "nope", "--to", "ekman"],
    ["map", "--from", "ekman", "--to", "nope"],
    ["map", "--from", "ekman", "--to", "meld", "--format", "xml"],
])
def test_errors_are_one_line_exit_2(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
