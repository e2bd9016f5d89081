"""One symlink policy for every folder walk: links followed, loops cut, nothing skipped silently (issue 21, item 6)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import affectlens
from affectlens.io.walk import list_files

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges on Windows")

DUMMY = ["--model", "dummy.keywords.v1"]


def _corpus(tmp_path: Path) -> Path:
    outside = tmp_path / "elsewhere"
    (outside / "more").mkdir(parents=True)
    (outside / "linked.txt").write_text("I am so happy")
    (outside / "more" / "deep.txt").write_text("I hate this")
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("so happy today")
    (root / ".hidden.txt").write_text("not an input")
    (root / "file_link.txt").symlink_to(outside / "linked.txt")
    (root / "folder_link").symlink_to(outside / "more", target_is_directory=True)
    (root / "broken.txt").symlink_to(tmp_path / "nowhere.txt")
    (root / "sub" / "up").symlink_to(root, target_is_directory=True)  # a loop
    (root / "sub" / "b.txt").write_text("what a surprise")
    return root


EXPECTED = ["a.txt", "file_link.txt", "folder_link/deep.txt", "sub/b.txt"]


def test_list_files_follows_links_and_reports_what_it_skips(tmp_path: Path) -> None:
    root = _corpus(tmp_path)
    listing = list_files(root)
    assert [p.relative_to(root).as_posix() for p in listing.files] == EXPECTED
    reasons = {s.relative: s.reason for s in listing.skipped}
    assert set(reasons) == {"broken.txt", "sub/up"}
    assert reasons["broken.txt"].startswith("broken link to ") and reasons["sub/up"].startswith("link loop")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(affectlens.__file__).parents[1])}
    return subprocess.run([sys.executable, "-m", "affectlens.testing.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_cli_analyze_folder_follows_linked_folders_and_warns(tmp_path: Path) -> None:
    root = _corpus(tmp_path)
    done = _cli("analyze", str(root), "-f", "jsonl", *DUMMY)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["record_id"] for line in done.stdout.splitlines()] == EXPECTED
    assert "broken.txt (broken link to" in done.stderr and "sub/up (link loop" in done.stderr


def test_batch_folder_follows_linked_folders_and_warns(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    root = _corpus(tmp_path)
    out = tmp_path / "out"
    done = _cli("batch", str(root), "--out", str(out), *DUMMY)
    assert done.returncode == 0, done.stderr
    table = pq.read_table(out / "shards")
    assert sorted(table.column("record_id").to_pylist()) == EXPECTED
    assert "broken.txt (broken link to" in done.stderr and "sub/up (link loop" in done.stderr


def test_service_never_reads_a_path_a_client_names(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from affectlens.service.app import create_app
    from affectlens.service.settings import ServiceSettings
    from affectlens.testing import DummyRecognizer

    secret = tmp_path / "secret.txt"
    secret.write_text("I am so happy: private")
    app = create_app(ServiceSettings(temp_dir=str(tmp_path / "up"), allowed_hosts="testserver"),
                     recognizers=[DummyRecognizer()])
    with TestClient(app) as client:
        for url, body in (("/v1/analyze/text", {"text": str(secret)}),
                          ("/v1/analyze/texts", {"texts": [str(secret), str(tmp_path)]})):
            response = client.post(url, json=body)
            assert response.status_code == 200
            assert "private" not in response.text  # a path is text to analyse, never a file to open
    paths = [route.path for route in app.routes]  # type: ignore[attr-defined]
    assert all("{" not in p or p.endswith("{job_id}") or "{job_id}/" in p for p in paths), paths
