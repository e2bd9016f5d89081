"""Face pipeline speed on this machine: expression-model faces/s, video real-time factor, peak memory.

Usage::

    python benchmarks/face_throughput.py                     # untrained same-architecture export (needs torch)
    python benchmarks/face_throughput.py --model-dir artifacts/face
    python benchmarks/face_throughput.py --video-seconds 60 --fps 5 --threads 2

Why an untrained export by default: speed does not depend on the weights, so the numbers
hold for the trained model of the same architecture (``affectlens_recipes.face``) before it
exists.  The video is synthetic 1280x720 at 30 fps: a face photo (the first image of
``../shared/datasets/faces_london_smoke`` when present, else a drawn oval) drifting over a
textured background, written with PyAV; processing = decode + sample ``--fps`` + Haar
detection + tracking + the model + occlusion cues.  Real-time factor = processing seconds /
video seconds (below 0.5 means at least 2x faster than real time).  Peak memory is the
process's maximum resident set size (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
LONDON = ROOT.parent / "shared" / "datasets" / "faces_london_smoke"


def export_untrained(folder: Path, width: float) -> Path:
    import torch

    from affectlens.models import sha256_file
    from affectlens_recipes.face import FERPLUS_LABELS, MEAN, STD, build_model

    torch.manual_seed(0)
    model = build_model(torch, width).eval()
    folder.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, (torch.zeros(2, 1, 48, 48),), str(folder / "model.onnx"), input_names=["image"],
                      output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                      opset_version=17, dynamo=False)
    config = {"labels": list(FERPLUS_LABELS), "label_set": "ferplus", "input_size": [48, 48], "channels": 1,
              "input_name": "image", "output_name": "logits", "scale": 1 / 255, "mean": MEAN, "std": STD,
              "margin": 0.10, "version": "v1", "sha256": {"model.onnx": sha256_file(folder / "model.onnx")}}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def faces_per_second(recognizer: object, batch: int, seconds: float = 5.0) -> float:
    crops = np.random.default_rng(0).integers(0, 256, (batch, 48, 48), dtype=np.uint8)
    predict = recognizer.predict_crops  # type: ignore[attr-defined]
    predict(crops)  # warm-up
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        predict(crops)
        done += batch
    return done / (time.perf_counter() - started)


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


def write_video(path: Path, seconds: float, fps: int = 30, size: tuple[int, int] = (1280, 720)) -> Path:
    import av
    import cv2

    width, height = size
    faces = sorted(LONDON.glob("*.jpg"))
    if faces:
        from affectlens.vision.io import load_image

        face = cv2.resize(load_image(faces[0]).pixels, (300, 300))
    else:
        face = np.full((300, 300, 3), 90, np.uint8)
        cv2.ellipse(face, (150, 150), (100, 130), 0, 0, 360, (200, 170, 150), -1)
    rng = np.random.default_rng(1)
    background = cv2.GaussianBlur(rng.integers(0, 255, (height, width, 3), dtype=np.uint8), (0, 0), 5)
    with av.open(str(path), "w") as container:
        try:
            stream = container.add_stream("libx264", rate=fps)
        except Exception:  # a PyAV build without x264
            stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(int(seconds * fps)):
            frame = background.copy()
            x = int(100 + (width - 500) * (0.5 + 0.5 * np.sin(i / (fps * 4.0))))
            frame[200:500, x : x + 300] = face
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--width", type=float, default=1.0, help="channel multiplier of the untrained export")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--video-seconds", type=float, default=20.0)
    parser.add_argument("--fps", type=float, default=5.0)
    parser.add_argument("--skip-video", action="store_true")
    parser.add_argument("--loop", type=int, default=1,
                        help="play the synthetic clip this many times in a row (e.g. 60 s x 60 = 1 hour)")
    args = parser.parse_args()

    from affectlens.recognizers.face_onnx import FaceOnnxRecognizer
    from affectlens.vision.io import VideoOptions, open_video

    work = Path(tempfile.mkdtemp(prefix="affectlens-face-bench-"))
    model_dir = args.model_dir or export_untrained(work / "untrained", args.width)
    report: dict[str, object] = {"model_dir": str(model_dir), "untrained_export": args.model_dir is None,
                                 "threads": args.threads, "batch": args.batch}
    recognizer = FaceOnnxRecognizer(model_dir, threads=args.threads, batch_size=args.batch)
    recognizer.load()
    report["faces_per_s"] = round(faces_per_second(recognizer, args.batch), 1)  # the folder's model.onnx
    int8 = Path(model_dir) / "model.int8.onnx"
    if int8.is_file():
        import shutil

        int8_dir = work / "int8"
        int8_dir.mkdir()
        shutil.copy(int8, int8_dir / "model.onnx")
        config = json.loads((Path(model_dir) / "config.json").read_text())
        config["sha256"] = {}
        (int8_dir / "config.json").write_text(json.dumps(config))
        quantized = FaceOnnxRecognizer(int8_dir, threads=args.threads, batch_size=args.batch)
        report["faces_per_s_int8"] = round(faces_per_second(quantized, args.batch), 1)
    if not args.skip_video:
        video_path = write_video(work / "synthetic_720p.mp4", args.video_seconds)
        if args.loop > 1:
            video_path = loop_video(video_path, work / "synthetic_720p_looped.mp4", args.loop)
        seconds = args.video_seconds * args.loop
        report["peak_rss_mb_before_video"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        video = open_video(video_path, options=VideoOptions(fps=args.fps))
        started = time.perf_counter()
        segments = list(recognizer.iter_video(video))
        elapsed = time.perf_counter() - started
        report.update({
            "video": f"synthetic 1280x720 30 fps, {seconds:.0f} s, sampled at {args.fps} fps",
            "video_seconds_processing": round(elapsed, 2),
            "video_real_time_factor": round(elapsed / seconds, 3),
            "faces_found": len(segments),
            "tracks": len({s.track_id for s in segments}),
        })
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
