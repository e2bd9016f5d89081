"""One policy for empty text and text that is not valid UTF-8, through every surface (issue 21, item 7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import affectlens
from affectlens.inputs import InputError
from affectlens.io import EmptyInput
from affectlens.io.text_checks import EMPTY_TEXT, invalid_text, is_blank, text_problem

DUMMY = ["--model", "dummy.keywords.v1"]
BAD_ARGV = b"I am \xff happy"  # what a shell passes for $'I am \xff happy'


def test_definitions() -> None:
    assert is_blank("   \n\t") and is_blank("\u200b\u200c\u200d\ufeff") and is_blank("\x00\x00 ")
    assert not is_blank("a\u200b") and not is_blank("\ufffd")
    assert invalid_text("I am happy") is None
    assert invalid_text("I am \udcff happy") == "invalid UTF-8: byte 0xFF at byte offset 5"
    assert invalid_text("é \ud800") == "invalid text: lone surrogate U+D800 at byte offset 3"
    assert text_problem("\x00") == EMPTY_TEXT and text_problem("ok") is None


def _cli(*args: Any, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(affectlens.__file__).parents[1])}
    return subprocess.run([sys.executable, "-m", "affectlens.testing.cli", *args], input=stdin, capture_output=True,
                          env=env, timeout=120)


def test_cli_invalid_utf8_argument_is_one_clear_error() -> None:
    # with the shipped tokenizer this was "TypeError: TextEncodeInput must be Union[...]" and exit 0
    done = _cli("analyze", os.fsdecode(BAD_ARGV), "-f", "jsonl")
    assert done.returncode == 2, done.stderr
    assert b"invalid UTF-8: byte 0xFF at byte offset 5" in done.stderr and b"Traceback" not in done.stderr


def test_cli_stdin_invalid_utf8(tmp_path: Path) -> None:
    done = _cli("analyze", "-", "-f", "jsonl", *DUMMY, stdin=BAD_ARGV)
    assert done.returncode == 2 and b"invalid UTF-8: byte 0xFF at byte offset 5" in done.stderr, done.stderr


def test_cli_zero_width_text_is_empty_like_whitespace() -> None:
    for text in ("   ", "\u200b\u200b", "\x01"):
        done = _cli("analyze", "--text", text, *DUMMY)
        assert done.returncode == 2 and b"empty input: the text is empty" in done.stderr, (text, done.stderr)


def test_library_single_text_and_list() -> None:
    with pytest.raises(InputError, match="byte 0xFF at byte offset 5"):
        affectlens.analyze("I am \udcff happy", model="dummy.keywords.v1")
    with pytest.raises(EmptyInput):
        affectlens.analyze("\u200b\x00", model="dummy.keywords.v1")
    results = list(affectlens.analyze(["happy", "x \ud800", "\u200b", "  "], model="dummy.keywords.v1"))
    assert [r.warnings for r in results] == [
        (), ("item 2: invalid text: lone surrogate U+D800 at byte offset 2",), ("item 3: empty text",),
        ("item 4: empty text",)]


def test_table_rows_analyze_and_batch(tmp_path: Path) -> None:
    table = tmp_path / "rows.jsonl"
    table.write_text('{"text": "a \\udcff b"}\n{"text": "\\u200b\\u0000"}\n{"text": "happy"}\n')
    done = _cli("analyze", str(table), "-f", "jsonl", *DUMMY)
    assert done.returncode == 0, done.stderr
    warnings = [json.loads(line)["warnings"] for line in done.stdout.splitlines()]
    assert warnings == [["row 1: invalid UTF-8: byte 0xFF at byte offset 2"], ["row 2: empty text"], []]
    out = tmp_path / "out"
    batch = _cli("batch", str(table), "--out", str(out), *DUMMY)
    assert batch.returncode == 0, batch.stderr
    errors = [json.loads(line)["reason"] for line in (out / "errors.jsonl").read_text().splitlines()]
    assert any("invalid UTF-8: byte 0xFF at byte offset 2" in e for e in errors), errors
    assert any("empty text" in e for e in errors), errors


def test_service_single_text_is_422_and_list_elements_are_error_rows(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from affectlens.service.app import create_app
    from affectlens.service.settings import ServiceSettings
    from affectlens.testing import DummyRecognizer

    app = create_app(ServiceSettings(temp_dir=str(tmp_path), allowed_hosts="testserver"),
                     recognizers=[DummyRecognizer()])
    with TestClient(app) as client:
        one = client.post("/v1/analyze/text", content=b'{"text": "I am \\ud800 happy"}',
                          headers={"content-type": "application/json"})
        assert one.status_code == 422 and one.json()["error"].startswith("text: ")  # the JSON parser refuses it
        body = b'{"texts": ["happy", "I am \\udcff happy", "\\u200b", "\\u0000"]}'
        many = client.post("/v1/analyze/texts", content=body,
                           headers={"content-type": "application/json"})
        assert many.status_code == 200
        assert [r["warnings"] for r in many.json()["results"]] == [
            [], ["item 2: invalid UTF-8: byte 0xFF at byte offset 5"], ["item 3: empty text"], ["item 4: empty text"]]
