"""The familiarity factor: confidence falls with the distance from the training faces, in numpy and in ONNX."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from affectlens_recipes.face_familiarity import choose_slope, fit_familiarity, graph_nodes


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def test_far_inputs_get_a_larger_scale_and_familiar_ones_none() -> None:
    rng = np.random.default_rng(0)
    train = rng.standard_normal((2000, 6)) * np.asarray([1, 2, 3, 1, 1, 5])
    fam = fit_familiarity(train).with_slope(1.0)
    near = fam.scale(train[:100])
    far = fam.scale(train[:100] * 6.0)
    assert np.mean(near == 1.0) > 0.9  # most training faces are within the reference distance
    assert (far > 1.5).all()


def test_slope_is_chosen_on_dev_only_where_far_faces_are_overconfident() -> None:
    rng = np.random.default_rng(1)
    train = rng.standard_normal((3000, 4))
    fam = fit_familiarity(train)
    near, far = rng.standard_normal((600, 4)), rng.standard_normal((600, 4)) * 5.0
    x = np.vstack([near, far])
    true = rng.integers(0, 3, len(x))
    logits = np.zeros((len(x), 3))
    logits[np.arange(600), true[:600]] = 3.0  # near faces: confident and right
    logits[600 + np.arange(600), (true[600:] + 1) % 3] = 3.0  # far faces: confident and wrong
    chosen, _, trials = choose_slope(fam, logits, x, true)
    assert chosen.slope > 0 and len(trials) > 1
    right_only = fam.distance(near) < 10  # all near faces
    chosen_near, _, _ = choose_slope(fam, logits[:600][right_only], near[right_only], true[:600][right_only])
    assert chosen_near.slope == 0.0  # nothing far on dev: the factor is not used


def test_graph_nodes_compute_the_numpy_scale() -> None:
    import onnxruntime as ort
    from onnx import TensorProto, helper

    rng = np.random.default_rng(2)
    fam = fit_familiarity(rng.standard_normal((500, 5))).with_slope(0.7)
    nodes, inits = graph_nodes(fam, "x", "raw", "logits")
    graph = helper.make_graph(nodes, "familiarity",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 5]),
                               helper.make_tensor_value_info("raw", TensorProto.FLOAT, ["n", 3])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", 3])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = (rng.standard_normal((7, 5)) * 4).astype(np.float32)
    raw = rng.standard_normal((7, 3)).astype(np.float32)
    out = session.run(["logits"], {"x": x, "raw": raw})[0]
    assert np.allclose(out, raw / fam.scale(x)[:, None], atol=1e-4)
    assert np.allclose(_softmax(out).sum(axis=1), 1.0)
