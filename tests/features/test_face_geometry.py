"""Action-unit-like cues on synthetic landmark sets with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from affectlens.features.face_geometry import (
    BROW_A,
    BROW_B,
    CHIN,
    LIDS_A,
    LIDS_B,
    LIP_INNER,
    MEASURES,
    MOUTH_CORNERS,
    NOSE_WINGS,
    GeometryCue,
    LandmarkError,
    RunningBaseline,
    cues_against,
    face_frame,
    measures,
    notable,
    population_norm,
    population_spread,
    still_image_cues,
)
from synthetic_landmarks import moved, template, to_image


def test_face_frame_undoes_position_rotation_and_scale() -> None:
    assert face_frame(to_image(template())) == pytest.approx(template(), abs=1e-9)
    # the eye order in the array does not matter (a mirrored mesh)
    assert measures(to_image(template()[:, ::1] * [-1, 1])) == pytest.approx(measures(template()), abs=1e-9)


@pytest.mark.parametrize(("measure", "face", "expected"), [
    ("lip_corner_raise", moved(list(MOUTH_CORNERS), dy=-0.1), 0.1),
    ("lip_stretch", moved(MOUTH_CORNERS[1], dx=0.12), 0.12),
    ("lip_part", moved(LIP_INNER[1], dy=0.05), 0.05),
    ("jaw_drop", moved(CHIN, dy=0.2), 0.2),
    ("brow_raise", moved(list(BROW_A + BROW_B), dy=-0.08), 0.08),
    ("eye_open", moved([LIDS_A[0], LIDS_B[0]], dy=-0.04), 0.04),
    ("eye_open", moved([LIDS_A[0], LIDS_B[0]], dy=0.03), -0.03),
    ("nose_wrinkle", moved(list(NOSE_WINGS), dy=-0.05), 0.05),
])
def test_each_cue_reads_a_known_movement(measure: str, face: np.ndarray, expected: float) -> None:
    neutral = measures(to_image(template()))
    values = {c.measure: c.value for c in cues_against(measures(to_image(face)), neutral, reference_name="norm")}
    assert values[measure] == pytest.approx(expected, abs=1e-6)
    others = {name for name in MEASURES if name != measure and abs(values[name]) > 1e-6}
    # raising the whole brow also lifts its inner end (brow_lower falls by half): nothing else moves
    assert others == ({"brow_lower"} if measure == "brow_raise" else set())


def test_brow_lowering_and_drawing_together() -> None:
    face = template()
    face[list(BROW_A + BROW_B)] += (0.0, 0.06)  # all brows down
    face[BROW_A[-1]] += (0.05, 0.0)  # inner ends towards each other
    face[BROW_B[-1]] += (-0.05, 0.0)
    values = {c.measure: c.value for c in cues_against(measures(face), measures(template()), reference_name="n")}
    assert values["brow_lower"] == pytest.approx((0.06 + 0.10) / 2)
    assert values["brow_raise"] == pytest.approx(-0.06)


def test_phrase_names_the_action_unit_with_its_signed_value() -> None:
    raised = GeometryCue("lip_corner_raise", 0.31, "population norm")
    assert raised.phrase == "lip corners raised (AU12-like) +0.31"
    assert GeometryCue("eye_open", -0.04, "track baseline").phrase == "eyes narrowed (AU7-like) -0.04"


def test_still_image_cues_use_the_shipped_neutral_norm() -> None:
    norm, spread = population_norm(), population_spread()
    assert set(norm) == set(MEASURES) and set(spread) == set(MEASURES)
    assert all(v > 0 for v in spread.values())
    # a face exactly at the norm in every measure but one: only that one is notable
    cues = still_image_cues(to_image(moved(list(MOUTH_CORNERS), dy=-0.2)),
                            norm=measures(to_image(template())))
    assert [c.measure for c in notable(cues)] == ["lip_corner_raise"]
    assert cues[0].value == pytest.approx(0.2) and cues[0].reference == "population norm"


def test_running_baseline_compares_a_track_with_itself() -> None:
    baseline = RunningBaseline(warmup=3)
    neutral, smile = measures(template()), measures(moved(list(MOUTH_CORNERS), dy=-0.1))
    assert [baseline.update(1, neutral) for _ in range(3)] == [[], [], []]  # warm-up: nothing to compare with
    cues = {c.measure: c for c in baseline.update(1, smile)}
    assert cues["lip_corner_raise"].value == pytest.approx(0.1)
    assert cues["lip_corner_raise"].reference == "track baseline"
    assert baseline.update(2, smile) == []  # another track has its own, empty baseline
    baseline.forget(1)
    assert baseline.update(1, smile) == []


def test_running_baseline_keeps_only_the_live_tracks() -> None:
    baseline = RunningBaseline(warmup=1)
    neutral, smile = measures(template()), measures(moved(list(MOUTH_CORNERS), dy=-0.1))
    baseline.update(1, neutral)
    baseline.update(2, neutral)
    baseline.retain({2})  # the tracker retired track 1
    assert baseline.update(1, smile) == []  # a retired track's baseline is gone
    assert baseline.update(2, smile) != []


@pytest.mark.parametrize("points", [
    np.zeros((10, 2)),
    np.full((468, 2), np.nan),
    np.zeros((468, 2)),  # both eyes on one point
    np.zeros(468),
])
def test_bad_landmarks_raise_a_clear_error(points: np.ndarray) -> None:
    with pytest.raises(LandmarkError):
        measures(points)


def test_geometry_vector_reads_z_scores_and_flags_missing_landmarks() -> None:
    from affectlens.features.face_geometry import GEOMETRY_FEATURES, Z_CLIP, geometry_vector

    missing = geometry_vector(None)
    assert missing.shape == (len(GEOMETRY_FEATURES),) and missing[-1] == 1.0 and not missing[:-1].any()
    assert geometry_vector(np.zeros((468, 2)))[-1] == 1.0  # eyes on one point: cannot be measured
    neutral = geometry_vector(to_image(template()))
    smile = geometry_vector(to_image(moved(list(MOUTH_CORNERS), dy=-0.05)))  # corners up, lips closed
    raise_at = GEOMETRY_FEATURES.index("lip_corner_raise")
    assert neutral[-1] == 0.0 and smile[-1] == 0.0
    # 0.05 IOD higher corners = 0.05 / the norm's spread in z-units; other measures do not move
    spread = population_spread()["lip_corner_raise"]
    assert smile[raise_at] - neutral[raise_at] == pytest.approx(min(0.05 / spread, Z_CLIP - neutral[raise_at]),
                                                                abs=1e-3)
    assert np.abs(np.delete(smile - neutral, raise_at)).max() < 1e-4
    far = geometry_vector(to_image(moved(list(MOUTH_CORNERS), dy=-2.0)))
    assert far[raise_at] == Z_CLIP


def test_reference_is_the_fallback_until_warm_then_the_track_mean() -> None:
    from affectlens.features.face_geometry import population_norm

    norm = population_norm()
    baseline = RunningBaseline(warmup=2, fallback=norm)
    resting = {**norm, "lip_corner_raise": norm["lip_corner_raise"] + 0.05}
    assert baseline.reference(7) == norm
    baseline.update(7, resting)
    assert baseline.reference(7) == norm  # one frame is not a baseline yet
    baseline.update(7, resting)
    assert baseline.reference(7) == pytest.approx(resting)


def test_geometry_vector_against_a_face_own_reference() -> None:
    from affectlens.features.face_geometry import GEOMETRY_FEATURES, geometry_vector, measures

    points = to_image(moved(list(MOUTH_CORNERS), dy=-0.06))
    raise_index = GEOMETRY_FEATURES.index("lip_corner_raise")
    assert geometry_vector(points)[raise_index] > 1.0  # against neutral faces: corners up
    own = geometry_vector(points, reference=measures(points))
    assert np.allclose(own[:-1], 0.0, atol=1e-5) and own[-1] == 0.0  # against itself: nothing, landmarks found
