"""Face tracking across sampled video frames, and per-track smoothing of emotion scores.

Why this simple tracker: at a few sampled frames per second faces move little between
samples, so greedy matching on IoU (then on centre distance, for a face that moved more than
its box overlaps) keeps ids stable, and costs nothing next to the detector.  A track that is
not matched survives ``max_misses`` samples (a blink, a turned head, a missed detection)
before its id is retired; ids are never reused.  Memory is bounded: only live tracks are
kept, each with one smoothed score vector.

Smoothing is an exponential moving average per track (``alpha`` = weight of the new frame);
a track that was missed restarts its average from the next observation only if it was away
for longer than ``max_misses``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from affectlens.vision.detect import FaceBox, iou


@dataclass
class Track:
    track_id: int
    box: FaceBox
    last_seen: int  # the frame number (counter of update calls) it was last matched
    hits: int = 1
    smoothed: np.ndarray | None = field(default=None, repr=False)


class FaceTracker:
    """Greedy IoU / centroid tracker; ``update(boxes)`` returns one track id per box."""

    def __init__(self, *, iou_threshold: float = 0.25, max_center_shift: float = 0.6, max_misses: int = 5,
                 alpha: float = 0.5) -> None:
        self.iou_threshold = iou_threshold
        self.max_center_shift = max_center_shift  # in units of the track's box width
        self.max_misses = max_misses
        self.alpha = alpha
        self.tracks: dict[int, Track] = {}
        self._next_id = 1
        self._step = -1

    def update(self, boxes: Sequence[FaceBox]) -> list[int]:
        self._step += 1
        step = self._step
        # retire tracks missed for too long (bounded memory)
        for tid in [t for t, tr in self.tracks.items() if step - tr.last_seen > self.max_misses + 1]:
            del self.tracks[tid]
        pairs: list[tuple[float, int, int]] = []  # (cost, box index, track id); lower is better
        for b, box in enumerate(boxes):
            for tid, track in self.tracks.items():
                overlap = iou(box, track.box)
                if overlap >= self.iou_threshold:
                    pairs.append((1.0 - overlap, b, tid))
                    continue
                shift = _center_distance(box, track.box) / max(1.0, float(track.box.w))
                if shift <= self.max_center_shift and 0.5 <= box.w / max(1, track.box.w) <= 2.0:
                    pairs.append((1.0 + shift, b, tid))
        assigned: dict[int, int] = {}
        used: set[int] = set()
        for _cost, b, tid in sorted(pairs):
            if b in assigned or tid in used:
                continue
            assigned[b] = tid
            used.add(tid)
        ids: list[int] = []
        for b, box in enumerate(boxes):
            matched = assigned.get(b)
            if matched is None:
                tid = self._next_id
                self._next_id += 1
                self.tracks[tid] = Track(tid, box, step)
            else:
                tid = matched
                track = self.tracks[tid]
                track.box, track.last_seen, track.hits = box, step, track.hits + 1
            ids.append(tid)
        return ids

    def smooth(self, track_id: int, scores: np.ndarray) -> np.ndarray:
        """The track's exponential moving average after adding ``scores`` (a probability vector)."""
        track = self.tracks[track_id]
        if track.smoothed is None:
            track.smoothed = np.asarray(scores, dtype=np.float64).copy()
        else:
            track.smoothed = self.alpha * np.asarray(scores, dtype=np.float64) + (1 - self.alpha) * track.smoothed
        return track.smoothed


def _center_distance(a: FaceBox, b: FaceBox) -> float:
    return float(np.hypot((a.x + a.w / 2) - (b.x + b.w / 2), (a.y + a.h / 2) - (b.y + b.h / 2)))


__all__ = ["FaceTracker", "Track"]
