"""SmoothQuant (Xiao et al., ICML 2023) for chosen matrix products of a float ONNX graph.

A product ``X @ W`` whose input ``X`` has a few channels far wider than the rest quantizes badly
with one static int8 scale per tensor: the wide channels set the step, the others get a handful of
levels. SmoothQuant moves that range into the weights, exactly: ``X @ W = (X / s) @ (s * W)`` with
``s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)`` per input channel ``j``. Here ``s * W`` is folded
into the weight initializer and ``X / s`` becomes one ``Mul`` before the product; the graph computes
the same values (to float rounding), and static quantization then sees a narrower ``X``.

The text models' feed-forward down-projections (their input is the GELU output, the widest
activations of the encoder) are what ``static-0+ffn`` kept at per-token scale (``MatMulNBits``,
46 % of the graph's time); smoothed, they can be static int8 like every other product
(``text_xcorpus_variants``' ``+sq`` flag).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnx

ALPHA = 0.5  # the paper's default migration strength; not tuned here


def input_channel_maxima(model: onnx.ModelProto, inputs: list[str], feeds: Iterable[dict[str, np.ndarray]],
                         mask_input: str = "attention_mask") -> dict[str, np.ndarray]:
    """Per-channel max |value| of each named tensor (last axis) over the real tokens of every feed."""
    import onnx
    import onnxruntime as ort
    from onnx import helper

    probe = onnx.ModelProto()
    probe.CopyFrom(model)  # the tensors become outputs of a copy; ``model`` stays as it is
    for name in inputs:
        probe.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # keep the tensors by name
    session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    maxima: dict[str, np.ndarray] = {}
    for feed in feeds:
        real = feed[mask_input].astype(bool) if mask_input in feed else None
        for name, value in zip(inputs, session.run(inputs, feed), strict=True):
            rows = value[real] if real is not None and value.shape[: real.ndim] == real.shape else value
            peak = np.abs(rows.reshape(-1, rows.shape[-1])).max(axis=0)
            maxima[name] = peak if name not in maxima else np.maximum(maxima[name], peak)
    if len(maxima) != len(inputs):
        raise ValueError("no calibration feeds")
    return maxima


def smooth_matmuls(source: Path, target: Path, node_names: list[str], feeds: Iterable[dict[str, np.ndarray]],
                   alpha: float = ALPHA) -> dict[str, float]:
    """Write ``source`` with each named ``MatMul`` smoothed to ``target``; return each input's max before / after.

    Every named node must be a ``MatMul`` whose second input is a float ``(K, N)`` initializer used
    by that node alone (the weight is rewritten in place).
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    nodes = {node.name: node for node in graph.node}
    weights = {init.name: init for init in graph.initializer}
    chosen = [nodes[name] for name in node_names]
    for node in chosen:
        if node.op_type != "MatMul" or node.input[1] not in weights:
            raise ValueError(f"{node.name}: not a MatMul with an initializer weight")
        if sum(node.input[1] in other.input for other in graph.node) != 1:
            raise ValueError(f"{node.name}: its weight is shared with another node")
    maxima = input_channel_maxima(model, [node.input[0] for node in chosen], feeds)
    ranges: dict[str, float] = {}
    for node in chosen:
        x_max = np.clip(maxima[node.input[0]], 1e-5, None)
        weight = numpy_helper.to_array(weights[node.input[1]]).astype(np.float32)
        w_max = np.clip(np.abs(weight).max(axis=1), 1e-5, None)
        scale = (x_max**alpha / w_max ** (1.0 - alpha)).astype(np.float32)
        weights[node.input[1]].CopyFrom(numpy_helper.from_array(weight * scale[:, None], node.input[1]))
        inverse = numpy_helper.from_array((1.0 / scale).astype(np.float32), f"{node.name}/smooth_inverse")
        graph.initializer.append(inverse)
        smoothed = f"{node.input[0]}/smoothed"
        position = list(graph.node).index(node)
        graph.node.insert(position, helper.make_node("Mul", [node.input[0], inverse.name], [smoothed],
                                                     name=f"{node.name}/smooth"))
        node.input[0] = smoothed
        ranges[node.name] = round(float(x_max.max() / (x_max / scale).max()), 2)
    onnx.save(model, str(target))
    return ranges
