"""The staged speech corpora as one index: file, corpus, speaker, label (RAVDESS-8 names), speaker-independent fold.

Corpora (``../shared/datasets``; each folder's SOURCE.md gives origin and licence):
``ravdess_speech_16k`` (English, CC BY-NC-SA 4.0), ``ased_speech`` (Amharic, Opus, no licence
stated), ``emovo_16k`` (Italian, research use), ``urdu_speech_16k`` (Urdu talk shows, research
use).  Native labels are mapped onto the RAVDESS-8 names (``taxonomy`` label set ``ravdess``),
which hold every corpus's classes: joy/happiness -> happy, anger -> angry, fear -> fearful, ...
RAVDESS has no folds file: its folds are the 6 folds of 4 consecutive actors used by
``training.speech`` and ``bench ravdess``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

CLASSES = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
CORPORA = ("ravdess", "ased", "emovo", "urdu")
FOLDERS = {"ravdess": "ravdess_speech_16k", "ased": "ased_speech", "emovo": "emovo_16k", "urdu": "urdu_speech_16k"}
LICENCES = {
    "ravdess": "CC BY-NC-SA 4.0 (Livingstone & Russo 2018)",
    "ased": "none stated; research use with citation (Retta et al. 2023)",
    "emovo": "none stated; research use (Fondazione Ugo Bordoni; Costantini et al. 2014)",
    "urdu": "research use only per its README; clips cut from third-party YouTube shows (Latif et al. 2018)",
}
LANGUAGES = {"ravdess": "English", "ased": "Amharic", "emovo": "Italian", "urdu": "Urdu"}
NATIVE_TO_CLASS = {
    "neutral": "neutral", "calm": "calm", "happy": "happy", "happiness": "happy", "joy": "happy",
    "sad": "sad", "sadness": "sad", "angry": "angry", "anger": "angry", "fear": "fearful", "fearful": "fearful",
    "disgust": "disgust", "surprise": "surprised", "surprised": "surprised",
}
# arousal / valence sign per class (from the ravdess label set's anchors: + high, - low; neutral/calm low arousal)
HIGH_AROUSAL = frozenset({"happy", "angry", "fearful", "disgust", "surprised"})
POSITIVE = frozenset({"happy", "calm", "surprised"})


@dataclass(frozen=True)
class Clip:
    corpus: str
    path: Path
    key: str  # corpus:relative path, the cache key
    speaker: str
    label: str  # one of CLASSES
    fold: int


def default_data_root() -> Path:
    from affectlens.bench.datasets import data_root

    return data_root()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_corpus(corpus: str, root: Path | None = None) -> list[Clip]:
    folder = (root or default_data_root()) / FOLDERS[corpus]
    if not (folder / "labels.csv").is_file():
        raise FileNotFoundError(f"{folder}/labels.csv not found (corpus {corpus} is not staged)")
    labels = _rows(folder / "labels.csv")
    clips: list[Clip] = []
    if corpus == "ravdess":
        for row in labels:
            actor = int(row["actor"])
            clips.append(Clip(corpus, folder / row["path"], f"{corpus}:{row['path']}", f"actor{actor:02d}",
                              NATIVE_TO_CLASS[row["emotion"]], (actor - 1) // 4))
        return clips
    folds = {row["file"]: int(row["fold"]) for row in _rows(folder / "folds.csv")}
    for row in labels:
        clips.append(Clip(corpus, folder / row["file"], f"{corpus}:{row['file']}", row["speaker"],
                          NATIVE_TO_CLASS[row["emotion"]], folds[row["file"]]))
    return clips


def load_all(root: Path | None = None, corpora: tuple[str, ...] = CORPORA) -> list[Clip]:
    return [clip for corpus in corpora for clip in load_corpus(corpus, root)]
