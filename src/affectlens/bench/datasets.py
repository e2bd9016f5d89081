"""Readers for the labelled corpora in ``../shared/datasets`` (official splits only).

The corpora are never shipped: point ``AFFECTLENS_DATA`` (or ``root=``) at a folder
that holds them.  Each reader raises ``DatasetMissing`` with the path it looked in.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

GOEMOTIONS_LABELS = (
    "admiration", "amusement", "anger", "annoyance", "approval", "caring", "confusion",
    "curiosity", "desire", "disappointment", "disapproval", "disgust", "embarrassment",
    "excitement", "fear", "gratitude", "grief", "joy", "love", "nervousness", "optimism",
    "pride", "realization", "relief", "remorse", "sadness", "surprise", "neutral",
)


class DatasetMissing(FileNotFoundError):
    """The corpus is not where we looked for it."""


def data_root(root: str | Path | None = None) -> Path:
    """Where the corpora live: ``root``, else ``$AFFECTLENS_DATA``, else ``../shared/datasets``."""
    if root is not None:
        return Path(root)
    env = os.environ.get("AFFECTLENS_DATA")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "datasets"
        if candidate.is_dir():
            return candidate
    return Path.cwd().parent / "shared" / "datasets"


def _require(path: Path) -> Path:
    if not path.exists():
        raise DatasetMissing(f"dataset file not found: {path} (set AFFECTLENS_DATA or pass a root)")
    return path


@dataclass(frozen=True)
class MultiLabelTexts:
    texts: list[str]
    labels: np.ndarray  # (n, n_labels) of 0/1
    label_names: tuple[str, ...]
    ids: list[str]


@dataclass(frozen=True)
class VadTexts:
    texts: list[str]
    vad: np.ndarray  # (n, 3) valence, arousal, dominance on EmoBank's 1-5 scale
    ids: list[str]


def load_goemotions(split: str, root: str | Path | None = None) -> MultiLabelTexts:
    """GoEmotions ``train`` / ``dev`` / ``test`` (Demszky et al. 2020), 28 labels, multi-label."""
    if split not in ("train", "dev", "test"):
        raise ValueError(f"GoEmotions split must be train, dev or test, not {split!r}")
    path = _require(data_root(root) / "goemotions" / f"{split}.tsv")
    texts: list[str] = []
    ids: list[str] = []
    rows: list[list[int]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for line in handle:
            text, label_ids, comment_id = line.rstrip("\n").split("\t")
            texts.append(text)
            ids.append(comment_id)
            rows.append([int(x) for x in label_ids.split(",")])
    labels = np.zeros((len(rows), len(GOEMOTIONS_LABELS)), dtype=np.int8)
    for i, row in enumerate(rows):
        labels[i, row] = 1
    return MultiLabelTexts(texts, labels, GOEMOTIONS_LABELS, ids)


def load_emobank(split: str, root: str | Path | None = None) -> VadTexts:
    """EmoBank ``train`` / ``dev`` / ``test`` (Buechel & Hahn 2017), weighted reader+writer VAD."""
    if split not in ("train", "dev", "test"):
        raise ValueError(f"EmoBank split must be train, dev or test, not {split!r}")
    path = _require(data_root(root) / "emobank" / "emobank.csv")
    texts: list[str] = []
    ids: list[str] = []
    vad: list[tuple[float, float, float]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["split"] != split or not row["text"]:
                continue
            texts.append(row["text"])
            ids.append(row["id"])
            vad.append((float(row["V"]), float(row["A"]), float(row["D"])))
    return VadTexts(texts, np.asarray(vad, dtype=np.float32), ids)


MELD_LABELS = ("neutral", "joy", "surprise", "anger", "sadness", "disgust", "fear")
_MELD_FILES = {"train": "train_sent_emo.csv", "dev": "dev_sent_emo.csv", "test": "test_sent_emo.csv"}


@dataclass(frozen=True)
class MeldUtterance:
    dialogue_id: str
    turn: int  # Utterance_ID: the utterance's index within its dialogue
    speaker: str
    text: str
    emotion: str  # one of MELD_LABELS
    sentiment: str
    start: float | None  # seconds into the episode
    end: float | None


def _meld_time(value: str) -> float | None:
    """MELD's ``H:MM:SS,mmm`` episode timestamps -> seconds (None when unreadable)."""
    try:
        hms, _, millis = value.strip().partition(",")
        hours, minutes, seconds = (int(x) for x in hms.split(":"))
        return hours * 3600 + minutes * 60 + seconds + int(millis or 0) / 1000.0
    except ValueError:
        return None


def _fix_mojibake(text: str) -> str:
    # MELD's CSVs carry cp1252 punctuation decoded as latin-1 / replacement bytes
    return (text.replace("\x92", "\u2019").replace("\x91", "\u2018").replace("\x93", "\u201c")
            .replace("\x94", "\u201d").replace("\x85", "...").replace("\x96", "-").replace("\x97", "-"))


def load_meld(split: str, root: str | Path | None = None) -> list[MeldUtterance]:
    """MELD ``train`` / ``dev`` / ``test`` text (Poria et al. 2019), 7 emotions, in dialogue order."""
    if split not in _MELD_FILES:
        raise ValueError(f"MELD split must be train, dev or test, not {split!r}")
    path = _require(data_root(root) / "meld" / _MELD_FILES[split])
    out: list[MeldUtterance] = []
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.DictReader(handle):
            emotion = row["Emotion"].strip().lower()
            if emotion not in MELD_LABELS:
                raise ValueError(f"{path}: unknown MELD emotion {emotion!r} (row {row.get('Sr No.')})")
            out.append(MeldUtterance(
                dialogue_id=row["Dialogue_ID"].strip(), turn=int(row["Utterance_ID"]),
                speaker=row["Speaker"].strip(), text=_fix_mojibake(row["Utterance"]),
                emotion=emotion, sentiment=row["Sentiment"].strip().lower(),
                start=_meld_time(row["StartTime"]), end=_meld_time(row["EndTime"])))
    out.sort(key=lambda u: (int(u.dialogue_id), u.turn))
    return out
