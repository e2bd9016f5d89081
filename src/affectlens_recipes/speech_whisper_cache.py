"""Cache per-clip features of every staged speech clip, resumable: pooled Whisper states and the peers' features.

    python -m affectlens_recipes.speech_whisper_cache --out /work/cache/speech/whisper-tiny \
        [--window clip|30s|base-clip|clip-noisy|logmel|egemaps|shipped|base@3|tiny.en@2+3[-noisy|-reverb|-speed90]] \
        [--corpora ravdess ased emovo urdu] [--threads 1]

``clip``/``30s``: Whisper encoder states, mean+std pooled (768-d); ``MODEL@BLOCKS``: the
states of earlier encoder blocks (``audio.whisper_layers``; ``base@3`` = multilingual base's
third of six blocks), side by side, mean+std pooled; ``logmel``: per-band mean and
std of ``features.spectral.log_mel`` (the log-mel + LR peer of ``bench ravdess``); ``egemaps``:
openSMILE eGeMAPSv02 functionals (88; needs the ``egemaps`` extra); ``shipped``: the shipped
log-mel model's 8 probabilities (``shipped_probabilities``).

Each clip is decoded to 16 kHz mono, trimmed (``trim_silence``: digital-zero padding and
quiet edges) and encoded at its own length (``--window clip``) or padded to Whisper's 30 s
window.  Output: ``<out>/<window>/<corpus>.npz`` with ``keys``, ``features`` (N, 768) and
``seconds`` (trimmed length); the file is rewritten every 100 clips and finished keys are
skipped when the command runs again.  Keep the cache outside the repository (corpus-derived).
"""

from __future__ import annotations

import argparse
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from affectlens_recipes.speech_corpora import CORPORA, Clip, load_corpus

SAVE_EVERY = 100


def read_clip(path: Path) -> np.ndarray:
    """16 kHz mono float32 (soundfile decodes ASED's Opus at 16 kHz; others are 16 kHz FLAC)."""
    import soundfile as sf

    from affectlens.audio.decode import to_mono_16k

    samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return to_mono_16k(samples, int(rate))


def load_cache(path: Path) -> dict[str, tuple[np.ndarray, float]]:
    if not path.is_file():
        return {}
    data = np.load(path, allow_pickle=False)
    return {str(k): (f, float(s)) for k, f, s in zip(data["keys"], data["features"], data["seconds"], strict=True)}


def save_cache(path: Path, done: dict[str, tuple[np.ndarray, float]]) -> None:
    keys = sorted(done)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, keys=np.array(keys), features=np.stack([done[k][0] for k in keys]).astype(np.float32),
             seconds=np.array([done[k][1] for k in keys], dtype=np.float32))
    os.replace(tmp, path)


def extract(clips: list[Clip], out: Path, *, window: str, threads: int) -> Path:
    from affectlens.audio.whisper_encoder import trim_silence

    out.parent.mkdir(parents=True, exist_ok=True)
    done = load_cache(out)
    todo = [c for c in clips if c.key not in done]
    if not todo:
        return out
    featurise = featuriser(window, threads)
    start = time.time()
    for i, clip in enumerate(todo, 1):
        x = trim_silence(read_clip(clip.path))[: 30 * 16000]
        if x.size < 1600:
            x = np.pad(x, (0, 1600 - x.size))
        done[clip.key] = (featurise(x), x.size / 16000)
        if i % SAVE_EVERY == 0 or i == len(todo):
            save_cache(out, done)
            print(f"{out.name}: {i}/{len(todo)} in {time.time() - start:.0f} s", flush=True)
    return out


def layer_window(window: str) -> tuple[str, tuple[int, ...], str] | None:
    """``tiny.en@2+3`` / ``base@3`` (+ ``-noisy``, ``-reverb`` or ``-speedNN``) -> (encoder model, its blocks,
    the copy's kind: "", "noisy", "reverb" or "speedNN"); None for other windows."""
    match = re.fullmatch(r"(tiny\.en|base)@(\d+(?:\+\d+)*)(?:-(noisy|reverb|speed\d{2,3}))?", window)
    if match is None:
        return None
    return match.group(1), tuple(int(k) for k in match.group(2).split("+")), match.group(3) or ""


def layer_encoder(model: str, layers: tuple[int, ...]) -> Any:
    """``audio.whisper_layers`` over the pinned tiny.en or multilingual base package."""
    from affectlens.audio.whisper_layers import WhisperLayerEncoder

    if model == "base":  # the recognizer's way: straight from the wheels' two halves
        from affectlens.audio.whisper_base import base_parts

        return WhisperLayerEncoder(layers=layers, parts=base_parts())
    return WhisperLayerEncoder(layers=layers)


def with_white_noise(pooled: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """An augmented copy: white noise at 10-25 dB SNR, seeded by the clip's length, then ``pooled``."""
    from affectlens_recipes.speech import add_noise

    def noisy(x: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(x.size)
        return pooled(add_noise(x, float(rng.uniform(10.0, 25.0)), rng))

    return noisy


def with_reverb(pooled: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """An augmented copy in a simulated room (RT60 0.3-0.8 s, seeded by the clip's length), then ``pooled``."""
    from affectlens_recipes.speech_baselines import reverb

    def roomy(x: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(x.size + 1)
        return pooled(reverb(x, rng, rt60=float(rng.uniform(0.3, 0.8))))

    return roomy


def with_speed(pooled: Callable[[np.ndarray], np.ndarray], percent: int) -> Callable[[np.ndarray], np.ndarray]:
    """An augmented copy played at ``percent`` % speed (tempo and pitch together, as a tape), then ``pooled``."""
    import soxr

    def faster(x: np.ndarray) -> np.ndarray:
        return pooled(np.asarray(soxr.resample(x, 16000 * percent / 100, 16000), dtype=np.float32))

    return faster


def featuriser(window: str, threads: int) -> Callable[[np.ndarray], np.ndarray]:
    """One clip (trimmed, 16 kHz) -> its feature row, for ``window``."""
    layered = layer_window(window)
    if layered is not None:  # earlier encoder blocks (audio.whisper_layers), each clip at its own length
        model, layers, copy = layered
        encoder = layer_encoder(model, layers)
        if copy.startswith("speed"):
            return with_speed(encoder.pooled, int(copy[len("speed"):]))
        if copy == "reverb":
            return with_reverb(encoder.pooled)
        return with_white_noise(encoder.pooled) if copy == "noisy" else encoder.pooled
    if window in ("clip", "30s"):
        from affectlens.audio.whisper_encoder import WhisperEncoder

        encoder = WhisperEncoder(intra_threads=threads)
        return lambda x: encoder.pooled(x, window=window)  # type: ignore[arg-type]
    if window == "base-clip":  # multilingual Whisper base (audio.whisper_base), each clip at its own length
        from affectlens.audio.whisper_base import PINNED_SHA256, base_model_dir
        from affectlens.audio.whisper_encoder import WhisperEncoder

        base = WhisperEncoder(base_model_dir(), intra_threads=threads, pins=PINNED_SHA256)
        return lambda x: base.pooled(x)
    if window == "clip-noisy":  # an augmented copy of the last block's states
        from affectlens.audio.whisper_encoder import WhisperEncoder

        return with_white_noise(WhisperEncoder(intra_threads=threads).pooled)
    if window == "logmel":
        from affectlens.features.spectral import log_mel

        def logmel_stats(x: np.ndarray) -> np.ndarray:
            m = log_mel(x)
            return np.concatenate([m.mean(axis=1), m.std(axis=1)]).astype(np.float32)

        return logmel_stats
    if window == "shipped":
        return shipped_probabilities(threads)
    if window != "egemaps":
        raise ValueError(f"unknown feature window {window!r}")
    import opensmile

    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                            feature_level=opensmile.FeatureLevel.Functionals)
    return lambda x: np.nan_to_num(smile.process_signal(x.astype(np.float32), 16000).to_numpy()[0]).astype(np.float32)


def shipped_probabilities(threads: int) -> Callable[[np.ndarray], np.ndarray]:
    """The shipped log-mel model (speech.ravdess-cnn.v1) per clip, utterance mode: its 8 probabilities,
    averaged over the clip's VAD segments by duration (uniform when it finds no speech)."""
    from affectlens.inputs import AudioClip
    from affectlens.recognizers.speech_onnx import SpeechOnnxRecognizer

    recognizer = SpeechOnnxRecognizer(normalisation="utterance", threads=threads)
    recognizer.load()
    labels = recognizer.config.labels if recognizer.config else ()

    def probabilities(x: np.ndarray) -> np.ndarray:
        [result] = recognizer.analyze([AudioClip(x, 16000)])
        if not result.segments:
            return np.full(len(labels), 1.0 / len(labels), np.float32)
        weights = np.array([max((s.end or 0.0) - (s.start or 0.0), 1e-3) for s in result.segments])
        probs = np.array([[s.scores[k] for k in labels] for s in result.segments])
        return (weights @ probs / weights.sum()).astype(np.float32)

    return probabilities


def block_columns(blocks: tuple[int, ...], of: tuple[int, ...], dim: int) -> np.ndarray:
    """Columns of ``blocks`` in a row pooled over the blocks ``of`` side by side: [means of ``of``, stds of ``of``]."""
    missing = sorted(set(blocks) - set(of))
    if missing:
        raise ValueError(f"blocks {missing} are not in the cached window's blocks {of}")
    means = [np.arange(of.index(b) * dim, (of.index(b) + 1) * dim) for b in blocks]
    stds = [len(of) * dim + np.arange(of.index(b) * dim, (of.index(b) + 1) * dim) for b in blocks]
    return np.concatenate(means + stds)


def slice_window(cache: Path, window: str, source: str, corpora: list[str] | tuple[str, ...]) -> None:
    """``window``'s rows taken from the cached window ``source`` with more blocks of the same encoder and copy kind
    (e.g. ``base@2+3+4+5+6`` from ``base@1+2+3+4+5+6``): a block's states do not depend on which other blocks are
    kept (only the encoder's own last block gets the final layer norm, whatever the window), and mean and std pool
    each column on its own, so the slice equals a fresh extraction."""
    target, origin = layer_window(window), layer_window(source)
    if target is None or origin is None or (target[0], target[2]) != (origin[0], origin[2]):
        raise ValueError(f"{window} cannot be sliced from {source}: the same encoder and copy kind are needed")
    dim = {"tiny.en": 384, "base": 512}[target[0]]
    keep = block_columns(target[1], origin[1], dim)
    for corpus in corpora:
        rows = load_cache(cache / source / f"{corpus}.npz")
        if not rows:
            continue
        out = cache / window / f"{corpus}.npz"
        out.parent.mkdir(parents=True, exist_ok=True)
        save_cache(out, {k: (f[keep], s) for k, (f, s) in rows.items()})
        print(f"{out}: {len(rows)} rows sliced from {source}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--window", default="clip",
                        help="clip, 30s, clip-noisy, base-clip, logmel, egemaps, shipped, or earlier encoder "
                             "blocks: tiny.en@2+3, base@3 (+ -noisy: a white-noise copy, -reverb: in a simulated "
                             "room, -speed90: at 90 %% speed)")
    parser.add_argument("--corpora", nargs="+", default=list(CORPORA), choices=CORPORA)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--slice-from", default=None,
                        help="take --window's blocks from this cached window of more blocks (e.g. base@1+2+3+4+5+6) "
                             "instead of encoding again")
    args = parser.parse_args(argv)
    if args.slice_from:
        slice_window(args.out, args.window, args.slice_from, args.corpora)
        return
    for corpus in args.corpora:
        extract(load_corpus(corpus, args.data), args.out / args.window / f"{corpus}.npz", window=args.window,
                threads=args.threads)


if __name__ == "__main__":
    main()
