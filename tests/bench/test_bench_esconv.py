"""The ESConv support bench: metrics of the preference-bias figure and the peers' inputs (tiny data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from affectlens.bench.esconv import kl_to_human, points_of, score, to_markdown
from affectlens.bench.esconv_data import EsconvDialogue
from affectlens.dialogue.support_features import N_STRATEGIES, STRATEGIES


def test_kl_is_zero_for_the_human_mix_and_grows_with_preference() -> None:
    gold = np.repeat(np.arange(N_STRATEGIES), 5)
    assert kl_to_human(gold, gold[::-1].copy()) == pytest.approx(0.0, abs=1e-9)
    always_reassure = np.full(len(gold), STRATEGIES.index("Affirmation and Reassurance"))
    half = np.where(np.arange(len(gold)) % 2 == 0, gold, always_reassure)
    assert kl_to_human(gold, always_reassure) > kl_to_human(gold, half) > 0.0
    assert np.isfinite(kl_to_human(gold, always_reassure))


def test_score_counts_abstentions_as_wrong_and_reports_recall() -> None:
    gold = np.array([0, 0, 1, 2])
    predicted = np.array([0, -1, 1, 1])
    s = score(gold, predicted, bootstrap=50)
    assert s["accuracy"] == 0.5 and s["recall"]["Question"] == 0.5 and s["recall"]["Reflection of feelings"] == 0
    assert len(s["accuracy_ci95"]) == 2 and s["predicted_share"]["Restatement or Paraphrasing"] == 0.5


def test_points_read_only_what_came_before() -> None:
    d = EsconvDialogue("x", "sadness", "job", "", ("sys", "usr", "sys", "sys"), ("hi", "I'm sad", "oh", "why?"),
                       ("Others", None, "Reflection of feelings", "Question"))
    p = points_of([d])
    assert p.gold.tolist() == [7, 2, 0]
    assert p.seeker_text == ["", "I'm sad", "I'm sad"] and p.supporter_text == ["", "hi", "oh"]
    assert p.previous == [None, 7, 2]


def test_markdown_names_published_figures_as_not_remeasured() -> None:
    gold = np.array([0, 1, 2, 3])
    m = score(gold, gold, 0)
    report = {"split": "test", "points": 4, "dialogues": 1, "limited": None, "labels": list(STRATEGIES),
              "human_share": {s: 0.125 for s in STRATEGIES}, "systems": {"majority": m},
              "published": [{"system": "X", "accuracy": 0.3, "source": "paper", "note": "n"}],
              "machine": {}, "data": "d", "date": "today"}
    text = to_markdown(report)
    assert "not re-measured" in text and "| majority | 1.000" in text


def test_cli_missing_corpora_and_unconfigured_llm_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from affectlens.cli.bench import app

    runner = CliRunner()
    result = runner.invoke(app, ["esconv", "--data-root", str(tmp_path)])
    assert result.exit_code == 2 and "ESConv not found" in result.output
    result = runner.invoke(app, ["empathetic", "--data-root", str(tmp_path)])
    assert result.exit_code == 2 and "error:" in result.output
    for name in ("AFFECTLENS_LLM_URL", "AFFECTLENS_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AFFECTLENS_LLM_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.config/affectlens/llm.toml
    result = runner.invoke(app, ["esconv", "--data-root", str(tmp_path), "--llm", "some-model"])
    assert result.exit_code == 2 and "nothing was sent" in result.output
    listed = runner.invoke(app, ["list"]).output
    assert "esconv" in listed and "empathetic" in listed
