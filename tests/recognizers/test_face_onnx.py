"""The face recognizer: contract with a tiny ONNX CNN, faces per image, video tracks, cues, bad input, CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("cv2")
av = pytest.importorskip("av")
PIL = pytest.importorskip("PIL")

from PIL import Image  # noqa: E402

from affectlens import processing, registry  # noqa: E402
from affectlens.bench.datasets import data_root  # noqa: E402
from affectlens.inputs import ImageFrame  # noqa: E402
from affectlens.recognizers.face_onnx import (  # noqa: E402
    DEFAULT_MODEL_DIR,
    DETECTOR_ENV,
    MODEL_DIR_ENV,
    FaceModelFilesMissing,
    FaceModelIntegrityError,
    FaceOnnxRecognizer,
)
from affectlens.testing import check_recognizer, make_tiny_face_model  # noqa: E402
from affectlens.types import EmotionResult, Modality  # noqa: E402
from affectlens.vision.io import VideoOptions, open_video  # noqa: E402
from media_files import write_frames_video  # noqa: E402

LONDON = data_root() / "faces_london_smoke"


def smiling_like(size: int = 96) -> np.ndarray:
    """Bright lower half: the tiny model calls this happiness (see make_tiny_face_model)."""
    image = np.full((size, size, 3), 40, np.uint8)
    image[size * 2 // 3 :, :] = 255
    return image


def write_video(path: Path, n_frames: int = 20, fps: int = 10) -> Path:
    """Frames alternate between a plain grey face and a smiling-like one."""
    frames = (smiling_like() if i % 2 else np.full((96, 96, 3), 40, np.uint8) for i in range(n_frames))
    return write_frames_video(path, frames, fps)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_face_model(tmp_path_factory.mktemp("face-model"))


@pytest.fixture
def whole(model_dir: Path) -> FaceOnnxRecognizer:
    return FaceOnnxRecognizer(model_dir, detector="none")


def test_meets_the_contract(model_dir: Path) -> None:
    rec = FaceOnnxRecognizer(model_dir, detector="none")
    check_recognizer(rec, [ImageFrame(smiling_like(), source="a"), ImageFrame(np.zeros((50, 60, 3), np.uint8))],
                     factory=lambda: FaceOnnxRecognizer(model_dir, detector="none"))
    check_recognizer(FaceOnnxRecognizer(model_dir), factory=lambda: FaceOnnxRecognizer(model_dir))  # Haar, noise


def test_scores_vad_and_mouth_cue(whole: FaceOnnxRecognizer) -> None:
    (result,) = whole.analyze([ImageFrame(smiling_like(), source="smile.png")])
    seg = result.segments[0]
    assert seg.modality == Modality.FACE and seg.label_set == "ferplus"
    assert seg.top_label == "happiness" and seg.labels == ("happiness",)
    assert abs(sum(seg.scores.values()) - 1.0) < 1e-6
    assert seg.vad is not None and seg.vad.valence > 0  # through the taxonomy's VAD anchors
    assert seg.extras["box"] == [0, 0, 96, 96]
    assert seg.cues and seg.cues[0].kind == "face_region" and "mouth" in seg.cues[0].phrase
    assert seg.cues[0].weight > 0 and seg.cues[0].region is not None


def test_no_face_and_bad_items_give_empty_results_with_warnings(model_dir: Path, tmp_path: Path) -> None:
    rec = FaceOnnxRecognizer(model_dir)  # Haar: a flat or noise image has no face
    corrupt = tmp_path / "bad.jpg"
    corrupt.write_bytes(b"nope")
    results = rec.analyze([np.zeros((80, 80, 3), np.uint8), str(corrupt), 42, np.zeros((0, 0, 3), np.uint8)])
    assert len(results) == 4 and all(r.is_empty and r.warnings for r in results)
    assert results[0].warnings == ("no face found",)
    assert "not a readable image" in results[1].warnings[0]


def test_missing_model_files_and_wrong_hash_are_clear(tmp_path: Path, model_dir: Path) -> None:
    with pytest.raises(FaceModelFilesMissing, match="face model files missing"):
        FaceOnnxRecognizer(tmp_path / "nothing").load()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.onnx").write_bytes((model_dir / "model.onnx").read_bytes() + b"x")
    (broken / "config.json").write_text((model_dir / "config.json").read_text())
    with pytest.raises(FaceModelIntegrityError):
        FaceOnnxRecognizer(broken).load()


def test_video_gives_tracked_smoothed_segments(whole: FaceOnnxRecognizer, tmp_path: Path) -> None:
    video = open_video(write_video(tmp_path / "clip.mp4", n_frames=20, fps=10), options=VideoOptions(fps=5))
    (result,) = whole.analyze([video])
    segments = result.segments
    assert len(segments) == 10 and {s.track_id for s in segments} == {1}
    assert [s.start for s in segments] == sorted(s.start for s in segments if s.start is not None)
    assert segments[0].end == pytest.approx(segments[0].start + 0.2)
    assert all("raw_top_label" in s.extras and "frame" in s.extras for s in segments)
    # frames alternate: the EMA damps the swings of the raw scores
    raw = [s.extras["raw_top_label"] for s in segments]
    assert len(set(raw)) >= 1
    json.loads(result.to_json())


def test_empty_video_gives_an_explicit_empty_result(whole: FaceOnnxRecognizer, tmp_path: Path) -> None:
    path = write_video(tmp_path / "short.mp4", n_frames=10, fps=10)
    video = open_video(path, options=VideoOptions(fps=5, start=30.0))  # past the end
    (result,) = whole.analyze([video])
    assert result.is_empty and "no face found" in result.warnings[-1]


def test_registered_model_and_file_routing() -> None:
    spec = registry.get_spec("face.ferplus-cnn.v1")
    assert spec.modality == Modality.FACE and not spec.default  # v5 is the default since 2026-12-07
    assert not registry.get_spec("face.ferplus-wild-fusion.v2").default
    assert not registry.get_spec("face.ferplus-wild-fusion.v3").default
    assert not registry.get_spec("face.ferplus-wild-fusion.v4").default
    assert registry.get_spec("face.ferplus-wild-fusion.v5").default
    assert processing.FILE_TYPES[".jpg"].modality == Modality.FACE
    assert processing.FILE_TYPES[".mp4"].modality == Modality.FACE


# -- the shipped model (models/face-ferplus-cnn-v1) -----------------------------------------

SHIPPED = DEFAULT_MODEL_DIR
needs_shipped = pytest.mark.skipif(not (SHIPPED / "model.onnx").is_file(), reason="face model not shipped")


@needs_shipped
def test_shipped_model_folder_is_complete_pinned_and_documented() -> None:
    from affectlens.models import sha256_file

    assert {"model.onnx", "config.json", "metrics.json", "MODEL_CARD.md"} <= {p.name for p in SHIPPED.iterdir()}
    config = json.loads((SHIPPED / "config.json").read_text())
    assert config["labels"] == ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear",
                                "contempt"]
    assert config["sha256"]["model.onnx"] == sha256_file(SHIPPED / "model.onnx")
    assert 0.3 < config["temperature"] < 3.0
    metrics = json.loads((SHIPPED / "metrics.json").read_text())
    shipped = metrics["ferplus_test_shipped_recognizer"]
    assert shipped["n"] > 3000 and len(shipped["confusion"]) == 8
    assert metrics["ferplus_test_onnx_fp32"]["accuracy"] > 0.5  # the registry headline reads this key
    assert "research" in (SHIPPED / "MODEL_CARD.md").read_text().lower()
    assert registry.get_spec("face.ferplus-cnn.v1").headline_metric.startswith("FER+ test accuracy")


@needs_shipped
def test_shipped_model_loads_and_scores_a_batch() -> None:
    rec = FaceOnnxRecognizer(detector="none", explain=False, threads=1)
    crops = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    probs = rec.predict_crops(crops)
    assert probs.shape == (5, 8) and np.allclose(probs.sum(1), 1.0, atol=1e-6)
    # a face's scores do not depend on its neighbours in the batch
    assert np.allclose(rec.predict_crops(crops[:1]), probs[:1], atol=1e-5)


@needs_shipped
@pytest.mark.data
def test_shipped_model_smiling_portraits_score_happier_than_neutral() -> None:
    if not (LONDON / "001_smiling.jpg").is_file():
        pytest.skip("faces_london_smoke not available")
    from affectlens.vision.io import load_image

    rec = FaceOnnxRecognizer(explain=False, threads=1)
    people = sorted({p.stem.split("_")[0] for p in LONDON.glob("*_smiling.jpg")})
    happier = 0
    for person in people:
        smiling, neutral = rec.analyze([load_image(LONDON / f"{person}_{k}.jpg") for k in ("smiling", "neutral")])
        assert smiling.segments and neutral.segments
        happier += smiling.segments[0].scores["happiness"] > neutral.segments[0].scores["happiness"]
    assert happier >= len(people) - 1


def test_import_affectlens_stays_light() -> None:
    import subprocess

    code = ("import sys, affectlens, affectlens.processing, affectlens.vision.io, affectlens.recognizers.face_onnx;"
            "print(sorted(m for m in ('cv2', 'av', 'onnxruntime', 'torch', 'PIL') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- CLI -------------------------------------------------------------------------------------


@pytest.fixture
def tiny_env(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(MODEL_DIR_ENV, str(model_dir))
    monkeypatch.setenv(DETECTOR_ENV, "none")
    return model_dir


def test_cli_image_table_json_csv_and_annotate(tmp_path: Path, tiny_env: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from affectlens.cli import run

    photo = tmp_path / "photo.png"
    Image.fromarray(smiling_like()).save(photo)
    assert run(["analyze", str(photo)]) == 0
    assert "happiness" in capsys.readouterr().out
    out_json, out_csv, drawn = tmp_path / "r.json", tmp_path / "r.csv", tmp_path / "drawn.jpg"
    assert run(["analyze", str(photo), "--output", str(out_json), "--annotate", str(drawn)]) == 0
    data = json.loads(out_json.read_text())
    assert data["results"][0]["segments"][0]["labels"] == ["happiness"]
    assert drawn.is_file() and Image.open(drawn).size == (96, 96)
    assert run(["analyze", str(photo), "-o", str(out_csv)]) == 0
    assert "score_happiness" in out_csv.read_text().splitlines()[0]


def test_cli_video_csv_plot_and_fps(tmp_path: Path, tiny_env: Path) -> None:
    pytest.importorskip("matplotlib")
    import pandas as pd

    from affectlens.cli import run

    clip = write_video(tmp_path / "clip.mp4", n_frames=30, fps=10)
    out_csv, png, tracks = tmp_path / "v.csv", tmp_path / "v.png", tmp_path / "tracks.csv"
    assert run(["analyze", str(clip), "--fps", "2", "--start", "0.5", "--output", str(out_csv),
                "--plot", str(png), "--tracks", str(tracks)]) == 0
    frame = pd.read_csv(out_csv)
    assert len(frame) == 5 and set(frame["track_id"]) == {1} and frame["start"].min() >= 0.5
    assert png.is_file() and png.stat().st_size > 0
    per_track = pd.read_csv(tracks)
    assert list(per_track["track_id"]) == [1] and list(per_track["faces"]) == [5]
    assert per_track["first_seen"][0] >= 0.5 and per_track["top_label"][0] in set(frame["top_label"])


def test_cli_bad_inputs(tmp_path: Path, tiny_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from affectlens.cli import run

    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert run(["analyze", str(empty)]) == 2
    assert "empty file" in capsys.readouterr().err
    novideo = tmp_path / "broken.mp4"
    novideo.write_bytes(b"\x00" * 100)
    assert run(["analyze", str(novideo)]) == 2
    assert "video" in capsys.readouterr().err
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(smiling_like()).save(folder / "a.png")
    (folder / "b.jpg").write_bytes(b"corrupt")
    assert run(["analyze", str(folder), "-f", "jsonl"]) == 0  # one bad file never aborts a folder
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert len(lines) == 2 and lines[0]["segments"] and lines[1]["warnings"]


def test_cli_without_a_trained_model_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from affectlens.cli import run

    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path / "no-model"))
    photo = tmp_path / "p.png"
    Image.fromarray(smiling_like()).save(photo)
    assert run(["analyze", str(photo)]) != 0
    assert "face model files missing" in capsys.readouterr().err


@pytest.mark.data
def test_london_portraits_one_face_each_and_annotated(model_dir: Path, tmp_path: Path) -> None:
    if not (LONDON / "001_smiling.jpg").is_file():
        pytest.skip("faces_london_smoke not available")
    from affectlens.vision.annotate import annotate_result
    from affectlens.vision.io import load_image

    rec = FaceOnnxRecognizer(model_dir)
    results: list[EmotionResult] = rec.analyze([load_image(p) for p in sorted(LONDON.glob("*.jpg"))])
    assert [len(r.segments) for r in results] == [1] * len(results)
    assert annotate_result(results[0], tmp_path / "a.jpg") is not None


def test_a_face_crop_skips_the_detector(model_dir: Path) -> None:
    from affectlens.inputs import FaceCrop

    haar = FaceOnnxRecognizer(model_dir=model_dir, detector="haar", explain=False)
    blank = np.full((48, 48, 3), 128, np.uint8)  # no detector finds a face here
    assert haar.analyze([blank])[0].is_empty
    [result] = haar.analyze([FaceCrop(smiling_like(48), record_id="crop")])
    [segment] = result.segments
    assert segment.top_label == "happiness"


@pytest.mark.data
def test_ferplus_benchmark_task_reads_the_official_test_split() -> None:
    from affectlens.bench.tasks import get_task

    try:
        data = get_task("ferplus").read("test", None)
    except FileNotFoundError:
        pytest.skip("FER+ not under AFFECTLENS_DATA (../shared/datasets)")
    assert len(data) == 3545  # official FER2013Test faces whose plurality is an emotion
    assert data.inputs[0].pixels.shape == (48, 48, 3)
    assert set(np.unique(data.gold)) <= set(range(8))


def test_mirror_average_scores_each_face_with_its_mirror_image(model_dir: Path, tmp_path: Path) -> None:
    mirrored = tmp_path / "mirrored"
    mirrored.mkdir()
    for path in model_dir.iterdir():
        (mirrored / path.name).write_bytes(path.read_bytes())
    config = json.loads((mirrored / "config.json").read_text())
    (mirrored / "config.json").write_text(json.dumps({**config, "mirror_average": True}))
    plain = FaceOnnxRecognizer(model_dir, detector="none", batch_size=3)
    both = FaceOnnxRecognizer(mirrored, detector="none", batch_size=3)
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (5, 48, 48), dtype=np.uint8)
    crops[:, :, :24] = 0  # not symmetric: the mirror image scores differently
    logit_plain = np.log(plain.predict_crops(crops))
    logit_mirror = np.log(plain.predict_crops(crops[:, :, ::-1].copy()))
    assert not np.allclose(logit_plain, logit_mirror, atol=1e-3)
    expected = np.exp((logit_plain + logit_mirror) / 2)
    expected /= expected.sum(1, keepdims=True)
    assert np.allclose(both.predict_crops(crops), expected, atol=1e-5)


def test_shipped_model_mirror_average_is_in_the_config() -> None:
    # the graph holds the plain CNN (int8 kernels stay fast); the recognizer averages the mirror
    config = json.loads((SHIPPED / "config.json").read_text())
    assert config["mirror_average"] is True


# -- a video's segments streamed to the writers (flat memory over long videos) -----------------------


def test_cli_streams_a_video_to_the_same_result_as_the_library(tmp_path: Path, tiny_env: Path) -> None:
    from affectlens import api
    from affectlens.cli import run

    clip = write_video(tmp_path / "clip.mp4", n_frames=30, fps=10)
    whole = api.analyze(str(clip), fps=5, labels="ekman")
    out = tmp_path / "v.jsonl"
    assert run(["analyze", str(clip), "--fps", "5", "--labels", "ekman", "-o", str(out)]) == 0
    (line,) = out.read_text().splitlines()
    assert json.loads(line) == whole.to_dict() and len(whole.segments) == 15
    assert {s.label_set for s in whole.segments} == {"ekman"}


def test_streamed_walk_hands_videos_on_as_they_come(whole: FaceOnnxRecognizer, tmp_path: Path) -> None:
    from affectlens.options import AnalyzeOptions
    from affectlens.processing import start_analysis

    folder = tmp_path / "media"
    folder.mkdir()
    write_video(folder / "a.mp4", n_frames=20, fps=10)
    Image.fromarray(smiling_like()).save(folder / "b.png")
    analysis = start_analysis(folder, model=whole, options=AnalyzeOptions(stream_segments=True))
    assert analysis.streamed is not None
    video, photo = list(_read_each(analysis.streamed))
    assert video == (True, 10, ()) and photo == (False, 1, ())
    plain = start_analysis(folder, model=whole)  # the library's default: whole results
    assert plain.streamed is None and all(isinstance(r, EmotionResult) for r in plain.results)


def _read_each(results: Any) -> Any:
    from affectlens.types import StreamedResult

    for result in results:
        streamed = isinstance(result, StreamedResult)
        yield streamed, len(list(result)), result.warnings


def test_a_video_failing_halfway_keeps_its_segments_and_says_why(whole: FaceOnnxRecognizer, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from affectlens.options import AnalyzeOptions
    from affectlens.processing import start_analysis

    clip = write_video(tmp_path / "clip.mp4", n_frames=20, fps=10)
    real = FaceOnnxRecognizer.iter_video

    def breaks_after_three(self: FaceOnnxRecognizer, video: Any, **kw: Any) -> Any:
        for n, segment in enumerate(real(self, video, **kw)):
            if n == 3:
                raise MemoryError("decoder ran out of memory")
            yield segment

    monkeypatch.setattr(FaceOnnxRecognizer, "iter_video", breaks_after_three)
    analysis = start_analysis(clip, model=whole, options=AnalyzeOptions(stream_segments=True))
    assert analysis.streamed is not None
    ((streamed, count, warnings),) = list(_read_each(analysis.streamed))
    assert streamed and count == 3 and "failed: MemoryError: decoder ran out of memory" in warnings[-1]


def test_progress_moves_within_a_streamed_video(whole: FaceOnnxRecognizer, tmp_path: Path) -> None:
    """An hour of video is one input: the bar follows the video's time, not only whole inputs."""
    from affectlens.options import AnalyzeOptions
    from affectlens.processing import ProgressUpdate, start_analysis

    clip = write_video(tmp_path / "clip.mp4", n_frames=40, fps=10)  # 4 s
    updates: list[ProgressUpdate] = []
    analysis = start_analysis(clip, model=whole, options=AnalyzeOptions(stream_segments=True, fps=5),
                              progress=updates.append)
    assert analysis.streamed is not None
    for result in analysis.streamed:
        list(result)
    within = [u for u in updates if u.unit == "s of video"]
    fractions = [u.fraction for u in within]
    assert len(within) >= 10 and fractions == sorted(fractions) and 0 < fractions[0] < 0.2
    assert [u.done for u in within] == sorted(u.done for u in within) and within[-1].done in (3, 4)
    assert updates[-1].done == 1 and updates[-1].fraction == 1.0 and updates[-1].unit == "files"
