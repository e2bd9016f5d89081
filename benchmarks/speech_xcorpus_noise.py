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
from affectlens_recipes.speech_baselines import babble, reverb
from affectlens_recipes.speech_corpora import CORPORA, load_all


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--folds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--window", default="clip", help="the Whisper system's cache window (clip, base@3, ...)")
    parser.add_argument("--augment", nargs="?", const="noisy", default=None, metavar="COPIES",
                        help="train the Whisper heads also on cached copies of RAVDESS: WINDOW-noisy (white noise "
                             "10-25 dB) by default, or the comma-separated kinds given (noisy,reverb; "
                             "affectlens_recipes.speech_whisper_cache --window WINDOW-KIND --corpora ravdess)")
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
                for kind in args.augment.split(","):
                    copies = sx.load_features(args.cache, f"{args.window}-{kind}", ("ravdess",))
                    copies = copies.rows(copies.fold != fold)
                    copies.speaker = np.char.add(copies.speaker, f":{kind}")  # own speaker groups for z-scores
                    train = sx.concat([train, copies])
            for mode in ("global", "speaker"):
                heads = sx.fit_heads(train, mode)
                system = f"whisper:{args.window}" if name == "whisper-tiny" and args.window != "clip" else name
                result = {"fold": fold, "system": system + (f"+{args.augment}" if args.augment else ""), "mode": mode,
                          "clean": sx.score(heads, data.rows(test))["uar"],
                          **sx.score_conditions(heads, data.rows(test), features)}
                result["seconds"] = round(time.time() - started, 1)
                print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
