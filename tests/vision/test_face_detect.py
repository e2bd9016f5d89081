"""Face detection: overlap filtering, crops with margin, no-face images, the real-photo smoke set."""

from __future__ import annotations

import csv

import numpy as np
import pytest

pytest.importorskip("cv2")

from affectlens.bench.datasets import data_root
from affectlens.vision.detect import (
    FaceBox,
    HaarFaceDetector,
    WholeImageDetector,
    containment,
    crop_box,
    crop_faces,
    iou,
    suppress_overlaps,
)

LONDON = data_root() / "faces_london_smoke"


def test_iou_and_containment() -> None:
    a, b = FaceBox(0, 0, 10, 10), FaceBox(5, 0, 10, 10)
    assert iou(a, b) == pytest.approx(50 / 150)
    assert iou(a, FaceBox(20, 20, 5, 5)) == 0.0
    assert containment(FaceBox(2, 2, 4, 4), a) == 1.0


def test_overlapping_and_nested_boxes_are_suppressed() -> None:
    big = FaceBox(100, 100, 100, 100, score=5.0)
    kept = suppress_overlaps([big, FaceBox(105, 105, 95, 95, score=3.0), FaceBox(130, 130, 30, 30, score=9.0),
                              FaceBox(400, 100, 90, 90, score=2.0)])
    assert {k.as_tuple() for k in kept} == {(130, 130, 30, 30), (400, 100, 90, 90)} or len(kept) == 2
    assert len(kept) == 2


def test_no_face_in_blank_noise_or_tiny_images() -> None:
    detector = HaarFaceDetector()
    rng = np.random.default_rng(0)
    assert detector.detect(np.zeros((200, 200, 3), np.uint8)) == []
    assert detector.detect(np.zeros((1, 1, 3), np.uint8)) == []
    assert detector.detect(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)) == []


def test_crop_has_margin_pads_at_borders_and_resizes() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    image[40:60, 40:60] = 255
    box = FaceBox(40, 40, 20, 20)
    assert crop_box(box, 0.25, 100, 100) == (35, 35, 30, 30)
    crop = crop_faces(image, [box], size=(48, 48), margin=0.25)[0]
    assert crop.shape == (48, 48) and crop[24, 24] == 255 and crop[0, 0] == 0
    edge = crop_faces(image, [FaceBox(90, 90, 20, 20)], size=(48, 48), margin=0.5)
    assert edge.shape == (1, 48, 48)  # box past the border: padded, no error
    assert crop_faces(image, [box], gray=False).shape == (1, 48, 48, 3)
    assert WholeImageDetector().detect(image)[0].as_tuple() == (0, 0, 100, 100)


@pytest.mark.data
def test_exactly_one_face_per_london_portrait() -> None:
    if not (LONDON / "labels.csv").is_file():
        pytest.skip("faces_london_smoke not available")
    from affectlens.vision.io import load_image

    with (LONDON / "labels.csv").open(newline="") as handle:
        files = [row["file"] for row in csv.DictReader(handle)]
    detector = HaarFaceDetector()
    counts = [len(detector.detect(load_image(LONDON / name).pixels)) for name in files]
    assert counts == [1] * len(files)
