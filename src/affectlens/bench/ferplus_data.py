"""FER+ (FER2013 images with ten crowd votes each): the official splits as arrays.

Read by the benchmark (``bench/tasks.py``) and by the face recipe (``affectlens_recipes.face``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SPLITS = {"train": "FER2013Train", "valid": "FER2013Valid", "test": "FER2013Test"}
INPUT_SIZE = 48


@dataclass
class FerSplit:
    names: list[str]
    images: np.ndarray  # uint8 [N, 48, 48]
    votes: np.ndarray  # float32 [N, 8] emotion votes

    @property
    def targets(self) -> np.ndarray:
        return (self.votes / self.votes.sum(axis=1, keepdims=True)).astype(np.float32)

    @property
    def majority(self) -> np.ndarray:
        return self.votes.argmax(axis=1)

    def __len__(self) -> int:
        return len(self.names)


def read_votes(labels_csv: Path) -> dict[str, np.ndarray]:
    """Image name -> 10 votes (8 emotions, unknown, NF); the last row wins for duplicated names."""
    votes: dict[str, np.ndarray] = {}
    with labels_csv.open(newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if not row or row[0] == "Usage" or not row[1].strip():
                continue
            votes[row[1].strip()] = np.asarray([float(v) for v in row[2:12]], np.float32)
    return votes


def load_split(data: Path, split: str, *, limit: int | None = None, seed: int = 7) -> FerSplit:
    """One official split with FER+ votes; faces whose plurality is unknown/not-a-face are dropped."""
    from PIL import Image

    folder = data / "fer2013_ferplus_images" / SPLITS[split]
    all_votes = read_votes(data / "ferplus_labels" / "fer2013new.csv")
    files = sorted(folder.glob("*.png"))
    if limit is not None and limit < len(files):
        rng = np.random.default_rng(seed)
        files = sorted(rng.choice(np.asarray(files, dtype=object), size=limit, replace=False).tolist())
    names: list[str] = []
    images: list[np.ndarray] = []
    votes: list[np.ndarray] = []
    for path in files:
        v = all_votes.get(path.name)
        if v is None or v[:8].sum() <= 0 or v[:8].max() < v[8:].max():
            continue
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("L"), dtype=np.uint8)
        if pixels.shape != (INPUT_SIZE, INPUT_SIZE):
            continue
        names.append(path.name)
        images.append(pixels)
        votes.append(v[:8])
    return FerSplit(names, np.stack(images), np.stack(votes))
