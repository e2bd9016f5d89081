"""``benchmarks/face_throughput.py`` and its probes (``perf_probe.py``): stage times, RSS over time,
the synthetic video's faces, the before/after comparison of ``face_video_diff.py``; a short real run (slow)."""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _script(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))  # face_throughput imports perf_probe beside it
    try:
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_stage_timer_counts_exclusive_time_of_nested_stages_and_restores() -> None:
    probe = _script("perf_probe")
    clock = FakeClock()
    timer = probe.StageTimer(clock=clock)

    class Work:
        def inner(self) -> str:
            clock.now += 2.0
            return "inner"

        def outer(self) -> str:
            clock.now += 1.0
            got = self.inner()
            clock.now += 0.5
            return got

        def frames(self) -> object:
            for i in range(3):
                clock.now += 0.25
                yield i

    original = Work.outer
    timer.wrap(Work, "outer", "outer")
    timer.wrap(Work, "inner", "inner")
    timer.wrap_generator(Work, "frames", "decode")
    work = Work()
    assert work.outer() == "inner" and list(work.frames()) == [0, 1, 2]
    assert timer.seconds == {"outer": 1.5, "inner": 2.0, "decode": 0.75}
    assert timer.calls == {"outer": 1, "inner": 1, "decode": 4}  # 3 items and the final StopIteration
    report = timer.report(total=5.0)
    assert report["inner"]["share"] == 0.4 and report["other (unwrapped)"]["seconds"] == 0.75
    timer.restore()
    assert Work.outer is original


def test_rss_sampler_samples_over_time_and_summarises() -> None:
    probe = _script("perf_probe")
    assert probe.rss_mb() > 10  # this process, from /proc
    values = iter([100.0, 101.0, 130.0, 102.0, 103.0])
    clock = FakeClock()
    logged: list[tuple[float, float]] = []
    sampler = probe.RssSampler(every=3600, read=lambda: next(values), clock=clock,
                               on_sample=lambda t, mb: logged.append((t, mb)))
    with sampler:
        for _ in range(3):
            clock.now += 10
            sampler.sample()
    assert [mb for _, mb in sampler.samples] == [100.0, 101.0, 130.0, 102.0, 103.0]
    assert logged == sampler.samples  # each sample reported as it is taken
    summary = sampler.summary(points=3)
    assert summary["peak_mb"] == 130.0 and summary["first_mb"] == 100.0 and summary["last_mb"] == 103.0
    assert summary["during_run_min_mb"] == 101.0 and summary["during_run_max_mb"] == 130.0
    assert summary["during_run_growth_mb"] == 1.0  # 102 - 101: the inner samples' last and first quarter
    assert summary["series_s_mb"] == [[0.0, 100.0], [20.0, 130.0], [30.0, 103.0]]
    with pytest.raises(ValueError):
        probe.RssSampler(every=0)


def test_synthetic_faces_stay_in_the_frame_and_in_their_lanes() -> None:
    bench = _script("face_throughput")
    for count, side in ((1, 300), (3, 240)):
        for t in (0.0, 1.3, 7.7, 30.0):
            spots = bench.face_positions(t, count, side)
            assert all(0 <= x <= 1280 - side and 0 <= y <= 720 - side for x, y in spots)
            xs = sorted(x for x, _ in spots)
            assert all(b - a >= side for a, b in itertools.pairwise(xs))  # no two faces overlap
    drawn = bench.drawn_face(96, smiling=True)
    assert drawn.shape == (96, 96, 3) and drawn.dtype.name == "uint8"
    pairs = bench.face_photos(2, 64, london=Path("/nonexistent"))  # no photos: drawn faces
    assert len(pairs) == 2 and pairs[0][0].shape == (64, 64, 3)


def _output(path: Path, rows: list[tuple[int, str, list[tuple[str, float]]]]) -> Path:
    segments = [{"labels": [label], "scores": {"neutral": 0.5, "happiness": 0.5}, "track_id": 1,
                 "cues": [{"kind": "face_region", "phrase": p, "weight": w} for p, w in cues],
                 "extras": {"frame": frame, "box": [0, 0, 10, 10]}} for frame, label, cues in rows]
    path.write_text(json.dumps({"results": [{"segments": segments}]}))
    return path


def test_face_video_diff_pairs_segments_and_measures_cue_changes(tmp_path: Path) -> None:
    diff = _script("face_video_diff")
    before = diff.segments(_output(tmp_path / "b.json", [(0, "neutral", [("mouth region supports neutral", 0.3)]),
                                                          (6, "neutral", [("mouth region supports neutral", 0.1)])]))
    after = diff.segments(_output(tmp_path / "a.json", [(0, "neutral", [("mouth region supports neutral", 0.2)]),
                                                         (6, "happiness", [("eyes region supports neutral", 0.1)])]))
    report = diff.compare(before, after)
    assert report["paired"] == 2 and report["top_label_changed"] == 1
    assert report["same_strongest_region_cue"] == 1 and report["max_region_cue_weight_difference"] == 0.1
    steady = diff.frame_to_frame(before)
    assert steady["consecutive_pairs"] == 1 and steady["mean_region_cue_weight_change"] == 0.2


@pytest.mark.slow
def test_benchmark_runs_briefly_on_the_default_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("av")
    pytest.importorskip("onnxruntime")
    from affectlens.model_folder import ModelFilesError, ModelFilesMissing
    from affectlens.registry import default_for, load_recognizer
    from affectlens.types import Modality

    try:
        load_recognizer(default_for(Modality.FACE).name).load()
    except (ModelFilesError, ModelFilesMissing, ImportError, OSError) as exc:
        pytest.skip(f"the default face model cannot load here: {exc}")
    bench = _script("face_throughput")
    monkeypatch.setenv("AFFECTLENS_THREADS", "1")  # the script sets it for its runtimes; restored after
    out = tmp_path / "report.json"
    monkeypatch.setattr(sys, "argv", ["face_throughput.py", "--faces", "1", "--video-seconds", "2", "--rss-every",
                                      "0.5", "--profile", "--skip-model-speed", "--work", str(tmp_path),
                                      "--out", str(out)])
    bench.main()
    report = json.loads(out.read_text())
    run = report["1_faces"]
    assert run["video_seconds"] == 2.0 and run["real_time_factor"] > 0 and run["sampled_frames_per_s"] > 0
    assert run["rss"]["n"] >= 2 and run["rss"]["peak_mb"] > 0
    assert "CNN (ONNX)" in run["stages"] and "tracking" in run["stages"]
    assert report["model"] == default_for(Modality.FACE).name
