"""Train the FER+ expression CNN, evaluate it on the official test split, export ONNX (+ int8).

Recipe that produced ``models/face-ferplus-cnn-v1`` (see its MODEL_CARD.md; 18 epochs at width
1.5 on two CPU threads, ~95 minutes)::

    python -m affectlens_recipes.face --data ../shared/datasets --out artifacts/face/w15 \
        --epochs 18 --width 1.5 --threads 2 --max-minutes 115 --seed 9
    python -m affectlens_recipes.face retune --data ../shared/datasets --out artifacts/face/w15 \
        --target artifacts/face/w15_r2   # mirror averaging + prior correction, chosen on valid; int8
    python -m affectlens_recipes.face install --data ../shared/datasets --out artifacts/face/w15_r2 \
        --variant int8                   # temperature on valid, copy + sha256, recognizer-path test

The second CNN of ``models/face-ferplus-wild-fusion-v4`` (features only; see that card): the same
architecture, 30 epochs, ``--bf16`` (bfloat16 autocast + channels-last: 2.2x faster per batch on a
CPU with avx512_bf16, 114 s per epoch on 2 threads)::

    python -m affectlens_recipes.face --data ../shared/datasets --out artifacts/face/w15s33bf \
        --epochs 30 --width 1.5 --threads 2 --max-minutes 110 --seed 33 --bf16 --int8

``models/face-ferplus-wild-fusion-v5`` reads that CNN and one trained without class weights
(``--class-weight-power 0 --seed 51``, otherwise the same; FER2013Valid 0.848 accuracy before any
decision rule, against 0.799 with the weights: the class balance is left to the fusion head).

Data: FER2013 48x48 gray images in the FER+ layout (``fer2013_ferplus_images``; official
FER2013Train / FER2013Valid (PublicTest) / FER2013Test (PrivateTest) folders) with the FER+
votes of ``ferplus_labels/fer2013new.csv`` (last row wins for the 4 duplicated names).
Images whose plurality vote is "unknown" or "not a face" are dropped (the FER+ convention).

Why these choices:

* **Vote-distribution targets** (soft cross-entropy against the 8 emotion votes,
  normalised): FER+ votes carry the ambiguity of each face; Barsoum et al. 2016 found
  the distribution better than the majority label.  Accuracy is still scored on the
  majority label, as everyone reports it.
* **Re-weighted rare classes**: disgust and contempt are ~0.5% of training faces; a
  plain loss ignores them (a 292k-parameter CNN scored 0 F1 on both).  Each class weighs
  ``(frequency)^-power`` (``--class-weight-power``, default 0.5), normalised to mean 1.
* **A small VGG-style CNN** (conv-BN-ReLU pairs, 4 stages, global average pooling; width 1.0:
  ~1.2M parameters, ~95M multiply-adds per face; the shipped width 1.5: 2.6M, ~210M) trains
  on 2 CPU cores in ~3 (width 1.0) or ~5 (width 1.5) min per epoch and runs at hundreds of
  faces/s; ``--width`` scales the channels.
* **Augmentation on the batch** (flip, rotation ±10°, scale 0.9-1.1, shift ±8%, random
  erasing): FER2013 is small and its faces vary in framing; random framing also makes the
  model tolerant of the detector's crop.
* **Selection on FER2013Valid** only (best epoch by majority accuracy + macro-F1); the
  test split is read once, at the end.

Outputs in ``--out``: ``model.onnx`` (fp32, exported with ``dynamo=False``),
``model.int8.onnx`` (static QDQ int8, per-channel weights, calibrated on training faces) when
``--int8``, ``config.json`` (labels, input size, normalisation, sha256), ``metrics.json``
(accuracy, macro-F1, per-class F1, confusion matrix, FER2013 7-class PrivateTest accuracy,
fp32/int8 agreement) and ``train_log.jsonl``.

Needs the ``train`` extra (torch==2.13.0); pass ``--threads 1`` and run under ``nice`` when
the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.bench.ferplus_data import INPUT_SIZE, FerSplit, load_split
from affectlens.calibration import softmax
from affectlens_recipes.face_scores import FER2013_TO_FERPLUS as FER2013_TO_FERPLUS  # re-exported
from affectlens_recipes.face_scores import FERPLUS_LABELS as FERPLUS_LABELS
from affectlens_recipes.face_scores import SEED as SEED
from affectlens_recipes.face_scores import bootstrap_ci as bootstrap_ci
from affectlens_recipes.face_scores import ece as ece
from affectlens_recipes.face_scores import fer2013_private_accuracy as fer2013_private_accuracy
from affectlens_recipes.face_scores import fit_temperature as fit_temperature
from affectlens_recipes.face_scores import scores as scores

#: pixel normalisation baked into config.json: x = (pixel / 255 - MEAN) / STD
MEAN, STD = 0.5, 0.25


def class_weights(majority: np.ndarray, power: float, n: int = len(FERPLUS_LABELS)) -> np.ndarray:
    counts = np.bincount(majority, minlength=n).astype(np.float64) + 1.0
    weights = (counts / counts.sum()) ** (-power)
    return (weights / weights.mean()).astype(np.float32)


def build_model(torch: Any, width: float = 1.0, n_classes: int = len(FERPLUS_LABELS)) -> Any:
    nn = torch.nn
    c = [max(8, round(k * width)) for k in (32, 64, 128, 256)]

    def conv(cin: int, cout: int) -> list[Any]:
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

    layers: list[Any] = [*conv(1, c[0]), nn.MaxPool2d(2)]  # 48 -> 24
    layers += [*conv(c[0], c[1]), *conv(c[1], c[1]), nn.MaxPool2d(2), nn.Dropout(0.1)]  # -> 12
    layers += [*conv(c[1], c[2]), *conv(c[2], c[2]), nn.MaxPool2d(2), nn.Dropout(0.2)]  # -> 6
    layers += [*conv(c[2], c[3]), *conv(c[3], c[3]), nn.MaxPool2d(2), nn.Dropout(0.3)]  # -> 3
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.4), nn.Linear(c[3], n_classes)]
    return nn.Sequential(*layers)


def _to_tensor(torch: Any, images: np.ndarray) -> Any:
    return (torch.from_numpy(images).float().unsqueeze(1) / 255.0 - MEAN) / STD


def augment(torch: Any, x: Any, generator: Any) -> Any:
    """Random flip, rotation, scale, shift and erasing on a normalised batch [B, 1, H, W]."""
    import torch.nn.functional as F

    b = x.shape[0]
    flip = torch.rand(b, generator=generator) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    angle = (torch.rand(b, generator=generator) * 2 - 1) * math.radians(10)
    scale = 1.0 + (torch.rand(b, generator=generator) * 2 - 1) * 0.1
    shift = (torch.rand(b, 2, generator=generator) * 2 - 1) * 0.16  # grid units: 0.16 = 8% of the side
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, padding_mode="border", align_corners=False)
    # random erasing: one rectangle of 10-25% side on half of the faces
    size = x.shape[-1]
    for i in torch.nonzero(torch.rand(b, generator=generator) < 0.5).flatten().tolist():
        h = int(size * (0.1 + 0.15 * float(torch.rand(1, generator=generator))))
        w = int(size * (0.1 + 0.15 * float(torch.rand(1, generator=generator))))
        top = int(torch.randint(0, size - h, (1,), generator=generator))
        left = int(torch.randint(0, size - w, (1,), generator=generator))
        x[i, :, top : top + h, left : left + w] = 0.0
    return x


def predict(torch: Any, model: Any, images: np.ndarray, batch: int = 256) -> np.ndarray:
    model.eval()
    out: list[np.ndarray] = []
    with torch.no_grad():
        for s in range(0, len(images), batch):
            out.append(torch.softmax(model(_to_tensor(torch, images[s : s + batch])), 1).numpy())
    return np.concatenate(out) if out else np.zeros((0, len(FERPLUS_LABELS)), np.float32)


def train(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = Path(args.data)
    started = time.perf_counter()
    train_split = load_split(data, "train", limit=args.limit)
    valid = load_split(data, "valid", limit=args.limit and max(200, args.limit // 8))
    print(f"loaded train {len(train_split)} valid {len(valid)} in {time.perf_counter() - started:.0f}s", flush=True)
    weights = torch.from_numpy(class_weights(train_split.majority, args.class_weight_power))
    model = build_model(torch, args.width)
    if args.bf16:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(len(train_split) / args.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch,
                                                   pct_start=0.15)
    generator = torch.Generator().manual_seed(args.seed)
    x_all = _to_tensor(torch, train_split.images)
    y_all = torch.from_numpy(train_split.targets)
    best: tuple[float, int] = (-1.0, -1)
    log = (out / "train_log.jsonl").open("w", encoding="utf-8")
    deadline = started + args.max_minutes * 60 if args.max_minutes else None
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_split), generator=generator)
        total_loss = 0.0
        t0 = time.perf_counter()
        for step in range(steps_per_epoch):
            idx = order[step * args.batch_size : (step + 1) * args.batch_size]
            x = augment(torch, x_all[idx].clone(), generator)
            y = y_all[idx]
            if args.bf16:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                logits = model(x)
            logp = torch.log_softmax(logits.float(), 1)
            loss = -(y * logp * weights).sum(1).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total_loss += loss.item()
            if deadline and time.perf_counter() > deadline:
                break
        val = scores(valid.majority, predict(torch, model, valid.images).argmax(1))
        entry = {"epoch": epoch + 1, "loss": round(total_loss / max(1, step + 1), 4), "valid_accuracy": val["accuracy"],
                 "valid_macro_f1": val["macro_f1"], "seconds": round(time.perf_counter() - t0, 1)}
        print(json.dumps(entry), flush=True)
        log.write(json.dumps(entry) + "\n")
        log.flush()
        criterion = val["accuracy"] + val["macro_f1"]
        if criterion > best[0]:
            best = (criterion, epoch + 1)
            torch.save(model.state_dict(), out / "best.pt")
        if deadline and time.perf_counter() > deadline:
            print("time budget reached: stopping", flush=True)
            break
    log.close()
    model = model.to(memory_format=torch.contiguous_format)
    model.load_state_dict(torch.load(out / "best.pt"))
    return evaluate_and_export(torch, model, args, data, out, best_epoch=best[1], train_split=train_split)


def evaluate_and_export(torch: Any, model: Any, args: argparse.Namespace, data: Path, out: Path, *,
                        best_epoch: int, train_split: FerSplit, mirror: bool = False) -> dict[str, Any]:
    from affectlens.models import sha256_file

    test = load_split(data, "test", limit=args.limit and max(200, args.limit // 8))
    probs = predict(torch, model, test.images)
    metrics: dict[str, Any] = {
        "data": "FER+ (fer2013new.csv votes) on FER2013 images, official splits",
        "best_epoch": best_epoch,
        "args": {k: v for k, v in vars(args).items() if k != "func"},
        "ferplus_test_torch": scores(test.majority, probs.argmax(1)),
        "fer2013_privatetest_7class": fer2013_private_accuracy(data, test, probs),
    }
    model.eval()
    dummy = _to_tensor(torch, test.images[:2])
    onnx_path = out / "model.onnx"
    torch.onnx.export(model, (dummy,), str(onnx_path), input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17, dynamo=False)
    onnx_probs = _onnx_probs(onnx_path, test.images, mirror=mirror)
    metrics["ferplus_test_onnx_fp32"] = scores(test.majority, onnx_probs.argmax(1))
    sha = {"model.onnx": sha256_file(onnx_path)}
    if args.int8:
        int8_path = out / "model.int8.onnx"
        quantize_int8(onnx_path, int8_path, train_split.images[:512])
        int8_probs = _onnx_probs(int8_path, test.images, mirror=mirror)
        metrics["ferplus_test_onnx_int8"] = scores(test.majority, int8_probs.argmax(1))
        metrics["int8_agreement_with_fp32"] = round(float((int8_probs.argmax(1) == onnx_probs.argmax(1)).mean()), 4)
        sha["model.int8.onnx"] = sha256_file(int8_path)
    config = {
        "labels": list(FERPLUS_LABELS), "label_set": "ferplus", "input_size": [INPUT_SIZE, INPUT_SIZE],
        "channels": 1, "input_name": "image", "output_name": "logits", "scale": 1.0 / 255.0, "mean": MEAN,
        "std": STD, "temperature": 1.0, "margin": args.margin, "version": "v1", "mirror_average": mirror,
        "sha256": sha,
    }
    (out / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1), encoding="utf-8")
    head = metrics["ferplus_test_onnx_fp32"]
    print(f"test (FER+ majority) accuracy {head['accuracy']} macro-F1 {head['macro_f1']} n={head['n']}", flush=True)
    return metrics


def _onnx_probs(path: Path, images: np.ndarray, *, mirror: bool | None = None) -> np.ndarray:
    return softmax(_logits(path, images, mirror=mirror), 1.0)


def quantize_int8(source: Path, target: Path, calibration_images: np.ndarray) -> None:
    """Static QDQ int8 (per-channel weights, activations calibrated on training faces).

    Dynamic quantization (the text model's route) quantizes only MatMul-like ops and is slow
    for convolutions; a CNN needs static quantization with a calibration set.
    """
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    batches = [((calibration_images[s : s + 64].astype(np.float32) / 255.0 - MEAN) / STD)[:, None]
               for s in range(0, len(calibration_images), 64)]

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self._iter = iter(batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self._iter, None)
            return None if batch is None else {"image": batch}

    quantize_static(str(source), str(target), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8)


def _logits(path: Path, images: np.ndarray, *, mirror: bool | None = None) -> np.ndarray:
    """An exported model's logits; ``mirror`` (default: the ``mirror_average`` of the config.json
    beside it) averages each face's logits with its mirror image's, as the recognizer does."""
    import onnxruntime as ort

    if mirror is None:
        config = path.parent / "config.json"
        mirror = config.is_file() and bool(json.loads(config.read_text(encoding="utf-8")).get("mirror_average"))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = ((images.astype(np.float32) / 255.0 - MEAN) / STD)[:, None]
    out = np.concatenate([session.run(["logits"], {"image": x[s : s + 256]})[0] for s in range(0, len(x), 256)])
    if mirror:
        flipped = x[..., ::-1].copy()
        out = (out + np.concatenate([session.run(["logits"], {"image": flipped[s : s + 256]})[0]
                                     for s in range(0, len(x), 256)])) / 2.0
    return np.asarray(out)


def install(args: argparse.Namespace) -> dict[str, Any]:
    """Copy a trained run into a model folder: chosen variant as ``model.onnx``, temperature fitted
    on FER2013Valid, sha256 pinned, metrics (+ the recognizer's own test pass and bootstrap CIs)."""
    import shutil

    from affectlens.models import MODELS_DIR, sha256_file
    from affectlens.recognizers.face_onnx import FaceOnnxRecognizer

    run, data = Path(args.out), Path(args.data)
    target = Path(args.target) if args.target else MODELS_DIR / "face-ferplus-cnn-v1"
    source = run / ("model.int8.onnx" if args.variant == "int8" else "model.onnx")
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    valid = load_split(data, "valid")
    logits = _logits(source, valid.images)
    temperature, before, after = fit_temperature(logits, valid.targets)
    metrics["calibration_valid"] = {
        "temperature": temperature, "soft_ce_before": before, "soft_ce_after": after,
        "ece_before": ece(softmax(logits, 1.0), valid.majority),
        "ece_after": ece(softmax(logits, temperature), valid.majority),
        "note": "temperature fitted on FER2013Valid (cross-entropy against the vote distribution); "
                "ECE: 15 bins, top-label probability against the majority label"}
    metrics["valid_shipped"] = scores(valid.majority, logits.argmax(1))
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target / "model.onnx")
    config.update({"name": "face.ferplus-cnn.v1", "temperature": temperature, "variant": args.variant,
                   "sha256": {"model.onnx": sha256_file(target / "model.onnx")}})
    (target / "config.json").write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
    # the test split through the code path users run (no detector: FER images are face crops)
    test = load_split(data, "test")
    recognizer = FaceOnnxRecognizer(target, detector="none", explain=False, threads=args.threads)
    probs = recognizer.predict_crops(test.images)
    shipped = scores(test.majority, probs.argmax(1))
    shipped["bootstrap_95ci"] = bootstrap_ci(test.majority, probs.argmax(1))
    shipped["ece"] = ece(probs, test.majority)
    metrics["shipped_variant"] = args.variant
    metrics["ferplus_test_shipped_recognizer"] = shipped
    metrics["fer2013_privatetest_7class_shipped"] = fer2013_private_accuracy(data, test, probs)
    metrics["model_bytes"] = (target / "model.onnx").stat().st_size
    london = london_smoke(target, data / "faces_london_smoke", threads=args.threads)
    if london:
        metrics["london_smoke"] = london
    (target / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    print(f"installed {args.variant} into {target}: temperature {temperature}; test accuracy {shipped['accuracy']} "
          f"macro-F1 {shipped['macro_f1']} (recognizer path, n={shipped['n']})", flush=True)
    return metrics


def london_smoke(model_dir: Path, folder: Path, *, threads: int = 1) -> dict[str, Any]:
    """Posed neutral/smiling portraits through the full path (Haar detector, crop, model): a sanity check."""
    from affectlens.recognizers.face_onnx import FaceOnnxRecognizer
    from affectlens.vision.io import load_image

    paths = sorted(folder.glob("*_*.jpg"))
    if not paths:
        return {}
    recognizer = FaceOnnxRecognizer(model_dir, explain=False, threads=threads)
    rows: dict[str, dict[str, Any]] = {}
    for path, result in zip(paths, recognizer.analyze([load_image(p) for p in paths]), strict=True):
        seg = result.segments[0] if result.segments else None
        rows[path.stem] = {"faces": len(result.segments), "top": seg.top_label if seg else None,
                           "happiness": round(seg.scores["happiness"], 3) if seg else None}
    people = sorted({k.split("_")[0] for k in rows})
    pairs: list[tuple[float, float]] = []
    for person in people:
        a, b = rows.get(f"{person}_smiling"), rows.get(f"{person}_neutral")
        if a and b and a["happiness"] is not None and b["happiness"] is not None:
            pairs.append((a["happiness"], b["happiness"]))
    smiling = [r for k, r in rows.items() if k.endswith("_smiling")]
    neutral = [r for k, r in rows.items() if k.endswith("_neutral")]
    return {
        "images": len(rows),
        "one_face_each": sum(r["faces"] == 1 for r in rows.values()),
        "smiling_top_happiness": f"{sum(r['top'] == 'happiness' for r in smiling)}/{len(smiling)}",
        "neutral_top_neutral": f"{sum(r['top'] == 'neutral' for r in neutral)}/{len(neutral)}",
        "pairs_happiness_smiling_above_neutral":
            f"{sum(a > b for a, b in pairs)}/{len(pairs)}",
        "per_image": rows,
    }


def retune(args: argparse.Namespace) -> dict[str, Any]:
    """Decision-rule tuning of a trained run on FER2013Valid only, baked into a new export.

    Candidates: horizontal-flip test-time averaging (on/off) x a prior correction of the logits,
    ``logit_c - alpha * log(weight_c)`` (alpha 0-1.5): the class weights of the loss inflate
    the rare classes' probabilities by ``weight_c`` (alpha 1 undoes that exactly).  The
    candidate with the best valid accuracy + macro-F1 (the epoch-selection criterion; alpha 0
    without flip, the trained model, is one candidate) is exported with ``evaluate_and_export``:
    the offset goes into the last layer's bias, the flip average into the ONNX graph.
    """
    import shutil

    import torch

    torch.set_num_threads(args.threads)
    run, target, data = Path(args.out), Path(args.target), Path(args.data)
    trained = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    targs = argparse.Namespace(**trained["args"])
    train_split, valid = load_split(data, "train"), load_split(data, "valid")
    base = build_model(torch, targs.width)
    base.load_state_dict(torch.load(run / "best.pt"))
    base.eval()

    class FlipAverage(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: Any) -> Any:
            return (self.inner(x) + self.inner(torch.flip(x, [3]))) / 2

    log_w = np.log(class_weights(train_split.majority, targs.class_weight_power)).astype(np.float64)
    candidates: list[dict[str, Any]] = []
    for flip in (False, True):
        logp = np.log(np.maximum(predict(torch, FlipAverage(base) if flip else base, valid.images), 1e-12))
        for alpha in np.round(np.arange(0.0, 1.5001, 0.1), 2):
            s = scores(valid.majority, (logp - alpha * log_w).argmax(1))
            candidates.append({"flip": flip, "alpha": float(alpha), "valid_accuracy": s["accuracy"],
                               "valid_macro_f1": s["macro_f1"]})
    best = max(candidates, key=lambda c: c["valid_accuracy"] + c["valid_macro_f1"])  # first of ties
    print(f"chosen on valid: {best}", flush=True)
    with torch.no_grad():
        base[-1].bias -= torch.from_numpy(best["alpha"] * log_w).float()
    targs.out, targs.int8 = str(target), True
    target.mkdir(parents=True, exist_ok=True)
    # the mirror average is the recognizer's (config "mirror_average"), not the graph's: int8
    # kernels then run the plain CNN over a batch of 2N
    metrics = evaluate_and_export(torch, base, targs, data, target, best_epoch=trained["best_epoch"],
                                  train_split=train_split, mirror=bool(best["flip"]))
    metrics["retune"] = {"chosen": best, "candidates": candidates, "from_run": str(run),
                         "trained_model_test_fp32": trained.get("ferplus_test_onnx_fp32", {}).get("accuracy"),
                         "note": "chosen on FER2013Valid only (accuracy + macro-F1)"}
    (target / "metrics.json").write_text(json.dumps(metrics, indent=1), encoding="utf-8")
    if (run / "train_log.jsonl").is_file():
        shutil.copy(run / "train_log.jsonl", target / "train_log.jsonl")
    return metrics


def parse_retune_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="tune flip averaging and a prior correction on FER2013Valid")
    parser.add_argument("--data", default="../shared/datasets")
    parser.add_argument("--out", default="artifacts/face", help="the training run's output folder")
    parser.add_argument("--target", required=True, help="output folder of the re-exported model")
    parser.add_argument("--threads", type=int, default=1)
    return parser.parse_args(argv)


def parse_install_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="install a trained run into a model folder")
    parser.add_argument("--data", default="../shared/datasets")
    parser.add_argument("--out", default="artifacts/face", help="the training run's output folder")
    parser.add_argument("--target", default=None, help="model folder (default: models/face-ferplus-cnn-v1)")
    parser.add_argument("--variant", choices=("fp32", "int8"), default="fp32")
    parser.add_argument("--threads", type=int, default=1)
    return parser.parse_args(argv)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/datasets",
                        help="folder with fer2013_ferplus_images and ferplus_labels")
    parser.add_argument("--out", default="artifacts/face")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--width", type=float, default=1.0, help="channel multiplier of the CNN")
    parser.add_argument("--class-weight-power", type=float, default=0.5)
    parser.add_argument("--margin", type=float, default=0.10, help="crop margin written to config.json")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="train on a random subset (smoke runs)")
    parser.add_argument("--max-minutes", type=float, default=None, help="stop training after this long")
    parser.add_argument("--int8", action="store_true", help="also write a static int8 model")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--bf16", action="store_true",
                        help="train in bfloat16 autocast, channels-last (2.2x faster on CPUs with avx512_bf16)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    import sys

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["install"]:
        install(parse_install_args(argv[1:]))
    elif argv[:1] == ["retune"]:
        retune(parse_retune_args(argv[1:]))
    else:
        train(parse_args(argv))


if __name__ == "__main__":
    main()
