"""``affectlens bench ravdess``: our speech recipe and classical peers, actor-independent folds.

RAVDESS has no official train/test split and the shipped speech model was trained on all 24
actors, so scoring the shipped model on RAVDESS would measure memory, not recognition.  This
benchmark therefore *re-trains* every system on each fold's 20 training actors and tests it
on the fold's 4 held-out actors (6 folds of 4 consecutive actors, 2 female + 2 male; the
folds of ``affectlens_recipes.speech``):

- **ours**: the shipped model's recipe, i.e. its ensemble members (architecture, epochs,
  seed as listed in ``models/speech-ravdess-cnn-v1/config.json``), trained with
  ``training.speech.train_model`` (seed + fold, as the training CV does), tested with
  speaker normalisation (what ``analyze`` does on a file with enough speech) and per
  utterance; also with white noise added to the test audio (``--snr``).  When the shipped
  model has a functional member, the speaker-normalised conditions add it as ``analyze``
  does in file mode (logistic regression on speaker-z-scored ``features.functionals``,
  fitted on the fold's training actors; members combined with the shipped temperatures);
  ``ours-speaker_networks_only`` keeps the networks alone for comparison; likewise per
  utterance with the utterance-mode member (raw functionals, trained with noisy copies) and
  ``ours-utterance_networks_only``.
- **logmel-logreg**: per-band mean and std of the same log-mel input + logistic regression,
  with and without per-speaker z-scoring of the functionals.
- **egemaps-logreg**: openSMILE eGeMAPSv02 functionals (88) + logistic regression, with and
  without per-speaker z-scoring, when the ``opensmile`` package is installed (optional: its
  binary is under a non-commercial research license).

All systems see the same VAD-trimmed audio (``training.speech prepare``, cached).  Metrics:
unweighted average recall over the 8 classes (UAR, the headline), accuracy (WAR) and binary
arousal accuracy (high: angry, happy, fearful, disgust, surprised; low: neutral, calm, sad,
by the sign of each label's taxonomy arousal anchor), per fold with mean and spread, and the
summed confusion matrix of our model.  Needs the ``train`` extra (torch) for our recipe;
``--peers-only`` runs without it.  Finished folds are kept in ``<out>/ravdess-cv.partial.json``
and skipped when the same command runs again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

OURS = "ours"
PEER_SYSTEMS = ("logmel-logreg", "logmel-logreg-speaker-norm", "egemaps-logreg", "egemaps-logreg-speaker-norm")
SUMMARY_METRICS = ("uar", "war", "arousal_binary_accuracy")


@dataclass(frozen=True)
class Member:
    arch: str
    epochs: int
    seed: int


@dataclass
class RavdessConfig:
    members: tuple[Member, ...]
    functional: bool = False  # add the functional member in speaker mode (the shipped file mode)
    functional_utterance: bool = False  # add the utterance-mode functional member per utterance
    temperature: float = 1.0  # of each network member
    temperature_file: float = 1.0  # of the file-mode mean (networks + functional member)
    temperature_utterance: float = 1.0  # of the utterance-mode mean
    folds: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
    snrs: tuple[float, ...] = (20.0, 10.0)
    threads: int = 2
    peers_only: bool = False
    egemaps: bool = True

    def key(self) -> str:
        """What makes two runs' folds interchangeable (for resuming)."""
        raw = json.dumps({"members": [asdict(m) for m in self.members], "snrs": list(self.snrs),
                          "peers_only": self.peers_only, "functional": [self.functional, self.functional_utterance],
                          "temperatures": [self.temperature, self.temperature_file, self.temperature_utterance]},
                         sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass
class RavdessReport:
    config: dict[str, Any]
    folds: dict[str, dict[str, Any]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    machine: dict[str, Any] = field(default_factory=dict)
    command: str = ""
    date: str = ""


def shipped_members(model_dir: Path | None = None) -> tuple[Member, ...]:
    """The ensemble members of the shipped speech model (what ``ours`` re-trains)."""
    from affectlens.recognizers.speech_onnx import DEFAULT_MODEL_DIR

    config = json.loads(((model_dir or DEFAULT_MODEL_DIR) / "config.json").read_text(encoding="utf-8"))
    return tuple(Member(str(m["arch"]), int(m["epochs"]), int(m["seed"])) for m in config["members"])


def shipped_recipe(model_dir: Path | None = None) -> dict[str, Any]:
    """``RavdessConfig`` fields of the shipped model: members, functional member, temperatures."""
    from affectlens.recognizers.speech_onnx import DEFAULT_MODEL_DIR

    config = json.loads(((model_dir or DEFAULT_MODEL_DIR) / "config.json").read_text(encoding="utf-8"))
    functional = config.get("functional_member")
    functional = functional or {}
    return {"members": shipped_members(model_dir), "functional": bool(functional),
            "functional_utterance": bool(functional.get("utterance_file")),
            "temperature": float(config.get("temperature", 1.0)),
            "temperature_file": float(functional.get("temperature_file", 1.0)),
            "temperature_utterance": float(functional.get("temperature_utterance", 1.0))}


def ensure_cache(cache: Path, data: Path | None) -> Path:
    """``training.speech prepare`` into ``cache`` unless it is already there (VAD-trim + mel spectra)."""
    from affectlens_recipes.speech import prepare

    if not (cache / "index.json").is_file():
        prepare(cache, data)
    return cache


def egemaps_features(cache: Path, waves: Sequence[np.ndarray], on_progress: Callable[[str], None]) -> np.ndarray:
    """eGeMAPSv02 functionals per (trimmed) file, cached as ``egemaps.npy`` beside the mel cache."""
    path = cache / "egemaps.npy"
    if path.is_file():
        feats = np.load(path)
        if len(feats) == len(waves):
            return feats
    import opensmile

    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                            feature_level=opensmile.FeatureLevel.Functionals)
    rows = []
    started = time.time()
    for i, wave in enumerate(waves):
        rows.append(smile.process_signal(wave.astype(np.float32), 16000).to_numpy()[0])
        if i % 200 == 0:
            on_progress(f"eGeMAPS {i}/{len(waves)} files, {time.time() - started:.0f} s")
    feats = np.nan_to_num(np.asarray(rows, dtype=np.float64))
    np.save(path, feats)
    return feats


def _functional_member(train_ids: list[int], test_ids: list[int], index: list[dict[str, Any]],
                       feats: dict[str, np.ndarray], noisy: dict[float, np.ndarray],
                       utterance: bool) -> dict[str, np.ndarray]:
    """Probabilities of the functional members fitted on this fold's training actors: speaker mode
    (speaker-z-scored), and with ``utterance`` the utterance-mode member (raw, noise-augmented)."""
    from affectlens_recipes.speech import speaker_zscored
    from affectlens_recipes.speech_functionals import fit, fit_utterance

    actors = np.array([r["actor"] for r in index])
    labels = np.array([r["label"] for r in index])
    clean = feats["clean"]
    model = fit(speaker_zscored(clean[train_ids], actors[train_ids]), labels[train_ids])
    test_actors = actors[test_ids]
    out = {"speaker": model.predict_proba(speaker_zscored(clean[test_ids], test_actors))}
    for snr, x in noisy.items():
        out[f"speaker_noise_{snr:g}db"] = model.predict_proba(speaker_zscored(x, test_actors))
    if utterance:
        rows = np.zeros(len(index), bool)
        rows[train_ids] = True
        raw = fit_utterance(feats, rows, labels)
        out["utterance"] = raw.predict_proba(clean[test_ids])
        for snr, x in noisy.items():
            out[f"utterance_noise_{snr:g}db"] = raw.predict_proba(x)
    return out


def _ours(fold: int, train_ids: list[int], test_ids: list[int], index: list[dict[str, Any]],
          mels: dict[float, list[np.ndarray]], waves: Sequence[np.ndarray], config: RavdessConfig,
          on_progress: Callable[[str], None], functionals: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    from affectlens.features.functionals import acoustic_functionals
    from affectlens.features.spectral import log_mel
    from affectlens_recipes.speech import _log, add_noise, metrics, predict, train_model
    from affectlens_recipes.speech_finalize import _scaled

    y = np.array([index[i]["label"] for i in test_ids])
    actors = [index[i]["actor"] for i in test_ids]
    clean = [_log(mels[1.0][i]) for i in test_ids]
    rng = np.random.default_rng(100 + fold)  # the same noisy audio as the training CV
    noisy_waves = {snr: [add_noise(waves[i].astype(np.float32), snr, rng) for i in test_ids] for snr in config.snrs}
    noisy = {snr: [log_mel(x) for x in xs] for snr, xs in noisy_waves.items()}
    conditions: dict[str, list[np.ndarray]] = {}
    for m, member in enumerate(config.members):
        on_progress(f"fold {fold}: training member {m + 1}/{len(config.members)} ({member.arch}, "
                    f"{member.epochs} epochs)")
        model = train_model(train_ids, index, mels, epochs=member.epochs, seed=member.seed + fold,
                            arch=member.arch, threads=config.threads, log_prefix=f"fold {fold} {member.arch} ")
        for mode in ("speaker", "utterance"):
            conditions.setdefault(mode, []).append(predict(model, clean, actors, mode))
            for snr, logmels in noisy.items():
                conditions.setdefault(f"{mode}_noise_{snr:g}db", []).append(predict(model, logmels, actors, mode))
    if functionals is None:
        return {name: metrics(np.mean(probs, axis=0), y) for name, probs in conditions.items()}
    out = {"speaker_networks_only": metrics(np.mean(conditions["speaker"], axis=0), y)}
    noisy_functionals = {snr: np.array([acoustic_functionals(x, lm) for x, lm in zip(xs, noisy[snr], strict=True)])
                         for snr, xs in noisy_waves.items()}
    if config.functional_utterance:
        out["utterance_networks_only"] = metrics(np.mean(conditions["utterance"], axis=0), y)
    extra = _functional_member(train_ids, test_ids, index, functionals, noisy_functionals,
                               config.functional_utterance)
    for name, probs in conditions.items():
        scaled = [_scaled(p, config.temperature) for p in probs]
        if name in extra:
            t = config.temperature_file if name.startswith("speaker") else config.temperature_utterance
            out[name] = metrics(_scaled(np.mean([*scaled, extra[name]], axis=0), t), y)
        else:
            out[name] = metrics(np.mean(scaled, axis=0), y)
    return out


def _peers(train_ids: list[int], test_ids: list[int], index: list[dict[str, Any]], logmels: list[np.ndarray],
           egemaps: np.ndarray | None) -> dict[str, Any]:
    from affectlens_recipes.speech import _baseline_features, baseline_on_features

    out: dict[str, Any] = {}
    functionals = _baseline_features(logmels)
    for norm in (False, True):
        suffix = "-speaker-norm" if norm else ""
        out[f"logmel-logreg{suffix}"] = baseline_on_features(train_ids, test_ids, index, functionals, norm)
        if egemaps is not None:
            out[f"egemaps-logreg{suffix}"] = baseline_on_features(train_ids, test_ids, index, egemaps, norm)
    return out


def summarise(folds: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Mean, spread and per-fold values of each system's metrics; summed confusion matrices."""
    summary: dict[str, Any] = {}
    systems = sorted({name for fold in folds.values() for name in fold if isinstance(fold[name], dict)})
    for system in systems:
        present = [folds[k][system] for k in sorted(folds) if system in folds[k]]
        row: dict[str, Any] = {"n_folds": len(present)}
        for metric in SUMMARY_METRICS:
            values = [float(p[metric]) for p in present]
            row[metric] = {"mean": round(float(np.mean(values)), 4), "std": round(float(np.std(values)), 4),
                           "per_fold": [round(v, 4) for v in values]}
        row["confusion"] = np.sum([np.array(p["confusion"]) for p in present], axis=0).tolist()
        summary[system] = row
    return summary


def run_ravdess(config: RavdessConfig, *, cache: Path, out: Path, data: Path | None = None,
                on_progress: Callable[[str], None] = print) -> RavdessReport:
    from affectlens.bench.runner import machine_info
    from affectlens_recipes.speech import FOLDS, _load_cache, _log

    ensure_cache(cache, data)
    index, waves, mels = _load_cache(cache)
    logmels = [_log(m) for m in mels[1.0]]
    notes: list[str] = []
    functionals = None
    if config.functional and not config.peers_only:
        from affectlens.features.functionals import acoustic_functionals

        on_progress("acoustic functionals of every file")
        functionals = {"clean": np.array([acoustic_functionals(w.astype(np.float32), lm)
                                          for w, lm in zip(waves, logmels, strict=True)])}
        if config.functional_utterance:
            from affectlens_recipes.speech_functionals import augmented

            on_progress("acoustic functionals of noisy copies (training data of the utterance member)")
            functionals.update(augmented(list(waves)))
    egemaps = None
    if config.egemaps:
        try:
            egemaps = egemaps_features(cache, waves, on_progress)
        except ImportError:
            notes.append("eGeMAPS peer skipped: the 'opensmile' package is not installed "
                         "(pip install 'affectlens[egemaps]'; its binary is under a non-commercial research license)")
    out.mkdir(parents=True, exist_ok=True)
    partial_path = out / "ravdess-cv.partial.json"
    partial = json.loads(partial_path.read_text(encoding="utf-8")) if partial_path.is_file() else {}
    done: dict[str, dict[str, Any]] = partial.get(config.key(), {})
    for k in config.folds:
        if str(k) in done and (egemaps is None or "egemaps-logreg" in done[str(k)]):
            on_progress(f"fold {k}: already done (from {partial_path})")
            continue
        started = time.time()
        test_ids = [i for i, r in enumerate(index) if r["actor"] in FOLDS[k]]
        train_ids = [i for i, r in enumerate(index) if r["actor"] not in FOLDS[k]]
        fold: dict[str, Any] = {"test_actors": list(FOLDS[k])}
        fold.update(_peers(train_ids, test_ids, index, logmels, egemaps))
        if not config.peers_only:
            for name, value in _ours(k, train_ids, test_ids, index, mels, waves, config, on_progress,
                                     functionals).items():
                fold[f"{OURS}-{name}"] = value
        fold["seconds"] = round(time.time() - started, 1)
        done[str(k)] = fold
        partial[config.key()] = done
        partial_path.write_text(json.dumps(partial), encoding="utf-8")
        headline = fold.get(f"{OURS}-speaker", fold["logmel-logreg"])
        on_progress(f"fold {k} (actors {FOLDS[k]}) done in {fold['seconds']:.0f} s: UAR {headline['uar']:.3f}")
    folds = {k: done[k] for k in sorted(done) if int(k) in config.folds}
    report = RavdessReport(
        config={"members": [asdict(m) for m in config.members], "functional": config.functional,
                "functional_utterance": config.functional_utterance, "temperature": config.temperature,
                "temperature_file": config.temperature_file, "temperature_utterance": config.temperature_utterance,
                "folds": list(config.folds),
                "folds_actors": [list(FOLDS[k]) for k in config.folds], "snrs": list(config.snrs),
                "threads": config.threads, "peers_only": config.peers_only},
        folds=folds, summary=summarise(folds), notes=notes, machine=machine_info(),
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    return report


def _describe(system: str) -> str:
    if system.startswith(OURS):
        condition = system[len(OURS) + 1:]
        norm = "speaker-normalised" if condition.startswith("speaker") else "per-utterance normalised"
        noise = "clean"
        if "_noise_" in condition:
            noise = condition.split("_noise_")[1].replace("db", " dB SNR white noise")
        if condition.endswith("networks_only"):
            noise += ", networks only (no functional member)"
        return f"ours (shipped recipe re-trained per fold), {norm}, {noise}"
    return {
        "logmel-logreg": "log-mel band mean+std, logistic regression",
        "logmel-logreg-speaker-norm": "log-mel band mean+std z-scored per speaker, logistic regression",
        "egemaps-logreg": "eGeMAPSv02 functionals (openSMILE), logistic regression",
        "egemaps-logreg-speaker-norm": "eGeMAPSv02 functionals z-scored per speaker, logistic regression",
    }.get(system, system)


def _order(system: str) -> tuple[int, str, int, str]:
    """Ours first (speaker before utterance normalisation), clean before 20 dB before 10 dB; peers by name."""
    if not system.startswith(OURS):
        return (1, system, 0, "")
    condition = system[len(OURS) + 1:]
    mode = condition.split("_")[0]
    snr = condition.split("_noise_")[1].removesuffix("db") if "_noise_" in condition else ""
    return (0, mode, -int(float(snr)) if snr else -1000, condition)


def to_markdown(report: RavdessReport) -> str:
    from affectlens_recipes.speech import LABELS

    cfg = report.config
    members = ", ".join(f"{m['arch']} ({m['epochs']} epochs, seed {m['seed']})" for m in cfg["members"])
    if cfg.get("functional"):
        members += (f"; in speaker-normalised conditions also the acoustic-functionals logistic regression "
                    f"(network temperature {cfg['temperature']:g}, file-mode temperature {cfg['temperature_file']:g},"
                    " the shipped values)")
    if cfg.get("functional_utterance"):
        members += ("; per utterance also the utterance-mode functionals member (raw functionals, trained with "
                    f"noisy copies; temperature {cfg['temperature_utterance']:g})")
    lines = [
        "### RAVDESS speech, 8 classes, actor-independent cross-validation",
        "",
        "- Data: RAVDESS speech (Livingstone & Russo 2018, CC BY-NC-SA 4.0), 1,440 files, 24 actors; "
        f"folds {cfg['folds']} of 4 consecutive actors ({cfg['folds_actors']}); every system trained on the "
        "other 20 actors in this run.",
        f"- Our recipe: the shipped ensemble's members, {members}." if not cfg["peers_only"]
        else "- Our recipe: not run (--peers-only).",
        "- Metrics: UAR = unweighted mean recall over the 8 classes (headline); WAR = accuracy; arousal = binary "
        "high/low accuracy (sign of the taxonomy arousal of the expected label vs of the true label).",
        f"- Date: {report.date}; machine: {report.machine.get('cores')} cores, {report.machine.get('cpu')}.",
    ]
    if report.command:
        lines.append(f"- Command: `{report.command}`")
    lines += [f"- Note: {note}" for note in report.notes]
    lines += ["", "| system | UAR mean ± sd | UAR per fold | WAR | arousal |", "|---|---|---|---|---|"]
    for system in sorted(report.summary, key=_order):
        row = report.summary[system]
        per_fold = " / ".join(f"{v:.3f}" for v in row["uar"]["per_fold"])
        lines.append(f"| {_describe(system)} | **{row['uar']['mean']:.3f}** ± {row['uar']['std']:.3f} | {per_fold} | "
                     f"{row['war']['mean']:.3f} | {row['arousal_binary_accuracy']['mean']:.3f} |")
    ours = report.summary.get(f"{OURS}-speaker")
    if ours:
        lines += ["", "Our model, speaker-normalised, clean audio: confusion matrix summed over the folds "
                  "(rows true, columns predicted).", "",
                  "| true \\ predicted | " + " | ".join(LABELS) + " | recall |",
                  "|---" * (len(LABELS) + 2) + "|"]
        for t, counts in enumerate(ours["confusion"]):
            recall = counts[t] / max(1, sum(counts))
            lines.append(f"| **{LABELS[t]}** | " + " | ".join(str(c) for c in counts) + f" | {recall:.3f} |")
    return "\n".join(lines) + "\n"


def write_report(report: RavdessReport, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "ravdess-cv.json", out / "ravdess-cv.md"
    json_path.write_text(json.dumps(asdict(report), indent=1), encoding="utf-8")
    md_path.write_text(to_markdown(report), encoding="utf-8")
    return json_path, md_path
