"""Face pipeline speed and memory as users run it: video real-time factor, stages, RSS over time.

Usage::

    python benchmarks/face_throughput.py                              # 20 s, 1 and 3 faces, default model
    python benchmarks/face_throughput.py --faces 3 --video-seconds 60 --loop 10 --rss-every 10   # 10 minutes
    python benchmarks/face_throughput.py --faces 1 --profile          # + time per stage
    python benchmarks/face_throughput.py --model face.ferplus-cnn.v1 --threads 2

What is measured (the defaults are what ``affectlens analyze video.mp4 --fps 5`` does):

* the registry's default face model (``face.ferplus-wild-fusion.v2``) with its default
  detector: MediaPipe BlazeFace short + full range, the 468-point face mesh on each face,
  the action-unit-like cues against each track's running baseline, the occlusion cues over
  brows/eyes/nose/mouth, tracking and per-track smoothing;
* through the library's video route, ``affectlens.api.analyze(path, fps=5)`` (the CLI's
  ``analyze`` takes the same planner route; with a file format it writes each segment as it
  comes instead of keeping the result: ``--cli``), so decoding, sampling and result building are in;
* on a synthetic 1280x720, 30 fps H.264 video written with PyAV: 1 or 3 real face photos
  (``faces_london_smoke`` under ``$AFFECTLENS_DATA`` or ``../shared/datasets``, CC BY 4.0; a
  drawn face when absent) moving
  on their own paths over a textured background, each switching between the person's
  neutral and smiling photo every 5 s.  ``--loop N`` plays the clip N times in a row by
  packet copy (no re-encoding), for long runs;
* real-time factor = processing seconds / video seconds (0.25 = 4x faster than real time),
  also in process CPU seconds (less sensitive to other jobs on the machine); sampled
  frames per second; resident memory read every ``--rss-every`` seconds during the run
  (``perf_probe.RssSampler``), with and without the result's segments kept (``--stream``:
  ``FaceOnnxRecognizer.iter_video``, segments dropped as they come: the pipeline's own
  memory), or through the CLI (``--cli``: ``affectlens analyze VIDEO -o out.jsonl`` in this
  process, the segments written as they come); ``--profile`` adds exclusive seconds per stage
  (``perf_probe.StageTimer``).

Timings on a shared machine are ranges: the report carries the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from perf_probe import RssSampler, StageTimer

from affectlens.bench.datasets import data_root

LONDON = data_root() / "faces_london_smoke"  # $AFFECTLENS_DATA, else ../shared/datasets above the checkout
SWITCH_SECONDS = 5.0  # each face alternates between its neutral and smiling photo


# -- the synthetic video ---------------------------------------------------------------------------


def face_photos(count: int, side: int, london: Path | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` (neutral, smiling) RGB pairs of ``side`` px: London portraits, else drawn faces."""
    import cv2

    london = LONDON if london is None else london
    people = sorted({p.name.split("_")[0] for p in london.glob("*_neutral.jpg")
                     if (london / p.name.replace("_neutral", "_smiling")).is_file()})
    pairs = []
    for k in range(count):
        if k < len(people):
            from affectlens.vision.io import load_image

            pair = tuple(cv2.resize(load_image(london / f"{people[k]}_{kind}.jpg").pixels, (side, side),
                                    interpolation=cv2.INTER_AREA) for kind in ("neutral", "smiling"))
            pairs.append((pair[0], pair[1]))
        else:
            pairs.append((drawn_face(side, smiling=False, seed=k), drawn_face(side, smiling=True, seed=k)))
    return pairs


def drawn_face(side: int, *, smiling: bool, seed: int = 0) -> np.ndarray:
    """A cartoon face (skin oval, eyes, brows, mouth): the fallback when the photos are absent."""
    import cv2

    tone = (200 - 25 * (seed % 3), 165 - 20 * (seed % 3), 140 - 15 * (seed % 3))
    face = np.full((side, side, 3), 235, np.uint8)
    c = side // 2
    cv2.ellipse(face, (c, c), (int(side * 0.32), int(side * 0.42)), 0, 0, 360, tone, -1)
    for dx in (-1, 1):
        eye = (c + dx * int(side * 0.12), int(side * 0.42))
        cv2.ellipse(face, eye, (int(side * 0.05), int(side * 0.025)), 0, 0, 360, (40, 30, 30), -1)
        cv2.line(face, (eye[0] - int(side * 0.06), eye[1] - int(side * 0.07)),
                 (eye[0] + int(side * 0.06), eye[1] - int(side * 0.07)), (60, 40, 30), max(1, side // 60))
    mouth = (c, int(side * 0.68))
    if smiling:
        cv2.ellipse(face, mouth, (int(side * 0.11), int(side * 0.05)), 0, 0, 180, (120, 40, 50), max(2, side // 50))
    else:
        cv2.line(face, (mouth[0] - int(side * 0.09), mouth[1]), (mouth[0] + int(side * 0.09), mouth[1]),
                 (120, 40, 50), max(2, side // 50))
    return face


def face_positions(t: float, count: int, side: int, size: tuple[int, int] = (1280, 720)) -> list[tuple[int, int]]:
    """Top-left corners of ``count`` faces at time ``t``: each drifts within its own vertical lane
    (periods 10-14 s: at most ~0.5 box widths between samples at 5 fps, so tracks hold)."""
    width, height = size
    lane = width // count
    out = []
    for k in range(count):
        phase = 1.7 * k
        fx = 0.5 + 0.5 * np.sin(2 * np.pi * t / (10.0 + 2 * k) + phase)
        fy = 0.5 + 0.5 * np.sin(2 * np.pi * t / (14.0 - 2 * k) + 2 * phase)
        out.append((int(k * lane + max(0, lane - side) * fx), int(max(0, height - side) * fy)))
    return out


def write_video(path: Path, seconds: float, *, faces: int = 1, fps: int = 30, size: tuple[int, int] = (1280, 720),
                london: Path | None = None) -> Path:
    """The synthetic clip: ``faces`` moving face photos over a blurred-noise texture, H.264."""
    import av
    import cv2

    width, height = size
    side = min(300, width // faces - 20, height - 20)
    pairs = face_photos(faces, side, london)
    rng = np.random.default_rng(1)
    background = cv2.GaussianBlur(rng.integers(0, 255, (height, width, 3), dtype=np.uint8), (0, 0), 5)
    with av.open(str(path), "w") as container:
        try:
            stream = container.add_stream("libx264", rate=fps)
        except Exception:  # a PyAV build without x264
            stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(int(seconds * fps)):
            t = i / fps
            frame = background.copy()
            smiling = int(t // SWITCH_SECONDS) % 2
            for k, (x, y) in enumerate(face_positions(t, faces, side, size)):
                frame[y : y + side, x : x + side] = pairs[k][(smiling + k) % 2]
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def loop_video(clip: Path, path: Path, times: int) -> Path:
    """``clip`` played ``times`` times in a row, by copying its packets (no re-encoding)."""
    import av

    with av.open(str(clip)) as source, av.open(str(path), "w") as target:
        in_stream = source.streams.video[0]
        out_stream = target.add_stream_from_template(in_stream)
        packets = [p for p in source.demux(in_stream) if p.dts is not None]
        step = packets[1].pts - packets[0].pts if len(packets) > 1 else 1
        span = max(p.pts for p in packets) - min(p.pts for p in packets) + step
        for k in range(times):
            for packet in packets:
                packet.pts += span if k else 0
                packet.dts += span if k else 0
                packet.stream = out_stream
                target.mux(packet)
    return path


# -- measuring -------------------------------------------------------------------------------------


def faces_per_second(recognizer: Any, batch: int, seconds: float = 5.0) -> float:
    """The expression model alone (crops in, probabilities out; mirror pair included if the model has it)."""
    crops = np.random.default_rng(0).integers(0, 256, (batch, 48, 48), dtype=np.uint8)
    recognizer.predict_crops(crops)  # warm-up
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        recognizer.predict_crops(crops)
        done += batch
    return done / (time.perf_counter() - started)


def stage_timer() -> StageTimer:
    """Timers on the stages of the face video pipeline (exclusive seconds per stage)."""
    from affectlens.features import face_geometry
    from affectlens.recognizers.face_onnx import FaceOnnxRecognizer
    from affectlens.vision import face_analysis
    from affectlens.vision.blazeface import BlazeFaceDetector
    from affectlens.vision.face_mesh import FaceMesh
    from affectlens.vision.io import VideoFile
    from affectlens.vision.track import FaceTracker

    timer = StageTimer()
    # the recognizer reads frames through prepared_frames (older code: frames); with the reading
    # thread what is timed here is the wait for it
    reader = "prepared_frames" if hasattr(VideoFile, "prepared_frames") else "frames"
    timer.wrap_generator(VideoFile, reader, "decode + sampling (PyAV, to RGB; read ahead: the wait)")
    timer.wrap(BlazeFaceDetector, "detect", "detection (BlazeFace short + full)")
    timer.wrap(FaceMesh, "infer", "face mesh")
    timer.wrap(FaceOnnxRecognizer, "_crops", "crops")
    timer.wrap(FaceOnnxRecognizer, "_logits", "CNN (ONNX)")
    timer.wrap(FaceOnnxRecognizer, "_geometry", "geometry input")
    timer.wrap(face_analysis, "geometry_cues", "action-unit-like cues")
    timer.wrap(FaceTracker, "update", "tracking")
    timer.wrap(FaceTracker, "smooth", "tracking")
    timer.wrap(FaceOnnxRecognizer, "_score_faces", "occlusion cues (copies, region cues)")
    timer.wrap(FaceOnnxRecognizer, "_segment", "result building (segments)")
    timer.wrap(face_geometry.RunningBaseline, "retain", "tracking")
    return timer


def log_sample(seconds: float, mb: float) -> None:
    """One line per RSS sample on stderr, with the media time reached: a long run shows its memory as it goes."""
    print(f"rss {seconds:8.1f} s  {mb:7.1f} MB  video {PROGRESS['time']:8.1f} s", file=sys.stderr, flush=True)


#: the media time of the last frame the analysis took (``track_progress``)
PROGRESS = {"time": 0.0}


def track_progress() -> None:
    """Note each frame's time as the recognizer reads it (the log lines of ``log_sample``)."""
    from affectlens.vision.io import VideoFile

    if getattr(VideoFile, "_bench_progress", False):
        return
    name = "prepared_frames" if hasattr(VideoFile, "prepared_frames") else "frames"
    original = getattr(VideoFile, name)

    def noting(self: Any, *args: Any, **kwargs: Any) -> Any:
        for item in original(self, *args, **kwargs):
            frame = item[0] if isinstance(item, tuple) else item
            PROGRESS["time"] = frame.time or 0.0
            yield item

    setattr(VideoFile, name, noting)
    VideoFile._bench_progress = True  # type: ignore[attr-defined]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cli_run(path: Path, args: argparse.Namespace, model: Any) -> tuple[int, set[Any], int]:
    """``affectlens analyze VIDEO --fps F -o out.jsonl`` in this process (the CLI's own code), then the
    segments, tracks and frames read back from the file it wrote."""
    from affectlens.cli import run

    out = Path(tempfile.mkdtemp(prefix="affectlens-face-cli-")) / "video.jsonl"
    argv = ["analyze", str(path), "--fps", f"{args.fps:g}", "-o", str(out)]
    if run([*argv, "--model", model] if isinstance(model, str) else argv) != 0:
        raise SystemExit(f"affectlens {' '.join(argv)} failed")
    segments = json.loads(out.read_text(encoding="utf-8").splitlines()[0])["segments"]
    out.unlink()
    return len(segments), {s.get("track_id") for s in segments}, len({s["extras"].get("frame") for s in segments})


def run_video(path: Path, seconds: float, args: argparse.Namespace, model: Any) -> dict[str, Any]:
    """One video through the library's route (or ``iter_video`` with ``--stream``), measured."""
    from affectlens import api

    timer = stage_timer() if args.profile else None
    cpu0 = cpu_seconds()
    started = time.perf_counter()
    try:
        with RssSampler(every=args.rss_every, on_sample=log_sample) as rss:
            if args.stream:
                from affectlens.registry import load_recognizer
                from affectlens.vision.io import VideoOptions, open_video

                recognizer = load_recognizer(model) if isinstance(model, str) else model
                per_track = Counter(s.track_id for s in  # segments counted, then dropped
                                    recognizer.iter_video(open_video(path, options=VideoOptions(fps=args.fps))))
                count, tracks, frames = sum(per_track.values()), set(per_track), -1
            elif args.cli:
                count, tracks, frames = cli_run(path, args, model)
            else:
                result = api.analyze(str(path), fps=args.fps, model=model)
                segments = result.segments
                count, tracks = len(segments), {s.track_id for s in segments}
                frames = len({s.extras.get("frame") for s in segments})
    finally:
        if timer is not None:
            timer.restore()
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds() - cpu0
    sampled = int(seconds * args.fps)
    out: dict[str, Any] = {
        "video_seconds": seconds,
        "processing_seconds": round(elapsed, 2),
        "real_time_factor": round(elapsed / seconds, 3),
        "times_real_time": round(seconds / elapsed, 2),
        "cpu_seconds": round(cpu, 2),
        "cpu_real_time_factor": round(cpu / seconds, 3),
        "sampled_frames_per_s": round(sampled / elapsed, 1),
        "faces": count,
        "frames_with_faces": frames if frames >= 0 else "n/a (--stream)",
        "tracks": len(tracks),
        "rss": rss.summary(),
    }
    if timer is not None:
        out["stages"] = timer.report(elapsed)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="registered face model (default: the registry's default)")
    parser.add_argument("--model-dir", type=Path, default=None, help="a face model folder instead (FaceOnnxRecognizer)")
    parser.add_argument("--faces", type=int, nargs="+", default=[1, 3], help="faces in the synthetic video")
    parser.add_argument("--video-seconds", type=float, default=20.0, help="length of the clip that is encoded")
    parser.add_argument("--loop", type=int, default=1, help="play the clip this many times (60 s x 60 = 1 hour)")
    parser.add_argument("--fps", type=float, default=5.0, help="sampled frames per second (the CLI's default: 5)")
    parser.add_argument("--threads", default="1", help="AFFECTLENS_THREADS for every model runtime ('auto': the "
                        "CLI's default, all available CPUs)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rss-every", type=float, default=2.0, help="seconds between two RSS samples")
    parser.add_argument("--profile", action="store_true", help="time each stage of the pipeline")
    route = parser.add_mutually_exclusive_group()
    route.add_argument("--stream", action="store_true", help="iter_video, segments dropped (pipeline memory)")
    route.add_argument("--cli", action="store_true", help="the CLI: 'affectlens analyze VIDEO -o out.jsonl' "
                       "(segments written as they come)")
    parser.add_argument("--skip-model-speed", action="store_true")
    parser.add_argument("--work", type=Path, default=None, help="folder for the videos (kept, reused)")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON report here")
    args = parser.parse_args()
    if args.cli and args.model_dir is not None:
        parser.error("--cli runs registered models (--model), not a folder")

    os.environ["AFFECTLENS_THREADS"] = args.threads  # read when each runtime session is built
    from affectlens.registry import default_for, load_recognizer
    from affectlens.types import Modality

    model: Any = args.model or default_for(Modality.FACE).name
    if args.model_dir is not None:
        from affectlens.recognizers.face_onnx import FaceOnnxRecognizer

        model = FaceOnnxRecognizer(args.model_dir)
    work = args.work or Path(tempfile.mkdtemp(prefix="affectlens-face-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "threads": args.threads,
        "model": model if isinstance(model, str) else str(args.model_dir),
        "fps": args.fps, "load_average_before": [round(v, 2) for v in os.getloadavg()],
        "faces_source": str(LONDON) if LONDON.is_dir() else "drawn (London set absent)",
    }
    recognizer = load_recognizer(model) if isinstance(model, str) else model
    recognizer.load()
    report["detector"] = recognizer.detector_name
    if not args.skip_model_speed:
        report["model_faces_per_s"] = round(faces_per_second(recognizer, args.batch), 1)
    api_warm = work / "warm.mp4"
    if not api_warm.is_file():
        write_video(api_warm, 1.0)
    from affectlens import api

    api.analyze(str(api_warm), fps=args.fps, model=model)  # loads and warms what the route loads
    track_progress()
    report["rss_mb_before_videos"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    for faces in args.faces:
        clip = work / f"synthetic_720p_{faces}face_{args.video_seconds:g}s.mp4"
        if not clip.is_file():
            write_video(clip, args.video_seconds, faces=faces)
        video = clip if args.loop <= 1 else work / f"{clip.stem}_x{args.loop}.mp4"
        if not video.is_file():  # kept in --work and reused, like the clip
            loop_video(clip, video, args.loop)
        seconds = args.video_seconds * args.loop
        row = run_video(video, seconds, args, model)
        row["video"] = f"synthetic 1280x720 30 fps H.264, {faces} face(s), {seconds:g} s, sampled at {args.fps:g} fps"
        report[f"{faces}_faces"] = row
        print(json.dumps({f"{faces}_faces": {k: v for k, v in row.items() if k not in ("rss", "stages")}}),
              file=sys.stderr, flush=True)
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    report["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    text = json.dumps(report, indent=1)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
