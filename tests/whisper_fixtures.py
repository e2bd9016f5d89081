"""Tiny Whisper-shaped CTranslate2 models written by the tests (no real weights needed)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from affectlens.models import sha256_file

_TYPE_IDS = {np.dtype(np.float32): 0, np.dtype(np.int8): 1, np.dtype(np.int32): 3, np.dtype(np.float16): 4}


def write_ct2(path: Path, variables: dict[str, np.ndarray], version: int = 6) -> None:
    """A CTranslate2 model.bin (format 6) holding ``variables``, as CTranslate2's converter writes it."""

    def text(s: str) -> bytes:
        raw = s.encode() + b"\0"
        return struct.pack("<H", len(raw)) + raw

    out = [struct.pack("<I", version), text("WhisperSpec"), struct.pack("<I", 3), struct.pack("<I", len(variables))]
    for name, value in variables.items():
        value = np.ascontiguousarray(value)
        out += [text(name), struct.pack("<B", value.ndim), *(struct.pack("<I", d) for d in value.shape),
                struct.pack("<B", _TYPE_IDS[value.dtype]), struct.pack("<I", value.nbytes), value.tobytes()]
    out.append(struct.pack("<I", 0))  # no aliases
    path.write_bytes(b"".join(out))


def tiny_whisper(folder: Path, *, blocks: int = 2, d: int = 8, heads: int = 2, seed: int = 0) -> dict[str, str]:
    """A random Whisper-shaped encoder (80 mel bands) in ``folder``; returns the pins of its model.bin."""
    rng = np.random.default_rng(seed)

    def r(*shape: int) -> np.ndarray:
        return (0.3 * rng.standard_normal(shape)).astype(np.float16)

    v: dict[str, np.ndarray] = {"decoder/embeddings/weight": r(5, d), "encoder/conv1/weight": r(d, 80, 3),
                                "encoder/conv1/bias": r(d), "encoder/conv2/weight": r(d, d, 3),
                                "encoder/conv2/bias": r(d), "encoder/position_encodings/encodings": r(1500, d),
                                "encoder/num_heads": np.array(heads, np.int32),
                                "encoder/layer_norm/gamma": r(d), "encoder/layer_norm/beta": r(d)}
    for i in range(blocks):
        p = f"encoder/layer_{i}"
        for part in ("self_attention", "ffn"):
            v[f"{p}/{part}/layer_norm/gamma"], v[f"{p}/{part}/layer_norm/beta"] = r(d), r(d)
        v[f"{p}/self_attention/linear_0/weight"], v[f"{p}/self_attention/linear_0/bias"] = r(3 * d, d), r(3 * d)
        v[f"{p}/self_attention/linear_1/weight"], v[f"{p}/self_attention/linear_1/bias"] = r(d, d), r(d)
        v[f"{p}/ffn/linear_0/weight"], v[f"{p}/ffn/linear_0/bias"] = r(4 * d, d), r(4 * d)
        v[f"{p}/ffn/linear_1/weight"], v[f"{p}/ffn/linear_1/bias"] = r(d, 4 * d), r(d)
    folder.mkdir(parents=True, exist_ok=True)
    write_ct2(folder / "model.bin", v)
    return {"model.bin": sha256_file(folder / "model.bin")}
