"""ESConv (emotional-support conversations with the supporter's strategy per turn) as typed dialogues.

Read by the benchmark (``bench/esconv.py``), the LLM study and the support recipe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class EsconvDialogue:
    dialogue_id: str
    emotion_type: str
    problem_type: str
    situation: str
    speakers: tuple[str, ...]  # "usr" (seeker) / "sys" (supporter) per turn
    texts: tuple[str, ...]
    strategies: tuple[str | None, ...]  # the supporter's strategy on "sys" turns, else None


def esconv_root(data_root: Path | None = None) -> Path:
    from affectlens.bench.datasets import data_root as shared_root

    return shared_root(data_root) / "esconv"


def load_esconv(split: str, data_root: Path | None = None) -> list[EsconvDialogue]:
    """One ESConv split (``train``/``valid``/``test``) as typed dialogues."""
    if split not in SPLITS:
        raise ValueError(f"ESConv split must be one of {SPLITS}, not {split!r}")
    path = esconv_root(data_root) / f"{split}.jsonl"
    if not path.is_file():
        from affectlens.bench.datasets import DatasetMissing

        raise DatasetMissing(f"ESConv not found at {path} (see ../shared/datasets/esconv/SOURCE.md)")
    out: list[EsconvDialogue] = []
    with path.open(encoding="utf-8") as handle:
        for n, line in enumerate(handle):
            if not line.strip():
                continue
            raw = json.loads(line)
            turns = raw["dialog"]
            out.append(EsconvDialogue(
                f"{split}-{n}", raw.get("emotion_type", ""), raw.get("problem_type", ""), raw.get("situation", ""),
                tuple(t["speaker"] for t in turns), tuple(t["text"] for t in turns),
                tuple(t.get("strategy") if t["speaker"] == "sys" else None for t in turns)))
    return out
