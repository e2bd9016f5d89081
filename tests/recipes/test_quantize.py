"""Weight-only int8: same outputs as the float model within rounding, and no batch dependence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from affectlens.testing import make_tiny_text_onnx
from affectlens_recipes.quantize import weight_only_int8

pytest.importorskip("onnx")


def _run(path: Path, ids: np.ndarray, entries: dict[str, str] | None = None) -> np.ndarray:
    import onnxruntime as ort

    options = ort.SessionOptions()
    for key, value in (entries or {}).items():
        options.add_session_config_entry(key, value)
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
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
    from affectlens_recipes.quantize import quantize_encoder

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


def test_folding_int8_weights_gives_the_same_outputs_without_dequantize_nodes(tmp_path: Path) -> None:
    import onnx

    from affectlens_recipes.quantize import fold_int8_weights

    source = make_tiny_text_onnx(tmp_path / "float.onnx")
    weight_only_int8(source, tmp_path / "w8.onnx", min_elements=1)
    fold_int8_weights(tmp_path / "w8.onnx", tmp_path / "folded.onnx")
    ops = {node.op_type for node in onnx.load(str(tmp_path / "folded.onnx")).graph.node}
    assert "DequantizeLinear" not in ops
    ids = np.array([[1, 2, 3, 0], [4, 5, 0, 0]], dtype=np.int64)
    float_path = {"session.disable_quant_qdq": "1"}  # what the folding reproduces: not the fused kernels
    np.testing.assert_allclose(_run(tmp_path / "folded.onnx", ids), _run(tmp_path / "w8.onnx", ids, float_path),
                               atol=1e-6)


def test_float_layers_keep_their_products_out_of_int8(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from affectlens_recipes.quantize import layer_matmuls, quantize_encoder

    rng = np.random.default_rng(0)
    weights = [numpy_helper.from_array(rng.standard_normal((4, 4)).astype(np.float32), f"w{k}") for k in range(2)]
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w0"], ["h"], name="/encoder/layer.0/dense/MatMul"),
         helper.make_node("MatMul", ["h", "w1"], ["y"], name="/encoder/layer.1/dense/MatMul")],
        "two-layers", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])], initializer=weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "two.onnx"))
    assert layer_matmuls(tmp_path / "two.onnx", [1]) == ["/encoder/layer.1/dense/MatMul"]
    calibration = iter([{"x": rng.standard_normal((8, 4)).astype(np.float32)}])
    quantize_encoder("static", tmp_path / "two.onnx", tmp_path / "q.onnx", calibration, float_layers=[1])
    quantized = onnx.load(str(tmp_path / "q.onnx")).graph
    producers = {o: n for n in quantized.node for o in n.output}
    by_name = {n.name: n for n in quantized.node}
    first, second = by_name["/encoder/layer.0/dense/MatMul"], by_name["/encoder/layer.1/dense/MatMul"]
    assert producers[first.input[0]].op_type == "DequantizeLinear"  # int8 activations and weights
    assert producers[first.input[1]].op_type == "DequantizeLinear"
    assert second.input[1] == "w1"  # left as it was: a float product
    with pytest.raises(ValueError, match="static activations only"):
        quantize_encoder("float", tmp_path / "two.onnx", tmp_path / "f.onnx", iter([]), float_layers=[0])


def test_gathered_rows_give_the_dequantized_tables_values_without_dequantizing_the_table(tmp_path: Path) -> None:
    import onnx

    source = make_tiny_text_onnx(tmp_path / "float.onnx")
    weight_only_int8(source, tmp_path / "whole.onnx", min_elements=1)
    weight_only_int8(source, tmp_path / "rows.onnx", min_elements=1, gather_rows=True)
    nodes = onnx.load(str(tmp_path / "rows.onnx")).graph.node
    assert not any(n.op_type == "DequantizeLinear" and n.input[0] == "word_table_int8" for n in nodes)
    assert any(n.op_type == "Gather" and n.input[0] == "word_table_int8" for n in nodes)
    ids = np.array([[1, 2, 3, 0], [4, 5, 0, 0]], dtype=np.int64)
    float_path = {"session.disable_quant_qdq": "1"}
    np.testing.assert_array_equal(_run(tmp_path / "rows.onnx", ids, float_path),
                                  _run(tmp_path / "whole.onnx", ids, float_path))
