"""Real-time factor and peak memory of the speech path (decode + VAD + features + model) on long audio.

Usage: python benchmarks/speech_throughput.py [--minutes 10 60] [--threads 2] [--json out.json]

Audio: RAVDESS utterances (``../shared/datasets/ravdess_speech_16k``) concatenated in a
seeded random order with 0.3-2.0 s of silence between them, written as one 16 kHz FLAC
file per duration (streamed to disk, never held in memory).  Without the data set the
file is made of generated harmonic tones, which Silero VAD does not call speech: the
figures then cover decoding and VAD only, and the output says so.

Each duration runs in a fresh process, so its peak RSS (``ru_maxrss``) is that run's
alone.  Reported per duration: wall time of ``recognizer.analyze([open_audio(path)])``
(model load excluded and reported apart), real-time factor (wall / audio seconds), peak
RSS, segments, and the share of decode-only and decode+VAD passes over the same file.
The ``words`` pass (``--passes ...,words``) times the whole path of ``analyze talk.wav
--words`` (``fusion.speech_words``: VAD + voice emotion + Whisper words + text
emotion + fusion; ``--encoder-pass shared``, the default, shares one encoder pass per window
between the words and the voice where the model has window heads) with the same, already
loaded, speech recognizer; its real-time factor is printed next to the emotion-only one, with
the seconds spent in Whisper decoding apart.
Also: the cost of three resamplers (soxr, scipy ``resample_poly``, FFmpeg through PyAV)
on 60 s of 44.1 kHz audio, and of the prosody features per second of speech.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

WHISPER_MODELS = ("speech.whisper-tiny-xcorpus.v1", "speech.whisper-xcorpus.v2", "speech.whisper-xcorpus.v3",
                  "speech.whisper-xcorpus.v4", "speech.whisper-xcorpus.v5")
# $AFFECTLENS_DATA first: from a git worktree, parents[2] is not the folder beside the checkout
DATA = Path(os.environ.get("AFFECTLENS_DATA") or Path(__file__).resolve().parents[2] / "shared" / "datasets"
            ) / "ravdess_speech_16k"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_long_audio(path: Path, minutes: float, seed: int = 0, max_gap_s: float = 2.0) -> str:
    """Write ``minutes`` of speech-like audio to ``path`` (16 kHz mono FLAC); returns what it is made of."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    target = int(minutes * 60 * 16_000)
    files = sorted(DATA.glob("Actor_*/*.flac")) if DATA.is_dir() else []
    written = 0
    with sf.SoundFile(path, "w", 16_000, 1, subtype="PCM_16") as out:
        while written < target:
            if files:
                clip, rate = sf.read(files[int(rng.integers(len(files)))], dtype="float32")
                assert rate == 16_000
            else:
                t = np.arange(int(rng.uniform(1.5, 4.0) * 16_000)) / 16_000
                f0 = rng.uniform(90, 250)
                clip = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 8)).astype(np.float32) * 0.1
            gap = np.zeros(int(rng.uniform(0.3, max(0.3, max_gap_s)) * 16_000), np.float32)
            piece = np.concatenate([clip, gap])[: target - written]
            out.write(piece)
            written += piece.size
    return "RAVDESS utterances + silences" if files else "generated tones + silences (no speech for the VAD)"


def child(path: str, threads: int, passes: str, model: str = "speech.ravdess-cnn.v1",
          words_model: str = "default", encoder_pass: str = "shared") -> dict[str, Any]:
    """Runs in a fresh process: load once, then time the asked passes over the file."""
    from affectlens.audio import open_audio
    from affectlens.audio.vad import SileroVad, iter_utterances
    from affectlens.recognizers.speech_onnx import SpeechOnnxRecognizer

    out: dict[str, Any] = {}
    audio = open_audio(path)
    seconds = float(audio.duration or 0.0)
    out["audio_seconds"] = round(seconds, 1)
    if "decode" in passes:
        started = time.perf_counter()
        n = sum(c.size for c in audio.chunks(30.0))
        out["decode_s"] = round(time.perf_counter() - started, 2)
        out["decoded_seconds"] = round(n / 16_000, 1)
    if "vad" in passes:
        vad = SileroVad()
        vad.load()
        started = time.perf_counter()
        count = sum(1 for _ in iter_utterances(open_audio(path).chunks(30.0), vad))
        out["decode_vad_s"] = round(time.perf_counter() - started, 2)
        out["vad_segments"] = count
    if "full" in passes:
        if model in WHISPER_MODELS:  # the registry's own factory (its folder); its thread knob is intra_threads
            from affectlens.registry import load_recognizer

            rec: Any = load_recognizer(model, intra_threads=threads)
        else:
            rec = SpeechOnnxRecognizer(threads=threads)
        started = time.perf_counter()
        rec.load()
        out["load_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        [result] = rec.analyze([open_audio(path)])
        wall = time.perf_counter() - started
        out["analyze_s"] = round(wall, 2)
        out["rtf"] = round(wall / seconds, 4) if seconds else None
        out["segments"] = len(result.segments)
        out["speech_seconds"] = round(sum((s.end or 0) - (s.start or 0) for s in result.segments), 1)
        out["warnings"] = list(result.warnings)
        if "words" in passes:
            out.update(words_pass(path, rec, threads, seconds, words_model, encoder_pass))
    out["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    return out


def words_pass(path: str, speech: Any, threads: int, seconds: float, words_model: str = "default",
               encoder_pass: str = "shared") -> dict[str, Any]:
    """The whole path with words (loads excluded, reported apart); Whisper decoding timed on its own too.

    ``encoder_pass``: "shared" (one encoder pass per window for words and voice, where the speech model has
    window heads: ``audio.shared_pass``) or "separate" (the voice encoded per utterance, then Whisper's own)."""
    from affectlens.audio import open_audio
    from affectlens.audio.transcribe import WordTranscriber
    from affectlens.fusion.speech_words import analyze_speech_with_words
    from affectlens.processing import RecognizerPool
    from affectlens.types import Modality

    class Timed(WordTranscriber):
        spent = 0.0

        def transcribe(self, samples: np.ndarray, offset: float = 0.0) -> Any:
            started = time.perf_counter()
            try:
                return super().transcribe(samples, offset)
            finally:
                Timed.spent += time.perf_counter() - started

    started = time.perf_counter()
    chosen = WordTranscriber.default(threads) if words_model == "default" else WordTranscriber(
        threads=threads, model_name=words_model, language="en" if words_model == "tiny.en" else None)
    words = Timed(threads=threads, model_name=chosen.model_name, language=chosen.language)
    shared = speech.window_encoder() if encoder_pass == "shared" and hasattr(speech, "window_encoder") else None
    if shared is not None:
        words.attach(shared)
    words.load()  # loaded here so that its load is not timed: a transcriber loaded without attach stays separate
    text = RecognizerPool().get(Modality.TEXT)
    text.load()
    out: dict[str, Any] = {"words_model": chosen.model_name, "words_load_s": round(time.perf_counter() - started, 2)}
    open_audio(path)
    started = time.perf_counter()
    result = analyze_speech_with_words(path, speech=speech, text=text, transcriber=words)
    wall = time.perf_counter() - started
    out["words_analyze_s"] = round(wall, 2)
    out["words_rtf"] = round(wall / seconds, 4) if seconds else None
    out["whisper_decode_s"] = round(Timed.spent, 2)
    out["words_segments"] = len(result.segments)
    out["words_total"] = sum(len(s.extras.get("words", ())) for s in result.segments)
    out["encoder_pass"] = "shared" if words.shared is not None else "separate"
    if words.shared is not None:
        out["shared_encoder_passes"] = words.shared.passes
    out["segments_with_text"] = sum(1 for s in result.segments if "text" in s.extras.get("modalities", {}))
    return out


def resampler_costs() -> dict[str, float]:
    """Seconds to resample 60 s of 44.1 kHz mono to 16 kHz with each library."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(44_100 * 60).astype(np.float32) * 0.1
    costs: dict[str, float] = {}
    import soxr

    started = time.perf_counter()
    soxr.resample(x, 44_100, 16_000, quality="HQ")
    costs["soxr_hq"] = round(time.perf_counter() - started, 4)
    try:
        from scipy.signal import resample_poly

        started = time.perf_counter()
        resample_poly(x, 160, 441)
        costs["scipy_resample_poly"] = round(time.perf_counter() - started, 4)
    except ImportError:
        pass
    import av

    frame = av.AudioFrame.from_ndarray(x.reshape(1, -1), format="flt", layout="mono")
    frame.sample_rate = 44_100
    resampler = av.AudioResampler(format="flt", layout="mono", rate=16_000)
    started = time.perf_counter()
    resampler.resample(frame)
    resampler.resample(None)
    costs["pyav_swr"] = round(time.perf_counter() - started, 4)
    return costs


def prosody_cost() -> dict[str, float]:
    """Seconds of CPU per second of speech for ``prosody_features`` and ``log_mel``."""
    from affectlens.features.prosody import prosody_features
    from affectlens.features.spectral import log_mel

    t = np.arange(16_000 * 3) / 16_000
    x = (0.2 * sum(np.sin(2 * np.pi * k * 140 * t) / k for k in range(1, 10))).astype(np.float32)
    out: dict[str, float] = {}
    for name, fn in (("prosody_features", prosody_features), ("log_mel", log_mel)):
        fn(x)
        started = time.perf_counter()
        for _ in range(20):
            fn(x)
        out[f"{name}_s_per_speech_s"] = round((time.perf_counter() - started) / 60.0, 5)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, nargs="+", default=[10.0, 60.0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--passes", default="decode,vad,full")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--model", default="speech.ravdess-cnn.v1",
                        choices=("speech.ravdess-cnn.v1", *WHISPER_MODELS))
    parser.add_argument("--max-gap", type=float, default=2.0,
                        help="longest silence between utterances, s (0.3: dense speech, as in a podcast)")
    parser.add_argument("--words-model", default="default", choices=("default", "tiny.en", "base"),
                        help="the words pass's Whisper (default: WordTranscriber.default(), base where installed)")
    parser.add_argument("--encoder-pass", default="shared", choices=("shared", "separate"),
                        help="words pass: one encoder pass per window for words and voice (where the model has "
                             "window heads), or the voice per utterance and Whisper's own pass")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.threads, args.passes, args.model, args.words_model,
                               args.encoder_pass)))
        return
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "threads": args.threads,
        "model": args.model,
        "max_gap_s": args.max_gap,
        "encoder_pass": args.encoder_pass,
        "runs": {},
    }
    report["resample_60s_44k1_to_16k_s"] = resampler_costs()
    report["features"] = prosody_cost()
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            path = Path(tmp) / f"long_{minutes:g}min.flac"
            started = time.perf_counter()
            report["audio"] = make_long_audio(path, minutes, max_gap_s=args.max_gap)
            made = time.perf_counter() - started
            proc = subprocess.run([sys.executable, __file__, "--child", str(path), "--threads", str(args.threads),
                                   "--passes", args.passes, "--model", args.model, "--words-model", args.words_model,
                                   "--encoder-pass", args.encoder_pass],
                                  capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise SystemExit(proc.stderr)
            run = json.loads(proc.stdout.strip().splitlines()[-1])
            run["file_mb"] = round(path.stat().st_size / 2**20, 1)
            run["synthesis_s"] = round(made, 1)
            report["runs"][f"{minutes:g} min"] = run
            print(f"{minutes:g} min: " + ", ".join(f"{k} {v}" for k, v in run.items() if k != "warnings"), flush=True)
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
