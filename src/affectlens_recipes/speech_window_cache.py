"""Cache each staged clip's pooled Whisper states *inside a packed 30 s window*, as the words path encodes speech.

    python -m affectlens_recipes.speech_window_cache --out /work/cache/speech/xc --blocks 2+3+4+5+6 \
        [--corpora ravdess ased emovo urdu] [--noisy] [--seed 0]

The words path (``audio.transcribe``, ``audio.shared_pass``) packs consecutive speech segments of a
recording into one Whisper window (up to 28 s, 0.5 s of silence between them), encodes the window
once, and pools each segment's own frames.  Training rows are made the same way: each speaker's
clips (trimmed as ``speech_whisper_cache`` trims them), shuffled with ``--seed``, packed into windows
filled to 28 s for half of the windows and to a length drawn from 1-28 s for the others (a recording
is not always a long talk: some windows hold one or two segments, as a short file's do), each window
encoded once with ``shared_pass.window_features`` and the numpy encoder, each clip's frames pooled
(``shared_pass.segment_rows``).  A clip's row therefore depends on its window-mates: always of the
same speaker, as in a recording.

``--noisy``: every clip gets white noise at 10-25 dB SNR first (seeded as ``speech_whisper_cache``'s
``-noisy`` copies).  Output: ``<out>/base@<blocks>-window[-noisy]/<corpus>.npz`` in
``speech_whisper_cache``'s format (``keys``, ``features``, ``seconds``), so ``speech_xcorpus`` reads it
like any other window.  Resumable per speaker.  Keep the cache outside the repository.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from affectlens.audio.transcribe import GAP_SECONDS, PACK_SECONDS
from affectlens_recipes.speech_corpora import CORPORA, Clip, load_corpus
from affectlens_recipes.speech_whisper_cache import layer_encoder, load_cache, read_clip, save_cache

RATE = 16_000
FULL_SHARE = 0.5  # windows filled to PACK_SECONDS; the others to a random length


def window_name(blocks: tuple[int, ...], noisy: bool) -> str:
    return f"base@{'+'.join(map(str, blocks))}-window" + ("-noisy" if noisy else "")


def clip_audio(clip: Clip, noisy: bool) -> np.ndarray:
    from affectlens.audio.whisper_encoder import trim_silence

    x = trim_silence(read_clip(clip.path))[: int(PACK_SECONDS * RATE)]
    if x.size < 1600:
        x = np.pad(x, (0, 1600 - x.size))
    if noisy:
        from affectlens_recipes.speech import add_noise

        rng = np.random.default_rng(x.size)
        x = add_noise(x, float(rng.uniform(10.0, 25.0)), rng).astype(np.float32)
    return x


def speaker_windows(clips: list[Clip], rng: np.random.Generator, noisy: bool
                    ) -> Iterator[list[tuple[str, np.ndarray]]]:
    """One speaker's clips, in the order given, packed into windows of the drawn lengths."""
    return pack(((clip.key, clip_audio(clip, noisy)) for clip in clips), lambda: _target(rng))


def pack(pieces: Iterable[tuple[str, np.ndarray]], target: Callable[[], int]) -> Iterator[list[tuple[str, np.ndarray]]]:
    """Keyed pieces, in order, in windows of at most ``target()`` samples counting a gap after each piece (a new
    target per window); a piece longer than its window gets one alone."""
    gap = int(GAP_SECONDS * RATE)
    limit = target()
    current: list[tuple[str, np.ndarray]] = []
    filled = 0
    for key, x in pieces:
        if current and filled + x.size > limit:
            yield current
            current, filled, limit = [], 0, target()
        current.append((key, x))
        filled += x.size + gap
    if current:
        yield current


def _target(rng: np.random.Generator) -> int:
    seconds = PACK_SECONDS if rng.random() < FULL_SHARE else float(rng.uniform(1.0, PACK_SECONDS))
    return int(seconds * RATE)


def window_rows(encoder: object, window: list[tuple[str, np.ndarray]], columns: np.ndarray
                ) -> dict[str, tuple[np.ndarray, float]]:
    """Each packed clip's pooled states of the heads' blocks, from one pass over its window."""
    from affectlens.audio.shared_pass import segment_rows, window_features

    gap = np.zeros(int(GAP_SECONDS * RATE), np.float32)
    spans, at = [], 0
    for _, x in window:
        spans.append((at / RATE, (at + x.size) / RATE))
        at += x.size + gap.size
    audio = np.concatenate([piece for _, x in window for piece in (x, gap)])[: 30 * RATE]
    states = encoder.states_of(window_features(audio))[:, columns]  # type: ignore[attr-defined]
    rows = segment_rows(states, spans)
    return {key: (row, x.size / RATE) for (key, x), row in zip(window, rows, strict=True)}


def extract(corpus: str, out: Path, blocks: tuple[int, ...], *, noisy: bool, seed: int,
            data: Path | None = None) -> None:
    from affectlens_recipes.speech_whisper_cache import block_columns

    clips = load_corpus(corpus, data)
    target = out / window_name(blocks, noisy) / f"{corpus}.npz"
    target.parent.mkdir(parents=True, exist_ok=True)
    done = load_cache(target)
    encoder = None
    rng = np.random.default_rng(seed)
    started, windows = time.time(), 0
    for speaker in sorted({c.speaker for c in clips}):
        mine = [c for c in clips if c.speaker == speaker]
        order = rng.permutation(len(mine))
        speaker_rng = np.random.default_rng([seed, len(mine), int(order[0])])  # same draws when resumed
        if all(c.key in done for c in mine):
            continue
        if encoder is None:
            encoder = layer_encoder("base", tuple(range(1, 7)))
            columns = block_columns(blocks, tuple(range(1, 7)), 512)
            columns = np.sort(columns[: len(columns) // 2])  # per-frame states: the means' columns name them
        for window in speaker_windows([mine[i] for i in order], speaker_rng, noisy):
            done.update(window_rows(encoder, window, columns))
            windows += 1
        save_cache(target, done)
        print(f"{target.parent.name}/{corpus}: speaker {speaker} done, {len(done)}/{len(clips)} clips, "
              f"{windows} windows in {time.time() - started:.0f} s", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--blocks", default="2+3+4+5+6", help="the blocks of multilingual base the heads read")
    parser.add_argument("--corpora", nargs="+", default=list(CORPORA), choices=CORPORA)
    parser.add_argument("--noisy", action="store_true", help="white noise at 10-25 dB SNR on every clip")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args(argv)
    blocks = tuple(int(b) for b in args.blocks.split("+"))
    for corpus in args.corpora:
        extract(corpus, args.out, blocks, noisy=args.noisy, seed=args.seed, data=args.data)


if __name__ == "__main__":
    main()
