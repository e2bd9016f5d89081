"""Action-unit-like cues from the 468-point face mesh: pure functions, no model.

Each cue is a geometric measure in a face-centred frame: origin at the midpoint of the two
eye centres, x along the eye line, y down, unit = the inter-ocular distance (IOD, between the
eye centres).  So the face's position, in-plane rotation and size do not change a measure,
and values read as fractions of the eye distance.

A measure alone says little (mouths differ); a cue is the measure *minus a reference*, signed
so that positive means the action is present:

* a still image: the population norm of neutral faces (``face_geometry_norm.json``, measured
  on the neutral portraits of ``faces_london_smoke``, provenance in the file);
* video: the same track's running baseline (:class:`RunningBaseline`), as speech is compared
  with its own speaker.

The measures (MediaPipe canonical mesh point numbers; "A" and "B" are the two sides):

========================  ==============================================================  =========
measure                   geometry                                                          FACS
========================  ==============================================================  =========
lip_corner_raise          height of the mouth corners (61, 291) above the lip centre       AU12-like
                          (mean of 0 and 17), i.e. corners up relative to the mouth
lip_stretch               mouth width, corner to corner (61-291)                          AU20-like
lip_part                  gap between the inner lips (13-14)                              AU25-like
jaw_drop                  nose tip (1) to chin (152), vertical                            AU26-like
brow_raise                mean height of the brows (A 70 63 105 66 107, B 300 293 334     AU1/2-like
                          296 336) above the eye line
brow_lower                inner brows (107, 336) closer to the eye line and to each       AU4-like
                          other: minus (inner height + inner gap) / 2
eye_open                  lid gap (159-145, 386-374), mean of both eyes; negative =       AU5-like /
                          narrowed                                                        AU7-like
nose_wrinkle              nostril wings (98, 327) closer to the eye line: minus their     AU9-like
                          height below it
========================  ==============================================================  =========
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

EYE_A = (33, 133)
EYE_B = (362, 263)
MOUTH_CORNERS = (61, 291)
LIP_OUTER = (0, 17)  # upper and lower outer lip centre
LIP_INNER = (13, 14)  # upper and lower inner lip centre
NOSE_TIP = 1
CHIN = 152
BROW_A = (70, 63, 105, 66, 107)
BROW_B = (300, 293, 334, 296, 336)
BROW_INNER = (107, 336)
LIDS_A = (159, 145)  # upper, lower
LIDS_B = (386, 374)
NOSE_WINGS = (98, 327)
MESH_POINTS = 468

NORM_FILE = Path(__file__).with_name("face_geometry_norm.json")

#: measure -> (phrase when the cue is positive, phrase when negative)
PHRASES: dict[str, tuple[str, str]] = {
    "lip_corner_raise": ("lip corners raised (AU12-like)", "lip corners lowered (AU15-like)"),
    "lip_stretch": ("lips stretched (AU20-like)", "lips narrowed (AU18-like)"),
    "lip_part": ("lips parted (AU25-like)", "lips pressed (AU24-like)"),
    "jaw_drop": ("jaw dropped (AU26-like)", "jaw raised"),
    "brow_raise": ("brows raised (AU1/2-like)", "brows low"),
    "brow_lower": ("brows lowered and drawn together (AU4-like)", "brows apart and high"),
    "eye_open": ("eyes widened (AU5-like)", "eyes narrowed (AU7-like)"),
    "nose_wrinkle": ("nose wrinkled (AU9-like)", "nose relaxed"),
}
MEASURES = tuple(PHRASES)


class LandmarkError(ValueError):
    """Landmarks that cannot be measured (wrong shape, eyes on one point, not finite)."""


def eye_centres(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Image-left and image-right eye centres (the mean of each eye's two corners) from mesh points [468, 2+]."""
    first, second = points[list(EYE_A), :2].mean(axis=0), points[list(EYE_B), :2].mean(axis=0)
    return (first, second) if first[0] <= second[0] else (second, first)


def face_frame(points: np.ndarray) -> np.ndarray:
    """Mesh points [468, 2+] -> [468, 2] in the face frame (eye midpoint origin, eye line x, unit IOD)."""
    pts = np.asarray(points, np.float64)
    if pts.ndim != 2 or pts.shape[0] < MESH_POINTS or pts.shape[1] < 2 or not np.isfinite(pts[:, :2]).all():
        raise LandmarkError(f"need finite face-mesh points [{MESH_POINTS}, 2+], got shape {pts.shape}")
    xy = pts[:MESH_POINTS, :2]
    first, second = eye_centres(xy)  # x points from the image-left eye to the image-right eye
    axis = second - first
    iod = float(np.hypot(*axis))
    if iod < 1e-6:
        raise LandmarkError("the two eyes are on one point: no inter-ocular distance")
    ux = axis / iod
    uy = np.asarray([-ux[1], ux[0]])  # x rotated 90 degrees: y down in image coordinates
    centred = xy - (first + second) / 2.0
    return np.stack([centred @ ux, centred @ uy], axis=1) / iod


def measures(points: np.ndarray) -> dict[str, float]:
    """The raw geometric measures of one face (IOD units; see the module table)."""
    f = face_frame(points)
    y = f[:, 1]
    lip_centre_y = (y[LIP_OUTER[0]] + y[LIP_OUTER[1]]) / 2.0
    corners_y = y[list(MOUTH_CORNERS)].mean()
    brow_heights = -y[list(BROW_A + BROW_B)]
    inner_height = float(-y[list(BROW_INNER)].mean())
    inner_gap = float(abs(f[BROW_INNER[0], 0] - f[BROW_INNER[1], 0]))
    lids = (abs(y[LIDS_A[1]] - y[LIDS_A[0]]) + abs(y[LIDS_B[1]] - y[LIDS_B[0]])) / 2.0
    return {
        "lip_corner_raise": float(lip_centre_y - corners_y),
        "lip_stretch": float(np.hypot(*(f[MOUTH_CORNERS[0]] - f[MOUTH_CORNERS[1]]))),
        "lip_part": float(max(0.0, y[LIP_INNER[1]] - y[LIP_INNER[0]])),
        "jaw_drop": float(y[CHIN] - y[NOSE_TIP]),
        "brow_raise": float(brow_heights.mean()),
        "brow_lower": float(-(inner_height + inner_gap) / 2.0),
        "eye_open": float(lids),
        "nose_wrinkle": float(-y[list(NOSE_WINGS)].mean()),
    }


@dataclass(frozen=True)
class GeometryCue:
    """One action-unit-like cue: ``value`` = measure - reference (IOD units, positive = action present)."""

    measure: str
    value: float
    reference: str  # "population norm" or "track baseline"

    @property
    def phrase(self) -> str:
        positive, negative = PHRASES[self.measure]
        return f"{positive if self.value >= 0 else negative} {self.value:+.2f}"


def cues_against(current: Mapping[str, float], reference: Mapping[str, float], *, reference_name: str,
                 scale: Mapping[str, float] | None = None, min_abs: float = 0.0) -> list[GeometryCue]:
    """Cues of ``current`` against ``reference`` (optionally divided by a per-measure spread),
    largest first; those under ``min_abs`` are left out."""
    out = []
    for name in MEASURES:
        if name not in current or name not in reference:
            continue
        value = current[name] - reference[name]
        if scale and scale.get(name):
            value /= scale[name]
        if abs(value) >= min_abs:
            out.append(GeometryCue(name, round(float(value), 4), reference_name))
    return sorted(out, key=lambda c: -abs(c.value))


@lru_cache(maxsize=2)
def _load_norm(path: str) -> tuple[dict[str, float], dict[str, float], str]:
    data = json.loads(Path(path).read_text())
    return dict(data["mean"]), dict(data.get("std", {})), str(data.get("provenance", ""))


def population_norm(path: Path | None = None) -> dict[str, float]:
    """The neutral-face norm shipped with the package (mean of each measure)."""
    return dict(_load_norm(str(path or NORM_FILE))[0])


def population_spread(path: Path | None = None) -> dict[str, float]:
    """Standard deviation of each measure over the neutral faces of the norm."""
    return dict(_load_norm(str(path or NORM_FILE))[1])


def notable(cues: list[GeometryCue], *, k: float = 1.5, spread: Mapping[str, float] | None = None
            ) -> list[GeometryCue]:
    """The cues beyond ``k`` standard deviations of neutral faces (what is worth saying)."""
    spread = population_spread() if spread is None else spread
    return [c for c in cues if abs(c.value) >= k * spread.get(c.measure, 0.0)]


def still_image_cues(points: np.ndarray, *, norm: Mapping[str, float] | None = None,
                     min_abs: float = 0.0) -> list[GeometryCue]:
    """Cues of one face in a still image against the population norm of neutral faces."""
    reference = population_norm() if norm is None else norm
    return cues_against(measures(points), reference, reference_name="population norm", min_abs=min_abs)


@dataclass
class RunningBaseline:
    """Per-track running mean of each measure: a face in video is compared with itself.

    The first ``warmup`` frames of a track only build the baseline (no cues: there is nothing
    to compare yet, unless a ``fallback`` norm is given); later frames are compared with the
    baseline *before* it takes them in, which then moves slowly (``alpha``), so a held
    expression fades only over many frames.
    """

    alpha: float = 0.05
    warmup: int = 5
    fallback: Mapping[str, float] | None = None
    _means: dict[int, dict[str, float]] = field(default_factory=dict)
    _counts: dict[int, int] = field(default_factory=dict)

    def update(self, track_id: int, current: Mapping[str, float], *, min_abs: float = 0.0) -> list[GeometryCue]:
        count = self._counts.get(track_id, 0)
        mean = self._means.get(track_id)
        if mean is None or count < self.warmup:
            cues = (cues_against(current, self.fallback, reference_name="population norm", min_abs=min_abs)
                    if self.fallback is not None else [])
        else:
            cues = cues_against(current, mean, reference_name="track baseline", min_abs=min_abs)
        if mean is None:
            self._means[track_id] = dict(current)
        else:
            # a plain mean during warm-up, then an exponential one
            rate = 1.0 / (count + 1) if count < self.warmup else self.alpha
            for name, value in current.items():
                mean[name] = mean.get(name, value) + rate * (value - mean.get(name, value))
        self._counts[track_id] = count + 1
        return cues

    def reference(self, track_id: int) -> Mapping[str, float] | None:
        """What the track's next frame is compared with: its baseline once warmed up, else the fallback."""
        mean = self._means.get(track_id)
        return dict(mean) if mean is not None and self._counts.get(track_id, 0) >= self.warmup else self.fallback

    def forget(self, track_id: int) -> None:
        self._means.pop(track_id, None)
        self._counts.pop(track_id, None)

    def retain(self, track_ids: Collection[int]) -> None:
        """Forget every track not in ``track_ids`` (the tracker's live tracks: bounded memory)."""
        for track_id in [t for t in self._counts if t not in track_ids]:
            self.forget(track_id)


#: the inputs a model reads from the geometry: each measure as a z-score against the neutral norm,
#: then 1.0 where no landmarks were found (the z-scores are 0 then)
GEOMETRY_FEATURES = (*MEASURES, "landmarks_missing")
#: z-scores are clipped: a mesh that went astray must not dominate a decision
Z_CLIP = 8.0


def geometry_vector(points: np.ndarray | None, reference: Mapping[str, float] | None = None) -> np.ndarray:
    """The model input of one face's geometry [len(GEOMETRY_FEATURES)] float32: each measure's
    z-score against the population norm (clipped to +-Z_CLIP), and a missing flag (no mesh, or a
    mesh that cannot be measured: all z-scores 0, flag 1).

    ``reference``: the measures to compare with instead of the norm's means — in video, the face's
    own running baseline (:meth:`RunningBaseline.reference`), so that a face whose resting mouth
    sits high does not read as smiling in every frame; the spread stays the population's."""
    out = np.zeros(len(GEOMETRY_FEATURES), np.float32)
    if points is None:
        out[-1] = 1.0
        return out
    try:
        found = measures(points)
    except LandmarkError:
        out[-1] = 1.0
        return out
    norm, spread = population_norm(), population_spread()
    if reference is not None:
        norm.update({k: v for k, v in reference.items() if k in norm})
    for i, name in enumerate(MEASURES):
        out[i] = np.clip((found[name] - norm[name]) / max(spread.get(name, 0.0), 1e-6), -Z_CLIP, Z_CLIP)
    return out


__all__ = ["GEOMETRY_FEATURES", "MEASURES", "NORM_FILE", "PHRASES", "Z_CLIP", "GeometryCue", "LandmarkError",
           "RunningBaseline", "cues_against", "eye_centres", "face_frame", "geometry_vector", "measures",
           "notable", "population_norm", "population_spread", "still_image_cues"]
