"""Can one Whisper encoder pass serve both the words and the voice emotion? (issue 23)

    python benchmarks/speech_shared_pass_probe.py --cache /work/cache/speech/xc [--blocks 3+4] [--folds 0 1]

The decoder needs the encoder's states of a 30 s window (fed the states of an utterance encoded at
its own length, it loops: docs/speech.md).  The words path packs consecutive speech segments into
one window (``audio.transcribe``: up to 28 s, 0.5 s of silence between them).  This probe packs the
RAVDESS clips of each actor the same way (shuffled, seed 0), encodes each window once with the
numpy encoder (``audio.whisper_layers``, multilingual base), and pools each clip's own frames of the
chosen blocks inside its window:

1. ``shipped recipe``: heads trained as the shipped model's are (lone clips, every corpus, the
   RAVDESS white-noise copies, ``global``), without the fold's actors, scored on the fold's clips
   from their lone-clip rows and from their packed-window rows;
2. ``RAVDESS only``: heads trained and scored on RAVDESS alone (6 actor folds), once on lone-clip
   rows, once on packed-window rows (trained on packed rows too).

Also times the encoder: numpy blocks 1..N on a 30 s window and on a 3 s clip, CTranslate2's int8
``encode`` of the same window.  Prints one JSON line per measurement.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from affectlens.audio.transcribe import GAP_SECONDS, PACK_SECONDS
from affectlens_recipes import speech_xcorpus as sx
from affectlens_recipes.speech_corpora import CORPORA, load_corpus
from affectlens_recipes.speech_whisper_cache import layer_encoder, read_clip


def packed_windows(clips: list, seed: int = 0) -> Iterator[list[tuple[str, np.ndarray]]]:
    """Each actor's clips, shuffled, in windows of at most 28 s with 0.5 s gaps (as the words path packs)."""
    from affectlens.audio.whisper_encoder import RATE, trim_silence

    rng = np.random.default_rng(seed)
    for speaker in sorted({c.speaker for c in clips}):
        mine = [c for c in clips if c.speaker == speaker]
        rng.shuffle(mine)
        current: list[tuple[str, np.ndarray]] = []
        for clip in mine:
            x = trim_silence(read_clip(clip.path))
            filled = sum(p.size for _, p in current) + len(current) * GAP_SECONDS * RATE
            if current and filled + x.size > PACK_SECONDS * RATE:
                yield current
                current = []
            current.append((clip.key, x))
        if current:
            yield current


def packed_rows(encoder: object, clips: list) -> dict[str, np.ndarray]:
    """Each clip's pooled states inside its packed window (one encoder pass per window)."""
    from affectlens.audio.whisper_encoder import HOP, RATE, encoder_input, pool

    gap = np.zeros(int(GAP_SECONDS * RATE), np.float32)
    rows: dict[str, np.ndarray] = {}
    for window in packed_windows(clips):
        spans, at = [], 0
        for key, x in window:
            spans.append((key, at, at + x.size))
            at += x.size + gap.size
        audio = np.concatenate([piece for _, x in window for piece in (x, gap)])
        states = encoder.states_of(encoder_input(audio, "30s"))  # type: ignore[attr-defined]
        for key, a, b in spans:
            first = a // (2 * HOP)
            rows[key] = pool(states[first:max(first + 1, -(-b // (2 * HOP)))])
    return rows


def timings(encoder: object, last_block: int) -> dict[str, float]:
    from affectlens.audio.whisper_encoder import RATE, encoder_input

    x = (np.random.default_rng(0).standard_normal(30 * RATE) * 0.05).astype(np.float32)
    mel = encoder_input(x, "30s")
    started = time.perf_counter()
    encoder.states_of(mel)  # type: ignore[attr-defined]
    out = {f"numpy_blocks_1_to_{last_block}_30s_window_s": round(time.perf_counter() - started, 3)}
    started = time.perf_counter()
    encoder.pooled(x[: 3 * RATE])  # type: ignore[attr-defined]
    out[f"numpy_blocks_1_to_{last_block}_3s_clip_s"] = round(time.perf_counter() - started, 3)
    try:
        import ctranslate2

        from affectlens.audio.whisper_base import base_model_dir
        from affectlens.runtime_threads import pool_threads

        model = ctranslate2.models.Whisper(str(base_model_dir()), device="cpu", compute_type="int8",
                                           intra_threads=pool_threads(None))
        view = ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None]))
        model.encode(view, to_cpu=True)  # warm-up
        started = time.perf_counter()
        model.encode(view, to_cpu=True)
        out["ctranslate2_int8_all_blocks_30s_window_s"] = round(time.perf_counter() - started, 3)
    except Exception as exc:  # the probe's accuracy part does not need CTranslate2
        out["ctranslate2_error"] = str(exc)  # type: ignore[assignment]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True, help="speech_whisper_cache --out folder")
    parser.add_argument("--blocks", default="3+4", help="the pooled blocks of base (a cached window base@BLOCKS "
                                                        "and base@BLOCKS-noisy for RAVDESS must exist)")
    parser.add_argument("--folds", type=int, nargs="+", default=[0, 1], help="RAVDESS folds for part 1")
    args = parser.parse_args()
    blocks = tuple(int(b) for b in args.blocks.split("+"))
    window = f"base@{args.blocks}"
    encoder = layer_encoder("base", blocks)
    print(json.dumps({"timing": timings(encoder, blocks[-1])}), flush=True)

    clips = load_corpus("ravdess")
    started = time.time()
    packed = packed_rows(encoder, clips)
    print(json.dumps({"packed_rows": len(packed), "seconds": round(time.time() - started)}), flush=True)

    data = sx.load_features(args.cache, window, CORPORA)
    copies = sx.with_augmented(data, args.cache, f"{window}-noisy")
    fit = sx.augmenting_fitter(lambda d, m: sx.fit_heads(d, m, axes="emotion"),
                               copies.rows(np.arange(len(data.label), len(copies.label))))
    ravdess_clips = [c.key for c in clips]
    for fold in args.folds:
        test_mask = (data.corpus == "ravdess") & (data.fold == fold)
        heads = fit(data.rows(~test_mask), "global")
        lone = data.rows(test_mask)
        keys = [k for k, c in zip(ravdess_clips, clips, strict=True) if c.fold == fold]
        in_window = sx.Dataset(np.stack([packed[k] for k in keys]).astype(np.float64), lone.corpus, lone.speaker,
                               lone.label, lone.fold, lone.seconds)
        a, b = sx.score(heads, lone), sx.score(heads, in_window)
        print(json.dumps({"part": "shipped recipe", "fold": fold, "uar_lone_clip": a["uar"],
                          "uar_packed_window": b["uar"], "arousal_lone_clip": a["arousal_accuracy"],
                          "arousal_packed_window": b["arousal_accuracy"]}), flush=True)

    ravdess = sx.load_features(args.cache, window, ("ravdess",))
    packed_ravdess = sx.Dataset(np.stack([packed[k] for k in ravdess_clips]).astype(np.float64), ravdess.corpus,
                                ravdess.speaker, ravdess.label, ravdess.fold, ravdess.seconds)
    for name, rows in (("lone clip", ravdess), ("packed window", packed_ravdess)):
        result = sx.in_corpus_folds(rows, "ravdess", "global", with_other_corpora=False,
                                    fitter=lambda d, m: sx.fit_heads(d, m, axes="emotion"))
        print(json.dumps({"part": "RAVDESS only", "rows": name, **result}), flush=True)


if __name__ == "__main__":
    main()
