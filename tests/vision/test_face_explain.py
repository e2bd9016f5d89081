"""Occlusion cues: regions are occluded where they should be, and the phrases say which one mattered."""

from __future__ import annotations

import numpy as np

from affectlens.vision.explain import FACE_REGIONS, occluded_copies, region_cues


def test_each_copy_hides_one_region_with_the_mean() -> None:
    crops = np.zeros((2, 48, 48), np.uint8)
    crops[:, 36:, :] = 200  # bright lower part
    copies = occluded_copies(crops)
    assert copies.shape == (2 * len(FACE_REGIONS), 48, 48)
    mouth = list(FACE_REGIONS).index("mouth")
    assert copies[mouth, 40, 24] != 200 and copies[0, 40, 24] == 200


def test_region_cues_rank_the_region_that_moves_the_top_label() -> None:
    labels = ("neutral", "happiness")
    probs = np.array([[0.2, 0.8]])
    occluded = np.array([[0.25, 0.75], [0.3, 0.7], [0.2, 0.8], [0.7, 0.3]])  # brows, eyes, nose, mouth
    cues = region_cues(probs, occluded, labels, [(100, 100, 48, 48)])[0]
    assert cues[0].phrase == "mouth region supports happiness" and cues[0].weight == 0.5
    assert cues[0].region is not None and cues[0].region[1] > 100 + 24  # the lower half of the crop
    assert "nose" not in " ".join(c.phrase for c in cues)  # no effect, no cue
