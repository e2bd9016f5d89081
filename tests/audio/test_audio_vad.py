"""Voice activity: the Silero model file, the segmenter's rules, streaming = one pass."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from affectlens.audio.vad import FRAME, VAD_DIR, Segmenter, SileroVad, VadModelError, VadParams, iter_utterances
from affectlens.bench.datasets import data_root
from affectlens.testing import EnergyVad

RATE = 16_000
DATA = data_root() / "ravdess_speech_16k"


def frames(seconds: float) -> int:
    return round(seconds * RATE / FRAME)


def probs(*runs: tuple[float, float]) -> list[float]:
    """(seconds, probability) runs -> per-frame probabilities."""
    out: list[float] = []
    for seconds, p in runs:
        out.extend([p] * frames(seconds))
    return out


def spans_s(spans: list[tuple[int, int]]) -> list[tuple[float, float]]:
    return [(round(a * FRAME / RATE, 2), round(b * FRAME / RATE, 2)) for a, b in spans]


def run(p: list[float], params: VadParams | None = None, piece: int = 7) -> list[tuple[int, int]]:
    seg = Segmenter(params)
    out: list[tuple[int, int]] = []
    for i in range(0, len(p), piece):  # streamed in small pieces
        out.extend(seg.push(p[i:i + piece]))
    return out + seg.flush()


def test_two_utterances_with_a_long_pause() -> None:
    spans = run(probs((1, 0.0), (2, 0.9), (2, 0.0), (1.5, 0.9), (1, 0.0)))
    assert np.allclose(spans_s(spans), [(1.0, 3.0), (5.0, 6.5)], atol=0.05)


def test_short_pause_is_bridged_and_short_blips_dropped() -> None:
    spans = run(probs((0.5, 0.0), (1, 0.9), (0.2, 0.1), (1, 0.9), (1, 0.0), (0.1, 0.9), (1, 0.0)))
    assert len(spans) == 1 and spans_s(spans)[0][1] - spans_s(spans)[0][0] == pytest.approx(2.2, abs=0.05)


def test_merge_gap_joins_runs_split_by_silence() -> None:
    p = probs((0.5, 0.0), (1, 0.9), (0.4, 0.0), (1, 0.9), (2, 0.0))
    assert len(run(p, VadParams(min_silence_s=0.3, merge_gap_s=0.5))) == 1
    assert len(run(p, VadParams(min_silence_s=0.3, merge_gap_s=0.2))) == 2


def test_max_length_cuts_and_min_length_skips() -> None:
    p = probs((25, 0.9))
    spans = run(p, VadParams(max_segment_s=10.0))
    assert len(spans) == 3 and all((b - a) * FRAME / RATE <= 10.0 + 1e-6 for a, b in spans)
    seg = Segmenter(VadParams(min_segment_s=1.0))
    out = seg.push(probs((1, 0.0), (0.6, 0.9), (2, 0.0))) + seg.flush()
    assert out == [] and seg.skipped_short == 1


def test_hysteresis_ignores_dips_above_neg_threshold() -> None:
    spans = run(probs((0.5, 0.0), (1, 0.9), (1, 0.4), (1, 0.9), (1, 0.0)))
    assert len(spans) == 1


def test_params_are_validated() -> None:
    with pytest.raises(ValueError):
        VadParams(threshold=0.3, neg_threshold=0.5)
    with pytest.raises(ValueError):
        VadParams(max_segment_s=0.5)


def burst_signal() -> np.ndarray:
    t = np.arange(RATE) / RATE
    loud = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    silence = np.zeros(RATE, np.float32)
    return np.concatenate([silence, loud, silence, loud, loud, silence])


@pytest.mark.parametrize("chunk_s", [0.1, 0.37, 30.0])
def test_iter_utterances_is_chunk_size_invariant(chunk_s: float) -> None:
    x = burst_signal()
    step = int(chunk_s * RATE)
    utterances = list(iter_utterances((x[i:i + step] for i in range(0, x.size, step)), EnergyVad()))
    assert [(round(u.start, 1), round(u.end, 1)) for u in utterances] == [(0.9, 2.1), (2.9, 5.1)]
    for u in utterances:
        assert u.samples.size == pytest.approx(u.duration * RATE, abs=1)


def test_silero_model_is_verified(tmp_path: Path) -> None:
    copy = tmp_path / "vad"
    shutil.copytree(VAD_DIR, copy)
    config = json.loads((copy / "config.json").read_text())
    config["sha256"][config["file"]] = "0" * 64
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(VadModelError, match="sha256"):
        SileroVad(copy).load()
    (copy / config["file"]).unlink()
    with pytest.raises(VadModelError, match="missing"):
        SileroVad(copy).load()


def test_silero_finds_no_speech_in_silence_tone_or_noise() -> None:
    vad = SileroVad()
    rng = np.random.default_rng(0)
    for x in (np.zeros(3 * RATE, np.float32), burst_signal(), 0.05 * rng.standard_normal(3 * RATE).astype(np.float32)):
        assert list(iter_utterances([x], vad)) == []


def test_silero_streaming_equals_one_pass() -> None:
    rng = np.random.default_rng(1)
    x = (0.1 * rng.standard_normal(5 * RATE)).astype(np.float32)
    vad = SileroVad()
    whole = np.concatenate([vad.push(x), vad.flush()])
    vad.reset()
    parts = [vad.push(x[i:i + 3001]) for i in range(0, x.size, 3001)]
    pieces = np.concatenate([*parts, vad.flush()])
    np.testing.assert_allclose(whole, pieces, atol=1e-5)


@pytest.mark.data
def test_silero_finds_the_sentence_in_a_ravdess_file() -> None:
    if not DATA.is_dir():
        pytest.skip("RAVDESS not in ../shared/datasets")
    from affectlens.audio import open_audio

    audio = open_audio(DATA / "Actor_01" / "03-01-01-01-01-01-01.flac")
    utterances = list(iter_utterances(audio.chunks(1.0), SileroVad()))
    assert len(utterances) == 1
    assert 0.5 < utterances[0].start < 1.2 and 2.0 < utterances[0].end < 3.0
