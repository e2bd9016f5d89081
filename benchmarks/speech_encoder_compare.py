"""Whisper tiny.en vs multilingual base (vs both concatenated) as the frozen speech encoder: accuracy and cost.

    AFFECTLENS_DATA=/work/shared/datasets python benchmarks/speech_encoder_compare.py \
        --cache /work/cache/speech/whisper-tiny [--timing-clips 30] [--skip-accuracy]

Accuracy: heads trained on RAVDESS alone (``training.speech_xcorpus.fit_heads``), its 6
actor-independent folds, 8-class UAR per lone utterance (``global``) and speaker-normalised
(``speaker``), binary arousal accuracy; features from the cache of
``training.speech_whisper_cache`` (windows ``clip`` and ``base-clip``).  The cross-corpus
comparison is ``affectlens bench speech-xcorpus --system whisper-tiny --system whisper-base``.
Cost: wall seconds per clip and CPU seconds per audio second of each encoder (2 threads, int8)
on the same trimmed RAVDESS clips, interleaved so that the machine's load falls on both alike.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def accuracy(cache: Path) -> dict[str, dict[str, float]]:
    from affectlens_recipes import speech_xcorpus as sx
    from affectlens_recipes.speech_corpora import load_all

    clips = load_all(corpora=("ravdess",))
    tiny = sx.load_features(cache, "clip", ("ravdess",), clips)
    base = sx.load_features(cache, "base-clip", ("ravdess",), clips)
    both = sx.Dataset(np.hstack([tiny.x, base.x]), tiny.corpus, tiny.speaker, tiny.label, tiny.fold, tiny.seconds)
    out = {}
    for name, rows in (("tiny.en", tiny), ("base", base), ("tiny.en+base", both)):
        for mode in ("global", "speaker"):
            r = sx.in_corpus_folds(rows, "ravdess", mode, with_other_corpora=False)
            out[f"{name}/{mode}"] = {"uar": r["uar_mean"], "arousal_accuracy": r["arousal_accuracy_mean"]}
            print(name, mode, out[f"{name}/{mode}"], flush=True)
    return out


def timing(n_clips: int, threads: int) -> dict[str, float]:
    from affectlens.audio.whisper_base import PINNED_SHA256, base_model_dir
    from affectlens.audio.whisper_encoder import WhisperEncoder, trim_silence
    from affectlens_recipes.speech_corpora import load_all
    from affectlens_recipes.speech_whisper_cache import read_clip

    clips = load_all(corpora=("ravdess",))[:: max(1, 1440 // n_clips)][:n_clips]
    audio = [trim_silence(read_clip(c.path)) for c in clips]
    encoders = {"tiny.en": WhisperEncoder(intra_threads=threads),
                "base": WhisperEncoder(base_model_dir(), intra_threads=threads, pins=PINNED_SHA256)}
    spent = dict.fromkeys(encoders, 0.0)
    cpu = dict.fromkeys(encoders, 0.0)  # CPU seconds of all threads: steadier than wall time on a loaded machine
    for encoder in encoders.values():  # warm up
        encoder.pooled(audio[0])
    for x in audio:
        for name, encoder in encoders.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            encoder.pooled(x)
            spent[name] += time.perf_counter() - start
            cpu[name] += time.process_time() - start_cpu
    seconds = float(sum(x.size for x in audio) / 16000)
    return {**{f"{k}_s_per_clip": round(v / len(audio), 4) for k, v in spent.items()},
            **{f"{k}_real_time_factor": round(v / seconds, 4) for k, v in spent.items()},
            **{f"{k}_cpu_s_per_audio_s": round(v / seconds, 4) for k, v in cpu.items()},
            "clips": len(audio), "audio_s": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--timing-clips", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()
    report: dict[str, object] = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if not args.skip_accuracy:
        report["ravdess_only_heads"] = accuracy(args.cache)
    if args.timing_clips:
        report["encoder_cost"] = timing(args.timing_clips, args.threads)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
