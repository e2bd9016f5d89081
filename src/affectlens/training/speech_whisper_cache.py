"""Cache pooled Whisper encoder states (mean+std, 768-d) of every staged speech clip, resumable.

    python -m affectlens.training.speech_whisper_cache --out /work/cache/speech/whisper-tiny \
        [--window clip|30s] [--corpora ravdess ased emovo urdu] [--threads 1]

Each clip is decoded to 16 kHz mono, trimmed (``trim_silence``: digital-zero padding and
quiet edges) and encoded at its own length (``--window clip``) or padded to Whisper's 30 s
window.  Output: ``<out>/<window>/<corpus>.npz`` with ``keys``, ``features`` (N, 768) and
``seconds`` (trimmed length); the file is rewritten every 100 clips and finished keys are
skipped when the command runs again.  Keep the cache outside the repository (corpus-derived).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from affectlens.training.speech_corpora import CORPORA, Clip, load_corpus

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
    from affectlens.audio.whisper_encoder import WhisperEncoder, trim_silence

    out.parent.mkdir(parents=True, exist_ok=True)
    done = load_cache(out)
    todo = [c for c in clips if c.key not in done]
    if not todo:
        return out
    encoder = WhisperEncoder(intra_threads=threads)
    start = time.time()
    for i, clip in enumerate(todo, 1):
        x = trim_silence(read_clip(clip.path))[: 30 * 16000]
        if x.size < 1600:
            x = np.pad(x, (0, 1600 - x.size))
        done[clip.key] = (encoder.pooled(x, window=window), x.size / 16000)  # type: ignore[arg-type]
        if i % SAVE_EVERY == 0 or i == len(todo):
            save_cache(out, done)
            print(f"{out.name}: {i}/{len(todo)} in {time.time() - start:.0f} s", flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--window", choices=("clip", "30s"), default="clip")
    parser.add_argument("--corpora", nargs="+", default=list(CORPORA), choices=CORPORA)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    for corpus in args.corpora:
        extract(load_corpus(corpus, args.data), args.out / args.window / f"{corpus}.npz", window=args.window,
                threads=args.threads)


if __name__ == "__main__":
    main()
