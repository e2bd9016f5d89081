"""The ``taxonomy`` Typer app (mounted by the main CLI)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from affectlens.cli.taxonomy import app
from affectlens.taxonomy import label_set_names

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


def test_map_shows_row_kinds_and_sources() -> None:
    result = runner.invoke(app, ["map", "--from", "goemotions", "--to", "plutchik"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()

    def line_of(label: str) -> str:
        return next(line for line in lines if line.startswith(f"│ {label} "))

    assert "dyad" in line_of("love") and "joy 0.50, trust 0.50" in line_of("love")
    assert "intensity" in line_of("admiration") and "trust 1.00" in line_of("admiration")
    assert "approximation" in line_of("realization")
    assert "none" in line_of("neutral") and "(none of these)" in line_of("neutral")
    assert "[plutchik]" in line_of("love")  # the source key, not swallowed as Rich markup
    assert "rows: 6 exact, 4 intensity, 7 dyad, 10 approximation, 1 none" in result.output
    assert any(line.startswith("[plutchik] Plutchik 1980") for line in lines)
    bare = runner.invoke(app, ["map", "--from", "goemotions", "--to", "plutchik", "--no-sources"],
                         env={"COLUMNS": "250"})
    assert bare.exit_code == 0 and "[plutchik]" not in bare.output


def test_map_json() -> None:
    result = runner.invoke(app, ["map", "--from", "goemotions", "--to", "sentiment", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    rows = {row["label"]: row for row in data["rows"]}
    assert rows["grief"]["targets"] == [{"label": "negative", "weight": 1.0}]
    assert rows["grief"]["kind"] == "exact"
    assert rows["surprise"]["kind"] == "approximation"  # the paper's 'ambiguous', folded into neutral
    assert rows["grief"]["source"] == "[goemotions_sentiment]" and "goemotions_sentiment" in data["references"]


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
