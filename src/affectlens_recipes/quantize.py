"""Weight-only int8 storage for ONNX models: small files, float compute, batch-independent outputs.

``onnxruntime.quantization.quantize_dynamic`` quantizes *activations* per tensor at run time,
so one text's scores depend on the other texts (and the padding) in its batch: on the text
model, 13% of 300 GoEmotions test texts got a different label set when analysed alone than
in a batch of 64 (largest probability change 0.21).  Here only the weights are int8 (one
scale per output channel, or per row for embedding tables); onnxruntime fuses each
``DequantizeLinear -> MatMul`` pair into ``MatMulNBits``, and every row is computed
independently of its neighbours.  Measured 2026-12-02 (onnxruntime 1.32): that kernel runs at
its default accuracy level 4, i.e. it quantizes each row's activations to int8 on the fly; its
logits differ from float compute by up to 0.13.  ``session.qdq_matmulnbits_accuracy_level=0``
makes it compute in float, and ``session.disable_quant_qdq=1`` folds the weights to float at
load (the same values to 6e-6, and the fastest of the three on 2 cores: see the text model's card;
its ``config.json`` selects it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


def weight_only_int8(source: Path, target: Path, min_elements: int = 4096, gather_rows: bool = False) -> int:
    """Rewrite every large MatMul weight and Gather table of ``source`` as int8 + scale; return the count.

    A table is dequantized whole by a ``DequantizeLinear`` node, which onnxruntime folds to
    float at load on the float path (``session.disable_quant_qdq``) but otherwise runs on every
    call: 11.7 M values for MiniLM's word table.  ``gather_rows``: gather the int8 rows and their
    scales first and scale only those (the same values).
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    # MatMul weights (K, N): one scale per output column (axis 1); Gather tables (V, H): per row (axis 0)
    axes: dict[str, int] = {}
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in initializers:
            axes[node.input[1]] = 1
        elif node.op_type == "Gather" and node.input[0] in initializers:
            axes[node.input[0]] = 0
    dequantize = []
    row_tables: set[str] = set()
    for name, axis in axes.items():
        weights = numpy_helper.to_array(initializers[name]).astype(np.float32)
        if weights.ndim != 2 or weights.size < min_elements:
            continue
        scale = np.abs(weights).max(axis=1 - axis) / 127.0
        scale[scale == 0] = 1.0
        shaped = scale.reshape((1, -1) if axis == 1 else (-1, 1))
        quantized = np.clip(np.round(weights / shaped), -127, 127).astype(np.int8)
        graph.initializer.remove(initializers[name])
        graph.initializer.extend([
            numpy_helper.from_array(quantized, f"{name}_int8"),
            numpy_helper.from_array(scale.astype(np.float32), f"{name}_scale"),
        ])
        if axis == 0 and gather_rows and _only_gathered(name, graph.node):
            row_tables.add(name)
            continue
        graph.initializer.append(numpy_helper.from_array(np.zeros(scale.shape, dtype=np.int8), f"{name}_zero_point"))
        dequantize.append(helper.make_node(
            "DequantizeLinear", [f"{name}_int8", f"{name}_scale", f"{name}_zero_point"], [name],
            axis=axis, name=f"{name}_dequantize"))
    nodes = []
    for node in graph.node:
        nodes.extend(_gathered_rows(node) if node.op_type == "Gather" and node.input[0] in row_tables else [node])
    if row_tables:
        graph.initializer.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), "gather_rows_last_axis"))
    del graph.node[:]
    graph.node.extend(dequantize + nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    return len(dequantize) + len(row_tables)


def _only_gathered(table: str, nodes: Any) -> bool:
    """Whether every node reading ``table`` is a row lookup (``Gather`` on axis 0, the table as data)."""
    def row_lookup(node: Any) -> bool:
        axis = next((int(a.i) for a in node.attribute if a.name == "axis"), 0)
        return node.op_type == "Gather" and node.input[0] == table and table not in node.input[1:] and axis == 0

    return all(row_lookup(n) for n in nodes if table in n.input)


def _gathered_rows(node: Any) -> list[Any]:
    """``Gather(table, ids)`` over an int8 table: the int8 rows, cast and times their own scales."""
    from onnx import TensorProto, helper

    table, ids = node.input[0], node.input[1]
    out = node.output[0]
    return [
        helper.make_node("Gather", [f"{table}_int8", ids], [f"{out}_int8"], axis=0, name=f"{out}_gather_int8"),
        helper.make_node("Gather", [f"{table}_scale", ids], [f"{out}_row_scale"], axis=0, name=f"{out}_gather_scale"),
        helper.make_node("Cast", [f"{out}_int8"], [f"{out}_unscaled"], to=TensorProto.FLOAT, name=f"{out}_cast"),
        helper.make_node("Unsqueeze", [f"{out}_row_scale", "gather_rows_last_axis"], [f"{out}_row_scale_1"],
                         name=f"{out}_unsqueeze_scale"),
        helper.make_node("Mul", [f"{out}_unscaled", f"{out}_row_scale_1"], [out], name=f"{out}_scale_rows"),
    ]


def fold_int8_weights(source: Path, target: Path) -> None:
    """``source``'s int8-weight graph (``weight_only_int8``) saved as float, as onnxruntime runs it.

    onnxruntime folds each weight's ``DequantizeLinear`` at load (``session.disable_quant_qdq``)
    and writes the basic-optimised graph (standard ONNX ops only): the starting point for
    static quantization of a model whose float weights are not kept.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.add_session_config_entry("session.disable_quant_qdq", "1")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(target)
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])


def layer_matmuls(model_path: Path, layers: Iterator[int] | list[int]) -> list[str]:
    """Names of the MatMul/Gemm nodes of the given transformer layers (``.../layer.<k>/...``)."""
    import onnx

    wanted = [f"layer.{k}/" for k in layers]
    graph = onnx.load(str(model_path), load_external_data=False).graph
    return [n.name for n in graph.node if n.op_type in ("MatMul", "Gemm") and any(w in n.name for w in wanted)]


def quantize_encoder(activations: str, fp32: Path, target: Path, calibration: Iterator[dict[str, np.ndarray]],
                     float_layers: list[int] | None = None) -> None:
    """int8 weights per output channel, with ``float``, ``static`` or ``dynamic`` int8 activations.

    ``static``: QDQ, per channel, MinMax activation scales from the ``calibration`` feeds
    (deterministic per text); only the matrix products are quantized (quantizing mpnet's
    integer bucket arithmetic breaks its Gather indices); the embedding tables are then stored
    as int8 per row and scaled after the row lookup (``weight_only_int8(gather_rows=True)``):
    dequantized whole they cost every call (one text: 17 ms against 4.2 for the shipped static
    graph, 2026-12-03), and kept float the file triples (a 3-layer student: 53 MB, not 17.7).
    ``dynamic`` chooses scales per batch: batch-dependent, for speed comparisons only.
    ``float_layers``: transformer layers whose products keep float activations (``static``
    only). On the shipped text model the first layer is the one that loses most to int8
    activations (2026-12-03, GoEmotions dev macro-F1: float 0.546, all static 0.532, layer 0
    float 0.540, any other one layer float 0.528-0.538).
    """
    if float_layers and activations != "static":
        raise ValueError("float_layers applies to static activations only")
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    if activations == "float":
        weight_only_int8(fp32, target)
    elif activations == "dynamic":
        quantize_dynamic(str(fp32), str(target), per_channel=True, weight_type=QuantType.QInt8)
    elif activations == "static":
        class Reader(CalibrationDataReader):
            def get_next(self) -> dict[str, np.ndarray] | None:
                return next(calibration, None)

        quantize_static(str(fp32), str(target), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        op_types_to_quantize=["MatMul", "Gemm"],
                        nodes_to_exclude=layer_matmuls(fp32, float_layers or []))
        weight_only_int8(target, target, gather_rows=True)  # the tables, which static quantization leaves float
    else:
        raise ValueError(f"activations must be float, static or dynamic, not {activations!r}")
