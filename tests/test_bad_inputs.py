"""A small subset of the bad-input corpus through the CLI, batch and the service (the whole corpus:
``benchmarks/fuzz_inputs.py``).  Every input gets a result, a warning or an error; never a traceback
or a 5xx."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import affectlens
from affectlens import cli
from affectlens.testing.bad_inputs import (
    BAD_TEXTS,
    DAMAGES,
    ORIGINALS,
    add_bad_links,
    final_answer,
    judge_cli,
    judge_http,
    make_bad_inputs,
)

DUMMY = ["--model", "dummy.keywords.v1"]
SUBSET = (".wav", ".png", ".csv", ".jsonl", ".parquet", ".txt", ".md")


def test_corpus_has_every_damage_of_every_format_it_can_make(tmp_path: Path) -> None:
    made = make_bad_inputs(tmp_path)
    by_suffix: dict[str, set[str]] = {}
    for item in made:
        assert item.path.is_file()
        by_suffix.setdefault(item.suffix, set()).add(item.damage)
    assert {".wav", ".flac", ".png", ".jpg", ".csv", ".tsv", ".jsonl", ".parquet", ".txt", ".srt", ".vtt",
            ".json"} <= set(by_suffix)
    assert set(by_suffix) <= set(ORIGINALS)
    assert all(set(DAMAGES) <= damages for damages in by_suffix.values())
    assert (tmp_path / "media" / "zero.wav").stat().st_size == 0


def test_judges_reject_tracebacks_internal_errors_and_5xx() -> None:
    assert judge_cli(1, "", "Traceback (most recent call last):\n ...").problem == "traceback"
    leaked = '{"warnings": ["text: m failed: TypeError: TextEncodeInput must be"], "segments": []}\n'
    assert judge_cli(0, leaked, "").problem == "internal error leaked: TypeError"
    assert judge_cli(0, "", "").problem == "exit 0 without any result"
    assert judge_cli(2, "", "error: file not found: x").problem is None
    assert judge_http(500, b'{"error": "boom"}').problem == "HTTP 500"
    assert judge_http(415, b'{"error": "not audio"}').problem is None


def test_judges_read_result_lists_alike() -> None:
    full, warned, bare = '{"segments": [1]}', '{"segments": [], "warnings": ["w"]}', '{"segments": []}'
    for lines, verdict in (([full, full], ("result", None)), ([full, warned], ("warning", None)),
                           ([full, bare], ("warning", "an empty result without a warning"))):
        cli = judge_cli(0, "\n".join(lines) + "\n", "")
        http = judge_http(200, ('{"results": [' + ", ".join(lines) + "]}").encode())
        assert (cli.answer, cli.problem) == (http.answer, http.problem) == verdict
    assert judge_cli(0, "not json\n", "").problem == "output is not JSON Lines"
    assert judge_http(200, b'{"results": []}').problem == "no result for the input"


@pytest.mark.parametrize(("name", "raw"), BAD_TEXTS, ids=[name for name, _ in BAD_TEXTS])
def test_cli_bad_texts(name: str, raw: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.run(["analyze", "--text", os.fsdecode(raw), "-f", "jsonl", *DUMMY])  # argv as Python decodes it
    out, err = capsys.readouterr()
    verdict = judge_cli(code, out, err)
    assert verdict.problem is None, (name, code, out, err)


def test_cli_and_batch_account_for_every_bad_file(tmp_path: Path) -> None:
    made = make_bad_inputs(tmp_path / "corpus", suffixes=SUBSET)
    add_bad_links(tmp_path / "corpus" / "documents")
    env = {**os.environ, "PYTHONPATH": str(Path(affectlens.__file__).parents[1])}
    documents = [m for m in made if m.group == "documents"]
    done = subprocess.run([sys.executable, "-m", "affectlens.testing.cli", "analyze",
                           str(tmp_path / "corpus" / "documents"),
                           "-f", "jsonl", *DUMMY], capture_output=True, text=True, env=env, timeout=120)
    assert judge_cli(done.returncode, done.stdout, done.stderr).problem is None, done.stderr
    ids = {json.loads(line)["record_id"] for line in done.stdout.splitlines()}
    assert ids == {m.path.name for m in documents}
    assert "broken-link.txt (broken link" in done.stderr and "loop (link loop" in done.stderr
    out = tmp_path / "batch"
    done = subprocess.run([sys.executable, "-m", "affectlens.testing.cli", "batch", str(tmp_path / "corpus" / "tables"),
                           "--out", str(out), *DUMMY], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode in (0, 3) and "Traceback" not in done.stderr, done.stderr
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    pq = pytest.importorskip("pyarrow.parquet")
    sources = set(pq.read_table(out / "shards").column("source").to_pylist()) | {e["file"] for e in errors}
    assert {m.path.name for m in made if m.group == "tables"} <= sources


def test_service_answers_every_bad_file_without_5xx(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from affectlens.service.app import create_app
    from affectlens.service.settings import ServiceSettings
    from affectlens.testing import DummyRecognizer

    made = make_bad_inputs(tmp_path / "corpus", suffixes=(".wav", ".png", ".csv", ".jsonl", ".parquet"))
    app = create_app(ServiceSettings(temp_dir=str(tmp_path), allowed_hosts="testserver"),
                     recognizers=[DummyRecognizer()])
    with TestClient(app, raise_server_exceptions=False) as client:
        for item in made:
            route = {".wav": "/v1/analyze/audio", ".png": "/v1/analyze/image"}.get(item.suffix, "/v1/jobs")
            response = final_answer(client, client.post(route, files={"file": (item.path.name,
                                                                             item.path.read_bytes())}))
            assert judge_http(response.status_code, response.content).problem is None, (item, response.text)
        texts = [raw.decode("utf-8", "surrogateescape") for _, raw in BAD_TEXTS]
        response = client.post("/v1/analyze/texts", content=json.dumps({"texts": texts}).encode(),
                               headers={"content-type": "application/json"})
        assert response.status_code == 200 and len(response.json()["results"]) == len(BAD_TEXTS)
