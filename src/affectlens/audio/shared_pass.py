"""One Whisper encoder pass per 30 s window, read twice: by the decoder (words) and by the emotion heads.

The words path packs consecutive speech segments into one Whisper window (``audio.transcribe``).
``SharedPassEncoder`` stands in for faster-whisper's ``WhisperModel.encode``: it runs the numpy
encoder (``audio.whisper_layers``) over the window's log-mel once, hands the decoder the last
block's states (with the final layer norm, as CTranslate2's ``encode`` returns them) and keeps
the blocks the emotion heads read.  faster-whisper asks for the same window twice when it
detects the language (once to detect, once to decode): the second call gets the kept states.
``segment_rows`` then pools each packed segment's own frames of those blocks.

Heads trained on lone clips cannot read these rows (a clip's states inside a window are
different features: ``benchmarks/speech_shared_pass_probe.py``), so the rows go to heads trained
on packed windows of every corpus (``heads_window_{utterance,file}.onnx`` in the model folder;
``affectlens_recipes.speech_window_cache`` builds their training rows with ``window_features`` and
this encoder, exactly as here).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

RATE = 16_000
FRAMES_PER_SECOND = 50  # encoder frames: 20 ms each
WINDOW_FRAMES = 3000  # log-mel frames of Whisper's 30 s window


def window_features(audio: np.ndarray) -> np.ndarray:
    """The (80, 3000) log-mel faster-whisper encodes for the first window of ``audio`` (at most 30 s).

    faster-whisper's own steps (``WhisperModel.transcribe``/``generate_segments``, version 1.2): the
    feature extractor with its default 160-sample padding, the last frame dropped, zeros up to 3000."""
    from faster_whisper.audio import pad_or_trim

    features = _extractor()(np.asarray(audio, np.float32).reshape(-1))
    content = features.shape[-1] - 1
    return np.asarray(pad_or_trim(features[:, :min(WINDOW_FRAMES, content)]), dtype=np.float32)


@lru_cache(maxsize=1)
def _extractor() -> Any:
    """faster-whisper's 80-band feature extractor, built once (its mel filter bank is computed at construction)."""
    from faster_whisper.feature_extractor import FeatureExtractor

    return FeatureExtractor(feature_size=80)


class SharedPassEncoder:
    """faster-whisper's ``encode`` on the numpy encoder, keeping the emotion heads' blocks of each window.

    ``layers``: the blocks the heads read; the encoder runs to its last block either way (the decoder
    needs it).  ``first_states()`` gives the heads' columns of the first window encoded since
    ``start_pack()`` (the window at the start of the packed audio, which holds every packed segment)."""

    def __init__(self, encoder: Any, layers: Sequence[int]) -> None:
        """``encoder``: a ``WhisperLayerEncoder`` whose ``layers`` are ``layers`` plus the encoder's last block."""
        self.encoder = encoder
        self.layers = tuple(layers)
        all_layers = tuple(encoder.layers)
        if all_layers[-1] != encoder.blocks or any(b not in all_layers for b in self.layers):
            raise ValueError(f"the encoder keeps blocks {all_layers}; the heads need {self.layers}")
        dim = encoder.state_dim // len(all_layers)
        self._dim = dim
        self._head_columns = np.concatenate([np.arange(all_layers.index(b) * dim, (all_layers.index(b) + 1) * dim)
                                             for b in self.layers])
        self._last = (len(all_layers) - 1) * dim
        self._mel: np.ndarray | None = None
        self._states: np.ndarray | None = None
        self._head_states: np.ndarray | None = None
        self._first: np.ndarray | None = None
        self.passes = 0  # encoder passes run (a test and the benchmark count them)
        self.calls = 0  # windows asked for by the decoder and the language detection

    def start_pack(self) -> None:
        self._first = None

    def window(self, mel: np.ndarray) -> np.ndarray:
        """The last block's states of one (80, 3000) window (what the decoder reads), the window encoded once:
        asked again for the window just encoded, the kept states come back.  Only the last block and, for the
        pack's first window, the heads' blocks are kept (not every block's states)."""
        mel = np.asarray(mel, np.float32)
        if self._mel is None or self._mel.shape != mel.shape or not np.array_equal(self._mel, mel):
            states = self.encoder.states_of(mel)
            self._states = np.ascontiguousarray(states[:, self._last:self._last + self._dim])
            self._head_states = states[:, self._head_columns]
            self._mel = mel.copy()
            self.passes += 1
        if self._first is None:
            self._first = self._head_states
        assert self._states is not None
        return self._states

    def encode(self, features: np.ndarray) -> Any:
        """What ``WhisperModel.encode`` returns: a CTranslate2 ``StorageView`` (1, 1500, d) of the last block."""
        import ctranslate2

        self.calls += 1
        features = np.asarray(features, np.float32)
        mels = features if features.ndim == 3 else features[None]
        return ctranslate2.StorageView.from_array(np.ascontiguousarray(np.stack([self.window(m) for m in mels])))

    def first_states(self) -> np.ndarray | None:
        return self._first


def segment_rows(states: np.ndarray, spans: Sequence[tuple[float, float]]) -> list[np.ndarray]:
    """Mean+std of each (start, end) span's encoder frames (seconds into the window), as the heads read them."""
    from affectlens.audio.whisper_encoder import pool

    rows = []
    for start, end in spans:
        first = min(states.shape[0] - 1, int(start * FRAMES_PER_SECOND))
        last = min(states.shape[0], max(first + 1, int(np.ceil(end * FRAMES_PER_SECOND))))
        rows.append(pool(states[first:last]))
    return rows


def shared_model(model_cls: Any, shared: SharedPassEncoder) -> Any:
    """A subclass of faster-whisper's ``WhisperModel`` whose ``encode`` is ``shared.encode``."""

    class SharedPassWhisper(model_cls):  # type: ignore[misc, valid-type]
        def encode(self, features: np.ndarray) -> Any:
            return shared.encode(features)

    return SharedPassWhisper


__all__ = ["SharedPassEncoder", "segment_rows", "shared_model", "window_features"]
