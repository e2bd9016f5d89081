"""Resume sees a change anywhere in an input, also past the first megabyte with size and mtime kept
(issue 21, item 10)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import affectlens
from affectlens.io.fingerprint import describe_change, file_fingerprint, hash_file

DUMMY = ["--model", "dummy.keywords.v1"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(affectlens.__file__).parents[1])}
    return subprocess.run([sys.executable, "-m", "affectlens.testing.cli", *args], capture_output=True, text=True,
                          env=env, timeout=180)


def _edit_keeping_size_and_mtime(path: Path, old: bytes, new: bytes) -> None:
    """Replace the LAST ``old`` by ``new`` (same length), then put the mtime back."""
    assert len(old) == len(new)
    info = path.stat()
    data = path.read_bytes()
    at = data.rindex(old)
    assert at > 1 << 20 or path.stat().st_size < 1 << 20
    path.write_bytes(data[:at] + new + data[at + len(old):])
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert path.stat().st_size == info.st_size and path.stat().st_mtime_ns == info.st_mtime_ns


def test_fingerprint_hashes_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"a" * (3 << 20))
    before = file_fingerprint(path)
    _edit_keeping_size_and_mtime(path, b"a", b"b")
    after = file_fingerprint(path)
    assert hash_file(path) == after["sha256"] != before["sha256"]
    assert describe_change(before, after) == "content, same size and modification time"
    assert describe_change(after, {**after, "mtime_ns": 1}) is None  # touched only: same content resumes


def test_batch_refuses_to_resume_an_input_changed_after_its_first_megabyte(tmp_path: Path) -> None:
    table = tmp_path / "big.csv"
    row = "I am so happy today " * 50  # ~1 KB per row: ~2.2 MB in all
    table.write_text("text\n" + "".join(f"{row}{i:05d}\n" for i in range(2200)))
    out = tmp_path / "out"
    first = _cli("batch", str(table), "--out", str(out), *DUMMY)
    assert first.returncode == 0, first.stderr
    _edit_keeping_size_and_mtime(table, b"happy today 02199", b"angry today 02199")
    again = _cli("batch", str(table), "--out", str(out), *DUMMY)
    assert again.returncode == 2, again.stderr  # was 0: the finished job was "resumed" with the old results
    assert "input file changed (content, same size and modification time)" in again.stderr
    assert str(table.resolve()) in again.stderr


def test_dialogue_resume_refuses_a_changed_dialogue_it_already_holds(tmp_path: Path) -> None:
    turns = tmp_path / "turns.csv"
    turns.write_text("dialogue_id,speaker,text\n" + "".join(
        f"d{d},{'AB'[t % 2]},I am so happy {d}{t}\n" for d in range(4) for t in range(2)))
    out = tmp_path / "out.jsonl"
    first = _cli("analyze", str(turns), "--dialogue", *DUMMY, "--out", str(out))
    assert first.returncode == 0, first.stderr
    lines = out.read_text().splitlines()
    assert json.loads(lines[-1])["record_id"] == "d3"
    out.write_text(lines[-1] + "\n")  # as if only the last dialogue had been written
    _edit_keeping_size_and_mtime(turns, b"happy 31", b"angry 31")
    again = _cli("analyze", str(turns), "--dialogue", *DUMMY, "--out", str(out), "--resume")
    assert again.returncode == 2, again.stderr
    assert "cannot resume: 1 dialogue(s) already in" in again.stderr and "'d3': its turns differ" in again.stderr
    assert len(out.read_text().splitlines()) == 1  # nothing appended
