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
