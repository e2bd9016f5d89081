"""Offline face detection with OpenCV's bundled Haar cascades, filtered, plus the crop for the model.

Why Haar: it ships inside ``opencv-python-headless<5`` (the 5.x wheels have no cascades, and
no OpenCV wheel bundles YuNet; mediapipe 0.10.x bundles a detector but pins protobuf<5 and
numpy<2 against our onnx, see docs/vision.md), so it works on a fresh offline install.

Raw Haar output has false positives (a second "face" in hair, clothing or background on
studio portraits).  ``HaarFaceDetector`` filters them in four steps, each cheap:

1. detection on a copy reduced to ``max_side`` pixels (speed; boxes are mapped back);
2. score: OpenCV's level weight from ``detectMultiScale3`` (>= ``min_score``);
3. overlap: non-maximum suppression on IoU and containment (a box inside a bigger one goes);
4. size and eyes: a box under ``min_relative_size`` of the largest face must show an eye
   (the eye cascade inside its upper half) to stay.

``crop_faces`` cuts each box with a margin (``margin``, a fraction of the box side on every
side) as a square, pads with edge pixels at the image border, and resizes to the model's
input: FER2013 images show the whole face with some forehead and chin, while a Haar box is
tight around brows and mouth, so a tight crop would feed the model a zoomed face.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

#: margin on each side, as a fraction of the Haar box side (see docs/vision.md for the measurement)
DEFAULT_MARGIN = 0.10


@dataclass(frozen=True)
class FaceBox:
    """A face in image pixels; ``score`` is the detector's confidence (Haar level weight)."""

    x: int
    y: int
    w: int
    h: int
    score: float = 1.0
    eyes: int = -1  # eyes found inside the box (-1: not checked)
    #: detector keypoints in image pixels (BlazeFace: 2 eyes, nose tip, mouth, 2 ear tragions); () for Haar
    keypoints: tuple[tuple[float, float], ...] = ()

    @property
    def area(self) -> int:
        return max(0, self.w) * max(0, self.h)

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (int(self.x), int(self.y), int(self.w), int(self.h))


def iou(a: FaceBox | tuple[int, int, int, int], b: FaceBox | tuple[int, int, int, int]) -> float:
    ax, ay, aw, ah = a.as_tuple() if isinstance(a, FaceBox) else a
    bx, by, bw, bh = b.as_tuple() if isinstance(b, FaceBox) else b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def containment(inner: FaceBox, outer: FaceBox) -> float:
    """Share of ``inner``'s area that lies inside ``outer``."""
    ix = max(0, min(inner.x + inner.w, outer.x + outer.w) - max(inner.x, outer.x))
    iy = max(0, min(inner.y + inner.h, outer.y + outer.h) - max(inner.y, outer.y))
    return ix * iy / inner.area if inner.area else 0.0


def suppress_overlaps(boxes: Sequence[FaceBox], *, iou_threshold: float = 0.3,
                      contain_threshold: float = 0.6) -> list[FaceBox]:
    """Greedy NMS by score (then size): drop boxes overlapping or contained in a kept one."""
    order = sorted(boxes, key=lambda b: (-b.score, -b.area))
    kept: list[FaceBox] = []
    for box in order:
        if all(iou(box, k) < iou_threshold and containment(box, k) < contain_threshold
               and containment(k, box) < contain_threshold for k in kept):
            kept.append(box)
    return kept


@lru_cache(maxsize=4)
def _cascade(name: str) -> Any:
    import cv2

    path = str(cv2.data.haarcascades) + name  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():  # pragma: no cover - a broken OpenCV install
        raise RuntimeError(f"OpenCV has no Haar cascade {name} (opencv-python-headless>=5 ships none: use <5)")
    return cascade


class HaarFaceDetector:
    """Frontal faces from OpenCV's Haar cascade with score, overlap, size and eye filters."""

    def __init__(self, *, max_side: int = 640, min_face: float = 0.06, min_score: float = 1.0,
                 min_relative_size: float = 0.5, check_eyes: bool = True, scale_factor: float = 1.1,
                 min_neighbors: int = 5) -> None:
        self.max_side = max_side
        self.min_face = min_face  # smallest face side, as a fraction of the image's shorter side
        self.min_score = min_score
        self.min_relative_size = min_relative_size
        self.check_eyes = check_eyes
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors

    def detect(self, rgb: np.ndarray) -> list[FaceBox]:
        """Faces in an RGB (or gray) uint8 image, largest first."""
        import cv2

        gray = rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        height, width = gray.shape[:2]
        if min(height, width) < 20:
            return []
        scale = min(1.0, self.max_side / max(height, width))
        small = cv2.resize(gray, (round(width * scale), round(height * scale)),
                           interpolation=cv2.INTER_AREA) if scale < 1.0 else gray
        small = cv2.equalizeHist(small)
        min_side = max(20, int(self.min_face * min(small.shape[:2])))
        rects, _levels, weights = _cascade("haarcascade_frontalface_default.xml").detectMultiScale3(
            small, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(min_side, min_side), outputRejectLevels=True)
        boxes = [
            FaceBox(round(x / scale), round(y / scale), round(w / scale), round(h / scale), float(s))
            for (x, y, w, h), s in zip(np.asarray(rects).reshape(-1, 4), np.asarray(weights).reshape(-1), strict=True)
            if float(s) >= self.min_score
        ]
        boxes = suppress_overlaps(boxes)
        if not boxes:
            return []
        largest = max(b.w for b in boxes)
        kept: list[FaceBox] = []
        for box in boxes:
            if box.w < self.min_relative_size * largest:
                if not self.check_eyes:
                    continue
                eyes = self._count_eyes(small, box, scale)
                if eyes == 0:
                    continue
                box = FaceBox(box.x, box.y, box.w, box.h, box.score, eyes)
            kept.append(box)
        return sorted(kept, key=lambda b: -b.area)

    @staticmethod
    def _count_eyes(small: np.ndarray, box: FaceBox, scale: float) -> int:
        x, y = int(box.x * scale), int(box.y * scale)
        w, h = max(1, int(box.w * scale)), max(1, int(box.h * scale))
        upper = small[y : y + h * 6 // 10, x : x + w]
        if upper.size == 0 or min(upper.shape) < 10:
            return 0
        side = max(5, w // 8)
        eyes = _cascade("haarcascade_eye.xml").detectMultiScale(
            upper, scaleFactor=1.1, minNeighbors=3, minSize=(side, side))
        return len(eyes)


class WholeImageDetector:
    """Treats the whole image as one face: for inputs that are already face crops (FER+ images)."""

    def detect(self, rgb: np.ndarray) -> list[FaceBox]:
        height, width = rgb.shape[:2]
        return [FaceBox(0, 0, width, height, 1.0)] if height and width else []


def crop_box(box: FaceBox, margin: float, width: int, height: int) -> tuple[int, int, int, int]:
    """The square crop around ``box`` with ``margin`` on every side (may extend past the image)."""
    side = max(box.w, box.h) * (1.0 + 2.0 * margin)
    cx, cy = box.x + box.w / 2.0, box.y + box.h / 2.0
    return (round(cx - side / 2), round(cy - side / 2), max(1, round(side)), max(1, round(side)))


def crop_faces(rgb: np.ndarray, boxes: Sequence[FaceBox], *, size: tuple[int, int] = (48, 48),
               margin: float = DEFAULT_MARGIN, gray: bool = True) -> np.ndarray:
    """Face crops as uint8 [N, H, W] (gray) or [N, H, W, 3]; borders padded with edge pixels."""
    import cv2

    height, width = rgb.shape[:2]
    out_h, out_w = size
    crops = np.zeros((len(boxes), out_h, out_w) if gray else (len(boxes), out_h, out_w, 3), np.uint8)
    source = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if gray and rgb.ndim == 3 else rgb
    for i, box in enumerate(boxes):
        x, y, w, h = crop_box(box, margin, width, height)
        x0, y0, x1, y1 = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
        if x1 <= x0 or y1 <= y0:
            continue
        patch = source[y0:y1, x0:x1]
        pad = (y0 - y, (y + h) - y1, x0 - x, (x + w) - x1)
        if any(pad):
            patch = cv2.copyMakeBorder(patch, *pad, borderType=cv2.BORDER_REPLICATE)
        interpolation = cv2.INTER_AREA if patch.shape[0] > out_h else cv2.INTER_LINEAR
        crops[i] = cv2.resize(patch, (out_w, out_h), interpolation=interpolation)
    return crops


__all__ = ["DEFAULT_MARGIN", "FaceBox", "HaarFaceDetector", "WholeImageDetector", "containment", "crop_box",
           "crop_faces", "iou", "suppress_overlaps"]
