"""Turn a speech training run into the shipped model folder ``models/speech-ravdess-cnn-v1``.

``python -m affectlens_recipes.speech finalize --out artifacts/speech`` reads

* ``<out>/model.onnx`` (from ``final``), ``<out>/cv.json`` and ``<out>/oof_fold*_*.npz``
  (from ``cv``), and the ``prepare`` cache (``--cache``, default ``<out>``),

fits one softmax temperature on the out-of-fold probabilities (held-out actors only; the
reported CV metrics use cross-fitted temperatures, fold k scaled by the one fitted on the
other folds, so no test fold tunes its own scores),
measures the prosody reference values (median and robust spread over the 1,440 trimmed
utterances: used for cues when a file is too short to be its own baseline), checks that
the ONNX model runs, and writes ``config.json`` (with sha256), ``metrics.json`` and
``MODEL_CARD.md``.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.metrics import ece_top_label
from affectlens.models import MODELS_DIR, sha256_file
from affectlens_recipes.speech_report import model_card, targets, update_docs

TARGET = MODELS_DIR / "speech-ravdess-cnn-v1"


def fit_temperature_members(member_probs: list[np.ndarray], labels: np.ndarray) -> float:
    """The T minimising the NLL of the mean of the members' softmax(log p / T) (what inference computes)."""
    best, best_nll = 1.0, np.inf
    for t in np.arange(0.5, 3.01, 0.05):
        probs = np.mean([_scaled(m, float(t)) for m in member_probs], axis=0)
        nll = float(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, 1.0)).mean())
        if nll < best_nll:
            best, best_nll = float(t), nll
    return round(best, 2)


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Top-label ECE, as the card reports it (4 decimals)."""
    return round(ece_top_label(probs, labels, bins), 4)


def _scaled(probs: np.ndarray, t: float) -> np.ndarray:
    z = np.log(np.clip(probs, 1e-9, 1.0)) / t
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def prosody_reference(cache: Path) -> dict[str, dict[str, float]]:
    from affectlens.features.prosody import Baseline, prosody_features

    waves = np.load(cache / "waves.npy", allow_pickle=True)
    rows = [prosody_features(np.asarray(w, np.float32)) for w in waves]
    baseline = Baseline.from_segments(rows, "typical RAVDESS speech")
    return {"median": {k: round(v, 3) for k, v in baseline.median.items()},
            "spread": {k: round(v, 3) for k, v in baseline.spread.items()}}


CONDITIONS = ("utterance", "speaker", "utterance_white_noise_20db", "speaker_white_noise_20db",
              "utterance_white_noise_10db", "speaker_white_noise_10db")


def load_oof(run: Path, condition: str) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """fold -> (probs, labels) of one run's held-out predictions in one condition."""
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for k in range(6):
        path = run / f"oof_fold{k}_{condition}.npz"
        if path.is_file():
            data = np.load(path)
            out[k] = (data["probs"], data["labels"])
    return out


def ensemble_cv(runs: list[Path], temperature: float | dict[int, float] = 1.0, *,
                functional: Path | None = None,
                member_temperatures: dict[str, float | dict[int, float]] | None = None) -> dict[str, Any]:
    """Per-fold metrics of the runs' averaged (temperature-scaled) probabilities, and their summary.

    ``temperature`` is one value for every fold, or one per fold (cross-fitted: fold ``k``'s
    temperature fitted on the other folds only, so no test fold tunes its own scores).  With a
    ``functional`` run, every condition it has predictions for adds them as one more member and
    scales the mean by ``member_temperatures[mode]`` (mode ``speaker`` or ``utterance``: what the
    recognizer does in file and utterance mode).
    """
    from affectlens_recipes.speech_scores import metrics, summarise

    folds: dict[str, dict[str, Any]] = {}
    for condition in CONDITIONS:
        per_run = [load_oof(run, condition) for run in runs]
        extra = load_oof(functional, condition) if functional is not None else {}
        mode_temperature = (member_temperatures or {}).get(condition.split("_")[0], 1.0)
        common = sorted(set.intersection(*(set(r) for r in per_run))) if per_run else []
        for k in common:
            t = temperature[k] if isinstance(temperature, dict) else temperature
            members = [_scaled(r[k][0], t) for r in per_run]
            if k in extra:
                members.append(extra[k][0])
                t_mode = mode_temperature[k] if isinstance(mode_temperature, dict) else mode_temperature
                probs = _scaled(np.mean(members, axis=0), t_mode)
            else:
                probs = np.mean(members, axis=0)
            folds.setdefault(str(k), {})[condition] = metrics(probs, per_run[0][k][1])
    return {"folds": folds, "summary": summarise(folds)}


def mode_probs(runs: list[Path], functional: Path, temperature: float | dict[int, float],
                    condition: str = "speaker") -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """fold -> (mean of the scaled network members and the functional member, labels), clean audio."""
    per_run = [load_oof(run, condition) for run in runs]
    extra = load_oof(functional, condition)
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for k in sorted(set(extra).intersection(*(set(r) for r in per_run))):
        t = temperature[k] if isinstance(temperature, dict) else temperature
        out[k] = (np.mean([_scaled(r[k][0], t) for r in per_run] + [extra[k][0]], axis=0), extra[k][1])
    return out


def _oof_by_fold(runs: list[Path]) -> dict[int, tuple[list[np.ndarray], np.ndarray]]:
    """fold -> (each member's held-out probabilities, labels), clean audio, both normalisation modes stacked."""
    out: dict[int, tuple[list[np.ndarray], np.ndarray]] = {}
    per_mode = {mode: [load_oof(run, mode) for run in runs] for mode in ("utterance", "speaker")}
    folds = sorted(set.intersection(*(set(r) for per_run in per_mode.values() for r in per_run)))
    for k in folds:
        members = [np.concatenate([per_mode[mode][i][k][0] for mode in per_mode]) for i in range(len(runs))]
        labels = np.concatenate([per_mode[mode][0][k][1] for mode in per_mode])
        out[k] = (members, labels)
    return out


def crossfit_temperatures(by_fold: dict[int, tuple[list[np.ndarray], np.ndarray]]) -> dict[int, float]:
    """Fold k -> the temperature fitted on the held-out probabilities of the *other* folds only."""
    temps: dict[int, float] = {}
    for k in by_fold:
        others = [j for j in by_fold if j != k]
        if not others:
            temps[k] = 1.0
            continue
        n_members = len(by_fold[k][0])
        members = [np.concatenate([by_fold[j][0][i] for j in others]) for i in range(n_members)]
        temps[k] = fit_temperature_members(members, np.concatenate([by_fold[j][1] for j in others]))
    return temps


def inference_speed(paths: list[Path], frames: int = 300, repeats: int = 50) -> dict[str, float]:
    """Milliseconds for one 3 s segment ([1, 64, 300]) through all members, onnxruntime, 1 thread."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    sessions = [ort.InferenceSession(str(p), sess_options=options, providers=["CPUExecutionProvider"])
                for p in paths]
    x = np.random.default_rng(0).standard_normal((1, 64, frames)).astype(np.float32)
    for s in sessions:
        s.run(["logits"], {"logmel": x})
    started = time.perf_counter()
    for _ in range(repeats):
        for s in sessions:
            s.run(["logits"], {"logmel": x})
    ms = (time.perf_counter() - started) / repeats * 1000
    return {"ms_per_3s_segment_1_thread": round(ms, 2), "model_rtf_1_thread": round(ms / 3000, 5)}


def mode_temperatures(runs: list[Path], functional: Path, fold_temps: dict[int, float], temperature: float,
                      condition: str = "speaker"
                      ) -> tuple[float, dict[int, float], dict[int, tuple[np.ndarray, np.ndarray]]]:
    """The temperature of one mode's mean of the networks and the functional member: the shipped one
    fitted on every fold's held-out actors, cross-fitted ones for the CV, and the unscaled
    held-out means (``mode_probs`` with the cross-fitted network temperatures)."""
    crossfit = mode_probs(runs, functional, fold_temps, condition)
    temps: dict[int, float] = {}
    for k in crossfit:
        others = [j for j in crossfit if j != k]
        temps[k] = fit_temperature_members([np.concatenate([crossfit[j][0] for j in others])],
                                           np.concatenate([crossfit[j][1] for j in others]))
    shipped = mode_probs(runs, functional, temperature, condition)
    fitted = fit_temperature_members([np.concatenate([p for p, _ in shipped.values()])],
                                     np.concatenate([y for _, y in shipped.values()]))
    return fitted, temps, crossfit


def finalize(runs: list[Path], cache: Path, target: Path = TARGET, bench: Path | None = None,
             functional: Path | None = None) -> None:
    """Write the model folder; with ``functional`` (a ``training.speech_functionals`` output), its
    logistic regression joins the ensemble in file mode (``config["functional_member"]``)."""
    from affectlens_recipes.speech_scores import LABELS

    cvs = [json.loads((run / "cv.json").read_text(encoding="utf-8")) for run in runs]
    # held-out probabilities of every member, clean audio, both normalisation modes
    by_fold = _oof_by_fold(runs)
    member_probs = [np.concatenate([by_fold[k][0][i] for k in by_fold]) for i in range(len(runs))]
    labels_all = np.concatenate([by_fold[k][1] for k in by_fold])
    # the shipped temperature: fitted on every fold's held-out actors (the shipped model saw none of them
    # as held out, so this is its best estimate); the reported CV metrics use cross-fitted temperatures
    temperature = fit_temperature_members(member_probs, labels_all)
    fold_temps = crossfit_temperatures(by_fold)
    file_temperature, file_temps, file_probs = (mode_temperatures(runs, functional, fold_temps, temperature)
                                                if functional is not None else (1.0, {}, {}))
    utterance_member = functional is not None and (functional / "functional_lr_utterance.json").is_file()
    utterance_temperature, utterance_temps, _ = (
        mode_temperatures(runs, functional, fold_temps, temperature, "utterance")
        if functional is not None and utterance_member else (1.0, {}, {}))
    ensemble = ensemble_cv(runs, fold_temps, functional=functional,
                           member_temperatures={"speaker": file_temps, "utterance": utterance_temps})
    started = time.time()
    reference = prosody_reference(cache)
    print(f"prosody reference in {time.time() - started:.0f}s; temperature {temperature}", flush=True)
    target.mkdir(parents=True, exist_ok=True)
    for old in [*target.glob("*.onnx"), *target.glob("functional_lr*.json")]:
        old.unlink(missing_ok=True)
    import onnxruntime as ort

    files: list[str] = []
    for i, (run, cv) in enumerate(zip(runs, cvs, strict=True)):
        name = "model.onnx" if len(runs) == 1 else f"model_{i}_{cv.get('arch', 'cnn')}.onnx"
        shutil.copyfile(run / "model.onnx", target / name)
        session = ort.InferenceSession(str(target / name), providers=["CPUExecutionProvider"])
        logits = session.run(["logits"], {"logmel": np.zeros((1, 64, 123), np.float32)})[0]
        assert logits.shape == (1, len(LABELS)), logits.shape
        files.append(name)
    config: dict[str, Any] = {
        "name": "speech.ravdess-cnn.v1",
        "version": "v1",
        "labels": list(LABELS),
        "label_set": "ravdess",
        "input": {"name": "logmel", "shape": ["batch", 64, "frames"], "sample_rate": 16000,
                  "features": "affectlens.features.spectral.log_mel (25 ms Hann, 10 ms hop, 64 HTK mel bands "
                              "50-8000 Hz, log(power + 1e-6)), standardised per band"},
        "output": {"name": "logits", "shape": ["batch", len(LABELS)]},
        "onnx_files": files,
        "members": [{"file": f, "arch": cv.get("arch"), "seed": cv.get("seed"), "epochs": cv.get("epochs")}
                    for f, cv in zip(files, cvs, strict=True)],
        "temperature": temperature,
        "normalisation": {"min_std": 0.5, "min_file_segments": 3, "min_file_speech_s": 5.0},
        "prosody_reference": reference,
        "license": "CC BY-NC-SA 4.0 (trained on RAVDESS)",
        "sha256": {f: sha256_file(target / f) for f in files},
    }
    if functional is not None:
        shutil.copyfile(functional / "functional_lr.json", target / "functional_lr.json")
        config["functional_member"] = {
            "file": "functional_lr.json", "modes": ["file"], "temperature_file": file_temperature,
            "features": "affectlens.features.functionals.acoustic_functionals per segment, z-scored against "
                        "the file's segments (std floored at std_floor), then scaler and logistic regression",
        }
        config["sha256"]["functional_lr.json"] = sha256_file(target / "functional_lr.json")
        if utterance_member:
            shutil.copyfile(functional / "functional_lr_utterance.json", target / "functional_lr_utterance.json")
            config["functional_member"].update({
                "utterance_file": "functional_lr_utterance.json", "modes": ["file", "utterance"],
                "temperature_utterance": utterance_temperature,
                "features_utterance": "the same functionals, raw (no baseline), then scaler and logistic regression "
                                      "trained on clean and white-noise copies (30, 20, 10 dB)"})
            config["sha256"]["functional_lr_utterance.json"] = sha256_file(target / "functional_lr_utterance.json")
    (target / "config.json").write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
    summary = ensemble["summary"]
    cvs_all = cvs + ([json.loads((functional / "cv.json").read_text(encoding="utf-8"))] if functional else [])
    runs_all = runs + ([functional] if functional else [])
    crossfit_probs = np.concatenate([np.mean([_scaled(m, fold_temps[k]) for m in by_fold[k][0]], axis=0)
                                     for k in by_fold])
    calibration = {
        "ece_before": ece(np.mean(member_probs, axis=0), labels_all),
        "ece_after": ece(crossfit_probs, labels_all),
        "ece_after_in_sample": ece(np.mean([_scaled(m, temperature) for m in member_probs], axis=0), labels_all),
        "note": "ece_after uses cross-fitted temperatures (each fold scaled by the temperature fitted on the "
                "other folds); ece_after_in_sample uses the shipped temperature, fitted on all folds; "
                "the *_file_mode figures are the file-mode ensemble (networks + functional member)",
    }
    if file_probs:
        file_labels = np.concatenate([y for _, y in file_probs.values()])
        calibration["ece_before_file_mode"] = ece(np.concatenate([p for p, _ in file_probs.values()]), file_labels)
        calibration["ece_after_file_mode"] = ece(np.concatenate([_scaled(p, file_temps[k])
                                                                 for k, (p, _) in file_probs.items()]), file_labels)
    speed = inference_speed([target / f for f in files])
    throughput = json.loads(bench.read_text(encoding="utf-8")) if bench is not None and bench.is_file() else None
    metrics = {
        "data": "RAVDESS speech (1,440 files, 24 actors), ../shared/datasets/ravdess_speech_16k",
        "protocol": "6 folds x 4 actors (1-4, 5-8, ..., 21-24), each model trained on the other 20 actors "
                    "for a fixed number of epochs; ensemble = mean of the members' probabilities",
        "members": config["members"],
        "actor_independent_cv": summary["speaker"],
        "actor_independent_cv_utterance_norm": summary["utterance"],
        "noise": {k: v for k, v in summary.items() if isinstance(v, dict) and "noise" in k},
        "per_member": {str(run): {k: v for k, v in cv["summary"].items()
                                  if isinstance(v, dict) and not k.startswith("baseline")}
                       for run, cv in zip(runs_all, cvs_all, strict=True)},
        "functional_member": config.get("functional_member"),
        "temperature_file_crossfit_per_fold": {str(k): v for k, v in file_temps.items()},
        "temperature_utterance_crossfit_per_fold": {str(k): v for k, v in utterance_temps.items()},
        "baselines": {k: v for k, v in cvs[0]["summary"].items() if isinstance(v, dict) and k.startswith("baseline")},
        "temperature": temperature,
        "temperature_crossfit_per_fold": {str(k): v for k, v in fold_temps.items()},
        "calibration_oof": calibration,
        "targets": targets(summary["speaker"]),
        "speed": speed,
        "throughput": throughput,
        "folds": ensemble["folds"],
        "labels": list(LABELS),
        "size_bytes": sum((target / f).stat().st_size for f in config["sha256"]),
    }
    metrics["reproduce"] = [
        f"python -m affectlens_recipes.speech cv --out {run} --cache artifacts/speech/cache --arch {cv.get('arch')} "
        f"--epochs {cv.get('epochs')} --seed {cv.get('seed')} --threads 1"
        for run, cv in zip(runs, cvs, strict=True)
    ] + [
        f"python -m affectlens_recipes.speech final --out {run} --cache artifacts/speech/cache "
        f"--arch {cv.get('arch')} --epochs {cv.get('epochs')} --seed {cv.get('seed')} --threads 1"
        for run, cv in zip(runs, cvs, strict=True)
    ] + ([f"python -m affectlens_recipes.speech_functionals --cache artifacts/speech/cache --out {functional}"]
         if functional is not None else []) + [
        "python -m affectlens_recipes.speech finalize --cache artifacts/speech/cache --runs "
        + " ".join(str(r) for r in runs) + (f" --functionals {functional}" if functional is not None else "")
        + (f" --bench {bench}" if bench is not None else "")]
    (target / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    (target / "MODEL_CARD.md").write_text(model_card(metrics, config), encoding="utf-8")
    if target == TARGET:
        update_docs(metrics, config)
    print(json.dumps({k: summary[k]["uar"]["mean"] for k in summary if isinstance(summary[k], dict)}), flush=True)
    print(f"wrote {target}", flush=True)
