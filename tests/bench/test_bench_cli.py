"""The ``affectlens bench`` Typer app, driven directly with CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from affectlens.bench.datasets import data_root
from affectlens.cli.bench import app

runner = CliRunner()


def test_list_shows_the_tasks() -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    for name in ("goemotions", "goemotions-ekman", "emobank"):
        assert name in result.output


def test_missing_dataset_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["goemotions", "--model", "peer.vader.v1", "--data-root", str(tmp_path)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert str(tmp_path / "goemotions" / "test.tsv") in lines[0]
    assert "AFFECTLENS_DATA" in lines[0]
    assert "Traceback" not in result.output


def test_unknown_model_and_split_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["emobank", "--model", "text.nope.v9", "--data-root", str(tmp_path)])
    assert result.exit_code == 2 and "unknown model 'text.nope.v9'" in result.output
    result = runner.invoke(app, ["emobank", "--split", "validation", "--data-root", str(tmp_path)])
    assert result.exit_code == 2 and "splits" in result.output


needs_data = pytest.mark.skipif(not (data_root() / "goemotions" / "test.tsv").is_file(),
                                reason="GoEmotions not in the data folder")


@pytest.mark.data
@needs_data
def test_goemotions_vader_limit_200(tmp_path: Path) -> None:
    pytest.importorskip("vaderSentiment")
    result = runner.invoke(app, ["goemotions", "--model", "peer.vader.v1", "--limit", "200",
                                 "--bootstrap", "100", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "goemotions-test.json").read_text(encoding="utf-8"))
    assert report["n"] == 200 and report["limit"] == 200
    (vader,) = report["models"]
    assert vader["isolation"] == "subprocess" and vader["error"] is None
    assert vader["metrics"]["macro_f1"] is None  # sentiment cannot be read as 28 emotions
    assert 0.2 < vader["metrics"]["sentiment_macro_f1"] < 0.9
    assert vader["model_rss_mib"] is not None and vader["items_per_s"] > 0
    markdown = (tmp_path / "goemotions-test.md").read_text(encoding="utf-8")
    assert "LIMITED to the first 200" in markdown and "`peer.vader.v1`" in markdown
