"""Weight-only int8: same outputs as the float model within rounding, and no batch dependence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from affectlens.testing import make_tiny_text_onnx
from affectlens.training.quantize import weight_only_int8

pytest.importorskip("onnx")


def _run(path: Path, ids: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    logits, _vad, _tokens = session.run(
        ["logits", "vad", "token_logits"], {"input_ids": ids, "attention_mask": (ids > 0).astype(np.int64)})
    return np.asarray(logits)


def test_weights_become_int8_and_outputs_stay_close(tmp_path: Path) -> None:
    import onnx

    source = make_tiny_text_onnx(tmp_path / "float.onnx")
    count = weight_only_int8(source, tmp_path / "w8.onnx", min_elements=1)
    assert count >= 1
    model = onnx.load(str(tmp_path / "w8.onnx"))
    assert any(init.data_type == onnx.TensorProto.INT8 for init in model.graph.initializer)
    assert any(node.op_type == "DequantizeLinear" for node in model.graph.node)
    ids = np.array([[1, 2, 3, 0], [4, 5, 0, 0]], dtype=np.int64)
    np.testing.assert_allclose(_run(tmp_path / "w8.onnx", ids), _run(source, ids), atol=0.1)


def test_a_rows_outputs_do_not_depend_on_its_batch(tmp_path: Path) -> None:
    source = make_tiny_text_onnx(tmp_path / "float.onnx")
    weight_only_int8(source, tmp_path / "w8.onnx", min_elements=1)
    row = np.array([[1, 2, 3]], dtype=np.int64)
    loud = np.array([[1, 2, 3], [9, 9, 9]], dtype=np.int64)  # a neighbour with other activations
    alone, together = _run(tmp_path / "w8.onnx", row), _run(tmp_path / "w8.onnx", loud)
    np.testing.assert_allclose(alone[0], together[0], atol=1e-6)


def test_quantize_encoder_static_is_batch_independent_and_rejects_unknown_modes(tmp_path: Path) -> None:
    from affectlens.training.quantize import quantize_encoder

    source = make_tiny_text_onnx(tmp_path / "float.onnx")
    calibration = iter([{"input_ids": ids, "attention_mask": (ids > 0).astype(np.int64)}
                        for ids in (np.array([[1, 2, 3, 0], [4, 5, 6, 7]], dtype=np.int64),)])
    quantize_encoder("static", source, tmp_path / "static.onnx", calibration)
    import onnx

    ops = {node.op_type for node in onnx.load(str(tmp_path / "static.onnx")).graph.node}
    assert "QuantizeLinear" in ops  # activations, not only weights, go through int8
    row = np.array([[1, 2, 3]], dtype=np.int64)
    loud = np.array([[1, 2, 3], [9, 9, 9]], dtype=np.int64)
    alone, together = _run(tmp_path / "static.onnx", row), _run(tmp_path / "static.onnx", loud)
    np.testing.assert_allclose(alone[0], together[0], atol=1e-6)  # scales fixed at calibration
    np.testing.assert_allclose(alone, _run(source, row), atol=0.5)
    with pytest.raises(ValueError, match="float, static or dynamic"):
        quantize_encoder("int4", source, tmp_path / "x.onnx", iter([]))
