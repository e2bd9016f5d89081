"""Detector choice, landmarks and action-unit-like cues for the face recognizers.

Detector names (``detector=`` / ``AFFECTLENS_FACE_DETECTOR``):

* ``auto`` (default): ``mediapipe`` when its runtime and files are installed, else ``haar``;
* ``mediapipe``: BlazeFace short and full range merged (``vision/blazeface.py``), then the
  468-point mesh on each face: a face the mesh model does not confirm (presence <= 0.5) is
  dropped as a false face (this removed the one texture false face BlazeFace gave in
  ``benchmarks/face_detection_mediapipe.py``), the others get alignment and the
  action-unit-like cues;
* ``haar``: OpenCV's Haar cascade with the false-face filters (``vision/detect.py``); no landmarks;
* ``none``: the whole image is the face.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from affectlens.types import Cue

DETECTORS = ("auto", "mediapipe", "haar", "none")
CUE_KIND = "action_unit"


def resolve_detector(name: str) -> str:
    if name not in DETECTORS:
        raise ValueError(f"detector must be one of {', '.join(DETECTORS)} ('none': the whole image is the face), "
                         f"got {name!r}")
    if name == "auto":
        from affectlens.vision.mediapipe_files import available

        return "mediapipe" if available() else "haar"
    return name


#: tile side for ``small_faces``: the full-range model on 256 px tiles found faces down to 24 px in
#: a 720p frame (8/8 vs 3/8 without), at ~90 ms instead of ~10 ms per frame (face_detection_mediapipe.py)
SMALL_FACE_TILE = 256


def make_detectors(name: str, *, threads: int | None = None, verify: bool = True, small_faces: bool = False
                   ) -> tuple[Any, Any]:
    """(image detector, video detector) for a resolved detector name; ``small_faces`` tiles (mediapipe)."""
    from affectlens.vision.detect import HaarFaceDetector, WholeImageDetector

    if name == "mediapipe":
        from affectlens.vision.blazeface import BlazeFaceDetector

        # one interpreter per use: LiteRT interpreters are not safe to share between threads
        tile = SMALL_FACE_TILE if small_faces else None
        return (BlazeFaceDetector("both", tile=tile, threads=threads, verify=verify),
                BlazeFaceDetector("both", tile=tile, threads=threads, verify=verify))
    if name == "haar":
        # video: a coarser scan (480 px, scale step 1.2) is 2-3x faster; tracking bridges its misses
        return HaarFaceDetector(), HaarFaceDetector(max_side=480, scale_factor=1.2)
    whole = WholeImageDetector()
    return whole, whole


#: where the face sits in an image that is already a face crop (FER+ framing), as fractions of its
#: side (x, y, w, h): the median BlazeFace box on 200 FER2013Test faces upscaled to 192 px was
#: (13, 28, 168, 168); the mesh found a face in 179 of 200 with this box
FACE_CROP_BOX = (0.07, 0.15, 0.875, 0.875)
#: the mesh model reads a 192 px region: smaller face crops are upscaled first
MESH_MIN_SIDE = 192


#: an image with no detected face is read as one face crop only when it is this small and about square
#: (FER-style crops, 48-300 px) and the mesh model finds a face in it (``FaceOnnxRecognizer._detect``)
FACE_CROP_MAX_SIDE = 400
FACE_CROP_ASPECT = (0.7, 1.4)


def looks_like_a_face_crop(width: int, height: int) -> bool:
    """Whether an image's size is that of a face crop (small, about square), as face datasets hold them."""
    return 0 < max(width, height) <= FACE_CROP_MAX_SIDE and height > 0 and \
        FACE_CROP_ASPECT[0] <= width / height <= FACE_CROP_ASPECT[1]


def face_crop_mesh(mesh: Any, pixels: np.ndarray) -> np.ndarray | None:
    """Mesh points [468, 3] (in ``pixels``' coordinates) of an image that is one face crop, or None."""
    import cv2

    from affectlens.vision.detect import FaceBox

    height, width = pixels.shape[:2]
    if not height or not width:
        return None
    factor = max(1.0, MESH_MIN_SIDE / min(height, width))
    image = pixels if factor == 1.0 else cv2.resize(pixels, (round(width * factor), round(height * factor)),
                                                     interpolation=cv2.INTER_CUBIC)
    side_h, side_w = image.shape[:2]
    fx, fy, fw, fh = FACE_CROP_BOX
    box = FaceBox(round(fx * side_w), round(fy * side_h), round(fw * side_w), round(fh * side_h))
    points = mesh.landmarks(image, box)
    if points is None:
        return None
    return np.asarray(points, np.float64) / factor


def geometry_cues(mesh: np.ndarray | None, box: Any, *, baseline: Any = None, track_id: int | None = None
                  ) -> list[Cue]:
    """The notable action-unit-like cues of one face as ``Cue``s: against the track's running
    baseline in video (``baseline`` given), else against the neutral population norm."""
    if mesh is None:
        return []
    from affectlens.features.face_geometry import LandmarkError, measures, notable, still_image_cues

    try:
        if baseline is not None and track_id is not None:
            found = baseline.update(track_id, measures(mesh))
        else:
            found = still_image_cues(mesh)
    except LandmarkError:
        return []
    region = tuple(int(v) for v in box.as_tuple())
    return [Cue(kind=CUE_KIND, phrase=c.phrase, weight=c.value, value=c.value, region=region)  # type: ignore[arg-type]
            for c in notable(found)]


__all__ = ["CUE_KIND", "DETECTORS", "FACE_CROP_BOX", "SMALL_FACE_TILE", "face_crop_mesh", "geometry_cues",
           "make_detectors", "resolve_detector"]
