"""The benchmarks that re-train our recipes join ``affectlens bench`` through an entry point."""

from typer.testing import CliRunner

from affectlens.cli import app


def test_recipe_benchmarks_are_bench_commands() -> None:
    listed = CliRunner().invoke(app, ["bench", "list"])
    assert listed.exit_code == 0, listed.output
    names = {line.split()[0] for line in listed.output.splitlines() if line.strip()}
    assert {"ravdess", "speech-xcorpus"} <= names


def test_a_recipe_benchmark_runs_through_affectlens_bench() -> None:
    bad = CliRunner().invoke(app, ["bench", "ravdess", "--folds", "9", "--peers-only"])
    assert bad.exit_code == 2
    assert "--folds takes numbers 0-5" in bad.output
