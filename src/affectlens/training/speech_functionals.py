"""The acoustic-functionals member of the speech ensemble: logistic regression on speaker-z-scored statistics.

Recipe (after ``python -m affectlens.training.speech prepare``; ~2 min on one thread)::

    python -m affectlens.training.speech_functionals --cache artifacts/speech/cache --out artifacts/speech/func

Per file: ``features.functionals.acoustic_functionals`` of the VAD-trimmed audio (218
numbers), z-scored against the same speaker's files (all 60 of the actor: in deployment,
all speech segments of the file being analysed, i.e. the recognizer's *file* mode), then a
standard scaler and a class-balanced multinomial logistic regression (C = 0.5, the value
the log-mel peer of ``training.speech`` uses; not tuned).  Evaluated on the 6
actor-independent folds of ``training.speech`` (the noisy test audio is drawn with the same
generator seeds, so the members' out-of-fold predictions line up), then fitted on all 24
actors for shipping.  Without a speaker baseline (utterance mode) the raw statistics are
fragile (UAR fell to ~0.2 with 20 dB white noise in our first measurement), so the
recognizer uses this member in file mode only.

Writes to ``--out``: ``functionals.npz`` (clean and noisy features), ``oof_fold{k}_speaker*.npz``
(the layout ``speech_finalize`` reads), ``cv.json``, and ``functional_lr.json`` (the shipped
weights as plain lists: feature names, per-feature std floor for short files, scaler,
coefficients).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.features.functionals import FUNCTIONAL_NAMES, acoustic_functionals, zscore_rows

C = 0.5
SNRS = (20, 10)
ARCH = "functionals-logreg"


def speaker_zscored(feats: np.ndarray, actors: np.ndarray) -> np.ndarray:
    out = np.empty_like(feats)
    for actor in np.unique(actors):
        rows = actors == actor
        out[rows] = zscore_rows(feats[rows])
    return out


def compute_features(cache: Path) -> dict[str, np.ndarray]:
    """Clean features of every file, and noisy ones of each fold's test files (the CV's noise draws)."""
    from affectlens.features.spectral import log_mel
    from affectlens.training.speech import FOLDS, _load_cache, _log, add_noise

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
    return {"clean": clean, **{f"noise_{snr}db": noisy[snr] for snr in SNRS}}


def fit(feats: np.ndarray, labels: np.ndarray) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, C=C, class_weight="balanced"))
    return model.fit(feats, labels)


def cross_validate(out: Path, cache: Path) -> dict[str, Any]:
    from affectlens.training.speech import FOLDS, _load_cache, metrics, summarise

    out.mkdir(parents=True, exist_ok=True)
    path = out / "functionals.npz"
    feats = dict(np.load(path)) if path.is_file() else compute_features(cache)
    np.savez(path, **feats)
    index, _, _ = _load_cache(cache)
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
        folds[str(k)] = fold
        print(f"fold {k}: UAR {fold['speaker']['uar']:.3f} arousal {fold['speaker']['arousal_binary_accuracy']:.3f}",
              flush=True)
    report = {"arch": ARCH, "epochs": None, "seed": None, "C": C, "modes": ["speaker"],
              "n_features": len(FUNCTIONAL_NAMES), "folds": folds, "summary": summarise(folds)}
    (out / "cv.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    final(out, normed["clean"], feats["clean"], y, actors)
    return report


def final(out: Path, normed: np.ndarray, raw: np.ndarray, y: np.ndarray, actors: np.ndarray) -> None:
    """Fit on all 24 actors; write the weights as plain lists (no pickle)."""
    model = fit(normed, y)
    scaler, clf = model[0], model[1]
    within_std = np.median([raw[actors == a].std(axis=0) for a in np.unique(actors)], axis=0)
    weights = {
        "arch": ARCH, "C": C, "names": list(FUNCTIONAL_NAMES),
        "std_floor": (0.5 * within_std).round(6).tolist(),
        "scaler_mean": scaler.mean_.tolist(), "scaler_scale": scaler.scale_.tolist(),
        "coef": clf.coef_.round(8).tolist(), "intercept": clf.intercept_.round(8).tolist(),
        "note": "features z-scored against the speaker's/file's own segments first (std floored at std_floor)",
    }
    (out / "functional_lr.json").write_text(json.dumps(weights) + "\n", encoding="utf-8")
    print(f"wrote {out / 'functional_lr.json'}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("artifacts/speech/cache"))
    parser.add_argument("--out", type=Path, default=Path("artifacts/speech/func"))
    args = parser.parse_args()
    report = cross_validate(args.out, args.cache)
    print(json.dumps({k: v["uar"]["mean"] for k, v in report["summary"].items() if isinstance(v, dict)}), flush=True)


if __name__ == "__main__":
    main()
