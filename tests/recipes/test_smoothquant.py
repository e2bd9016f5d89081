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
