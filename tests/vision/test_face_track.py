"""Tracking: ids stable through motion and brief misses, new ids for new faces, bounded memory, EMA."""

from __future__ import annotations

import numpy as np

from affectlens.vision.detect import FaceBox
from affectlens.vision.track import FaceTracker


def test_ids_are_stable_through_motion_and_brief_misses() -> None:
    tracker = FaceTracker(max_misses=2)
    a0, b0 = FaceBox(10, 10, 50, 50), FaceBox(300, 10, 50, 50)
    first = tracker.update([a0, b0])
    assert first == [1, 2]
    assert tracker.update([FaceBox(300 + 8, 12, 50, 50), FaceBox(10 + 30, 10, 50, 50)]) == [2, 1]  # moved, reordered
    assert tracker.update([FaceBox(312, 14, 50, 50)]) == [2]  # face 1 missed once
    assert tracker.update([FaceBox(45, 12, 52, 52), FaceBox(315, 14, 50, 50)]) == [1, 2]  # back: same id


def test_long_absence_retires_the_id_and_memory_stays_bounded() -> None:
    tracker = FaceTracker(max_misses=1)
    tracker.update([FaceBox(10, 10, 50, 50)])
    for _ in range(3):
        tracker.update([])
    assert tracker.tracks == {}
    assert tracker.update([FaceBox(10, 10, 50, 50)]) == [2]  # ids are never reused
    for i in range(500):  # a new face every frame far apart: live tracks stay few
        tracker.update([FaceBox(1000 * (i + 1), 0, 50, 50)])
    assert len(tracker.tracks) <= 3


def test_smoothing_is_an_exponential_moving_average() -> None:
    tracker = FaceTracker(alpha=0.5)
    (tid,) = tracker.update([FaceBox(0, 0, 10, 10)])
    assert np.allclose(tracker.smooth(tid, np.array([1.0, 0.0])), [1.0, 0.0])
    assert np.allclose(tracker.smooth(tid, np.array([0.0, 1.0])), [0.5, 0.5])
