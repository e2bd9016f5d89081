"""Noise and reverberation vs the window heads of the words path (``speech.whisper-xcorpus.v5``), RAVDESS folds.

    AFFECTLENS_DATA=../shared/datasets python benchmarks/speech_window_noise.py --cache CACHE [--folds 0 1]

The words path reads each speech segment from inside a packed 30 s Whisper window
(``audio.shared_pass``).  Here each test actor's clips (trimmed) are degraded as in
``speech_xcorpus_noise.py`` (white noise and babble at 20 and 10 dB SNR, an exponential-decay room
with RT60 0.5 s), packed in order into full windows (28 s, 0.5 s gaps), each window encoded once
and each clip pooled inside it (``speech_window_cache.window_rows``, as at run time); the clean
condition is packed the same way.  Heads: the window recipe (the ``--window`` rows plus the other
rows of the same clips named by ``--lone``: lone rows, and for v5's recipe the noisy copies, see
``--help``; arousal and valence from the emotion head), trained without the fold's actors.  Prints
one JSON line per fold and normalisation.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from affectlens.audio.transcribe import PACK_SECONDS
from affectlens_recipes import speech_xcorpus as sx
from affectlens_recipes.speech_baselines import babble, reverb
from affectlens_recipes.speech_corpora import CORPORA, load_all

RATE = 16_000
FULL = int(PACK_SECONDS * RATE)  # every test window filled to the words path's limit, as in a long recording


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--folds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--window", default="base@2+3+4+5+6-window", help="cache window of packed-window rows")
    parser.add_argument("--lone", default="base@2+3+4+5+6",
                        help="cache windows of the same clips' other rows the heads also train on, comma-separated "
                             "(lone rows; their noisy copies: base@2+3+4+5+6,base@2+3+4+5+6-noisy)")
    args = parser.parse_args()
    from affectlens.audio.whisper_encoder import trim_silence
    from affectlens_recipes.speech import add_noise
    from affectlens_recipes.speech_whisper_cache import block_columns, layer_encoder, read_clip
    from affectlens_recipes.speech_window_cache import pack, window_rows

    blocks = tuple(int(b) for b in args.window.split("@")[1].removesuffix("-window").split("+"))
    clips = load_all(corpora=CORPORA)
    data = sx.load_features(args.cache, args.window, CORPORA, clips)
    lone = sx.with_augmented(data, args.cache, args.lone)
    lone = lone.rows(np.arange(len(data.label), len(lone.label)))
    fit = sx.augmenting_fitter(lambda d, m: sx.fit_heads(d, m, axes="emotion"), lone)
    encoder = layer_encoder("base", tuple(range(1, 7)))
    columns = np.sort(block_columns(blocks, tuple(range(1, 7)), 512)[: len(blocks) * 512])
    for fold in args.folds:
        started = time.time()
        test = (data.corpus == "ravdess") & (data.fold == fold)
        rng = np.random.default_rng(fold)
        index = np.flatnonzero(test)
        waves = [trim_silence(read_clip(clips[i].path))[: int(PACK_SECONDS * RATE)] for i in index]
        conditions = {"clean": waves,
                      "white 20 dB": [add_noise(x, 20.0, rng) for x in waves],
                      "white 10 dB": [add_noise(x, 10.0, rng) for x in waves],
                      "babble 20 dB": [babble(x, waves[:i] + waves[i + 1:], 20.0, rng) for i, x in enumerate(waves)],
                      "babble 10 dB": [babble(x, waves[:i] + waves[i + 1:], 10.0, rng) for i, x in enumerate(waves)],
                      "reverb rt60 0.5 s": [reverb(x, rng) for x in waves]}
        speakers = data.speaker[index]
        rows_by_condition = {}
        for condition, xs in conditions.items():
            rows: dict[str, np.ndarray] = {}
            for speaker in sorted(set(speakers)):
                mine = [k for k in range(len(xs)) if speakers[k] == speaker]
                for window in pack(((str(k), np.asarray(xs[k], np.float32)) for k in mine), lambda: FULL):
                    got = window_rows(encoder, window, columns)
                    rows.update({key: row for key, (row, _) in got.items()})
            rows_by_condition[condition] = np.stack([rows[str(k)] for k in range(len(xs))]).astype(np.float64)
        for mode in ("global", "speaker"):
            heads = fit(data.rows(~test), mode)
            result: dict[str, object] = {"fold": fold, "mode": mode, "heads": f"{args.window}+{args.lone}",
                                         **sx.score_conditions(heads, data.rows(test), rows_by_condition)}
            result["seconds"] = round(time.time() - started, 1)
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
