"""The acoustic-functionals members of the speech ensemble: logistic regression on acoustic statistics.

Recipe (after ``python -m affectlens_recipes.speech prepare``; ~3 min on one thread)::

    python -m affectlens_recipes.speech_functionals --cache artifacts/speech/cache --out artifacts/speech/func

Per file: ``features.functionals.acoustic_functionals`` of the VAD-trimmed audio (218
numbers), z-scored against the same speaker's files (all 60 of the actor: in deployment,
all speech segments of the file being analysed, i.e. the recognizer's *file* mode), then a
standard scaler and a class-balanced multinomial logistic regression (C = 0.5, the value
the log-mel peer of ``training.speech`` uses; not tuned).  Evaluated on the 6
actor-independent folds of ``training.speech`` (the noisy test audio is drawn with the same
generator seeds, so the members' out-of-fold predictions line up), then fitted on all 24
actors for shipping.  Without a speaker baseline (utterance mode) the raw statistics are
fragile (UAR fell to ~0.2 with 20 dB white noise when trained on clean audio), so the
utterance-mode member is a second logistic regression on the *raw* functionals, trained on
every training file plus white-noise copies at 30, 20 and 10 dB SNR (``AUG_SNRS``; other
noise draws than the test conditions').

Writes to ``--out``: ``functionals.npz`` (clean, noisy and augmented features),
``oof_fold{k}_{speaker,utterance}*.npz`` (the layout ``speech_finalize`` reads), ``cv.json``,
``functional_lr.json`` (file mode) and ``functional_lr_utterance.json`` (utterance mode): the
shipped weights as plain lists (feature names, per-feature std floor for short files in file
mode, scaler, coefficients).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.features.functionals import FUNCTIONAL_NAMES, acoustic_functionals
from affectlens_recipes.speech import speaker_zscored

C = 0.5
SNRS = (20, 10)
ARCH = "functionals-logreg"
#: utterance-mode member: trained on clean files plus noisy copies at these SNRs (white noise)
AUG_SNRS = (30, 20, 10)
AUG_SEED = 12345


def compute_features(cache: Path) -> dict[str, np.ndarray]:
    """Clean features of every file, and noisy ones of each fold's test files (the CV's noise draws)."""
    from affectlens.features.spectral import log_mel
    from affectlens_recipes.speech import FOLDS, _load_cache, _log, add_noise

    index, waves, mels = _load_cache(cache)
    started = time.time()
    clean = np.array([acoustic_functionals(w.astype(np.float32), _log(m)) for w, m in zip(waves, mels[1.0],
                                                                                         strict=True)])
    print(f"clean functionals {clean.shape} in {time.time() - started:.0f}s", flush=True)
    noisy = {snr: np.zeros_like(clean) for snr in SNRS}
    for k, actors in enumerate(FOLDS):
        test_ids = [i for i, r in enumerate(index) if r["actor"] in actors]
        rng = np.random.default_rng(100 + k)  # the order of draws in training.speech.cross_validate
        for snr in SNRS:
            for i in test_ids:
                x = add_noise(waves[i].astype(np.float32), snr, rng)
                noisy[snr][i] = acoustic_functionals(x, log_mel(x))
    print(f"noisy functionals in {time.time() - started:.0f}s", flush=True)
    return {"clean": clean, **{f"noise_{snr}db": noisy[snr] for snr in SNRS}, **augmented(waves)}


def augmented(waves: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Functionals of every file with white noise at ``AUG_SNRS`` (training data of the utterance member)."""
    from affectlens.features.spectral import log_mel
    from affectlens_recipes.speech import add_noise

    rng = np.random.default_rng(AUG_SEED)
    out = {}
    for snr in AUG_SNRS:
        noisy = (add_noise(w.astype(np.float32), snr, rng) for w in waves)
        out[f"aug_{snr}db"] = np.array([acoustic_functionals(x, log_mel(x)) for x in noisy])
    return out


def fit_utterance(feats: dict[str, np.ndarray], rows: np.ndarray, labels: np.ndarray) -> Any:
    """The utterance-mode member: raw (not speaker-z-scored) functionals, clean + noisy copies."""
    x = np.concatenate([feats["clean"][rows]] + [feats[f"aug_{snr}db"][rows] for snr in AUG_SNRS])
    return fit(x, np.tile(labels[rows], 1 + len(AUG_SNRS)))


def fit(feats: np.ndarray, labels: np.ndarray) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, C=C, class_weight="balanced"))
    return model.fit(feats, labels)


def cross_validate(out: Path, cache: Path) -> dict[str, Any]:
    from affectlens_recipes.speech import FOLDS, _load_cache, metrics, summarise

    out.mkdir(parents=True, exist_ok=True)
    path = out / "functionals.npz"
    feats = dict(np.load(path)) if path.is_file() else compute_features(cache)
    index, waves, _ = _load_cache(cache)
    if any(f"aug_{snr}db" not in feats for snr in AUG_SNRS):
        feats.update(augmented(waves))
    np.savez(path, **feats)
    y = np.array([r["label"] for r in index])
    actors = np.array([r["actor"] for r in index])
    normed = {name: speaker_zscored(f, actors) for name, f in feats.items()}
    folds: dict[str, Any] = {}
    for k, fold_actors in enumerate(FOLDS):
        test = np.isin(actors, fold_actors)
        model = fit(normed["clean"][~test], y[~test])
        fold: dict[str, Any] = {"test_actors": list(fold_actors)}
        ids = np.flatnonzero(test)
        for condition, name in [("speaker", "clean")] + [(f"speaker_white_noise_{s}db", f"noise_{s}db")
                                                         for s in SNRS]:
            probs = model.predict_proba(normed[name][test])
            fold[condition] = metrics(probs, y[test])
            np.savez(out / f"oof_fold{k}_{condition}.npz", probs=probs, labels=y[test], ids=ids)
        utterance_model = fit_utterance(feats, ~test, y)
        for condition, name in [("utterance", "clean")] + [(f"utterance_white_noise_{s}db", f"noise_{s}db")
                                                           for s in SNRS]:
            probs = utterance_model.predict_proba(feats[name][test])
            fold[condition] = metrics(probs, y[test])
            np.savez(out / f"oof_fold{k}_{condition}.npz", probs=probs, labels=y[test], ids=ids)
        folds[str(k)] = fold
        print(f"fold {k}: UAR {fold['speaker']['uar']:.3f} arousal {fold['speaker']['arousal_binary_accuracy']:.3f}",
              flush=True)
    report = {"arch": ARCH, "epochs": None, "seed": None, "C": C, "modes": ["speaker", "utterance"],
              "utterance_training_noise_snrs": list(AUG_SNRS),
              "n_features": len(FUNCTIONAL_NAMES), "folds": folds, "summary": summarise(folds)}
    (out / "cv.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    final(out, normed["clean"], feats["clean"], y, actors)
    write_weights(out / "functional_lr_utterance.json", fit_utterance(feats, np.ones(len(y), bool), y),
                  note="raw functionals (no speaker baseline); trained on clean files plus white-noise copies at "
                       f"{', '.join(str(s) for s in AUG_SNRS)} dB SNR")
    return report


def final(out: Path, normed: np.ndarray, raw: np.ndarray, y: np.ndarray, actors: np.ndarray) -> None:
    """Fit on all 24 actors; write the weights as plain lists (no pickle)."""
    within_std = np.median([raw[actors == a].std(axis=0) for a in np.unique(actors)], axis=0)
    write_weights(out / "functional_lr.json", fit(normed, y), std_floor=0.5 * within_std,
                  note="features z-scored against the speaker's/file's own segments first (std floored at std_floor)")


def write_weights(path: Path, model: Any, *, note: str, std_floor: np.ndarray | None = None) -> None:
    """A fitted scaler + logistic regression as plain JSON lists (no pickle)."""
    scaler, clf = model[0], model[1]
    weights: dict[str, Any] = {"arch": ARCH, "C": C, "names": list(FUNCTIONAL_NAMES)}
    if std_floor is not None:
        weights["std_floor"] = std_floor.round(6).tolist()
    weights.update({"scaler_mean": scaler.mean_.tolist(), "scaler_scale": scaler.scale_.tolist(),
                    "coef": clf.coef_.round(8).tolist(), "intercept": clf.intercept_.round(8).tolist(),
                    "note": note})
    path.write_text(json.dumps(weights) + "\n", encoding="utf-8")
    print(f"wrote {path}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("artifacts/speech/cache"))
    parser.add_argument("--out", type=Path, default=Path("artifacts/speech/func"))
    args = parser.parse_args()
    report = cross_validate(args.out, args.cache)
    print(json.dumps({k: v["uar"]["mean"] for k, v in report["summary"].items() if isinstance(v, dict)}), flush=True)


if __name__ == "__main__":
    main()
