"""A run in which nothing could be analysed is not a success (issue 21, item 8)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import affectlens

DUMMY = ["--model", "dummy.keywords.v1"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(affectlens.__file__).parents[1])}
    return subprocess.run([sys.executable, "-m", "affectlens.testing.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def _unreadable_folder(root: Path) -> Path:
    folder = root / "broken"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"\xff\xfe\x00 binary")
    (folder / "b.txt").write_bytes(b"caf\xe9 latin-1")
    (folder / "c.md").write_text("\u200b\u200b")
    return folder


def test_analyze_folder_of_unreadable_files_exits_3(tmp_path: Path) -> None:
    done = _cli("analyze", str(_unreadable_folder(tmp_path)), "-f", "jsonl", *DUMMY)
    assert done.returncode == 3, done.stderr
    assert "nothing could be analysed: all 3 files gave no result" in done.stderr
    assert len(done.stdout.splitlines()) == 3  # every input is still accounted for
    assert "Traceback" not in done.stderr


def test_analyze_folder_with_one_good_file_exits_0(tmp_path: Path) -> None:
    folder = _unreadable_folder(tmp_path)
    (folder / "d.txt").write_text("I am so happy")
    done = _cli("analyze", str(folder), "-f", "jsonl", *DUMMY)
    assert done.returncode == 0, done.stderr
    assert "3 of 4 files gave no result" in done.stderr


def test_batch_of_unreadable_files_exits_3(tmp_path: Path) -> None:
    done = _cli("batch", str(_unreadable_folder(tmp_path)), "--out", str(tmp_path / "out"), *DUMMY)
    assert done.returncode == 3, done.stderr
    assert "nothing could be analysed" in done.stderr
    assert len((tmp_path / "out" / "errors.jsonl").read_text().splitlines()) == 3


def test_a_reader_that_closes_the_pipe_early_stops_the_run_quietly(tmp_path: Path) -> None:
    """`affectlens analyze big.csv -f jsonl | head -1`: no error line (before: "error: BrokenPipeError ...")."""
    table = tmp_path / "many.csv"
    table.write_text("text\n" + "".join(f"I am so happy, number {n}\n" for n in range(20_000)))
    env = {**os.environ, "PYTHONPATH": str(Path(affectlens.__file__).parents[1])}
    with subprocess.Popen([sys.executable, "-m", "affectlens.testing.cli", "analyze", str(table), "-f", "jsonl",
                           *DUMMY], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as run:
        assert run.stdout is not None and run.stderr is not None
        assert run.stdout.readline().startswith(b"{")
        run.stdout.close()  # the reader goes away, as `head -1` does
        errors = run.stderr.read().decode()
        code = run.wait(timeout=120)
    assert "error" not in errors and "Traceback" not in errors, errors
    assert code in (0, 1)  # click ends a run whose stdout closed (EPIPE) with exit code 1, quietly
