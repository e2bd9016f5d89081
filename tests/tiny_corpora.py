"""Tiny corpora in the layout of the real ones, for tests that train or read a peer in a second."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from affectlens.bench.datasets import GOEMOTIONS_LABELS


def write_tiny_goemotions(root: Path, *, left_out_of_train: tuple[str, ...] = ()) -> Path:
    """``root/goemotions``: a few lines per label (training on it takes about a second); returns ``root``.

    ``left_out_of_train``: labels with no train line (dev keeps them), for models that must
    cope with a label never seen in training.
    """
    folder = root / "goemotions"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 4), ("dev", 2)):
        lines = []
        for j, label in enumerate(GOEMOTIONS_LABELS):
            if split == "train" and label in left_out_of_train:
                continue
            for k in range(n):
                filler = " ".join(rng.choice(["the", "a", "day", "thing", "now"], 3))
                lines.append(f"I feel {label} {label}ish {filler}\t{j}\t{split}{j}_{k}")
        (folder / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root
