"""``affectlens bench <task> --model llm:<name>``: an LLM endpoint (a local fake) beside other models."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from affectlens.bench.runner import run_benchmark
from affectlens.bench.tasks import get_task
from affectlens.cli.bench import app
from affectlens.llm import config as llm_config
from affectlens.llm.testing import FakeChatServer

TEST_ROWS = [("so happy today", "17"), ("I hate this", "2"), ("so sad", "25"), ("wow!", "26"),
             ("meeting at 3", "27"), ("thank you so much", "15")]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "data" / "goemotions"
    folder.mkdir(parents=True)
    (folder / "test.tsv").write_text("".join(f"{t}\t{y}\tx{i}\n" for i, (t, y) in enumerate(TEST_ROWS)),
                                     encoding="utf-8")
    (folder / "train.tsv").write_text("".join(f"train example {i}\t{i % 28}\tt{i}\n" for i in range(30)),
                                      encoding="utf-8")
    return tmp_path / "data"


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, corpus: Path) -> Iterator[FakeChatServer]:
    for name in (llm_config.ENV_MODEL, llm_config.ENV_API_KEY, llm_config.ENV_CONFIG):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(llm_config, "DEFAULT_CONFIG_PATH", tmp_path / "absent.toml")
    monkeypatch.setenv("AFFECTLENS_DATA", str(corpus))  # where few-shot examples (train split) are read
    monkeypatch.setenv(llm_config.ENV_CACHE, str(tmp_path / "llm-cache"))
    with FakeChatServer() as fake:
        monkeypatch.setenv(llm_config.ENV_URL, fake.url)
        yield fake


def test_run_benchmark_in_process_with_prompt_variants(endpoint: FakeChatServer, corpus: Path) -> None:
    task = get_task("goemotions")
    report = run_benchmark(task, ["llm:fake", "llm:fake?prompt=emotionprompt"], data_root=corpus,
                           bootstrap=0, isolate=False)
    plain, stimulus = report.models
    assert plain.error is None and stimulus.error is None
    assert plain.model == "llm:fake" and stimulus.model == "llm:fake?prompt=emotionprompt"
    assert plain.metrics["macro_f1"] is not None and plain.metrics["ekman_macro_f1"] is not None
    assert plain.n_empty == 0 and plain.label_set == "goemotions"
    prompts = [r["messages"][-1]["content"] for r in endpoint.requests]
    assert sum("important to my career" in p for p in prompts) == len(TEST_ROWS)


def test_bench_cli_few_shot_in_a_subprocess(endpoint: FakeChatServer, corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["goemotions", "--model", "llm:fake?shots=3&seed=1", "--data-root", str(corpus), "--bootstrap", "0",
            "--out", str(out), "--batch-size", "4"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "goemotions-test.json").read_text(encoding="utf-8"))
    (run,) = report["models"]
    assert run["error"] is None and run["isolation"] == "subprocess"
    assert run["model"] == "llm:fake?seed=1&shots=3" and run["version"] == "fake?seed=1&shots=3"
    assert "llm:fake?seed=1&shots=3" in report["command"]
    assert len(endpoint.requests) == len(TEST_ROWS)
    prompt = endpoint.requests[0]["messages"][-1]["content"]
    assert "train example" in prompt and "Examples annotated by people" in prompt
    # a rerun is served from the cache: the endpoint is not asked again
    assert CliRunner().invoke(app, args).exit_code == 0
    assert len(endpoint.requests) == len(TEST_ROWS)


def test_bench_cli_reports_an_unconfigured_endpoint(endpoint: FakeChatServer, corpus: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(llm_config.ENV_URL)
    result = CliRunner().invoke(app, ["goemotions", "--model", "llm:fake", "--data-root", str(corpus),
                                      "--bootstrap", "0", "--out", str(tmp_path / "o"), "--in-process"])
    assert result.exit_code == 1
    report = json.loads((tmp_path / "o" / "goemotions-test.json").read_text(encoding="utf-8"))
    assert "AFFECTLENS_LLM_URL" in report["models"][0]["error"] and endpoint.requests == []
    bad = CliRunner().invoke(app, ["goemotions", "--model", "llm:fake?shots=lots", "--data-root", str(corpus)])
    assert bad.exit_code == 2 and "shots" in bad.output
