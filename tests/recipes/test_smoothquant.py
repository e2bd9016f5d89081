"""SmoothQuant on a float ONNX graph: the same function, a narrower activation range."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _graph(path: Path, weight: np.ndarray) -> None:
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3])
    nodes = [helper.make_node("Relu", ["x"], ["h"], name="act"),
             helper.make_node("MatMul", ["h", "w"], ["y"], name="layer.1/output/dense/MatMul")]
    graph = helper.make_graph(nodes, "g", [x], [y], [numpy_helper.from_array(weight, "w")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_smoothing_keeps_the_outputs_and_narrows_the_wide_channel(tmp_path: Path) -> None:
    from affectlens_recipes.smoothquant import smooth_matmuls

    rng = np.random.default_rng(0)
    weight = rng.normal(size=(4, 3)).astype(np.float32)
    _graph(tmp_path / "float.onnx", weight)
    feeds = [{"x": (rng.normal(size=(16, 4)) * np.array([1.0, 1.0, 50.0, 1.0])).astype(np.float32)}
             for _ in range(3)]
    ranges = smooth_matmuls(tmp_path / "float.onnx", tmp_path / "smooth.onnx", ["layer.1/output/dense/MatMul"],
                            feeds)
    assert ranges["layer.1/output/dense/MatMul"] > 3.0  # the widest channel's range shrinks several-fold
    before = ort.InferenceSession(str(tmp_path / "float.onnx"), providers=["CPUExecutionProvider"])
    after = ort.InferenceSession(str(tmp_path / "smooth.onnx"), providers=["CPUExecutionProvider"])
    for feed in feeds:
        np.testing.assert_allclose(after.run(None, feed)[0], before.run(None, feed)[0], rtol=1e-5, atol=1e-4)
    smoothed = onnx.load(str(tmp_path / "smooth.onnx"))
    assert [node.op_type for node in smoothed.graph.node] == ["Relu", "Mul", "MatMul"]


def test_only_a_matmul_with_its_own_weight_is_smoothed(tmp_path: Path) -> None:
    from affectlens_recipes.smoothquant import smooth_matmuls

    _graph(tmp_path / "float.onnx", np.ones((4, 3), dtype=np.float32))
    feeds = [{"x": np.ones((2, 4), dtype=np.float32)}]
    with pytest.raises(ValueError, match="not a MatMul"):
        smooth_matmuls(tmp_path / "float.onnx", tmp_path / "out.onnx", ["act"], feeds)
    with pytest.raises(ValueError, match="no calibration feeds"):
        smooth_matmuls(tmp_path / "float.onnx", tmp_path / "out.onnx", ["layer.1/output/dense/MatMul"], [])


def _int8_products_graph(weights: list[np.ndarray]) -> onnx.ModelProto:
    """``x`` -> Relu -> one product per weight, each weight per-column int8 behind a ``DequantizeLinear``."""
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])
    outputs, nodes, inits = [], [helper.make_node("Relu", ["x"], ["h"], name="act")], []
    for k, weight in enumerate(weights):
        scale = (np.abs(weight).max(axis=0) / 127.0).astype(np.float32)
        inits += [numpy_helper.from_array(np.round(weight / scale).astype(np.int8), f"w{k}"),
                  numpy_helper.from_array(scale, f"w{k}_scale"),
                  numpy_helper.from_array(np.zeros(scale.shape, dtype=np.int8), f"w{k}_zero")]
        nodes += [helper.make_node("DequantizeLinear", [f"w{k}", f"w{k}_scale", f"w{k}_zero"], [f"w{k}_float"],
                                   axis=1, name=f"w{k}/dequantize"),
                  helper.make_node("MatMul", ["h", f"w{k}_float"], [f"y{k}"], name=f"product{k}")]
        outputs.append(helper.make_tensor_value_info(f"y{k}", TensorProto.FLOAT, [None, weight.shape[1]]))
    graph = helper.make_graph(nodes, "g", [x], outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_products_sharing_an_input_get_one_smoothing_and_one_static_input() -> None:
    from affectlens_recipes.smoothquant import smooth_to_static_int8

    rng = np.random.default_rng(1)
    weights = [rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(4, 5)).astype(np.float32)]
    model = _int8_products_graph(weights)
    wide = np.array([1.0, 1.0, 40.0, 1.0], dtype=np.float32)
    feeds = [{"x": (np.abs(rng.normal(size=(32, 4))) * wide).astype(np.float32)} for _ in range(4)]
    before = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    reference = [before.run(None, feed) for feed in feeds]
    reduction = smooth_to_static_int8(model, ["product0", "product1"], feeds)
    assert list(reduction) == ["h"] and reduction["h"] > 3.0
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("Mul") == 1 and ops.count("QuantizeLinear") == 1  # one smoothing, one static input
    assert {init.name for init in model.graph.initializer}.isdisjoint({"w0", "w1"})  # the old weights are gone
    after = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    for feed, expected in zip(feeds, reference, strict=True):
        for got, want in zip(after.run(None, feed), expected, strict=True):
            # uint8 input steps of range/255 on a ~40-wide input: close, not equal
            np.testing.assert_allclose(got, want, atol=0.02 * np.abs(want).max())
            assert not np.allclose(got, want, atol=1e-7)


def test_static_int8_refuses_what_it_cannot_rewrite() -> None:
    from affectlens_recipes.smoothquant import smooth_to_static_int8

    model = _int8_products_graph([np.ones((4, 3), dtype=np.float32)])
    feeds = [{"x": np.ones((2, 4), dtype=np.float32)}]
    with pytest.raises(ValueError, match="dequantized int8 weight"):
        smooth_to_static_int8(model, ["act"], feeds)
    smooth_to_static_int8(model, ["product0"], feeds)
    with pytest.raises(ValueError, match="already quantized"):
        smooth_to_static_int8(model, ["product0"], feeds)


def test_the_candidates_are_the_float_input_products_with_int8_weights() -> None:
    from affectlens_recipes.smoothquant import float_input_products, smooth_to_static_int8

    model = _int8_products_graph([np.ones((4, 3), dtype=np.float32), np.ones((4, 2), dtype=np.float32)])
    assert float_input_products(model) == ["product0", "product1"]
    assert float_input_products(model, prefix="product1") == ["product1"]
    smooth_to_static_int8(model, ["product0", "product1"], [{"x": np.ones((2, 4), dtype=np.float32)}])
    assert float_input_products(model) == []  # static now
