"""`affectlens batch` over folders of media files: files/s, media seconds per wall second, peak memory.

Usage: python benchmarks/batch_media_throughput.py [--audio 240] [--images 220] [--videos 3]
                                                   [--video-seconds 30] [--workdir DIR] [--keep]

One folder per kind, each run through ``affectlens batch DIR --out OUT`` in a child process
(the wall clock of the whole command, start-up and model loading included; peak RSS is that
child's ``ru_maxrss`` from ``os.wait4``), with the shipped default models:

* audio: the first ``--audio`` RAVDESS recordings (16 kHz FLAC, about 3.7 s each) from
  ``../shared/datasets/ravdess_speech_16k`` (or ``$AFFECTLENS_DATA``);
* images: the ``faces_london_smoke`` portraits, copied round-robin to ``--images`` files;
* video: ``--videos`` synthetic 1280x720 30 fps clips of a face photo drifting over a textured
  background (``benchmarks/face_throughput.py``), sampled at the CLI's default rate.

Prints one JSON object: per kind, files, output rows, error rows, seconds, files/s, media
seconds per wall second (audio, video) and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from face_throughput import write_video


def _data_root() -> Path:
    from affectlens.bench.datasets import data_root

    return data_root()


def _run_batch(folder: Path, out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of ``affectlens batch folder --out out``."""
    command = [sys.executable, "-m", "affectlens.cli", "batch", str(folder), "--out", str(out), "--no-progress"]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    stderr = child.stderr.read().decode() if child.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{stderr}")
    return seconds, usage.ru_maxrss / 1024


def _summary(out: Path) -> tuple[int, int, int]:
    """Output rows, distinct inputs and rows with an error."""
    import pyarrow.parquet as pq

    table = pq.read_table(sorted(out.glob("shards/**/*.parquet"))).to_pydict()
    rows = len(table["record_id"])
    inputs = len(set(table["record_id"]))
    errors = sum(1 for e in table["error"] if e)
    return rows, inputs, errors


def _media_seconds(files: list[Path]) -> float:
    import av

    total = 0.0
    for path in files:
        with av.open(str(path)) as container:
            total += float(container.duration or 0) / 1_000_000
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", type=int, default=240)
    parser.add_argument("--images", type=int, default=220)
    parser.add_argument("--videos", type=int, default=3)
    parser.add_argument("--video-seconds", type=float, default=30.0)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    root = _data_root()
    speech, photos = root / "ravdess_speech_16k", root / "faces_london_smoke"
    if not speech.is_dir() or not photos.is_dir():
        sys.exit(f"needs {speech} and {photos} (set AFFECTLENS_DATA)")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="affectlens-media-batch-"))
    work.mkdir(parents=True, exist_ok=True)
    folders: dict[str, list[Path]] = {}
    audio_dir = work / "audio"
    audio_dir.mkdir(exist_ok=True)
    folders["audio"] = []
    for source in sorted(speech.glob("Actor_*/*.flac"))[: args.audio]:
        target = audio_dir / f"{source.parent.name}_{source.name}"
        shutil.copy(source, target)
        folders["audio"].append(target)
    image_dir = work / "images"
    image_dir.mkdir(exist_ok=True)
    portraits = sorted(photos.glob("*.jpg"))
    folders["images"] = []
    for i in range(args.images):
        target = image_dir / f"{i:04d}_{portraits[i % len(portraits)].name}"
        shutil.copy(portraits[i % len(portraits)], target)
        folders["images"].append(target)
    video_dir = work / "video"
    video_dir.mkdir(exist_ok=True)
    folders["video"] = [write_video(video_dir / f"clip_{i}.mp4", args.video_seconds) for i in range(args.videos)]
    report: dict[str, Any] = {"machine_cores": len(os.sched_getaffinity(0))}
    for kind, files in folders.items():
        out = work / f"out_{kind}"
        shutil.rmtree(out, ignore_errors=True)
        seconds, peak_mb = _run_batch(files[0].parent, out)
        rows, inputs, errors = _summary(out)
        entry: dict[str, Any] = {"files": len(files), "output_rows": rows, "inputs_in_output": inputs,
                                 "error_rows": errors, "seconds": round(seconds, 1),
                                 "files_per_s": round(len(files) / seconds, 2), "peak_rss_mb": round(peak_mb)}
        if kind != "images":
            media = _media_seconds(files)
            entry["media_seconds"] = round(media, 1)
            entry["media_seconds_per_wall_second"] = round(media / seconds, 1)
        report[kind] = entry
        print(kind, json.dumps(entry), file=sys.stderr, flush=True)
    print(json.dumps(report, indent=2))
    if not args.keep and args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
