from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from affectlens import cli
from affectlens.types import Modality

DUMMY = ["--model", "dummy.keywords.v1"]
HEAVY = ("onnxruntime", "torch", "cv2", "pandas", "pyarrow", "transformers")
ROWS = [{"rid": "a", "body": "I am so happy"}, {"rid": "b", "body": ""}, {"rid": "c", "body": "so scared"}]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60)


# -- light imports ------------------------------------------------------------------------------


def test_import_affectlens_is_light() -> None:
    proc = _python(
        "import sys, affectlens; print(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{HEAVY!r})); print(affectlens.__version__)"
    )
    assert proc.returncode == 0, proc.stderr
    heavy, version = proc.stdout.splitlines()
    assert heavy == "[]" and version


def test_help_is_light() -> None:
    proc = _python(
        "import sys\nfrom affectlens.cli import run\nrc = run(['--help'])\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}), rc)"
    )
    assert proc.returncode == 0, proc.stderr
    assert "analyze" in proc.stdout and "taxonomy" in proc.stdout
    assert proc.stdout.strip().endswith("[] 0")


def test_public_api_names() -> None:
    import affectlens

    assert set(affectlens.__all__) == {"analyze", "analyze_stream", "EmotionResult", "load_recognizer", "__version__"}
    assert callable(affectlens.analyze) and callable(affectlens.load_recognizer) and callable(affectlens.analyze_stream)


# -- errors: one line on stderr, exit code 2, never a traceback -----------------------------------


def _error_cases(tmp_path: Path, table: Path) -> dict[str, list[str]]:
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02\xff")
    (tmp_path / "clip.xyz").write_text("data")
    cases = {
        "missing file": ["analyze", str(tmp_path / "nope.csv")],
        "missing file with slash": ["analyze", "some/dir/notes"],
        "empty file": ["analyze", str(tmp_path / "empty.txt")],
        "unreadable file": ["analyze", str(tmp_path / "binary.txt")],
        "unsupported type": ["analyze", str(tmp_path / "clip.xyz")],
        "unknown label set": ["analyze", "happy", "--labels", "nope", *DUMMY],
        "unknown model": ["analyze", "happy", "--model", "text.nope.v9"],
        "missing column": ["analyze", str(table), "--column", "nope", *DUMMY],
        "missing id column": ["analyze", str(table), "--column", "body", "--id", "nope", *DUMMY],
        "empty folder": ["analyze", str(tmp_path / "emptydir")],
        "parquet to stdout": ["analyze", "happy", "--format", "parquet", *DUMMY],
        "bad format": ["analyze", "happy", "--format", "xml"],
        "missing argument": ["analyze"],
        "unknown option": ["analyze", "x", "--bogus"],
        "bad batch size": ["analyze", "x", "--batch-size", "0"],
        "output folder missing": ["analyze", "happy", "--out", str(tmp_path / "no" / "out.json"), *DUMMY],
    }
    assert sorted(cases) == sorted(ERROR_CASES)
    return cases


ERROR_CASES = [
    "missing file",
    "missing file with slash",
    "empty file",
    "unreadable file",
    "unsupported type",
    "unknown label set",
    "unknown model",
    "missing column",
    "missing id column",
    "empty folder",
    "parquet to stdout",
    "bad format",
    "missing argument",
    "unknown option",
    "bad batch size",
    "output folder missing",
]


@pytest.mark.parametrize("case", ERROR_CASES)
def test_errors_are_one_line_with_exit_code_2(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], table_writer: Any
) -> None:
    (tmp_path / "emptydir").mkdir()
    table = table_writer("t.csv", ROWS)
    code, out, err = _run(capsys, *_error_cases(tmp_path, table)[case])
    lines = [line for line in err.splitlines() if not line.startswith("warning:")]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err + out


def test_error_messages_say_what_is_wrong(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "file not found" in _run(capsys, "analyze", str(tmp_path / "x.csv"))[2]
    assert "unknown label set 'nope'" in _run(capsys, "analyze", "hi", "--labels", "nope", *DUMMY)[2]
    assert "unknown model 'text.nope.v9'" in _run(capsys, "analyze", "hi", "--model", "text.nope.v9")[2]


def test_real_process_error_has_no_traceback(tmp_path: Path) -> None:
    proc = _python("from affectlens.cli import main; main()", "analyze", str(tmp_path / "missing.jsonl"))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and proc.stderr.startswith("error: file not found")


# -- analyze ------------------------------------------------------------------------------------


def test_text_as_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "analyze", "I am happy and/or glad", *DUMMY)
    assert code == 0 and "joy" in out and "happy" in out


def test_text_flag_forces_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "analyze", "--text", "happy.csv", "-f", "json", *DUMMY)
    assert code == 0
    assert json.loads(out)["results"][0]["segments"][0]["text"] == "happy.csv"


def test_json_document(capsys: pytest.CaptureFixture[str], table_writer: Any) -> None:
    table = table_writer("t.jsonl", ROWS)
    code, out, err = _run(capsys, "analyze", str(table), "-c", "body", "--id", "rid", "-f", "json", *DUMMY)
    assert code == 0
    data = json.loads(out)
    assert data["schema_version"] == "1.0"
    assert [r["record_id"] for r in data["results"]] == ["a", "b", "c"]
    assert data["results"][1]["segments"] == [] and data["results"][1]["warnings"]
    assert "warning: 1 of 3 rows gave no result (row 2 (id 'b'): empty text)" in err


def test_jsonl_lines(capsys: pytest.CaptureFixture[str], table_writer: Any) -> None:
    table = table_writer("t.csv", ROWS)
    code, out, _ = _run(capsys, "analyze", str(table), "-c", "body", "--id", "rid", "-f", "jsonl", *DUMMY)
    assert code == 0
    assert [json.loads(line)["record_id"] for line in out.splitlines()] == ["a", "b", "c"]


def test_csv_and_parquet_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], table_writer: Any) -> None:
    import pandas as pd

    table = table_writer("t.parquet", ROWS)
    for suffix in ("csv", "parquet"):
        out = tmp_path / f"out.{suffix}"
        code, _, err = _run(
            capsys, "analyze", str(table), "-c", "body", "--id", "rid", "-o", str(out), *DUMMY
        )
        assert code == 0, err
        frame = pd.read_csv(out) if suffix == "csv" else pd.read_parquet(out)
        assert list(frame["record_id"]) == ["a", "b", "c"]
        assert frame.loc[0, "top_label"] == "joy" and frame.loc[2, "top_label"] == "fear"
        assert "row 2 (id 'b'): empty text" in frame.loc[1, "warnings"]
        assert {"score_joy", "valence", "arousal", "cues"} <= set(frame.columns)


def test_labels_option(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "analyze", "I am happy", "--labels", "sentiment", "-f", "json", *DUMMY)
    seg = json.loads(out)["results"][0]["segments"][0]
    assert code == 0 and seg["label_set"] == "sentiment" and seg["labels"] == ["positive"]


def test_folder_to_table_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("I hate this so much")
    out = tmp_path / "report.txt"
    code, _, err = _run(capsys, "analyze", str(tmp_path / "docs"), "-f", "table", "-o", str(out), *DUMMY)
    assert code == 0, err
    assert "a.txt" in out.read_text() and "anger" in out.read_text()


def test_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("so happy today\n"))
    code, out, _ = _run(capsys, "analyze", "-", "-f", "jsonl", *DUMMY)
    assert code == 0 and json.loads(out)["source"] == "<stdin>"


def test_default_model_fallback_message(capsys: pytest.CaptureFixture[str], isolated_registry: Any) -> None:
    for name, spec in list(isolated_registry.items()):
        if spec.modality == Modality.TEXT and name != "dummy.keywords.v1":  # the one left to fall back on
            del isolated_registry[name]
    code, out, err = _run(capsys, "analyze", "so happy", "-f", "jsonl")
    assert code == 0
    assert err.startswith("warning: no default text model is registered; using 'dummy.keywords.v1'")
    assert json.loads(out)["segments"][0]["provenance"]["recognizer"] == "dummy.keywords.v1"


# -- other commands -----------------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import affectlens

    code, out, _ = _run(capsys, "--version")
    assert code == 0 and out.strip() == f"affectlens {affectlens.__version__}"


def test_models(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "models", "--format", "json")
    rows = json.loads(out)
    assert code == 0
    dummy = next(r for r in rows if r["name"] == "dummy.keywords.v1")
    assert dummy["modality"] == "text" and dummy["label_set"] == "ekman" and dummy["license"]
    assert {"version", "size_bytes", "training_data", "headline_metric", "default"} <= set(dummy)
    code, out, _ = _run(capsys, "models")
    assert code == 0 and "dummy" in out and "ekman" in out


def test_help_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--help"], ["analyze", "--help"], ["models", "--help"], ["taxonomy", "--help"]):
        code, out, _ = _run(capsys, *args)
        assert code == 0 and "Usage" in out, args
    assert "Examples" in _run(capsys, "analyze", "--help")[1]


def test_bench_group_is_guarded(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "bench", "--help")
    assert (code == 0 and "Usage" in out) or (code == 2 and err.startswith("error: the 'bench' commands"))
    assert "Traceback" not in err


def test_cues_option_needs_a_text_model_that_offers_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "analyze", "so happy", "--cues", "occlusion", "--model", "face.ferplus-cnn.v1")
    assert code != 0 and "--cues is for text models" in err
    code, _, err = _run(capsys, "analyze", "so happy", "--cues", "occlusion", *DUMMY)
    assert code != 0 and "has no such option" in err


def test_cues_occlusion_through_the_shipped_text_model(capsys: pytest.CaptureFixture[str]) -> None:
    from affectlens.recognizers.text_onnx import DEFAULT_MODEL_DIR

    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        pytest.skip("shipped text model not present")
    code, out, _ = _run(capsys, "analyze", "Thank you so much, this made my day!", "--cues", "occlusion", "-f", "jsonl")
    segment = json.loads(out)["segments"][0]
    assert code == 0 and segment["extras"]["cue_method"] == "occlusion"
    assert segment["labels"][0] == "gratitude" and segment["cues"][0]["span"] == [0, 5]  # "Thank"
