"""A WAV whose data ends before its header says is reported, not read as a short valid file (issue 21, item 8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import affectlens
from affectlens.audio.wav_header import wav_truncation

sf = pytest.importorskip("soundfile")


def _wav(path: Path, seconds: float = 3.0) -> Path:
    t = np.arange(int(16_000 * seconds)) / 16_000
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16_000, subtype="PCM_16")
    return path


def test_wav_truncation(tmp_path: Path) -> None:
    full = _wav(tmp_path / "full.wav")
    assert wav_truncation(full) is None
    half = tmp_path / "half.wav"
    half.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    message = wav_truncation(half)
    assert message is not None and "half.wav: truncated WAV" in message and "1.5 s missing" in message
    (tmp_path / "junk.wav").write_bytes(b"not a wav at all")
    assert wav_truncation(tmp_path / "junk.wav") is None


@pytest.mark.parametrize("keep", [60, 48_000])
def test_cli_warns_about_a_truncated_wav(tmp_path: Path, keep: int) -> None:
    full = _wav(tmp_path / "full.wav")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full.read_bytes()[:keep])
    env = {**os.environ, "PYTHONPATH": str(Path(affectlens.__file__).parents[1])}
    done = subprocess.run([sys.executable, "-m", "affectlens.cli", "analyze", str(cut), "-f", "jsonl"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert "Traceback" not in done.stderr
    text = done.stdout + done.stderr
    assert "cut.wav: truncated WAV: the header announces 3.0 s of audio" in text, text
    assert "s missing" in text
    if done.returncode == 0:
        assert any("truncated WAV" in w for w in json.loads(done.stdout)["warnings"])
