"""Record ``affectlens analyze X --format json`` (stdout and stderr) for a fixed input of every kind.

Usage: python benchmarks/cli_golden.py OUTDIR [--inputs DIR] [CASE ...]

Run it before and after a change to the processing layer or the CLI, then ``diff -r`` the two
OUTDIRs: a refactoring that keeps behaviour gives byte-identical files.  The inputs are made
once in ``--inputs`` (default: a ``golden-inputs`` folder beside OUTDIR) from synthetic audio,
``skimage``'s astronaut portrait and a few texts; one RAVDESS recording is used when the
shared datasets are present (``../shared/datasets`` or ``$AFFECTLENS_DATA``).  The shipped
default models are used, so run it on a machine that has them.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

RATE = 16_000
SRT = ("1\n00:00:00,500 --> 00:00:02,000\nANNA: I am so happy\n\n"
       "2\n00:00:03,000 --> 00:00:05,000\nBEN: I am angry\n")


def _voice(f0: float, seconds: float, amp: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amp * sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 8))).astype(np.float32)


def make_inputs(root: Path) -> None:
    import av
    import soundfile as sf
    from PIL import Image
    from skimage.data import astronaut

    root.mkdir(parents=True, exist_ok=True)
    (root / "note.txt").write_text("I am so happy today, thank you!\n")
    (root / "reviews.csv").write_text("id,body\na1,This is terrible and I am furious\na2,What a lovely surprise\na3,\n")
    (root / "folder").mkdir(exist_ok=True)
    (root / "folder" / "a.txt").write_text("I miss you so much.\n")
    (root / "folder" / "b.md").write_text("That was scary.\n")
    audio = np.concatenate([np.zeros(RATE // 2, np.float32), _voice(120, 1.5, .2), np.zeros(RATE, np.float32),
                            _voice(250, 2.0, .5), np.zeros(RATE // 2, np.float32)])
    for name in ("talk.wav", "media.wav", "speech.wav"):
        sf.write(root / name, audio, RATE)
    Image.fromarray(astronaut()).save(root / "face.png")
    frame = np.asarray(Image.fromarray(astronaut()).resize((256, 256)))
    with av.open(str(root / "clip.mp4"), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width = stream.height = 256
        stream.pix_fmt = "yuv420p"
        for i in range(15):
            picture = frame if i % 2 else frame[:, ::-1].copy()
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    (root / "talk.srt").write_text(SRT)
    (root / "media.srt").write_text(SRT)  # beside media.wav: the fused route
    (root / "turns.csv").write_text("dialogue_id,speaker,text\nd1,A,I lost my job today\nd1,B,Oh no I am so sorry\n"
                                    "d2,A,We won!\n")


def cases(root: Path) -> dict[str, list[str]]:
    from affectlens.bench.datasets import data_root

    flac = data_root() / "ravdess_speech_16k" / "Actor_17" / "03-01-06-02-01-01-17.flac"
    found = {
        "text": ["I can't wait to see you!"],
        "txt": [str(root / "note.txt")],
        "csv": [str(root / "reviews.csv"), "--column", "body", "--id", "id"],
        "folder": [str(root / "folder")],
        "wav": [str(root / "talk.wav")],
        "speech": [str(root / "speech.wav")],
        "image": [str(root / "face.png")],
        "video": [str(root / "clip.mp4"), "--fps", "4"],
        "srt": [str(root / "talk.srt")],
        "dialogue_csv": [str(root / "turns.csv"), "--dialogue"],
        "fused": [str(root / "media.wav")],
        "fused_explicit": [str(root / "talk.wav"), "--transcript", str(root / "talk.srt")],
        "labels": [str(root / "reviews.csv"), "--column", "body", "--labels", "ekman"],
    }
    if flac.is_file():
        found["flac"] = [str(flac)]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--inputs", type=Path, default=None)
    parser.add_argument("case", nargs="*")
    args = parser.parse_args()
    root = args.inputs or args.outdir.resolve().parent / "golden-inputs"
    if not (root / "turns.csv").exists():
        make_inputs(root)
    args.outdir.mkdir(parents=True, exist_ok=True)
    command = shutil.which("affectlens") or str(Path(sys.executable).with_name("affectlens"))
    chosen = cases(root)
    for name in args.case or list(chosen):
        done = subprocess.run([command, "analyze", *chosen[name], "--format", "json"], capture_output=True,
                              text=True, cwd=root)
        (args.outdir / f"{name}.json").write_text(done.stdout)
        (args.outdir / f"{name}.err").write_text(f"rc={done.returncode}\n{done.stderr}")
        print(f"{name}: exit {done.returncode}, {len(done.stdout)} bytes")


if __name__ == "__main__":
    main()
