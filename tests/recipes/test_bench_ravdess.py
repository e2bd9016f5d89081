"""``python -m affectlens_recipes.bench_cli ravdess`` on a tiny synthetic cache (no corpus needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("sklearn")

from affectlens_recipes.bench_ravdess import (
    Member,
    RavdessConfig,
    run_ravdess,
    shipped_members,
    summarise,
    to_markdown,
    write_report,
)
from affectlens_recipes.speech import LABELS, SPEEDS, object_array


def make_cache(folder: Path, files_per_class: int = 2) -> Path:
    """24 actors x 8 classes: each class raises its own band of a 64-band mel power spectrogram."""
    rng = np.random.default_rng(0)
    index, waves, mels = [], [], {s: [] for s in SPEEDS}
    for actor in range(1, 25):
        for label in range(len(LABELS)):
            for _ in range(files_per_class):
                index.append({"path": f"Actor_{actor:02d}/x.wav", "actor": actor, "label": label,
                              "emotion": LABELS[label], "intensity": "01"})
                waves.append((0.1 * rng.standard_normal(16000)).astype(np.float16))
                power = rng.exponential(1.0, (64, 120)).astype(np.float32)
                power[label * 8:(label + 1) * 8] *= 6.0
                power *= 1.0 + 0.2 * actor  # a speaker-dependent gain
                for s in SPEEDS:
                    mels[s].append(power)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.json").write_text(json.dumps(index))
    np.save(folder / "waves.npy", object_array(waves), allow_pickle=True)
    for s in SPEEDS:
        np.save(folder / f"mel_{s}.npy", object_array(mels[s]), allow_pickle=True)
    return folder


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_cache(tmp_path_factory.mktemp("ravdess-cache"))


def test_peers_learn_the_synthetic_classes_and_folds_resume(cache: Path, tmp_path: Path) -> None:
    config = RavdessConfig(members=(Member("tdnn", 1, 7),), folds=(0, 1), peers_only=True, egemaps=False)
    lines: list[str] = []
    report = run_ravdess(config, cache=cache, out=tmp_path, on_progress=lines.append)
    assert set(report.folds) == {"0", "1"}
    row = report.summary["logmel-logreg-speaker-norm"]
    assert row["n_folds"] == 2 and row["uar"]["mean"] > 0.9  # the class bands are easy to separate
    assert np.array(row["confusion"]).sum() == 2 * 4 * 8 * 2  # every test file of both folds counted
    again: list[str] = []
    run_ravdess(config, cache=cache, out=tmp_path, on_progress=again.append)
    assert sum("already done" in line for line in again) == 2
    json_path, md_path = write_report(report, tmp_path)
    assert json.loads(json_path.read_text())["summary"]["logmel-logreg"]["n_folds"] == 2
    text = md_path.read_text()
    assert "not run (--peers-only)" in text and "| system | UAR" in text


def test_our_recipe_runs_per_fold_with_noise_conditions(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    cache = make_cache(tmp_path / "cache", files_per_class=1)
    config = RavdessConfig(members=(Member("tdnn", 1, 7),), folds=(0,), snrs=(20.0,), threads=1, egemaps=False,
                           functional=True, functional_utterance=True, temperature=0.7)
    report = run_ravdess(config, cache=cache, out=tmp_path, on_progress=lambda _: None)
    systems = set(report.summary)
    assert {"ours-speaker", "ours-speaker_networks_only", "ours-utterance", "ours-utterance_networks_only",
            "ours-speaker_noise_20db", "ours-utterance_noise_20db", "logmel-logreg"} <= systems
    assert 0.0 <= report.summary["ours-speaker"]["uar"]["mean"] <= 1.0
    text = to_markdown(report)
    assert "confusion matrix summed over the folds" in text and "20 dB SNR white noise" in text
    assert "networks only" in text and "acoustic-functionals logistic regression" in text


def test_summarise_gives_mean_spread_and_per_fold_values() -> None:
    fold = {"uar": 0.5, "war": 0.5, "arousal_binary_accuracy": 0.8, "confusion": [[1, 0], [0, 1]]}
    other = {**fold, "uar": 0.7}
    summary = summarise({"0": {"test_actors": [1], "x": fold}, "1": {"test_actors": [5], "x": other}})
    assert summary["x"]["uar"]["mean"] == pytest.approx(0.6)
    assert summary["x"]["uar"]["per_fold"] == [0.5, 0.7]
    assert summary["x"]["confusion"] == [[2, 0], [0, 2]]


def test_shipped_members_come_from_the_model_config() -> None:
    members = shipped_members()
    assert members and all(m.arch in ("cnn", "tdnn") and m.epochs > 0 for m in members)


def test_cli_rejects_bad_folds_and_a_missing_corpus(tmp_path: Path) -> None:
    from affectlens_recipes.bench_cli import app

    runner = CliRunner()
    bad = runner.invoke(app, ["ravdess", "--folds", "7", "--peers-only"])
    assert bad.exit_code == 2 and "0-5" in bad.output
    missing = runner.invoke(app, ["ravdess", "--peers-only", "--data-root", str(tmp_path)])
    assert missing.exit_code == 2 and "RAVDESS not found" in missing.output
