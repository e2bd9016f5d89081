r"""Train the speech emotion model on RAVDESS: a small log-mel CNN, actor-independent folds.

Recipe (reproduces ``models/speech-ravdess-cnn-v1``, an ensemble of a CNN and a TDNN, 30
epochs each, seed 7; needs the ``train`` and ``speech`` extras and
``../shared/datasets/ravdess_speech_16k``; about 45 min on one CPU thread in all)::

    C="--cache artifacts/speech/cache --epochs 30 --seed 7 --threads 1"
    python -m affectlens_recipes.speech prepare --out artifacts/speech/cache      # VAD-trim, mel cache (~15 s)
    python -m affectlens_recipes.speech cv --out artifacts/speech/cnn --arch cnn $C     # 6 folds x 4 actors
    python -m affectlens_recipes.speech final --out artifacts/speech/cnn --arch cnn $C  # all 24 actors
    python -m affectlens_recipes.speech cv --out artifacts/speech/tdnn --arch tdnn $C
    python -m affectlens_recipes.speech final --out artifacts/speech/tdnn --arch tdnn $C
    python benchmarks/speech_throughput.py --threads 1 --json artifacts/speech/throughput.json  # after a first finalize
    python -m affectlens_recipes.speech_functionals --cache artifacts/speech/cache --out artifacts/speech/func
    python -m affectlens_recipes.speech finalize --cache artifacts/speech/cache \
        --runs artifacts/speech/cnn artifacts/speech/tdnn --functionals artifacts/speech/func \
        --bench artifacts/speech/throughput.json

Data: the 1,440 RAVDESS speech files (24 actors x 60), 8 classes.  Each file is trimmed
to its speech with the same Silero VAD and parameters the recognizer uses at inference,
so the model sees what it will see at run time.  RAVDESS is CC BY-NC-SA 4.0: so is the
model.

Evaluation: 6 folds of 4 consecutive actors (each fold 2 female + 2 male), the model
trained on the other 20 actors with a fixed number of epochs (no early stopping on the
test actors); never a split by file.  Reported per fold: UAR over 8 classes, WAR, binary
arousal accuracy (the sign of the arousal that ``taxonomy.vad_from_scores`` gives the
predicted probabilities vs the sign of the true label's taxonomy anchor), the confusion
matrix, and the same metrics with white noise added to the test audio at 20 and 10 dB SNR.

Normalisation (the only use of unlabelled audio at inference): the log-mel input is
standardised per mel band by the mean and standard deviation of a *reference set* of
frames: either the utterance itself ("utterance" mode) or every speech segment of the
same speaker ("speaker" mode: in training, all 60 files of the actor; at inference, all
speech segments of the file being analysed).  Training draws one mode or the other at
random for each example so the model works in both; both are evaluated.

Augmentation (training only): speed perturbation 0.9/1.0/1.1 (changes pitch and tempo,
like ``sox speed``; mel spectra precomputed for each factor), additive white or pink noise
at 5-30 dB SNR in the mel power domain, random gain +-6 dB, SpecAugment masks (2 bands up
to 8 mels, 2 spans up to 20 frames), random 2 s crops.

Peer on the same folds: log-mel functionals (per-band mean and std) + logistic regression,
with and without per-speaker z-scoring of the functionals.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.features.spectral import LOG_FLOOR, N_MELS, log_mel, mel_power, normalise_log_mel
from affectlens_recipes.speech_baselines import _baseline_features as _baseline_features  # re-exported
from affectlens_recipes.speech_baselines import add_noise as add_noise
from affectlens_recipes.speech_baselines import baseline as baseline
from affectlens_recipes.speech_baselines import baseline_on_features as baseline_on_features
from affectlens_recipes.speech_baselines import speaker_zscored as speaker_zscored
from affectlens_recipes.speech_scores import LABELS, metrics, summarise

SEED = 7
SPEEDS: tuple[float, ...] = (0.9, 1.0, 1.1)
FOLDS: tuple[tuple[int, ...], ...] = tuple(tuple(range(4 * k + 1, 4 * k + 5)) for k in range(6))
CROP = 200  # frames (2 s) per training example
DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "ravdess_speech_16k"
MODEL_NAME = "speech-ravdess-cnn-v1"


def data_root(path: Path | None = None) -> Path:
    """``--data``, else ``$AFFECTLENS_DATA/ravdess_speech_16k`` (default ``../shared/datasets``)."""
    from affectlens.bench.datasets import data_root as corpora

    for candidate in (path, corpora() / "ravdess_speech_16k", DEFAULT_DATA):
        if candidate is not None and (candidate / "labels.csv").is_file():
            return candidate
    raise FileNotFoundError("RAVDESS not found: pass --data or set AFFECTLENS_DATA "
                            "(a folder with ravdess_speech_16k/labels.csv and Actor_NN/)")


def load_index(root: Path) -> list[dict[str, Any]]:
    with (root / "labels.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [{"path": str(root / r["path"]), "actor": int(r["actor"]), "label": LABELS.index(r["emotion"]),
             "emotion": r["emotion"], "intensity": r["intensity"]} for r in rows]


# -- prepare ----------------------------------------------------------------------------------------


def trim_to_speech(x: np.ndarray, vad: Any) -> np.ndarray:
    """The span from the first to the last VAD utterance (inference parameters); the whole clip if none."""
    from affectlens.audio.vad import VadParams, iter_utterances

    params = VadParams(max_segment_s=30.0, min_segment_s=0.3)
    utterances = list(iter_utterances([x], vad, params))
    if not utterances:
        return x
    a, b = int(utterances[0].start * 16000), int(utterances[-1].end * 16000)
    return x[a:b]


def speed(x: np.ndarray, factor: float) -> np.ndarray:
    """Speed perturbation (pitch and tempo together): play ``x`` ``factor`` times faster."""
    if factor == 1.0:
        return x
    import soxr

    return np.asarray(soxr.resample(x, 16000 * factor, 16000, quality="HQ"), np.float32)


def prepare(out: Path, data: Path | None) -> None:
    from affectlens.audio.decode import read_audio
    from affectlens.audio.vad import SileroVad

    root = data_root(data)
    index = load_index(root)
    vad = SileroVad()
    started = time.time()
    waves: list[np.ndarray] = []
    mels: dict[float, list[np.ndarray]] = {s: [] for s in SPEEDS}
    for i, row in enumerate(index):
        x = trim_to_speech(read_audio(row["path"]).samples, vad)
        waves.append(x.astype(np.float16))
        for s in SPEEDS:
            mels[s].append(mel_power(speed(x, s)).astype(np.float32))
        if i % 200 == 0:
            print(f"prepare {i}/{len(index)} {time.time() - started:.0f}s", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    lengths = [w.size / 16000 for w in waves]
    np.save(out / "waves.npy", object_array(waves), allow_pickle=True)
    for s in SPEEDS:
        np.save(out / f"mel_{s}.npy", object_array(mels[s]), allow_pickle=True)
    (out / "index.json").write_text(json.dumps(index), encoding="utf-8")
    print(f"prepared {len(index)} files in {time.time() - started:.0f}s; speech after trimming "
          f"{np.mean(lengths):.2f} s mean, {np.min(lengths):.2f}-{np.max(lengths):.2f} s", flush=True)


def object_array(items: list[np.ndarray]) -> np.ndarray:
    """A 1-D object array of arrays of different shapes (``np.array`` would try to broadcast them)."""
    holder = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        holder[i] = item
    return holder


def _load_cache(out: Path) -> tuple[list[dict[str, Any]], list[np.ndarray], dict[float, list[np.ndarray]]]:
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    waves = list(np.load(out / "waves.npy", allow_pickle=True))
    mels = {s: list(np.load(out / f"mel_{s}.npy", allow_pickle=True)) for s in SPEEDS}
    return index, waves, mels


# -- model ------------------------------------------------------------------------------------------


def build_model(torch: Any, n_classes: int = len(LABELS), width: int = 16, arch: str = "cnn") -> Any:
    """``cnn``: 2-D convolutions over (mel, time); ``tdnn``: 1-D dilated convolutions over time (7x cheaper)."""
    nn = torch.nn
    if arch == "tdnn":
        return _build_tdnn(torch, n_classes)

    def block(cin: int, cout: int, pool: bool) -> list[Any]:
        layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
        return [*layers, nn.MaxPool2d(2)] if pool else layers

    class SpeechCNN(nn.Module):  # type: ignore[misc,name-defined]
        """log-mel [B, 64, T] -> 4 conv blocks -> mean over mels -> mean+std over time -> logits [B, 8]."""

        def __init__(self) -> None:
            super().__init__()
            w = width
            self.features = nn.Sequential(*block(1, w, True), *block(w, 2 * w, True), *block(2 * w, 4 * w, True),
                                          *block(4 * w, 8 * w, False))
            self.dropout = nn.Dropout(0.3)
            self.head = nn.Linear(16 * w, n_classes)

        def forward(self, logmel: Any) -> Any:
            h = self.features(logmel.unsqueeze(1)).mean(dim=2)  # [B, C, T/8]
            mean = h.mean(dim=2)
            std = torch.sqrt(((h - mean.unsqueeze(2)) ** 2).mean(dim=2) + 1e-5)
            return self.head(self.dropout(torch.cat([mean, std], dim=1)))

    return SpeechCNN()


def _build_tdnn(torch: Any, n_classes: int, width: int = 128) -> Any:
    nn = torch.nn

    def block(cin: int, cout: int, k: int, dilation: int = 1, stride: int = 1) -> list[Any]:
        return [nn.Conv1d(cin, cout, k, stride=stride, padding=dilation * (k // 2), dilation=dilation, bias=False),
                nn.BatchNorm1d(cout), nn.ReLU()]

    class SpeechTDNN(nn.Module):  # type: ignore[misc,name-defined]
        """log-mel [B, 64, T] -> dilated 1-D convolutions -> mean+std over time -> logits [B, 8]."""

        def __init__(self) -> None:
            super().__init__()
            w = width
            self.features = nn.Sequential(*block(N_MELS, w, 5, stride=2), *block(w, w, 3, 2), *block(w, w, 3, 3),
                                          *block(w, 192, 1))
            self.dropout = nn.Dropout(0.3)
            self.head = nn.Linear(384, n_classes)

        def forward(self, logmel: Any) -> Any:
            h = self.features(logmel)
            mean = h.mean(dim=2)
            std = torch.sqrt(((h - mean.unsqueeze(2)) ** 2).mean(dim=2) + 1e-5)
            return self.head(self.dropout(torch.cat([mean, std], dim=1)))

    return SpeechTDNN()


# -- normalisation statistics ----------------------------------------------------------------------


def speaker_stats(logmels: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-band mean and std over every frame of a speaker's (or a file's) speech."""
    frames = np.concatenate(logmels, axis=1)
    return frames.mean(axis=1), frames.std(axis=1)


def _log(p: np.ndarray) -> np.ndarray:
    return np.log(p + LOG_FLOOR).astype(np.float32)


# -- training -------------------------------------------------------------------------------------


def _noise_profiles(torch: Any) -> Any:
    """Mel power of unit-variance white and pink noise (per band), for augmentation in the mel domain."""
    rng = np.random.default_rng(0)
    white = rng.standard_normal(16000 * 4).astype(np.float32)
    spectrum = np.fft.rfft(rng.standard_normal(16000 * 4))
    f = np.maximum(np.fft.rfftfreq(16000 * 4, 1 / 16000), 20.0)
    pink = np.fft.irfft(spectrum / np.sqrt(f), n=16000 * 4).astype(np.float32)
    pink /= pink.std()
    return torch.tensor(np.stack([mel_power(white).mean(axis=1), mel_power(pink).mean(axis=1)]))


def train_model(train_ids: list[int], index: list[dict[str, Any]], mels: dict[float, list[np.ndarray]],
                *, epochs: int, seed: int, log_prefix: str = "", arch: str = "cnn", threads: int = 2) -> Any:
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    torch.set_num_threads(threads)
    model = build_model(torch, arch=arch)
    labels = np.array([index[i]["label"] for i in train_ids])
    counts = np.bincount(labels, minlength=len(LABELS)).astype(np.float32)
    weights = torch.tensor(counts.sum() / (len(LABELS) * counts), dtype=torch.float32)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights, label_smoothing=0.1)
    batch_size = 32
    steps = epochs * math.ceil(len(train_ids) / batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps, pct_start=0.15)
    profiles = _noise_profiles(torch)
    # speaker statistics for every (actor, speed): "speaker" normalisation mode
    stats: dict[tuple[int, float], tuple[np.ndarray, np.ndarray]] = {}
    actors = sorted({index[i]["actor"] for i in train_ids})
    for actor in actors:
        ids = [i for i in train_ids if index[i]["actor"] == actor]
        for s in SPEEDS:
            stats[(actor, s)] = speaker_stats([_log(mels[s][i]) for i in ids])
    started = time.time()
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(train_ids))
        total = 0.0
        for start in range(0, len(order), batch_size):
            batch = [train_ids[j] for j in order[start:start + batch_size]]
            xs = []
            for i in batch:
                s = SPEEDS[rng.integers(len(SPEEDS))]
                power = mels[s][i]
                power = _crop(power, CROP, rng)
                power_t = torch.from_numpy(power.copy())
                if rng.random() < 0.6:  # additive noise in the mel power domain
                    snr_db = rng.uniform(5.0, 30.0)
                    speech_power = float(power.mean())
                    profile = profiles[rng.integers(2)]
                    level = speech_power / (10 ** (snr_db / 10)) / float(profile.mean())
                    fluct = torch.from_numpy(rng.exponential(1.0, power.shape).astype(np.float32))
                    power_t = power_t + level * profile[:, None] * fluct
                power_t = power_t * float(10 ** (rng.uniform(-6, 6) / 10))
                logmel = torch.log(power_t + LOG_FLOOR)
                if rng.random() < 0.5:
                    mean, std = stats[(index[i]["actor"], s)]
                    mean_t = torch.from_numpy(mean)
                    std_t = torch.from_numpy(np.maximum(std, 0.5))
                else:
                    mean_t = logmel.mean(dim=1)
                    std_t = torch.clamp(logmel.std(dim=1), min=0.5)
                x = (logmel - mean_t[:, None]) / std_t[:, None]
                x = _spec_augment(x, rng)
                xs.append(x)
            inputs = torch.stack(xs).float()
            target = torch.tensor([index[i]["label"] for i in batch])
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), target)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += float(loss.detach()) * len(batch)
        print(f"{log_prefix}epoch {epoch + 1}/{epochs} loss {total / len(train_ids):.4f} "
              f"{time.time() - started:.0f}s", flush=True)
    model.eval()
    return model


def _crop(power: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    t = power.shape[1]
    if t >= length:
        start = int(rng.integers(0, t - length + 1))
        return power[:, start:start + length]
    reps = math.ceil(length / t)
    return np.tile(power, (1, reps))[:, :length]


def _spec_augment(x: Any, rng: np.random.Generator) -> Any:
    x = x.clone()
    for _ in range(2):
        width = int(rng.integers(0, 9))
        f0 = int(rng.integers(0, N_MELS - width + 1))
        x[f0:f0 + width, :] = 0.0
        width = int(rng.integers(0, 21))
        t0 = int(rng.integers(0, max(1, x.shape[1] - width + 1)))
        x[:, t0:t0 + width] = 0.0
    return x


# -- evaluation ------------------------------------------------------------------------------------


def predict(model: Any, logmels: list[np.ndarray], actors: list[int], mode: str) -> np.ndarray:
    """Class probabilities for whole utterances, normalised per ``mode`` ("utterance" | "speaker")."""
    import torch

    stats: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    if mode == "speaker":
        for actor in set(actors):
            stats[actor] = speaker_stats([m for m, a in zip(logmels, actors, strict=True) if a == actor])
    out = []
    with torch.no_grad():
        for logmel, actor in zip(logmels, actors, strict=True):
            mean, std = stats[actor] if mode == "speaker" else (None, None)
            x = normalise_log_mel(logmel, mean, std)
            out.append(torch.softmax(model(torch.from_numpy(x)[None]), dim=1).numpy()[0])
    return np.array(out)


def cross_validate(out: Path, cache: Path, epochs: int, folds: list[int] | None = None, *, arch: str = "cnn",
                   threads: int = 2, seed: int = SEED) -> None:
    out.mkdir(parents=True, exist_ok=True)
    index, waves, mels = _load_cache(cache)
    clean = [_log(m) for m in mels[1.0]]
    y = np.array([r["label"] for r in index])
    report_path = out / "cv.json"
    report: dict[str, Any] = json.loads(report_path.read_text()) if report_path.is_file() else {"folds": {}}
    report.update({"epochs": epochs, "seed": seed, "arch": arch, "folds_actors": [list(f) for f in FOLDS]})
    for k, actors in enumerate(FOLDS):
        if folds is not None and k not in folds:
            continue
        test_ids = [i for i, r in enumerate(index) if r["actor"] in actors]
        train_ids = [i for i, r in enumerate(index) if r["actor"] not in actors]
        started = time.time()
        model = train_model(train_ids, index, mels, epochs=epochs, seed=seed + k, log_prefix=f"fold {k} ", arch=arch,
                            threads=threads)
        test_actors = [index[i]["actor"] for i in test_ids]
        fold: dict[str, Any] = {"test_actors": list(actors), "train_seconds": round(time.time() - started)}
        for mode in ("utterance", "speaker"):
            probs = predict(model, [clean[i] for i in test_ids], test_actors, mode)
            fold[mode] = metrics(probs, y[test_ids])
            # out-of-fold probabilities: the temperature is fitted on these (finalize), never on training actors
            np.savez(out / f"oof_fold{k}_{mode}.npz", probs=probs, labels=y[test_ids], ids=np.array(test_ids))
        rng = np.random.default_rng(100 + k)  # the same noise for every run: runs can be ensembled
        for snr in (20, 10):
            noisy = [log_mel(add_noise(waves[i].astype(np.float32), snr, rng)) for i in test_ids]
            for mode in ("utterance", "speaker"):
                probs = predict(model, noisy, test_actors, mode)
                fold[f"{mode}_white_noise_{snr}db"] = metrics(probs, y[test_ids])
                np.savez(out / f"oof_fold{k}_{mode}_white_noise_{snr}db.npz", probs=probs, labels=y[test_ids],
                         ids=np.array(test_ids))
        fold["baseline_logreg"] = baseline(train_ids, test_ids, index, clean, speaker_norm=False)
        fold["baseline_logreg_speaker_norm"] = baseline(train_ids, test_ids, index, clean, speaker_norm=True)
        report["folds"][str(k)] = fold
        report_path.write_text(json.dumps(report, indent=1), encoding="utf-8")
        print(f"fold {k} actors {actors}: " + ", ".join(
            f"{m} UAR {fold[m]['uar']:.3f} arousal {fold[m]['arousal_binary_accuracy']:.3f}"
            for m in ("utterance", "speaker")) + f"; baseline {fold['baseline_logreg']['uar']:.3f}", flush=True)
    report["summary"] = summarise(report["folds"])
    report_path.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(json.dumps(report["summary"], indent=1), flush=True)


# -- final model and export --------------------------------------------------------------------------


def final(out: Path, cache: Path, epochs: int, *, arch: str = "cnn", threads: int = 2, seed: int = SEED) -> None:
    import torch

    out.mkdir(parents=True, exist_ok=True)
    index, _, mels = _load_cache(cache)
    model = train_model(list(range(len(index))), index, mels, epochs=epochs, seed=seed, log_prefix="final ", arch=arch,
                        threads=threads)
    torch.save(model.state_dict(), out / "final.pt")
    export_onnx(model, out / "model.onnx")
    clean = [_log(m) for m in mels[1.0]]
    mean, std = speaker_stats(clean)
    (out / "population_stats.json").write_text(json.dumps({"mean": mean.tolist(), "std": std.tolist()}))
    print(f"exported {out / 'model.onnx'}", flush=True)


def export_onnx(model: Any, path: Path) -> None:
    import torch

    model.eval()
    dummy = torch.randn(1, N_MELS, 150)
    torch.onnx.export(model, (dummy,), str(path), input_names=["logmel"], output_names=["logits"],
                      dynamic_axes={"logmel": {0: "batch", 2: "frames"}, "logits": {0: "batch"}},
                      opset_version=17, dynamo=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=("prepare", "cv", "final", "finalize"))
    parser.add_argument("--out", type=Path, default=Path("artifacts/speech"))
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--cache", type=Path, default=None, help="where 'prepare' wrote its cache (default: --out)")
    parser.add_argument("--arch", choices=("cnn", "tdnn"), default="cnn")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--runs", type=Path, nargs="*", default=None,
                        help="finalize: the cv/final output folders to ship (several = an ensemble; default --out)")
    parser.add_argument("--functionals", type=Path, default=None,
                        help="finalize: a training.speech_functionals output folder (adds its file-mode member)")
    parser.add_argument("--bench", type=Path, default=None,
                        help="finalize: a benchmarks/speech_throughput.py --json output to quote in the model card")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--folds", type=str, default=None, help="comma-separated fold numbers (default: all 6)")
    args = parser.parse_args()
    random.seed(SEED)
    np.random.seed(SEED)
    if args.stage == "prepare":
        prepare(args.out, args.data)
    elif args.stage == "cv":
        folds = [int(f) for f in args.folds.split(",")] if args.folds else None
        cross_validate(args.out, args.cache or args.out, args.epochs, folds, arch=args.arch, threads=args.threads,
                       seed=args.seed)
    elif args.stage == "final":
        final(args.out, args.cache or args.out, args.epochs, arch=args.arch, threads=args.threads, seed=args.seed)
    else:
        from affectlens_recipes.speech_finalize import finalize

        finalize(args.runs or [args.out], args.cache or args.out, bench=args.bench, functional=args.functionals)


if __name__ == "__main__":
    main()
