"""Kill a real ``affectlens batch`` process with SIGKILL at random (seeded) moments, rerun, and
check that the final output holds every input row exactly once.

The child is the real CLI (``affectlens.cli.run``) with a keyword recognizer slowed to
~0.3 ms per text, so that a run lasts a few seconds and the kills land while shards are
being written.  Each kill is followed by an invariant check (only whole shards in place,
none twice); the last rerun must finish and give exactly the input ids.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_helpers import corpus_rows, read_output, write_rows

DRIVER = """
import sys, time
from affectlens import registry
from affectlens.testing import DummyRecognizer
from affectlens.types import Modality

class SlowDummy(DummyRecognizer):
    name = "dummy.slow.v1"

    def analyze(self, batch):
        time.sleep(0.0003 * len(batch))
        return super().analyze(batch)

registry.available()
registry.register(registry.RecognizerSpec("dummy.slow.v1", Modality.TEXT, "ekman", "__main__:SlowDummy"))
from affectlens.cli import run
sys.exit(run(sys.argv[1:]))
"""


def _corpus(folder: Path) -> list[str]:
    folder.mkdir()
    parts = {"a.csv": corpus_rows(2300, "a", bad_every=97), "b.jsonl": corpus_rows(1700, "b"),
             "c.parquet": corpus_rows(2500, "c", bad_every=50)}
    for name, rows in parts.items():
        write_rows(folder / name, rows)
    return [r["id"] for rows in parts.values() for r in rows]


def _command(corpus: Path, out: Path) -> list[str]:
    return [sys.executable, "-c", DRIVER, "batch", str(corpus), "--out", str(out), "--model", "dummy.slow.v1",
            "--id", "id", "--time", "day", "--group", "forum", "--unit-rows", "250", "--batch-size", "100",
            "--no-progress"]


def _check_no_partial_shards(out: Path) -> int:
    """Only whole shards are in place (each readable, its footer says which unit it is)."""
    import pyarrow.parquet as pq

    shards = sorted((out / "shards").glob("part-*.parquet")) if (out / "shards").is_dir() else []
    for shard in shards:
        info = json.loads(pq.read_schema(shard).metadata[b"affectlens.unit"])
        assert shard.name == f"part-{info['source_index']:05d}-{info['unit_index']:07d}.parquet"
        assert pq.read_metadata(shard).num_rows == info["output_rows"]
    return len(shards)


def _kill_and_resume(tmp_path: Path, seed: int, kills: int) -> None:
    corpus = tmp_path / "corpus"
    ids = _corpus(corpus)
    out = tmp_path / "out"
    rng = random.Random(seed)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    states: list[int] = []
    for _ in range(kills):
        proc = subprocess.Popen(_command(corpus, out), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # start-up (imports) takes from under a second to many on a loaded machine: wait for the run to
        # write its first shard beyond what earlier runs left, then kill at a random point after it
        before = len(list((out / "shards").glob("part-*.parquet"))) if (out / "shards").is_dir() else 0
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if (out / "shards").is_dir() and len(list((out / "shards").glob("part-*.parquet"))) > before:
                break
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.5))
        proc.send_signal(signal.SIGKILL)
        _, stderr = proc.communicate(timeout=30)
        if proc.returncode == 0:  # finished before the kill: start over so that the next kill lands mid-run
            states.append(-1)
            shutil.rmtree(out)
            continue
        assert proc.returncode == -signal.SIGKILL, stderr.decode()
        states.append(_check_no_partial_shards(out))
    print(f"seed {seed}: shards in place after each kill (of {10 + 7 + 10}; -1 = run had finished): {states}")
    done = subprocess.run(_command(corpus, out), env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    total_units = 10 + 7 + 10
    assert any(0 < n < total_units for n in states), f"no kill landed mid-run: {states}"
    table = read_output(out)
    got = table.column("record_id").to_pylist()
    assert len(got) == len(ids) and sorted(got) == sorted(ids), "every input row exactly once"
    assert _check_no_partial_shards(out) == total_units
    assert not [p for p in (out / "shards").iterdir() if p.name.endswith(".tmp")]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["counts"]["input_rows"] == len(ids)
    errors = (out / "errors.jsonl").read_text().splitlines()
    assert len(errors) == 2300 // 97 + 2500 // 50 == table.column("error").drop_null().__len__()


def test_sigkill_at_random_points_then_resume_gives_every_row_once(tmp_path: Path) -> None:
    _kill_and_resume(tmp_path, seed=8, kills=3)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_many_times(tmp_path: Path, seed: int) -> None:
    _kill_and_resume(tmp_path, seed=seed, kills=6)
