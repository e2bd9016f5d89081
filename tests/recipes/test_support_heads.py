"""The support heads' recipe pieces: the folded logistic regression and its one-Gemm ONNX export."""

from __future__ import annotations

import numpy as np

from affectlens.dialogue.support_features import N_STRATEGIES
from affectlens_recipes.support_heads import fit_head, linear_onnx


def test_folded_head_matches_onnx_and_learns_a_separable_task() -> None:
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(N_STRATEGIES), 30)
    x = rng.normal(size=(len(y), 6)).astype(np.float32) * 0.1
    x[np.arange(len(y)), y % 6] += 5.0 + 100.0 * (y >= 6)  # far-off scales: standardisation must be folded in
    head = fit_head(x, y, c=10.0, power=0.5)
    logits = head.logits(x)
    assert (logits.argmax(1) == y).mean() > 0.9
    session = ort.InferenceSession(linear_onnx(head, "t").SerializeToString(), providers=["CPUExecutionProvider"])
    from_onnx = session.run(["logits"], {"features": x})[0]
    assert np.allclose(from_onnx, logits, atol=1e-3 * np.abs(logits).max())
