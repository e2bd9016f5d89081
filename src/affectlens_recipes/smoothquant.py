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
    return {name: np.maximum(-low, high)
            for name, (low, high) in input_channel_ranges(model, inputs, feeds, mask_input).items()}


def input_channel_ranges(model: onnx.ModelProto, inputs: list[str], feeds: Iterable[dict[str, np.ndarray]],
                         mask_input: str = "attention_mask") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-channel ``(min, max)`` of each named tensor (last axis) over the real tokens of every feed."""
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
    ranges: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for feed in feeds:
        real = feed[mask_input].astype(bool) if mask_input in feed else None
        for name, value in zip(inputs, session.run(inputs, feed), strict=True):
            rows = value[real] if real is not None and value.shape[: real.ndim] == real.shape else value
            rows = rows.reshape(-1, rows.shape[-1])
            low, high = rows.min(axis=0), rows.max(axis=0)
            if name in ranges:
                low, high = np.minimum(ranges[name][0], low), np.maximum(ranges[name][1], high)
            ranges[name] = (low, high)
    if len(ranges) != len(inputs):
        raise ValueError("no calibration feeds")
    return ranges


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
        scale = _smoothing_scale(x_max, np.abs(weight).max(axis=1), alpha)
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


def _smoothing_scale(x_max: np.ndarray, w_max: np.ndarray, alpha: float) -> np.ndarray:
    """SmoothQuant's ``s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)`` per input channel (``x_max`` already clipped)."""
    return (x_max**alpha / np.clip(w_max, 1e-5, None) ** (1.0 - alpha)).astype(np.float32)


def _dequantized(weights: dict[str, onnx.TensorProto], dequantize: onnx.NodeProto) -> np.ndarray:
    """The float ``(K, N)`` weight a per-column (or per-tensor) ``DequantizeLinear`` of an initializer gives."""
    from onnx import numpy_helper

    values = numpy_helper.to_array(weights[dequantize.input[0]]).astype(np.float32)
    scale = numpy_helper.to_array(weights[dequantize.input[1]]).astype(np.float32)
    zero = (numpy_helper.to_array(weights[dequantize.input[2]]).astype(np.float32)
            if len(dequantize.input) > 2 and dequantize.input[2] else np.zeros_like(scale))
    axis = next((attr.i for attr in dequantize.attribute if attr.name == "axis"), 1)
    if scale.ndim == 1 and axis != 1:
        raise ValueError(f"{dequantize.name}: per-channel along axis {axis}, expected the output columns (1)")
    return (values - zero) * scale


def float_input_products(model: onnx.ModelProto, prefix: str = "") -> list[str]:
    """The ``MatMul`` nodes (names starting with ``prefix``) that read a float input and a dequantized int8
    weight: what a QDQ graph left out of static quantization (``smooth_to_static_int8``'s candidates)."""
    producer = {output: node for node in model.graph.node for output in node.output}

    def op_of(name: str) -> str | None:
        return producer[name].op_type if name in producer else None

    return [node.name for node in model.graph.node
            if node.op_type == "MatMul" and node.name.startswith(prefix)
            and op_of(node.input[1]) == "DequantizeLinear" and op_of(node.input[0]) != "DequantizeLinear"]


def smooth_to_static_int8(model: onnx.ModelProto, node_names: list[str], feeds: list[dict[str, np.ndarray]],
                          alpha: float = ALPHA) -> dict[str, float]:
    """Give the named float-input products of a QDQ graph static uint8 inputs, smoothed first; in place.

    Each named node is a ``MatMul`` whose input is float and whose weight is ``DequantizeLinear``
    of an int8 initializer (a product kept out of static quantization, which onnxruntime runs as
    ``MatMulNBits``: int8 per token, the slowest kernel of the text graph). Products that read the
    same input (query, key, value) share one smoothing scale ``s`` (from the widest of their
    weights), so one ``Mul`` by ``1 / s`` serves them; each weight becomes ``s * W`` re-quantized
    to int8 per output column, and the smoothed input gets a ``QuantizeLinear`` /
    ``DequantizeLinear`` pair with MinMax range over ``feeds`` (onnxruntime then fuses an int8
    product). Returns each input's range reduction (max |X| / max |X / s|).
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    nodes = {node.name: node for node in graph.node}
    producer = {output: node for node in graph.node for output in node.output}
    weights = {init.name: init for init in graph.initializer}
    groups: dict[str, list[tuple[onnx.NodeProto, onnx.NodeProto]]] = {}
    for name in node_names:
        node = nodes[name]
        dequantize = producer.get(node.input[1]) if node.op_type == "MatMul" else None
        if dequantize is None or dequantize.op_type != "DequantizeLinear" or dequantize.input[0] not in weights:
            raise ValueError(f"{name}: not a MatMul with a dequantized int8 weight")
        source = producer.get(node.input[0])
        if source is not None and source.op_type == "DequantizeLinear":
            raise ValueError(f"{name}: its input is already quantized")
        if any(dequantize.output[0] in other.input for other in graph.node if other is not node):
            raise ValueError(f"{name}: its weight is shared with another node")
        groups.setdefault(node.input[0], []).append((node, dequantize))
    maxima = input_channel_maxima(model, list(groups), feeds)
    reduction: dict[str, float] = {}
    for tensor, members in groups.items():
        floats = [_dequantized(weights, dequantize) for _, dequantize in members]
        x_max = np.clip(maxima[tensor], 1e-5, None)
        scale = _smoothing_scale(x_max, np.max([np.abs(w).max(axis=1) for w in floats], axis=0), alpha)
        for (_, dequantize), weight in zip(members, floats, strict=True):
            smoothed = weight * scale[:, None]
            column_scale = np.clip(np.abs(smoothed).max(axis=0) / 127.0, 1e-12, None).astype(np.float32)
            int8 = np.clip(np.round(smoothed / column_scale), -127, 127).astype(np.int8)
            zero = np.zeros(column_scale.shape, dtype=np.int8)
            names = [f"{dequantize.name}/smoothed_{part}" for part in ("int8", "scale", "zero_point")]
            graph.initializer.extend(numpy_helper.from_array(array, name)
                                     for array, name in zip((int8, column_scale, zero), names, strict=True))
            dequantize.input[:] = names
        inverse = numpy_helper.from_array((1.0 / scale).astype(np.float32), f"{tensor}/smooth_inverse")
        graph.initializer.append(inverse)
        position = min(list(graph.node).index(node) for node, _ in members)
        graph.node.insert(position, helper.make_node("Mul", [tensor, inverse.name], [f"{tensor}/smoothed"],
                                                     name=f"{tensor}/smooth"))
        for node, _ in members:
            node.input[0] = f"{tensor}/smoothed"
        reduction[tensor] = round(float(x_max.max() / (x_max / scale).max()), 2)
    _drop_unused(graph)  # the replaced int8 weights
    # a second pass: each smoothed input's range as the re-quantized upstream products now make it
    ranges = input_channel_ranges(model, [f"{tensor}/smoothed" for tensor in groups], feeds)
    for tensor, members in groups.items():
        smoothed = f"{tensor}/smoothed"
        low, high = min(float(ranges[smoothed][0].min()), 0.0), max(float(ranges[smoothed][1].max()), 0.0)
        step = max(high - low, 1e-8) / 255.0
        zero_point = int(np.clip(round(-low / step), 0, 255))
        step_init = numpy_helper.from_array(np.array(step, dtype=np.float32), f"{smoothed}/scale")
        zero_init = numpy_helper.from_array(np.array(zero_point, dtype=np.uint8), f"{smoothed}/zero_point")
        graph.initializer.extend([step_init, zero_init])
        position = min(list(graph.node).index(node) for node, _ in members)
        graph.node.insert(position, helper.make_node("QuantizeLinear", [smoothed, step_init.name, zero_init.name],
                                                     [f"{smoothed}/uint8"], name=f"{smoothed}/quantize"))
        graph.node.insert(position + 1, helper.make_node("DequantizeLinear",
                                                         [f"{smoothed}/uint8", step_init.name, zero_init.name],
                                                         [f"{smoothed}/static"], name=f"{smoothed}/dequantize"))
        for node, _ in members:
            node.input[0] = f"{smoothed}/static"
    return reduction


def _drop_unused(graph: onnx.GraphProto) -> None:
    """Remove the initializers that no node reads."""
    read = {name for node in graph.node for name in node.input}
    for init in [init for init in graph.initializer if init.name not in read]:
        graph.initializer.remove(init)
