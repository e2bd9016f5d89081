"""The text model's merged graph: an encoder and a VAD student in one session, blended in-graph."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from affectlens.models import sha256_file
from affectlens.recognizers.text_onnx import TextOnnxRecognizer
from affectlens.testing import add_tiny_vad_student, make_tiny_text_model

pytest.importorskip("onnx")

TEXTS = ["wow", "I am sad", "I am so happy today"]


def _vads(folder: Path, **kwargs: object) -> np.ndarray:
    results = TextOnnxRecognizer(folder, **kwargs).analyze(TEXTS)  # type: ignore[arg-type]
    return np.array([[s.vad.valence, s.vad.arousal, s.vad.dominance]  # type: ignore[union-attr]
                     for s in (r.segments[0] for r in results)])


def _merged_folder(tmp_path: Path, weights: list[float]) -> Path:
    """A tiny model folder whose config runs ``model_static.onnx``: the tiny encoder + student merged."""
    import onnx

    from affectlens_recipes.text_static import GRAPH_FILE, merge_vad_student

    folder = add_tiny_vad_student(make_tiny_text_model(tmp_path / "merged"), per_token=(0.05, -0.04, 0.0))
    merged = merge_vad_student(onnx.load(str(folder / "model.onnx")), onnx.load(str(folder / "vad_student.onnx")),
                               weights)
    onnx.checker.check_model(merged)
    onnx.save(merged, str(folder / GRAPH_FILE))
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config.pop("vad_branch")
    config["model_file"] = GRAPH_FILE
    config["sha256"] = {n: sha256_file(folder / n) for n in ("model.onnx", GRAPH_FILE, "tokenizer.json")}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def test_the_merged_graph_blends_encoder_and_student_per_dimension(tmp_path: Path) -> None:
    folder = _merged_folder(tmp_path, [0.25, 1.0, 0.0])
    plain = _vads(folder, model_file="model.onnx")  # the encoder alone, as the conversation model reads it
    student = make_tiny_text_model(tmp_path / "student-alone")
    alone = _vads(add_tiny_vad_student(student, per_token=(0.05, -0.04, 0.0)))
    merged = _vads(folder)
    np.testing.assert_allclose(merged[:, 0], 0.75 * plain[:, 0] + 0.25 * alone[:, 0], atol=1e-5)
    np.testing.assert_allclose(merged[:, 1], alone[:, 1], atol=1e-5)
    np.testing.assert_allclose(merged[:, 2], plain[:, 2], atol=1e-5)
    assert not np.allclose(plain[:, 0], alone[:, 0])
    labels = [r.segments[0].labels for r in TextOnnxRecognizer(folder).analyze(TEXTS)]
    assert labels == [r.segments[0].labels for r in TextOnnxRecognizer(folder, model_file="model.onnx").analyze(TEXTS)]


def test_set_blend_rewrites_the_weights_and_refuses_other_graphs(tmp_path: Path) -> None:
    import onnx

    from affectlens_recipes.text_static import GRAPH_FILE, set_blend

    folder = _merged_folder(tmp_path, [0.0, 0.0, 0.0])
    assert np.allclose(_vads(folder, verify=False), _vads(folder, model_file="model.onnx"), atol=1e-6)
    merged = onnx.load(str(folder / GRAPH_FILE))
    set_blend(merged, [1.0, 1.0, 1.0])
    onnx.save(merged, str(folder / GRAPH_FILE))
    student = add_tiny_vad_student(make_tiny_text_model(tmp_path / "s"), per_token=(0.05, -0.04, 0.0))
    np.testing.assert_allclose(_vads(folder, verify=False), _vads(student), atol=1e-5)
    with pytest.raises(ValueError, match="not a merged graph"):
        set_blend(onnx.load(str(folder / "model.onnx")), [0.5, 0.5, 0.5])


def test_the_merged_graph_keeps_the_encoders_other_outputs(tmp_path: Path) -> None:
    import onnx

    from affectlens_recipes.text_static import GRAPH_FILE

    folder = _merged_folder(tmp_path, [0.5, 0.5, 0.5])
    outputs = {o.name for o in onnx.load(str(folder / GRAPH_FILE)).graph.output}
    assert {"logits", "vad", "token_logits", "embedding", "hidden_layer3", "vad_encoder", "vad_student"} <= outputs
    with pytest.raises(ValueError, match="three blend weights"):
        from affectlens_recipes.text_static import merge_vad_student

        merge_vad_student(onnx.load(str(folder / "model.onnx")), onnx.load(str(folder / "vad_student.onnx")), [0.5])


def test_a_missing_graph_file_is_named(tmp_path: Path) -> None:
    from affectlens.recognizers.text_onnx import ModelFilesMissing

    folder = _merged_folder(tmp_path, [0.5, 0.5, 0.5])
    moved = tmp_path / "elsewhere"
    shutil.move(str(folder), moved)
    (moved / "model_static.onnx").unlink()
    with pytest.raises(ModelFilesMissing, match=r"model_static\.onnx"):
        TextOnnxRecognizer(moved).load()
    TextOnnxRecognizer(moved, model_file="model.onnx").load()  # the other graph is still there


def test_shared_tensors_are_read_out_of_the_pinned_donor(tmp_path: Path) -> None:
    import onnx

    from affectlens.recognizers.text_onnx import ModelIntegrityError
    from affectlens_recipes.text_static import GRAPH_FILE, read_shared_tensors_from

    folder = _merged_folder(tmp_path, [0.5, 0.5, 0.5])
    inline = TextOnnxRecognizer(folder).analyze(TEXTS)
    merged = onnx.load(str(folder / GRAPH_FILE))
    assert read_shared_tensors_from(merged, folder / "model.onnx", min_bytes=64) > 0  # the word table at least
    onnx.save(merged, str(folder / GRAPH_FILE))
    assert (folder / GRAPH_FILE).stat().st_size < (folder / "model.onnx").stat().st_size
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["sha256"][GRAPH_FILE] = sha256_file(folder / GRAPH_FILE)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    shared = TextOnnxRecognizer(folder).analyze(TEXTS)
    assert [r.to_dict() for r in shared] == [r.to_dict() for r in inline]
    (folder / "model.onnx").write_bytes((folder / "model.onnx").read_bytes() + b" ")
    with pytest.raises(ModelIntegrityError, match=r"model\.onnx"):
        TextOnnxRecognizer(folder).load()  # the donor is checked though the graph is another file
