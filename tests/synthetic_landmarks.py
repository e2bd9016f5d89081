"""Synthetic face-mesh landmark sets with known geometry (shared by the geometry and fusion tests)."""

from __future__ import annotations

import math

import numpy as np

from affectlens.features.face_geometry import (
    BROW_A,
    BROW_B,
    CHIN,
    EYE_A,
    EYE_B,
    LIDS_A,
    LIDS_B,
    LIP_INNER,
    LIP_OUTER,
    MOUTH_CORNERS,
    NOSE_TIP,
    NOSE_WINGS,
)


def template() -> np.ndarray:
    """A neutral face in the face frame (IOD 1, eye midpoint at 0, y down)."""
    p = np.zeros((468, 2))
    p[EYE_A[0]], p[EYE_A[1]] = (-0.7, 0.0), (-0.3, 0.0)
    p[EYE_B[0]], p[EYE_B[1]] = (0.3, 0.0), (0.7, 0.0)
    p[LIDS_A[0]], p[LIDS_A[1]] = (-0.5, -0.07), (-0.5, 0.07)
    p[LIDS_B[0]], p[LIDS_B[1]] = (0.5, -0.07), (0.5, 0.07)
    for n, i in enumerate(BROW_A):
        p[i] = (-0.9 + 0.15 * n, -0.35)
    for n, i in enumerate(BROW_B):
        p[i] = (0.9 - 0.15 * n, -0.35)
    p[NOSE_TIP] = (0.0, 0.6)
    p[list(NOSE_WINGS)] = [(-0.2, 0.65), (0.2, 0.65)]
    p[MOUTH_CORNERS[0]], p[MOUTH_CORNERS[1]] = (-0.4, 1.0), (0.4, 1.0)
    p[LIP_OUTER[0]], p[LIP_OUTER[1]] = (0.0, 0.95), (0.0, 1.1)
    p[LIP_INNER[0]], p[LIP_INNER[1]] = (0.0, 1.0), (0.0, 1.01)
    p[CHIN] = (0.0, 1.7)
    return p


def to_image(face: np.ndarray, *, scale: float = 83.0, degrees: float = 17.0,
             shift: tuple[float, float] = (240.0, 190.0)) -> np.ndarray:
    """Place a face-frame landmark set in an image: scaled, rotated, moved (with a z column)."""
    a = math.radians(degrees)
    rot = np.asarray([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    xy = face @ rot.T * scale + np.asarray(shift)
    return np.hstack([xy, np.zeros((len(xy), 1))])


def moved(indices: tuple[int, ...] | list[int] | int, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    face = template()
    face[indices] += (dx, dy)
    return face
