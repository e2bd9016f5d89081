"""The local engine's worker processes: same shards as one process, resumable, layout shared out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from batch_helpers import MIXED_CORPUS_OPTIONS, corpus_rows, mixed_corpus, read_output, write_rows

from affectlens.batch import processes, run_batch
from affectlens.runtime_threads import SPINNING_ENV, THREADS_ENV


def test_worker_environment_shares_the_cpus_out() -> None:
    assert processes.worker_environment(2, cpus=2, environ={}) == {THREADS_ENV: "1"}
    assert processes.worker_environment(2, cpus=8, environ={}) == {THREADS_ENV: "4"}
    assert processes.worker_environment(3, cpus=2, environ={}) == {THREADS_ENV: "1"}
    assert processes.worker_environment(1, cpus=2, environ={}) == {THREADS_ENV: "2"}


def test_worker_environment_keeps_what_the_user_set() -> None:
    env = {THREADS_ENV: "2", SPINNING_ENV: "on"}
    assert processes.worker_environment(2, cpus=2, environ=env) == env
    assert processes.worker_environment(2, cpus=2, environ={THREADS_ENV: "auto", SPINNING_ENV: "auto"}) == \
        {THREADS_ENV: "1", SPINNING_ENV: "auto"}


def test_auto_workers_only_for_large_jobs_on_several_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    class Spec:
        sources = ("a", "b")

    monkeypatch.setattr(processes, "estimate_rows", lambda source: 15_000)
    assert processes.auto_workers(Spec(), cpus=2) == 2  # type: ignore[arg-type]
    assert processes.auto_workers(Spec(), cpus=1) == 1  # type: ignore[arg-type]
    monkeypatch.setattr(processes, "estimate_rows", lambda source: 5_000)
    assert processes.auto_workers(Spec(), cpus=4) == 1  # type: ignore[arg-type]


# two spawned workers each import affectlens and load the tiny model: ~5-10 s on 2 loaded cores
def test_worker_processes_match_one_process_and_resume(tmp_path: Path, tiny_text_model: Path) -> None:
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer

    corpus = mixed_corpus(tmp_path)
    options = MIXED_CORPUS_OPTIONS

    def model() -> TextOnnxRecognizer:
        return TextOnnxRecognizer(tiny_text_model, name="text.tiny.v1")

    with pytest.warns(UserWarning, match="c.parquet"):
        single = run_batch(corpus, tmp_path / "one", model=model(), workers=1, **options)
    with pytest.warns(UserWarning, match="c.parquet"):
        parallel = run_batch(corpus, tmp_path / "two", model=model(), workers=2, **options)
    assert single.manifest["runs"][-1]["workers"] == 1 and parallel.manifest["runs"][-1]["workers"] == 2
    assert parallel.rows_this_run == single.rows_this_run == 160
    one, two = read_output(tmp_path / "one"), read_output(tmp_path / "two")
    assert two.num_rows == 160 and two.equals(one)
    shards = sorted((tmp_path / "two" / "shards").glob("part-*.parquet"))
    assert [p.name for p in shards] == [p.name for p in sorted((tmp_path / "one" / "shards").glob("part-*.parquet"))]
    assert (tmp_path / "two" / "errors.jsonl").read_text() == (tmp_path / "one" / "errors.jsonl").read_text()
    shards[1].unlink()
    shards[4].unlink()  # units: a.csv 32+32+26 rows, b.parquet 32+32+6, c.parquet (broken) 0
    again = run_batch(corpus, tmp_path / "two", model=model(), workers=2, **options)
    assert again.rows_this_run == 32 + 32 and again.resumed_units == 5
    assert read_output(tmp_path / "two").equals(one)


def test_a_model_that_cannot_be_pickled_runs_in_process_unless_workers_are_asked(tmp_path: Path) -> None:
    from affectlens.testing import DummyRecognizer

    class Unpicklable(DummyRecognizer):
        def __reduce__(self) -> object:
            raise TypeError("not today")

    table = write_rows(tmp_path / "t.csv", corpus_rows(10, "t"))
    summary = run_batch(table, tmp_path / "out", model=Unpicklable(), column="text")
    assert summary.manifest["runs"][-1]["workers"] == 1 and summary.rows_this_run == 10
    with pytest.raises(ValueError, match="picklable"):
        run_batch(table, tmp_path / "out2", model=Unpicklable(), column="text", workers=2)
    assert not (tmp_path / "out2" / "manifest.json").exists()


def test_cli_workers_option_reaches_the_local_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from affectlens.batch.local import run_units_local
    from affectlens.cli import run
    from affectlens.processing import RecognizerPool

    seen: dict[str, object] = {}

    def in_process(spec: Any, model: Any, *, workers: int, progress: Any) -> tuple[int, int]:
        seen["workers"] = workers  # then the work itself, here: the choice is what is tested
        return run_units_local(spec, RecognizerPool(model), progress=progress)

    monkeypatch.setattr(processes, "run_units_processes", in_process)
    table = write_rows(tmp_path / "t.csv", corpus_rows(10, "t"))
    code = run(["batch", str(table), "--column", "text", "--out", str(tmp_path / "out"), "--workers", "3",
                "--no-progress"])
    assert code == 0 and seen == {"workers": 3}
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["runs"][-1]["workers"] == 3


def test_a_worker_builds_its_model_with_the_layout_it_was_given(tmp_path: Path, tiny_text_model: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle
    from types import SimpleNamespace

    from affectlens.recognizers.text_onnx import TextOnnxRecognizer
    from affectlens.types import Modality

    for name in (THREADS_ENV, SPINNING_ENV):  # restored afterwards: the worker writes os.environ
        monkeypatch.setenv(name, "auto")
    monkeypatch.setattr(processes, "_worker_pool", None)  # the worker's globals, reset afterwards
    monkeypatch.setattr(processes, "_worker_spec", None)
    spec = SimpleNamespace(sources=[SimpleNamespace(kind="csv")])
    model = pickle.dumps(TextOnnxRecognizer(tiny_text_model, name="text.tiny.v1"))
    processes._init_worker(spec, model, {THREADS_ENV: "1"})  # type: ignore[arg-type]
    recognizer = processes._worker_pool.get(Modality.TEXT)
    recognizer.load()  # a given recognizer loads on first use, still under the worker's layout
    session = recognizer._session
    assert session.get_session_options().intra_op_num_threads == 1
    assert session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "0"
