"""``python -m affectlens_recipes.bench_cli speech-xcorpus``: its table, the shipped sample, bad options."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from affectlens_recipes.bench_cli import app
from affectlens_recipes.bench_speech_xcorpus import SHIPPED_SAMPLE, XcorpusReport, shipped_sample, to_markdown
from affectlens_recipes.speech_corpora import Clip


def test_table_has_one_row_per_system_and_mode_with_dashes_for_missing_cells() -> None:
    scores = {"uar": 0.5, "arousal_uar": 0.7, "classes": ["happy", "sad"]}
    report = XcorpusReport(
        loco={"whisper-tiny/utterance": {c: dict(scores) for c in ("ravdess", "ased", "emovo", "urdu")},
              "shipped-ravdess-cnn/utterance": {"ased": {"uar": 0.4, "classes": ["happy"]}}},
        in_corpus={"whisper-tiny/utterance": {"ravdess": {"uar_mean": 0.61}}})
    table = to_markdown(report)
    rows = [line for line in table.splitlines() if line.startswith("| whisper") or line.startswith("| shipped")]
    assert rows[0].startswith("| whisper-tiny/utterance | 0.500 | 0.500 | 0.500 | 0.500 | 0.610 | — |")
    assert rows[1].startswith("| shipped-ravdess-cnn/utterance | — | 0.400 |")
    assert "chance 0.50" in table


def test_shipped_sample_is_fixed_and_keeps_index_order() -> None:
    clips = [Clip("ased", Path(f"{i}.opus"), f"ased:{i}", "s", "happy", 1) for i in range(SHIPPED_SAMPLE + 50)]
    sample = shipped_sample(clips)
    assert len(sample) == SHIPPED_SAMPLE
    assert sample == shipped_sample(list(reversed(clips)))[::-1]
    assert [c.key for c in sample] == [c.key for c in clips if c in sample]


def test_unknown_system_is_a_clear_error() -> None:
    result = CliRunner().invoke(app, ["speech-xcorpus", "--system", "nope"])
    assert result.exit_code != 0
    assert "unknown system" in result.output


def test_whisper_systems_come_before_the_peers() -> None:
    scores = {"uar": 0.5, "classes": ["happy", "sad"]}
    report = XcorpusReport(loco={key: {"ased": dict(scores)} for key in
                                 ("egemaps/global", "logmel/global", "whisper-base/global", "whisper-tiny/global")})
    table = to_markdown(report).splitlines()
    rows = [line.split(" | ")[0] for line in table if line.startswith("| ") and "/global" in line]
    assert rows == ["| whisper-base/global", "| whisper-tiny/global", "| egemaps/global", "| logmel/global"]


def test_unknown_mode_is_a_clear_error() -> None:
    result = CliRunner().invoke(app, ["speech-xcorpus", "--system", "logmel", "--mode", "nope"])
    assert result.exit_code != 0
    assert "unknown mode" in result.output


def test_augmented_rows_a_system_trains_on() -> None:
    from affectlens_recipes.bench_speech_xcorpus import is_copy_of

    assert is_copy_of("base@3+4-noisy", "base@3+4")
    assert not is_copy_of("base@3+4-window-noisy", "base@3+4")  # rows from packed windows are other features
    assert is_copy_of("base@3+4-window-noisy", "base@3+4-window")
    # rows pooled inside windows may train with the same clips encoded alone, and their copies
    assert is_copy_of("base@3+4", "base@3+4-window") and is_copy_of("base@3+4-noisy", "base@3+4-window")
    assert not is_copy_of("base@3+4", "base@3+4") and not is_copy_of("base@2+3", "base@3+4-window")
