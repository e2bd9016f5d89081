"""A VAD branch for the shipped text model, distilled from a larger teacher.

The shipped encoder's VAD head shares all six layers with the 28-emotion head, and EmoBank's
8k sentences cannot pull that shared encoder towards valence without costing GoEmotions
accuracy (model card: dev valence r 0.737; re-weighting raised it to 0.747 but cost 0.013 dev
macro-F1).  The branch leaves every existing output of ``model.onnx`` untouched (emotions,
cues, and the features the conversation and cause models read) and adds a second, small
graph ``vad_branch.onnx``: copies of encoder layers 4 and 5 over the shipped model's
``hidden_layer3`` output, mean pooling, a VAD head.  It learns from EmoBank's gold VAD and
from the VAD that all-mpnet-base-v2 fine-tuned on EmoBank (``text_teacher.py``) gives every
GoEmotions training text: 51k training texts instead of 8k.

Measured 2026-12-02 (model card, "What did not raise EmoBank valence r"): dev valence r
0.739 -> 0.744, not enough for two more encoder layers per text, so no branch ships yet.
With 42,803 more teacher-labelled sentences in EmoBank's genres (``--corpus``, from
``vad_corpus.py``): 0.740.  ``probe`` fits a linear head on the pooled embedding instead.

Recipe (after ``text_teacher.py train`` and ``label``)::

    python -m affectlens_recipes.text_vad_branch states --out artifacts/text/branch
    python -m affectlens_recipes.text_vad_branch train --out artifacts/text/branch \
        --teacher artifacts/text/teacher/teacher_vad.npz
    python -m affectlens_recipes.text_vad_branch finalize --out artifacts/text/branch --install

``states`` runs the shipped ``model.onnx`` once over the training texts and keeps layer 3's
hidden states (the branch's input), so training never runs the frozen layers again.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.bench.datasets import load_emobank, load_goemotions
from affectlens.models import MODELS_DIR, sha256_file
from affectlens_recipes.loop import bucketed_batches, optimiser_step, print_progress, warmup_then_linear

SEED = 13
MAX_TOKENS = 128
BRANCH_LAYERS = (4, 5)
TEXT_MODEL_DIR = MODELS_DIR / "text-minilm-goemotions-v1"
SPLITS = {"goemotions_train": ("goemotions", "train"), "emobank_train": ("emobank", "train"),
          "emobank_dev": ("emobank", "dev"), "emobank_test": ("emobank", "test")}


def _texts(corpus: str, split: str, data_root: Path | None) -> list[str]:
    return (load_goemotions if corpus == "goemotions" else load_emobank)(split, data_root).texts


def states(out: Path, model_dir: Path, data_root: Path | None, threads: int, corpus: Path | None = None) -> None:
    """Layer-3 hidden states of the shipped model for every text of the training/eval splits.

    Each text is read as the runtime reads its first window: ``[CLS]`` + up to 126 pieces + ``[SEP]``.
    With ``corpus`` (``vad_corpus.py``), only that corpus's texts, into ``states_<corpus name>.npz``.
    """
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer
    from affectlens_recipes.vad_corpus import read_corpus

    model = TextOnnxRecognizer(model_dir, threads=threads)
    out.mkdir(parents=True, exist_ok=True)
    keys = [corpus.stem] if corpus is not None else list(SPLITS)
    for key in keys:
        t0 = time.time()
        texts = read_corpus(corpus) if corpus is not None else _texts(*SPLITS[key], data_root)
        parts: list[np.ndarray] = [np.zeros((0, 384), np.float16)] * len(texts)
        for chunk, mask, (hidden3,) in model.first_window_batches(texts, ["hidden_layer3"], MAX_TOKENS):
            for row, i in enumerate(chunk):
                parts[i] = hidden3[row, : int(mask[row].sum())].astype(np.float16)
        offsets = np.concatenate([[0], np.cumsum([len(p) for p in parts])])
        np.savez(out / f"states_{key}.npz", hidden=np.concatenate(parts), offsets=offsets)
        print(f"{key}: {len(texts)} texts, {offsets[-1]} tokens, {time.time() - t0:.0f} s", flush=True)
    if corpus is None:
        (out / "states_source.json").write_text(json.dumps(
            {"model.onnx": sha256_file(model_dir / "model.onnx"), "max_tokens": MAX_TOKENS}))


def _shipped_weights(model_dir: Path) -> dict[str, np.ndarray]:
    """Float weights of the shipped graph by torch parameter name (int8 ones dequantized)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(model_dir / "model.onnx"))
    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    weights = {k: v.astype(np.float32) for k, v in init.items() if not k.startswith("onnx::")}
    dequantized: dict[str, np.ndarray] = {}
    for node in model.graph.node:
        if node.op_type == "DequantizeLinear":
            q, scale = init[node.input[0]], init[node.input[1]]
            axis = next(a.i for a in node.attribute if a.name == "axis")
            shape = (1, -1) if axis == 1 else (-1, 1)
            dequantized[node.output[0]] = q.astype(np.float32) * scale.reshape(shape)
    for node in model.graph.node:
        if node.op_type == "MatMul" and node.name.endswith("/MatMul"):
            source = node.input[1]
            matrix = dequantized.get(source, init.get(source))
            if matrix is None:
                continue
            # "/encoder/encoder/layer.4/attention/self/query/MatMul"
            #   -> "encoder.encoder.layer.4.attention.self.query.weight"
            param = node.name.strip("/").rsplit("/", 1)[0].replace("/", ".") + ".weight"
            weights[param] = np.ascontiguousarray(np.asarray(matrix, dtype=np.float32).T)
    return weights


def _build(torch: Any, model_dir: Path, init_from_shipped: bool = True) -> Any:
    from transformers import BertConfig
    from transformers.models.bert.modeling_bert import BertLayer

    from affectlens.pretrained import minilm_dir

    config = BertConfig.from_pretrained(str(minilm_dir(verify=False)))
    config._attn_implementation = "eager"

    class VadBranch(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.layers = torch.nn.ModuleList([BertLayer(config) for _ in BRANCH_LAYERS])
            self.dropout = torch.nn.Dropout(0.1)
            self.vad_head = torch.nn.Linear(config.hidden_size, 3)

        def forward(self, hidden: Any, attention_mask: Any) -> Any:
            mask = attention_mask.to(hidden.dtype)
            additive = (1.0 - mask)[:, None, None, :] * -1e4
            for layer in self.layers:
                out = layer(hidden, attention_mask=additive)
                hidden = out[0] if isinstance(out, tuple) else out
            weights = mask.unsqueeze(-1)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
            return self.vad_head(self.dropout(pooled))

    branch = VadBranch()
    if init_from_shipped:
        shipped = _shipped_weights(model_dir)
        state = {}
        for k, layer_index in enumerate(BRANCH_LAYERS):
            prefix = f"encoder.encoder.layer.{layer_index}."
            for name in branch.layers[k].state_dict():
                state[f"layers.{k}.{name}"] = torch.tensor(shipped[prefix + name])
        for name in ("weight", "bias"):
            state[f"vad_head.{name}"] = torch.tensor(shipped[f"vad_head.{name}"])
        branch.load_state_dict(state)
    return branch


class _States:
    def __init__(self, path: Path) -> None:
        data = np.load(path)
        self.hidden = data["hidden"]
        self.offsets = data["offsets"]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def length(self, i: int) -> int:
        return int(self.offsets[i + 1] - self.offsets[i])

    def batch(self, torch: Any, idx: list[int]) -> tuple[Any, Any]:
        width = max(self.length(i) for i in idx)
        hidden = np.zeros((len(idx), width, self.hidden.shape[1]), dtype=np.float32)
        mask = np.zeros((len(idx), width), dtype=np.int64)
        for row, i in enumerate(idx):
            n = self.length(i)
            hidden[row, :n] = self.hidden[self.offsets[i] : self.offsets[i + 1]]
            mask[row, :n] = 1
        return torch.from_numpy(hidden), torch.from_numpy(mask)


def _predict(torch: Any, branch: Any, states: _States) -> np.ndarray:
    branch.eval()
    out = np.zeros((len(states), 3), dtype=np.float32)
    order = sorted(range(len(states)), key=states.length)
    with torch.inference_mode():
        for b in range(0, len(order), 128):
            idx = order[b : b + 128]
            out[idx] = branch(*states.batch(torch, idx)).numpy()
    branch.train()
    return out


def train(out: Path, teacher: Path, model_dir: Path, epochs: int, batch_size: int, lr: float,
          head_lr: float, emobank_repeat: int, data_root: Path | None, corpus: Path | None = None) -> None:
    """Train the branch; keep the epoch with the best EmoBank dev valence r.

    With ``corpus``, its texts join the GoEmotions ones as teacher-labelled examples (states
    from ``states --corpus``, teacher VAD from ``text_teacher label --corpus`` beside ``teacher``).
    """
    import torch

    from affectlens.metrics import pearson

    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    torch.set_num_threads(2)
    cfg = json.loads((model_dir / "config.json").read_text())["vad"]
    mean, std = np.asarray(cfg["mean"]), np.asarray(cfg["std"])
    go = _States(out / "states_goemotions_train.npz")
    eb = _States(out / "states_emobank_train.npz")
    dev = _States(out / "states_emobank_dev.npz")
    taught = np.load(teacher)["goemotions_train"]
    if len(taught) != len(go):
        raise ValueError(f"{teacher}: {len(taught)} teacher rows for {len(go)} GoEmotions texts")
    targets = {"go": torch.tensor((taught - mean) / std, dtype=torch.float32),
               "eb": torch.tensor((load_emobank("train", data_root).vad - mean) / std, dtype=torch.float32)}
    sets = {"go": go, "eb": eb}
    if corpus is not None:
        sets["cx"] = _States(out / f"states_{corpus.stem}.npz")
        corpus_vad = np.load(teacher.parent / f"teacher_vad_{corpus.stem}.npz")["texts"]
        if len(corpus_vad) != len(sets["cx"]):
            raise ValueError(f"{corpus}: {len(corpus_vad)} teacher rows for {len(sets['cx'])} states")
        targets["cx"] = torch.tensor((corpus_vad - mean) / std, dtype=torch.float32)
    dev_gold = load_emobank("dev", data_root).vad
    branch = _build(torch, model_dir)
    optimizer = torch.optim.AdamW([
        {"params": branch.layers.parameters(), "lr": lr},
        {"params": branch.vad_head.parameters(), "lr": head_lr},
    ], weight_decay=0.01)
    per_epoch = sum(math.ceil(len(v) / batch_size) for k, v in sets.items() if k != "eb")
    per_epoch += emobank_repeat * math.ceil(len(eb) / batch_size)
    total = per_epoch * epochs
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_then_linear(total))
    lengths = {k: [v.length(i) for i in range(len(v))] for k, v in sets.items()}
    before = _predict(torch, branch, dev) * std + mean
    log: list[dict[str, Any]] = [{"epoch": 0, "emobank_dev_pearson": [
        pearson(dev_gold[:, k], before[:, k]) for k in range(3)]}]
    print(json.dumps(log[0]), flush=True)
    best, step, t0 = -1.0, 0, time.time()
    for epoch in range(epochs):
        plan = [(k, b) for k in sets if k != "eb" for b in bucketed_batches(lengths[k], batch_size, rng)]
        for _ in range(emobank_repeat):
            plan += [("eb", b) for b in bucketed_batches(lengths["eb"], batch_size, rng)]
        rng.shuffle(plan)
        for kind, idx in plan:
            hidden, mask = sets[kind].batch(torch, idx)
            loss = torch.nn.functional.mse_loss(branch(hidden, mask), targets[kind][idx])
            optimiser_step(torch, loss, optimizer, schedule, branch.parameters())
            step += 1
            if step % 200 == 0:
                print_progress(epoch + 1, step, total, float(loss.detach()), t0)
        pred = _predict(torch, branch, dev) * std + mean
        entry: dict[str, Any] = {"epoch": epoch + 1, "minutes": round((time.time() - t0) / 60, 1),
                                 "emobank_dev_pearson": [pearson(dev_gold[:, k], pred[:, k]) for k in range(3)]}
        log.append(entry)
        print(json.dumps(entry), flush=True)
        if entry["emobank_dev_pearson"][0] > best:
            best = entry["emobank_dev_pearson"][0]
            torch.save(branch.state_dict(), out / "branch.pt")
    (out / "branch_log.json").write_text(json.dumps(log, indent=2))


def export(out: Path, model_dir: Path) -> Path:
    """``branch.pt`` -> ``vad_branch.onnx`` (int8 weights, float activations, as the main graph)."""
    import torch

    from affectlens_recipes.quantize import weight_only_int8

    branch = _build(torch, model_dir, init_from_shipped=False)
    branch.load_state_dict(torch.load(out / "branch.pt", map_location="cpu"))
    branch.eval()
    fp32 = out / "vad_branch_fp32.onnx"
    torch.onnx.export(
        branch, (torch.zeros((2, 7, 384)), torch.ones((2, 7), dtype=torch.long)), str(fp32),
        input_names=["hidden_layer3", "attention_mask"], output_names=["vad"],
        dynamic_axes={"hidden_layer3": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                      "vad": {0: "batch"}},
        opset_version=17, dynamo=False,
    )
    target = out / "vad_branch.onnx"
    weight_only_int8(fp32, target)
    return target


def finalize(out: Path, model_dir: Path, data_root: Path | None, install: bool) -> dict[str, Any]:
    """Export, score EmoBank dev/test through ``TextOnnxRecognizer`` (head and branch), write config."""
    from affectlens.metrics import pearson
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer
    from affectlens_recipes.text_finalize import SESSION_CONFIG as FLOAT_PATH

    branch_file = export(out, model_dir)
    staged = out / "model"
    if staged.exists():
        shutil.rmtree(staged)
    shutil.copytree(model_dir, staged)
    shutil.copy(branch_file, staged / "vad_branch.onnx")
    config = json.loads((staged / "config.json").read_text())
    config.pop("vad_branch", None)
    config["sha256"].pop("vad_branch.onnx", None)
    # the branch reads the float-activation encoder's layer-3 states, whatever graph the package runs
    config.pop("model_file", None)
    config["onnxruntime_session_config"] = FLOAT_PATH
    (staged / "config.json").write_text(json.dumps(config, indent=2))
    results: dict[str, Any] = {}
    for variant in ("head", "branch"):
        if variant == "branch":
            config["vad_branch"] = {"file": "vad_branch.onnx", "input": "hidden_layer3",
                                    "layers": list(BRANCH_LAYERS)}
            config["sha256"]["vad_branch.onnx"] = sha256_file(staged / "vad_branch.onnx")
            (staged / "config.json").write_text(json.dumps(config, indent=2))
        rec = TextOnnxRecognizer(staged, threads=2)
        for split in ("dev", "test"):
            data = load_emobank(split, data_root)
            vad = np.stack([o[1] for o in rec._infer(data.texts)]) * rec.config.vad_std + rec.config.vad_mean
            results[f"{variant}_emobank_{split}"] = [round(pearson(data.vad[:, k], vad[:, k]), 4) for k in range(3)]
        print(variant, {k: v for k, v in results.items() if k.startswith(variant)}, flush=True)
    metrics = json.loads((staged / "metrics.json").read_text())
    for split in ("dev", "test"):
        block = metrics.setdefault(f"emobank_{split}", {})
        block.update(dict(zip(("pearson_valence", "pearson_arousal", "pearson_dominance"),
                              results[f"branch_emobank_{split}"], strict=True)))
        block["shared_head_pearson_vad"] = results[f"head_emobank_{split}"]
    teacher_metrics = out.parent / "teacher" / "teacher_metrics.json"
    metrics["vad_branch"] = {
        "train_log": json.loads((out / "branch_log.json").read_text()),
        "teacher": json.loads(teacher_metrics.read_text()) if teacher_metrics.exists() else None,
    }
    (staged / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (out / "branch_metrics.json").write_text(json.dumps(results, indent=2))
    if install:
        for name in ("vad_branch.onnx", "config.json", "metrics.json"):
            shutil.copy(staged / name, model_dir / name)
        print(f"installed into {model_dir}")
    return results


def linear_probe(teacher: Path, corpus: Path, model_dir: Path, data_root: Path | None) -> dict[str, list[float]]:
    """Can a linear VAD head on the shipped pooled ``embedding`` use the teacher's labels?

    Ridge (alpha 100) on EmoBank train gold alone, then with the teacher's VAD for ``corpus``
    (gold weighted 1x and 3x) and for GoEmotions train too; EmoBank dev Pearson r per fit.
    """
    from sklearn.linear_model import Ridge

    from affectlens.metrics import pearson
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer
    from affectlens_recipes.vad_corpus import read_corpus

    model = TextOnnxRecognizer(model_dir, threads=2)

    def pooled(texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 384), np.float32)
        for chunk, _, (embedding,) in model.first_window_batches(texts, ["embedding"], MAX_TOKENS):
            out[chunk] = embedding
        return out

    train, dev = load_emobank("train", data_root), load_emobank("dev", data_root)
    x_train, x_dev = pooled(train.texts), pooled(dev.texts)
    corpus_vad = np.load(teacher.parent / f"teacher_vad_{corpus.stem}.npz")["texts"]
    extra = {"corpus": (pooled(read_corpus(corpus)), corpus_vad),
             "goemotions": (pooled(_texts("goemotions", "train", data_root)), np.load(teacher)["goemotions_train"])}
    fits = [(1.0, ())] + [(w, names) for w in (1.0, 3.0) for names in (("corpus",), ("corpus", "goemotions"))]
    report: dict[str, list[float]] = {}
    for weight, sources in fits:
        name = f"gold x{weight:g} + {'+'.join(sources)}" if sources else "gold"
        xs = [x_train, *(extra[k][0] for k in sources)]
        ys = [train.vad, *(extra[k][1] for k in sources)]
        ws = [np.full(len(x_train), weight), *(np.ones(len(extra[k][0])) for k in sources)]
        head = Ridge(alpha=100.0).fit(np.concatenate(xs), np.concatenate(ys), sample_weight=np.concatenate(ws))
        pred = head.predict(x_dev)
        report[name] = [round(pearson(dev.vad[:, k], pred[:, k]), 4) for k in range(3)]
        print(name, report[name], flush=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("states", "train", "finalize", "probe"):
        p = sub.add_parser(name)
        p.add_argument("--out", type=Path, default=Path("artifacts/text/branch"))
        p.add_argument("--model-dir", type=Path, default=TEXT_MODEL_DIR)
        p.add_argument("--data-root", type=Path, default=None)
        if name in ("states", "train", "probe"):
            p.add_argument("--corpus", type=Path, default=None, help="teacher-labelled texts (vad_corpus.py)")
        if name == "states":
            p.add_argument("--threads", type=int, default=2)
        if name in ("train", "probe"):
            p.add_argument("--teacher", type=Path, default=Path("artifacts/text/teacher/teacher_vad.npz"))
        if name == "train":
            p.add_argument("--epochs", type=int, default=3)
            p.add_argument("--batch-size", type=int, default=32)
            p.add_argument("--lr", type=float, default=5e-5)
            p.add_argument("--head-lr", type=float, default=1e-3)
            p.add_argument("--emobank-repeat", type=int, default=2)
        if name == "finalize":
            p.add_argument("--install", action="store_true", help="copy into the package's model folder")
    args = parser.parse_args()
    if args.command == "states":
        states(args.out, args.model_dir, args.data_root, args.threads, args.corpus)
    elif args.command == "probe":
        if args.corpus is None:
            parser.error("probe needs --corpus")
        linear_probe(args.teacher, args.corpus, args.model_dir, args.data_root)
    elif args.command == "train":
        train(args.out, args.teacher, args.model_dir, args.epochs, args.batch_size, args.lr,
              args.head_lr, args.emobank_repeat, args.data_root, args.corpus)
    else:
        finalize(args.out, args.model_dir, args.data_root, args.install)


if __name__ == "__main__":
    main()
