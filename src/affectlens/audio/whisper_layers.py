"""The first layers of a Whisper encoder, in numpy, from the pinned CTranslate2 ``model.bin``.

Why: CTranslate2's ``encode`` returns only the encoder's last layer, whose states are shaped for
transcription.  Emotion reads better from earlier layers: with the same heads, pooled states of
multilingual base's blocks 3 and 4 (of 6) score RAVDESS actor-independent UAR per lone utterance
0.736 and leave-one-corpus-out RAVDESS 0.485, against 0.643 and 0.279 for tiny.en's last block
(``speech.whisper-xcorpus.v3`` vs v2; docs/benchmarks.md, "Speech across corpora";
``benchmarks/speech_layer_probe.py`` compares every block).  Running only the blocks the heads
read also costs less than the whole encoder.

The weights are read from the same pinned, hash-checked packages as ``whisper_encoder`` and
``whisper_base`` (``verify_model_dir``, ``base_parts``); nothing is converted or stored.  The
arithmetic is Whisper's encoder (two GELU convolutions, sinusoidal positions, pre-norm
self-attention blocks), checked against CTranslate2's own ``encode`` on the installed model
(``tests/audio/test_whisper_layers.py``).
Layer numbers count blocks from 1; the last block's output gets the final layer norm, as
CTranslate2 returns it.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from affectlens.audio.whisper_encoder import (
    HOP,
    MAX_FRAMES,
    PINNED_SHA256,
    RATE,
    EncodedClip,
    WhisperEncoderUnavailable,
    Window,
    default_model_dir,
    encoder_input,
    pool,
    verify_model_dir,
)

# CTranslate2's DataType enum, in its order
_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
_PREFIX = "encoder/"
_BLOCK_MARK = "ffn/layer_norm/beta"  # one per encoder block: counts them


class _Joined:
    """Files read one after the other as one stream (``model.bin`` split across two wheels), forward only."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self._files = [open(p, "rb") for p in paths]  # noqa: SIM115 - closed in close()
        self._i = 0

    def read(self, n: int) -> bytes:
        out = b""
        while len(out) < n and self._i < len(self._files):
            chunk = self._files[self._i].read(n - len(out))
            if not chunk:
                self._i += 1
            out += chunk
        return out

    def seek(self, n: int, whence: int = 1) -> None:
        """Skip ``n`` bytes forward (only ``whence=1``), across the end of a part if need be."""
        if whence != 1 or n < 0:
            raise ValueError("forward relative seeks only")
        while n > 0 and self._i < len(self._files):
            f = self._files[self._i]
            here, end = f.tell(), f.seek(0, 2)
            f.seek(here)
            step = min(n, end - here)
            f.seek(step, 1)
            n -= step
            if n > 0:
                self._i += 1

    def close(self) -> None:
        for f in self._files:
            f.close()


def read_ct2_variables(path: Path | Sequence[Path], prefix: str = _PREFIX,
                       keep: Callable[[str], bool] = lambda name: True) -> dict[str, np.ndarray]:
    """The variables of a CTranslate2 ``model.bin`` (format version 6; or its parts, in order) whose names start
    with ``prefix`` and pass ``keep`` (called with the name after the prefix); the others are skipped unread."""

    def u32(f: _Joined) -> int:
        return int(struct.unpack("<I", f.read(4))[0])

    def text(f: _Joined) -> str:
        (n,) = struct.unpack("<H", f.read(2))
        return f.read(n).decode("utf-8").rstrip("\0")

    out: dict[str, np.ndarray] = {}
    with contextlib.closing(_Joined([path] if isinstance(path, Path) else list(path))) as f:
        version = u32(f)
        if version != 6:
            raise WhisperEncoderUnavailable(f"{path}: CTranslate2 model format {version}, expected 6")
        text(f)  # spec name
        u32(f)  # spec revision
        for _ in range(u32(f)):
            name = text(f)
            rank = f.read(1)[0]
            shape = [u32(f) for _ in range(rank)]
            dtype_id = f.read(1)[0]
            n_bytes = u32(f)
            if not name.startswith(prefix) or not keep(name[len(prefix):]):
                f.seek(n_bytes, 1)
                continue
            if dtype_id not in _DTYPES:
                raise WhisperEncoderUnavailable(f"{path}: variable {name} has an unsupported type {dtype_id}")
            data = np.frombuffer(f.read(n_bytes), dtype=_DTYPES[dtype_id]).reshape(shape)
            if name.endswith("_scale") or data.dtype == np.int8:
                raise WhisperEncoderUnavailable(f"{path}: quantised weights ({name}); a float model is needed")
            out[name[len(prefix):]] = data.astype(np.float32) if data.dtype == np.float16 else data.copy()
    return out


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): numpy has no erf, and GELU needs the exact form."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return np.asarray(sign * (1.0 - poly * np.exp(-a * a)), dtype=np.float32)


def _gelu(x: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476))), dtype=np.float32)


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = np.square(x - mean).mean(axis=-1, keepdims=True)
    return np.asarray((x - mean) / np.sqrt(var + 1e-5) * gamma + beta, dtype=np.float32)


def _conv3(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """1-D convolution, kernel 3, padding 1: x (C_in, T) -> (C_out, T // stride)."""
    padded = np.pad(x, ((0, 0), (1, 1)))
    t_out = (x.shape[1] - 1) // stride + 1
    taps = [padded[:, k: k + stride * (t_out - 1) + 1: stride] for k in range(3)]
    return np.asarray(sum(weight[:, :, k] @ taps[k] for k in range(3)) + bias[:, None], dtype=np.float32)


@dataclass(frozen=True)
class _Weights:
    variables: dict[str, np.ndarray]
    heads: int
    blocks: int

    def __getitem__(self, name: str) -> np.ndarray:
        return self.variables[name]


class WhisperLayerEncoder:
    """Whisper's encoder up to the last of ``layers``: ``encode`` gives those blocks' per-frame states side
    by side (T, D * len(layers)), ``pooled`` their mean+std, as ``WhisperEncoder`` does for the last block."""

    def __init__(self, model_dir: Path | None = None, *, layers: tuple[int, ...], pins: dict[str, str] | None = None,
                 intra_threads: int | None = None, parts: Sequence[Path] | None = None) -> None:
        """``model_dir``'s ``model.bin`` (checked against ``pins``), or ``parts``: its pieces in order, already
        checked by the caller (``whisper_base.base_parts``)."""
        del intra_threads  # numpy's BLAS threads are the process's; kept for WhisperEncoder's signature
        if parts is None:
            folder = verify_model_dir(model_dir or default_model_dir(), PINNED_SHA256 if pins is None else pins)
            source: Path | list[Path] = folder / "model.bin"
        else:
            source = list(parts)
        self.source = source
        if not layers or min(layers) < 1 or list(layers) != sorted(set(layers)):
            raise ValueError(f"layers must be increasing block numbers from 1, got {layers}")
        self.layers = tuple(layers)

        seen: list[str] = []

        def needed(name: str) -> bool:  # every name is seen (to count the blocks); later blocks are not loaded
            seen.append(name)
            head = name.split("/")[0]
            return not (head.startswith("layer_") and head[len("layer_"):].isdigit()
                        and int(head[len("layer_"):]) >= layers[-1])

        variables = read_ct2_variables(source, keep=needed)  # one pass over the file
        blocks = sum(1 for name in seen if name.startswith("layer_") and name.endswith(_BLOCK_MARK))
        if layers[-1] > blocks:
            raise ValueError(f"this encoder has {blocks} blocks, asked for block {layers[-1]}")
        self._w = _Weights(variables, int(np.asarray(variables["num_heads"]).reshape(-1)[0]), blocks)

    @property
    def blocks(self) -> int:
        """How many blocks the whole encoder has (the decoder reads the last one's states)."""
        return self._w.blocks

    @property
    def state_dim(self) -> int:
        return int(self._w["conv1/bias"].shape[0]) * len(self.layers)

    def states_of(self, mel: np.ndarray) -> np.ndarray:
        """(80, T) log-mel frames (T even, <= 3000) -> (T // 2, D * len(layers)) states of ``layers``."""
        w = self._w
        x = _gelu(_conv3(np.asarray(mel, np.float32), w["conv1/weight"], w["conv1/bias"], 1))
        x = _gelu(_conv3(x, w["conv2/weight"], w["conv2/bias"], 2)).T
        x = np.asarray(x + w["position_encodings/encodings"][: x.shape[0]], dtype=np.float32)
        kept = []
        for block in range(1, self.layers[-1] + 1):
            x = self._block(x, f"layer_{block - 1}")
            if block in self.layers:
                last = block == w.blocks
                kept.append(_layer_norm(x, w["layer_norm/gamma"], w["layer_norm/beta"]) if last else x)
        return kept[0] if len(kept) == 1 else np.concatenate(kept, axis=1)

    def _block(self, x: np.ndarray, p: str) -> np.ndarray:
        w = self._w
        t, d = x.shape
        heads, dh = w.heads, d // w.heads
        h = _layer_norm(x, w[f"{p}/self_attention/layer_norm/gamma"], w[f"{p}/self_attention/layer_norm/beta"])
        qkv = h @ w[f"{p}/self_attention/linear_0/weight"].T + w[f"{p}/self_attention/linear_0/bias"]
        q, k, v = (qkv[:, j * d:(j + 1) * d].reshape(t, heads, dh).transpose(1, 0, 2) for j in range(3))
        mixed = np.empty((t, d), np.float32)
        scale = np.float32(1.0 / np.sqrt(dh))
        for head in range(heads):  # one head's (t, t) weights at a time: 9 MB for a 30 s window instead of 72 MB
            attention = (q[head] @ k[head].T) * scale
            attention -= attention.max(axis=-1, keepdims=True)
            np.exp(attention, out=attention)
            attention /= attention.sum(axis=-1, keepdims=True)
            mixed[:, head * dh:(head + 1) * dh] = attention @ v[head]
        x = x + mixed @ w[f"{p}/self_attention/linear_1/weight"].T + w[f"{p}/self_attention/linear_1/bias"]
        h = _layer_norm(x, w[f"{p}/ffn/layer_norm/gamma"], w[f"{p}/ffn/layer_norm/beta"])
        h = _gelu(h @ w[f"{p}/ffn/linear_0/weight"].T + w[f"{p}/ffn/linear_0/bias"])
        return np.asarray(x + h @ w[f"{p}/ffn/linear_1/weight"].T + w[f"{p}/ffn/linear_1/bias"], dtype=np.float32)

    def encode(self, x: np.ndarray, *, window: Window = "clip") -> EncodedClip:
        x = np.asarray(x, dtype=np.float32).reshape(-1)
        if x.size > MAX_FRAMES * HOP:
            raise ValueError(f"encode takes at most 30 s ({x.size / RATE:.1f} s given): split first")
        features = encoder_input(x, window)
        states = self.states_of(features)
        covered = max(1, min(states.shape[0], -(-x.size // (2 * HOP))))
        return EncodedClip(states[:covered], x.size / RATE)

    def pooled(self, x: np.ndarray, *, window: Window = "clip") -> np.ndarray:
        return pool(self.encode(x, window=window).states)
