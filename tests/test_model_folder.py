"""The shared loader of hashed ONNX head folders (support and conversation models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from affectlens.model_folder import load_onnx_heads
from affectlens.recognizers.text_onnx import ModelFilesMissing, ModelIntegrityError
from affectlens.runtime_threads import ALLOW_SPINNING
from affectlens.testing.support_model import write_tiny_model


def test_loads_every_head_with_the_process_thread_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AFFECTLENS_THREAD_SPINNING", raising=False)
    config, heads = load_onnx_heads(write_tiny_model(tmp_path), kind="support", threads=1)
    assert set(heads) == set(config["heads"]) == {"observe", "suggest"}
    options = heads["suggest"].get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.get_session_config_entry(ALLOW_SPINNING) == "0"  # no spinning unless asked


def test_missing_config_names_the_kind_of_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelFilesMissing, match=r"no config\.json in support model folder"):
        load_onnx_heads(tmp_path, kind="support", threads=1)


def test_missing_head_is_reported(tmp_path: Path) -> None:
    (write_tiny_model(tmp_path) / "head_observe.onnx").unlink()
    with pytest.raises(ModelFilesMissing, match=r"missing head_observe\.onnx"):
        load_onnx_heads(tmp_path, kind="conversation", threads=1)


def test_changed_head_fails_the_hash_check_unless_verify_is_off(tmp_path: Path) -> None:
    folder = write_tiny_model(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["sha256"]["head_suggest.onnx"] = "0" * 64
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        load_onnx_heads(folder, kind="support", threads=1)
    assert set(load_onnx_heads(folder, kind="support", threads=1, verify=False)[1]) == {"observe", "suggest"}
