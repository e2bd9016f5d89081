"""Cached block windows: a window sliced from one with more blocks equals pooling those blocks alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from affectlens.audio.whisper_encoder import pool
from affectlens_recipes.speech_whisper_cache import block_columns, load_cache, save_cache, slice_window


def test_a_sliced_window_equals_pooling_its_blocks_alone(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    dim, blocks = 512, (1, 2, 3)
    clips = {f"ravdess:a{i}.flac": rng.standard_normal((40 + i, dim * len(blocks))).astype(np.float32)
             for i in range(3)}
    source = tmp_path / "base@1+2+3" / "ravdess.npz"
    source.parent.mkdir()
    save_cache(source, {k: (pool(states), 1.5) for k, states in clips.items()})
    slice_window(tmp_path, "base@2+3", "base@1+2+3", ["ravdess", "ased"])  # a corpus not cached is passed over
    sliced = load_cache(tmp_path / "base@2+3" / "ravdess.npz")
    assert set(sliced) == set(clips) and not (tmp_path / "base@2+3" / "ased.npz").exists()
    for key, states in clips.items():
        alone = pool(states[:, dim:])  # blocks 2 and 3's states side by side
        np.testing.assert_allclose(sliced[key][0], alone, rtol=1e-6, atol=1e-6)
        assert sliced[key][1] == pytest.approx(1.5)


def test_slices_that_would_differ_from_an_extraction_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="copy kind"):
        slice_window(tmp_path, "tiny.en@2+3", "base@1+2+3", ["ravdess"])
    with pytest.raises(ValueError, match="copy kind"):
        slice_window(tmp_path, "base@2+3-noisy", "base@1+2+3", ["ravdess"])
    with pytest.raises(ValueError, match="not in the cached window"):
        block_columns((4,), (1, 2, 3), 8)
