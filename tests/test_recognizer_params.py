"""The parameter contract: ``get_params`` records the constructor's arguments, ``with_params`` configures a copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from affectlens.recognizer_params import UnknownParameter, check_params
from affectlens.testing import DummyRecognizer


def test_get_params_are_the_constructor_arguments_with_defaults() -> None:
    assert DummyRecognizer().get_params() == {"threshold": 0.3}
    assert DummyRecognizer(threshold=0.5).get_params() == {"threshold": 0.5}


def test_with_params_returns_a_configured_copy_and_leaves_the_original() -> None:
    original = DummyRecognizer(threshold=0.5)
    variant = original.with_params(threshold=0.1)
    assert variant is not original
    assert (variant.threshold, variant.get_params()) == (0.1, {"threshold": 0.1})
    assert (original.threshold, original.get_params()) == (0.5, {"threshold": 0.5})
    check_params(original, ["I am so happy"])


def test_unknown_names_raise_listing_the_valid_ones() -> None:
    with pytest.raises(UnknownParameter, match=r"'treshold'.*its parameters: threshold"):
        DummyRecognizer().with_params(treshold=0.1)
    with pytest.raises(TypeError):  # what callers that catch a bad keyword argument expect
        DummyRecognizer().with_params(cues="occlusion")


def test_subclass_records_its_own_arguments() -> None:
    pytest.importorskip("onnxruntime")
    from affectlens.recognizers.speech_whisper import SpeechWhisperRecognizer

    rec = SpeechWhisperRecognizer(intra_threads=1, normalisation="utterance")
    params = rec.get_params()
    assert params["intra_threads"] == 1 and params["normalisation"] == "utterance" and "threads" not in params
    assert rec.with_params(normalisation="file").get_params()["intra_threads"] == 1


@pytest.fixture(scope="module")
def tiny_text_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tokenizers")
    from affectlens.testing import make_tiny_text_model

    return make_tiny_text_model(tmp_path_factory.mktemp("tiny-text"))


def test_analysis_settings_share_the_loaded_model(tiny_text_dir: Path) -> None:
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer

    rec = TextOnnxRecognizer(tiny_text_dir, name="text.tiny.v1")
    rec.load()
    occlusion = rec.with_params(cues="occlusion")
    assert occlusion._session is rec._session  # no second load for a cue method
    assert (occlusion.cues, rec.cues) == ("occlusion", "decomposition")
    [seg] = occlusion.analyze(["I am so happy today"])[0].segments
    assert seg.extras["cue_method"] == "occlusion"
    [plain] = rec.analyze(["I am so happy today"])[0].segments
    assert "cue_method" not in plain.extras


def test_loading_settings_give_a_fresh_unloaded_copy(tiny_text_dir: Path) -> None:
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer

    rec = TextOnnxRecognizer(tiny_text_dir, name="text.tiny.v1")
    rec.load()
    unverified = rec.with_params(verify=False)
    assert unverified._session is None and unverified.model_dir == rec.model_dir and unverified.name == rec.name


def test_values_are_checked_by_the_constructor(tiny_text_dir: Path) -> None:
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer

    with pytest.raises(ValueError, match="cues must be one of"):
        TextOnnxRecognizer(tiny_text_dir).with_params(cues="gradients")
