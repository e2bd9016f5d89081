"""Expose intermediate tensors of the exported text encoder as named graph outputs.

The conversation model (``affectlens_recipes/erc_meld.py``) reads two of the text model's inner
tensors: the mean-pooled final hidden state (what the emotion and VAD heads see) and the
hidden states of layer 3, which carry less GoEmotions-specific, more general meaning.
Naming them as outputs of the one shipped ``model.onnx`` lets both recognizers share the
encoder: the text recognizer asks for ``logits``/``vad``/``token_logits`` only and pays
nothing for the extra outputs.

    python -m affectlens_recipes.onnx_outputs src/affectlens/models/text-minilm-goemotions-v1/model.onnx
"""

from __future__ import annotations

import argparse
from pathlib import Path

#: output name -> the tensor the ``torch.onnx.export(dynamo=False)`` graph of ``affectlens_recipes/text.py`` gives it
FEATURE_OUTPUTS: dict[str, tuple[str, list[str | int]]] = {
    # masked mean of the last layer: the heads' input
    "embedding": ("/Div_output_0", ["batch", 384]),
    "hidden_layer3": ("/encoder/encoder/layer.3/output/LayerNorm/LayerNormalization_output_0", ["batch", "seq", 384]),
}


def expose_outputs(path: Path, outputs: dict[str, tuple[str, list[str | int]]] = FEATURE_OUTPUTS) -> list[str]:
    """Add an Identity node and a graph output per entry (idempotent); returns the names added."""
    import onnx

    model = onnx.load(str(path))
    produced = {name for node in model.graph.node for name in node.output}
    present = {o.name for o in model.graph.output}
    added: list[str] = []
    for name, (tensor, shape) in outputs.items():
        if name in present:
            continue
        if tensor not in produced:
            raise ValueError(f"{path}: no tensor {tensor!r} to expose as {name!r}")
        model.graph.node.append(onnx.helper.make_node("Identity", [tensor], [name], name=f"expose_{name}"))
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, shape))
        added.append(name)
    if added:
        onnx.checker.check_model(model)
        onnx.save(model, str(path))
    return added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    args = parser.parse_args()
    print("added:", ", ".join(expose_outputs(args.model)) or "nothing (already there)")


if __name__ == "__main__":
    main()
