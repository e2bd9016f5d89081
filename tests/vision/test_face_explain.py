"""Occlusion cues: regions are occluded where they should be, and the phrases say which one mattered."""

from __future__ import annotations

import numpy as np

from affectlens.vision.explain import FACE_REGIONS, RegionCueCache, occluded_copies, region_box, region_cues


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


def test_region_cues_can_weigh_against_a_reference() -> None:
    # video: the top label comes from the mirror-averaged probabilities, the drop from the crop's own
    labels = ("neutral", "happiness")
    probs = np.array([[0.2, 0.8]])
    own = np.array([[0.1, 0.9]])
    occluded = np.array([[0.1, 0.9], [0.1, 0.9], [0.1, 0.9], [0.6, 0.4]])
    cues = region_cues(probs, occluded, labels, [(0, 0, 48, 48)], reference=own)[0]
    assert [c.phrase for c in cues] == ["mouth region supports happiness"] and cues[0].weight == 0.5


def test_region_box_places_a_region_on_the_crop() -> None:
    x0, y0, x1, y1 = FACE_REGIONS["mouth"]
    assert region_box("mouth", (100, 50, 200, 200)) == (int(100 + x0 * 200), int(50 + y0 * 200),
                                                        int((x1 - x0) * 200), int((y1 - y0) * 200))


def test_region_cue_cache_recomputes_when_due_and_replays_in_between() -> None:
    cache = RegionCueCache(every=3)
    cue = region_cues(np.array([[0.2, 0.8]]), np.array([[0.2, 0.8]] * 3 + [[0.7, 0.3]]), ("n", "h"),
                      [(0, 0, 48, 48)])[0]
    assert cache.due(1, frame=1, label=1)  # a new track
    cache.keep(1, cue, (0, 0, 48, 48))
    assert not cache.due(1, frame=2, label=1) and not cache.due(1, frame=3, label=1)
    replayed = cache.replay(1, (100, 100, 48, 48))
    assert [c.phrase for c in replayed] == [c.phrase for c in cue]
    assert replayed[0].weight == cue[0].weight and replayed[0].region == region_box("mouth", (100, 100, 48, 48))
    assert cache.due(1, frame=4, label=1)  # every 3 frames
    assert not cache.due(1, frame=5, label=1)
    assert cache.due(1, frame=5, label=0)  # the top label changed
    assert cache.due(2, frame=5, label=0) and cache.replay(3, (0, 0, 1, 1)) == []
    cache.retain({2})  # track 1 retired: forgotten
    assert cache.due(1, frame=6, label=0)
    assert cache.due(None, frame=6, label=0) and cache.replay(None, (0, 0, 1, 1)) == []


def test_replayed_cues_follow_their_region_by_its_box_not_by_the_phrase() -> None:
    from dataclasses import replace

    cache = RegionCueCache(every=5)
    [cues] = region_cues(np.array([[0.2, 0.8]]), np.array([[0.2, 0.8]] * 3 + [[0.7, 0.3]]), ("n", "h"),
                         [(0, 0, 48, 48)])
    reworded = [replace(c, phrase="reworded " + c.phrase) for c in cues]  # the phrase is not parsed
    assert cache.due(7, frame=0, label=1)
    cache.keep(7, reworded, (0, 0, 48, 48))
    moved = cache.replay(7, (10, 20, 96, 96))
    assert [c.region for c in moved] == [region_box("mouth", (10, 20, 96, 96))]
    assert cache.due(8, frame=0, label=1)
    cache.keep(8, reworded, (0, 0, 1, 1))  # every region's box is the same pixel: nothing to move it by
    assert [c.region for c in cache.replay(8, (10, 20, 96, 96))] == [c.region for c in reworded]
