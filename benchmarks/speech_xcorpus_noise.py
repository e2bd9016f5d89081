"""White noise and reverberation vs the cross-corpus Whisper heads, on RAVDESS folds (issue 23).

    python benchmarks/speech_xcorpus_noise.py --cache /work/cache/speech/whisper-tiny [--folds 0 1] \
        [--window base@3 --augment]

Heads (``training.speech_xcorpus.fit_heads``, trained on clean clips of every corpus except the
test fold's RAVDESS actors) are scored on the fold's clips clean, with white noise at 20 and 10 dB
SNR, with babble (6 other utterances of the fold summed) at 20 and 10 dB, and convolved with an
exponential-decay impulse response (RT60 0.5 s); the clean features come
from the cache, the degraded ones are encoded here (the same trimming first). Log-mel + LR (same
heads recipe) alongside. Prints one JSON line per condition.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from affectlens_recipes import speech_xcorpus as sx
from affectlens_recipes.speech_corpora import CORPORA, load_all


def reverb(x: np.ndarray, rng: np.random.Generator, rt60: float = 0.5, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(rt60 * rate)) / rate
    impulse = rng.standard_normal(t.size) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    impulse[0] = 1.0
    y = np.convolve(x, impulse)[: x.size]
    return (y * (np.abs(x).max() / max(np.abs(y).max(), 1e-9))).astype(np.float32)


def babble(x: np.ndarray, others: list[np.ndarray], snr_db: float, rng: np.random.Generator,
           talkers: int = 6) -> np.ndarray:
    """``x`` plus the sum of ``talkers`` other utterances (tiled to its length) at ``snr_db``."""
    mix = np.zeros(x.size, np.float64)
    for i in rng.choice(len(others), size=talkers, replace=False):
        mix += np.resize(others[i], x.size)
    power_x = float(np.mean(x.astype(np.float64) ** 2)) or 1e-10
    power_n = float(np.mean(mix**2)) or 1e-10
    return (x + mix * np.sqrt(power_x / (power_n * 10 ** (snr_db / 10)))).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--folds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--window", default="clip", help="the Whisper system's cache window (clip, base@3, ...)")
    parser.add_argument("--augment", action="store_true",
                        help="train the Whisper heads also on the cached WINDOW-noisy copies of RAVDESS (white "
                             "noise 10-25 dB; training.speech_whisper_cache --window WINDOW-noisy --corpora ravdess)")
    args = parser.parse_args()
    from affectlens.audio.whisper_encoder import trim_silence
    from affectlens_recipes.speech import add_noise
    from affectlens_recipes.speech_whisper_cache import featuriser, read_clip

    clips = load_all(corpora=CORPORA)
    systems = {"whisper-tiny": sx.load_features(args.cache, args.window, CORPORA, clips),
               "logmel": sx.load_features(args.cache, "logmel", CORPORA, clips)}
    # the cache's own featurisers: the degraded rows are computed as the clean cached ones were
    featurise = {"whisper-tiny": featuriser(args.window, args.threads), "logmel": featuriser("logmel", args.threads)}
    for fold in args.folds:
        test = (systems["whisper-tiny"].corpus == "ravdess") & (systems["whisper-tiny"].fold == fold)
        rng = np.random.default_rng(fold)
        waves = [trim_silence(read_clip(clips[i].path)) for i in np.flatnonzero(test)]
        degraded = {"white 20 dB": [add_noise(x, 20.0, rng) for x in waves],
                    "white 10 dB": [add_noise(x, 10.0, rng) for x in waves],
                    "babble 20 dB": [babble(x, waves[:i] + waves[i + 1:], 20.0, rng) for i, x in enumerate(waves)],
                    "babble 10 dB": [babble(x, waves[:i] + waves[i + 1:], 10.0, rng) for i, x in enumerate(waves)],
                    "reverb rt60 0.5 s": [reverb(x, rng) for x in waves]}
        for name, data in systems.items():
            started = time.time()
            features = {condition: np.stack([featurise[name](x) for x in xs]).astype(np.float64)
                        for condition, xs in degraded.items()}
            train = data.rows(~test)
            if args.augment and name == "whisper-tiny":
                noisy = sx.load_features(args.cache, f"{args.window}-noisy", ("ravdess",))
                noisy = noisy.rows(noisy.fold != fold)
                noisy.speaker = np.char.add(noisy.speaker, ":noisy")  # its own speaker group for speaker z-scores
                train = sx.Dataset(*(np.concatenate([getattr(train, f), getattr(noisy, f)])
                                     for f in ("x", "corpus", "speaker", "label", "fold", "seconds")))
            for mode in ("global", "speaker"):
                heads = sx.fit_heads(train, mode)
                system = f"whisper:{args.window}" if name == "whisper-tiny" and args.window != "clip" else name
                result = {"fold": fold, "system": system + ("+augment" if args.augment else ""), "mode": mode,
                          "clean": sx.score(heads, data.rows(test))["uar"]}
                for condition, x in features.items():
                    rows = data.rows(test)
                    rows.x = x
                    result[condition] = sx.score(heads, rows)["uar"]
                result["seconds"] = round(time.time() - started, 1)
                print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
