"""``text_xcorpus refit-vad``: a trained checkpoint's VAD head re-fitted by ridge regression over all
of EmoBank train (the strength chosen on EmoBank dev); the emotion logits and word cues stay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from affectlens_recipes.text import _encode as encode
from affectlens_recipes.text import _pad

#: ridge strengths tried for the VAD read-out (on standardised pooled features), chosen by EmoBank dev valence r
RIDGE_STRENGTHS = (10.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0)


def ridge_readout(train_x: np.ndarray, train_y: np.ndarray, strength: float) -> tuple[np.ndarray, np.ndarray]:
    """``(weight (out, in), bias (out,))`` of a ridge regression on standardised inputs, folded back to raw inputs."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    z = (train_x - mean) / std
    z1 = np.hstack([z, np.ones((len(z), 1))])
    penalty = strength * np.eye(z1.shape[1])
    penalty[-1, -1] = 0.0  # the intercept is not shrunk
    coef = np.linalg.solve(z1.T @ z1 + penalty, z1.T @ train_y)  # (in + 1, out)
    weight = (coef[:-1] / std[:, None]).T
    bias = coef[-1] - (mean / std) @ coef[:-1]
    return weight.astype(np.float32), bias.astype(np.float32)


def refit_vad(out: Path, step: int, target: Path, data_root: Path | None) -> dict[str, Any]:
    """``target/step{step}.pt``: ``out/step{step}.pt`` with its VAD head re-fitted by ridge on EmoBank train.

    Training gives EmoBank a few hundred batches among seven corpora; the closed-form read-out of the
    same pooled features over all of EmoBank train reads valence better (its strength chosen on dev).
    Only ``vad_head`` changes: the emotion logits and word cues stay the checkpoint's.
    """
    import shutil

    import torch
    from tokenizers import Tokenizer

    from affectlens.bench.datasets import load_emobank
    from affectlens.metrics import pearson
    from affectlens.pretrained import minilm_dir
    from affectlens_recipes.text import _build_model

    encoder_dir = minilm_dir()
    tokenizer = Tokenizer.from_file(str(encoder_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    scaling = json.loads((out / "vad_scaling.json").read_text(encoding="utf-8"))
    mean, std = np.asarray(scaling["mean"]), np.asarray(scaling["std"])
    model = _build_model(torch, encoder_dir)
    state = torch.load(out / f"step{step}.pt", map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.eval()

    def pooled(texts: list[str]) -> np.ndarray:
        """What ``vad_head`` reads, per text (taken from the model's own forward pass)."""
        seqs = encode(tokenizer, texts)
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
        rows = np.zeros((len(seqs), model.vad_head.in_features), dtype=np.float32)
        seen: list[Any] = []
        hook = model.vad_head.register_forward_hook(lambda _module, inputs, _output: seen.append(inputs[0]))
        try:
            with torch.inference_mode():
                for start in range(0, len(order), 128):
                    idx = order[start : start + 128]
                    model(*_pad(torch, [seqs[i] for i in idx]))
                    rows[idx] = seen.pop().numpy()
        finally:
            hook.remove()
        return rows

    train, dev = load_emobank("train", data_root), load_emobank("dev", data_root)
    x_train, x_dev = pooled(train.texts), pooled(dev.texts)
    y_train = (train.vad - mean) / std

    def dev_r(weight: np.ndarray, bias: np.ndarray) -> list[float]:
        predicted = (x_dev @ weight.T + bias) * std + mean
        return [round(pearson(dev.vad[:, k], predicted[:, k]), 4) for k in range(3)]

    trained = dev_r(model.vad_head.weight.detach().numpy(), model.vad_head.bias.detach().numpy())
    tried = {strength: ridge_readout(x_train, y_train, strength) for strength in RIDGE_STRENGTHS}
    scores = {strength: dev_r(*fit) for strength, fit in tried.items()}
    best = max(scores, key=lambda k: scores[k][0])
    report: dict[str, Any] = {"trained_head_dev_r": trained, "ridge_dev_r": {str(k): v for k, v in scores.items()},
                              "chosen_strength": best}
    if scores[best][0] > trained[0]:
        weight, bias = tried[best]
        state["vad_head.weight"] = torch.tensor(weight)
        state["vad_head.bias"] = torch.tensor(bias)
    else:
        report["kept"] = "the trained head (no ridge read-out was better on dev)"
    target.mkdir(parents=True, exist_ok=True)
    torch.save(state, target / f"step{step}.pt")
    shutil.copyfile(out / "vad_scaling.json", target / "vad_scaling.json")
    (target / "refit_vad.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report), flush=True)
    return report


__all__ = ["RIDGE_STRENGTHS", "refit_vad", "ridge_readout"]
