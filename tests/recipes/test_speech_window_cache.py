"""Training rows pooled inside packed Whisper windows, as the words path's shared pass pools them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from affectlens_recipes import speech_window_cache as swc
from affectlens_recipes.speech_corpora import Clip

RATE = 16_000


def _clips(seconds: list[float]) -> list[Clip]:
    return [Clip("ravdess", Path(f"{s}.flac"), f"k{i}", "a", "happy", 0) for i, s in enumerate(seconds)]


def test_a_speakers_clips_fill_windows_of_the_drawn_lengths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(swc, "clip_audio", lambda clip, noisy: np.ones(int(float(clip.path.stem) * RATE), np.float32))
    clips = _clips([3.0] * 30 + [20.0, 20.0])
    windows = list(swc.speaker_windows(clips, np.random.default_rng(0), noisy=False))
    assert [key for w in windows for key, _ in w] == [c.key for c in clips]  # every clip once, in order
    for window in windows:  # a window holds at most 28 s with 0.5 s gaps, unless one clip alone is longer
        filled = sum(x.size for _, x in window) + (len(window) - 1) * swc.GAP_SECONDS * RATE
        assert len(window) == 1 or filled <= swc.PACK_SECONDS * RATE
    assert len({len(w) for w in windows}) > 1  # windows of different lengths (half full, half drawn)


class FrameNumbers:
    """Encoder stand-in: a window's states are its frame numbers, in every column."""

    def states_of(self, mel: np.ndarray) -> np.ndarray:
        assert mel.shape == (80, 3000)
        return np.repeat(np.arange(1500, dtype=np.float32)[:, None], 4, axis=1)


def test_window_rows_pool_each_clip_over_its_own_frames_of_the_window() -> None:
    pytest.importorskip("faster_whisper")
    window = [("a", np.ones(2 * RATE, np.float32)), ("b", np.ones(RATE, np.float32))]
    rows = swc.window_rows(FrameNumbers(), window, np.array([0, 2]))
    frames = np.arange(1500, dtype=np.float32)
    assert rows["a"][1] == 2.0 and rows["b"][1] == 1.0  # seconds of each clip
    assert rows["a"][0][0] == pytest.approx(frames[0:100].mean())  # 2 s: frames 0-99
    assert rows["b"][0][0] == pytest.approx(frames[125:175].mean())  # after 2 s + 0.5 s of silence
    assert rows["b"][0].shape == (4,)  # mean and std of the two chosen columns
    assert swc.window_name((2, 3), noisy=True) == "base@2+3-window-noisy"
