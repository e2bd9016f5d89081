"""Occlusion saliency over fixed face regions: which part of the face drove the prediction.

Why occlusion over fixed regions: it needs nothing but the model itself (no gradients, no
landmark model to ship), it is exact for what it claims ("hiding the mouth lowers happiness
by 0.41"), and on an aligned 48x48 crop the brows, eyes, nose and mouth sit at stable places.
Each region is filled with the crop's mean grey and the face is scored again; a region's
weight is the drop in the top label's probability (positive: the region supports the label).
The crops come from a detector without landmarks, so the regions are approximate: a tilted
or off-centre face puts them off; the phrase says "region" for that reason.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

import numpy as np

from affectlens.types import Cue

#: region name -> (x0, y0, x1, y1) as fractions of the model's crop (margin included)
FACE_REGIONS: dict[str, tuple[float, float, float, float]] = {
    "brows": (0.12, 0.14, 0.88, 0.34),
    "eyes": (0.12, 0.30, 0.88, 0.48),
    "nose": (0.32, 0.44, 0.68, 0.66),
    "mouth": (0.22, 0.64, 0.78, 0.88),
}


def occluded_copies(crops: np.ndarray) -> np.ndarray:
    """[N, H, W(, C)] -> [N * R, H, W(, C)]: each crop with each region filled by its mean."""
    n, height, width = crops.shape[:3]
    copies = np.repeat(crops[:, None], len(FACE_REGIONS), axis=1).copy()
    means = crops.reshape(n, -1).mean(axis=1)
    for r, (x0, y0, x1, y1) in enumerate(FACE_REGIONS.values()):
        ys, ye = round(y0 * height), round(y1 * height)
        xs, xe = round(x0 * width), round(x1 * width)
        for i in range(n):
            copies[i, r, ys:ye, xs:xe] = means[i].astype(crops.dtype)
    return copies.reshape(n * len(FACE_REGIONS), *crops.shape[1:])


def region_cues(
    probs: np.ndarray,
    occluded_probs: np.ndarray,
    labels: tuple[str, ...],
    crop_boxes: list[tuple[int, int, int, int]],
    *,
    min_weight: float = 0.02,
    reference: np.ndarray | None = None,
) -> list[list[Cue]]:
    """Per face: ``face_region`` cues for its top label, strongest first.

    ``probs`` [N, L]; ``occluded_probs`` [N * R, L] in ``occluded_copies`` order;
    ``crop_boxes`` the crop of each face in image pixels (to place each region).
    ``reference`` [N, L]: the probabilities the occluded ones are compared with when they were
    scored another way than ``probs`` (the video path: ``probs`` averaged with the mirror image,
    the occluded copies and ``reference`` without it); the top label is always ``probs``'.
    """
    reference = probs if reference is None else reference
    n_regions = len(FACE_REGIONS)
    occluded = occluded_probs.reshape(len(probs), n_regions, -1)
    out: list[list[Cue]] = []
    for i, p in enumerate(probs):
        top = int(np.argmax(p))
        label = labels[top]
        cues: list[Cue] = []
        for r, name in enumerate(FACE_REGIONS):
            weight = float(reference[i, top] - occluded[i, r, top])
            if abs(weight) < min_weight:
                continue
            verb = "supports" if weight > 0 else "argues against"
            region = region_box(name, crop_boxes[i])
            cues.append(Cue("face_region", f"{name} region {verb} {label}", round(weight, 4), label,
                            region=region, value=round(float(occluded[i, r, top]), 4)))
        out.append(sorted(cues, key=lambda c: -abs(c.weight)))
    return out


def occlusion_cues(
    score: Callable[[np.ndarray, np.ndarray | None], np.ndarray],
    crops: np.ndarray,
    geometry: np.ndarray | None,
    probs: np.ndarray,
    labels: tuple[str, ...],
    crop_boxes: list[tuple[int, int, int, int]],
    *,
    reference: np.ndarray | None = None,
    tracks: Sequence[tuple[int | None, int]] | None = None,
    cache: RegionCueCache | None = None,
) -> list[list[Cue]]:
    """Per face: its occlusion cues (``region_cues``), scored by ``score(copies, geometry)``.

    With a ``cache`` (video; ``tracks``: each face's (track id, frame number), in frame order),
    only the faces it says are due are occluded and scored; the others carry their track's last
    cues, placed on their own crop."""
    due = [i for i in range(len(crops))
           if cache is None or tracks is None or cache.due(tracks[i][0], tracks[i][1], int(np.argmax(probs[i])))]
    out: list[list[Cue]] = [[] for _ in range(len(crops))]
    if due:
        copies_geometry = None if geometry is None else np.repeat(geometry[due], len(FACE_REGIONS), axis=0)
        occluded = score(occluded_copies(crops[due]), copies_geometry)
        computed = region_cues(probs[due], occluded, labels, [crop_boxes[i] for i in due],
                               reference=None if reference is None else reference[due])
        for i, found in zip(due, computed, strict=True):
            out[i] = found
    if cache is not None and tracks is not None:
        fresh = set(due)
        for i, (track_id, _) in enumerate(tracks):  # in frame order: a replay follows its track's last computation
            if i in fresh:
                cache.keep(track_id, out[i], crop_boxes[i])
            else:
                out[i] = cache.replay(track_id, crop_boxes[i])
    return out


def region_box(name: str, crop_box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """Region ``name`` of ``FACE_REGIONS`` in image pixels, for a face cropped at ``crop_box``."""
    x0, y0, x1, y1 = FACE_REGIONS[name]
    cx, cy, cw, ch = crop_box
    return int(cx + x0 * cw), int(cy + y0 * ch), max(1, int((x1 - x0) * cw)), max(1, int((y1 - y0) * ch))


class RegionCueCache:
    """Occlusion cues per video track, recomputed only when due (cheaper video explanations).

    A face is *due* when its track has no cues yet, when its top label differs from the one
    the track's cues explain, or when ``every`` sampled frames have passed since they were
    computed; the faces in between carry the track's last cues, their regions moved onto the
    face's current crop.  At 5 fps with ``every=5`` a steady face costs 4 occluded model runs
    per second instead of 20 (``benchmarks/face_throughput.py``).  ``retain`` forgets
    retired tracks (bounded memory).
    """

    def __init__(self, every: int) -> None:
        self.every = max(1, int(every))
        # track -> (frame, top label, [(region name, cue)]): the names place the cues on later crops
        self._last: dict[int, tuple[int, int, list[tuple[str | None, Cue]]]] = {}

    @classmethod
    def for_video(cls, seconds: float, step: float) -> RegionCueCache | None:
        """A cache that refreshes every ``seconds`` of video sampled every ``step`` s; None: every frame."""
        return cls(round(seconds / step)) if seconds > 0 and step > 0 else None

    def due(self, track_id: int | None, frame: int, label: int) -> bool:
        """Whether this face needs its own occlusion cues; if so it becomes the track's reference."""
        last = self._last.get(track_id) if track_id is not None else None
        if last is not None and last[1] == label and frame - last[0] < self.every:
            return False
        if track_id is not None:
            self._last[track_id] = (frame, label, [])
        return True

    def keep(self, track_id: int | None, cues: list[Cue], crop_box: tuple[int, int, int, int]) -> None:
        """The cues computed for the track's reference face (the last one ``due`` said yes to), cropped at
        ``crop_box``: each cue's region is remembered by the name whose box it is on that crop."""
        if track_id is not None and track_id in self._last:
            frame, label, _ = self._last[track_id]
            names: dict[tuple[int, int, int, int], list[str]] = {}
            for name in FACE_REGIONS:
                names.setdefault(region_box(name, crop_box), []).append(name)
            # a box two regions share (a crop of a few pixels) names neither: such a cue keeps its box
            self._last[track_id] = (frame, label, [(_only(names.get(c.region, [])) if c.region else None, c)
                                                   for c in cues])

    def replay(self, track_id: int | None, crop_box: tuple[int, int, int, int]) -> list[Cue]:
        """The track's last cues, placed on this face's crop."""
        last = self._last.get(track_id) if track_id is not None else None
        if last is None:
            return []
        return [replace(c, region=region_box(name, crop_box)) if name else c for name, c in last[2]]

    def retain(self, track_ids: Collection[int]) -> None:
        for track_id in [t for t in self._last if t not in track_ids]:
            del self._last[track_id]


def _only(names: list[str]) -> str | None:
    return names[0] if len(names) == 1 else None


def saliency(score: Callable[[np.ndarray], np.ndarray], crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(probs [N, L], occluded probs [N * R, L]) from a scoring function over crop batches."""
    probs = score(crops)
    return probs, score(occluded_copies(crops))


__all__ = ["FACE_REGIONS", "RegionCueCache", "occluded_copies", "occlusion_cues", "region_box", "region_cues",
           "saliency"]
