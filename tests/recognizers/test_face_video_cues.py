"""Occlusion cues in video: against the crop's own probability, refreshed per track when due, carried between."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("cv2")
av = pytest.importorskip("av")

from affectlens.recognizers.face_onnx import FaceOnnxRecognizer  # noqa: E402
from affectlens.testing import make_tiny_face_model  # noqa: E402
from affectlens.vision.io import VideoOptions, open_video  # noqa: E402
from media_files import write_frames_video  # noqa: E402


def write_video(path: Path, n_frames: int = 20, fps: int = 10) -> Path:
    """A 96 px clip whose lower third is bright on every frame (the tiny model: happiness)."""

    def frame(i: int) -> np.ndarray:
        image = np.full((96, 96, 3), 40 + i, np.uint8)
        image[64:, : 48 + i] = 255  # not symmetric: the mirror image scores differently
        return image

    return write_frames_video(path, (frame(i) for i in range(n_frames)), fps)


@pytest.fixture(scope="module")
def mirrored_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = make_tiny_face_model(tmp_path_factory.mktemp("face-model"))
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "mirror_average": True}))
    return folder


def region_cues_of(segment: object) -> list[tuple[str, float, tuple[int, int, int, int] | None]]:
    return [(c.phrase, c.weight, c.region) for c in segment.cues if c.kind == "face_region"]  # type: ignore[attr-defined]


def test_video_occlusion_cues_weigh_against_the_crops_own_probability(mirrored_dir: Path, tmp_path: Path) -> None:
    recognizer = FaceOnnxRecognizer(mirrored_dir, detector="none", region_cue_every=0)  # every frame
    video = open_video(write_video(tmp_path / "clip.mp4"), options=VideoOptions(fps=5))
    segments = list(recognizer.iter_video(video))
    assert len(segments) == 10 and all(region_cues_of(s) for s in segments)
    from affectlens.vision.explain import FACE_REGIONS, occluded_copies

    frame = next(iter(video.frames()))
    crops = recognizer._crops([recognizer._detect(frame, 1, video=True)[0]])
    own = recognizer.predict_crops(crops, mirror=False)[0]
    averaged = recognizer.predict_crops(crops)[0]
    assert not np.array_equal(own, averaged)
    top = int(np.argmax(averaged))  # the label is the mirror average's
    occluded = recognizer.predict_crops(occluded_copies(crops), mirror=False)
    expected = {f"{name} region": round(float(own[top] - occluded[r, top]), 4) for r, name in enumerate(FACE_REGIONS)}
    for phrase, weight, _ in region_cues_of(segments[0]):
        assert weight == pytest.approx(expected[phrase.split(" supports")[0].split(" argues")[0]], abs=1e-4)
    # labels and scores do not depend on how the cues were computed
    every_second = FaceOnnxRecognizer(mirrored_dir, detector="none")
    again = list(every_second.iter_video(video))
    assert [s.scores for s in again] == [s.scores for s in segments]


def test_video_region_cues_are_carried_between_refreshes(mirrored_dir: Path, tmp_path: Path) -> None:
    recognizer = FaceOnnxRecognizer(mirrored_dir, detector="none", region_cue_every=0.6)  # 3 frames at 5 fps
    calls = []
    predict = recognizer._predict

    def counting(crops: np.ndarray, geometry: object, mirror: object) -> object:
        calls.append((len(crops), mirror))
        return predict(crops, geometry, mirror)  # type: ignore[arg-type]

    recognizer._predict = counting  # type: ignore[method-assign]
    video = open_video(write_video(tmp_path / "clip.mp4"), options=VideoOptions(fps=5))
    segments = list(recognizer.iter_video(video))
    assert len(segments) == 10
    occluded_runs = sum(n for n, mirror in calls if mirror is False)
    labels = [s.extras["raw_top_label"] for s in segments]
    fresh = [0] + [i for i in range(1, 10) if labels[i] != labels[i - 1] or i % 3 == 0]
    assert occluded_runs <= 4 * len(fresh) < 4 * 10  # 4 regions per face that was due, not per frame
    carried = [s for i, s in enumerate(segments) if i not in fresh and labels[i] == labels[i - 1]]
    assert carried and all(region_cues_of(s) for s in carried)
    # a carried cue keeps its phrase and weight; its region follows the face (the same box here)
    first = region_cues_of(segments[0])
    assert region_cues_of(segments[1]) == first or labels[1] != labels[0]


def test_images_keep_the_mirror_averaged_occlusion(mirrored_dir: Path) -> None:
    recognizer = FaceOnnxRecognizer(mirrored_dir, detector="none")
    image = np.full((96, 96, 3), 40, np.uint8)
    image[64:, :60] = 255
    (result,) = recognizer.analyze([image])
    crops = recognizer._crops([recognizer._detect(recognizer_frame(image), 0)[0]])
    probs = recognizer.predict_crops(crops)[0]
    from affectlens.vision.explain import occluded_copies

    occluded = recognizer.predict_crops(occluded_copies(crops))  # mirror-averaged, as before
    top = int(np.argmax(probs))
    weights = sorted(round(float(probs[top] - o[top]), 4) for o in occluded if abs(probs[top] - o[top]) >= 0.02)
    assert sorted(c.weight for c in result.segments[0].cues if c.kind == "face_region") == weights


def recognizer_frame(image: np.ndarray) -> object:
    from affectlens.vision.io import as_image_frame

    return as_image_frame(image)
