"""Readers for the text corpora of the cross-corpus benchmark, each mapped onto Ekman-7.

Every corpus keeps its own label names (``labels``) and gets, per text, its Ekman-7 class
(``ekman``: an index into ``EKMAN7``, or -1 where the corpus label has no Ekman counterpart,
such as ISEAR's shame and guilt).  The maps are one-to-one or groupings, never guesses;
what each corpus cannot express is listed in ``CorpusInfo.classes`` (the Ekman classes the
corpus can hold, which are the classes it is scored on).

Splits: GoEmotions, DailyDialog and EmoEvent have official ones.  ISEAR is split by
respondent (``subject_id``) and CrowdFlower by author, each with a fixed hash
(``stable_split``: CRC32 of ``"affectlens-xcorpus:" + key``, buckets 0-6 train, 7 dev,
8-9 test), so a person's texts never straddle splits and the split never changes.

DailyDialog: the 158 dialogues that RECCON's test set also uses
(``reccon_test_overlap.csv``) are removed from train and validation; test keeps only
dialogues whose normalised text does not occur in train (151 test dialogues have a
twin there); "no emotion" utterances of train are thinned to a hashed 20 % to bound the
encoding cost (83 % of utterances carry it).
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from affectlens.bench.datasets import GOEMOTIONS_LABELS, _require, data_root, load_goemotions

EKMAN7 = ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral")
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class CorpusTexts:
    """One split of one corpus: texts, their own labels and their Ekman-7 class (-1: none)."""

    corpus: str
    texts: list[str]
    labels: list[str]
    ekman: np.ndarray  # (n,) int64 index into EKMAN7, -1 where the label has no Ekman counterpart
    ids: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    def select(self, rows: np.ndarray) -> CorpusTexts:
        """The texts at ``rows`` (indices), in that order."""
        return CorpusTexts(self.corpus, [self.texts[i] for i in rows], [self.labels[i] for i in rows],
                           self.ekman[rows], [self.ids[i] for i in rows])


@dataclass(frozen=True)
class CorpusInfo:
    name: str
    title: str
    license: str
    split: str  # how train/dev/test were made
    classes: tuple[str, ...]  # the Ekman-7 classes this corpus can hold (what it is scored on)
    scored_over: tuple[str, ...]  # the classes its macro-F1 averages over


def stable_split(key: str) -> str:
    """A fixed train/dev/test assignment of a group key (70/10/20), the same on every machine."""
    bucket = zlib.crc32(f"affectlens-xcorpus:{key}".encode()) % 10
    return "train" if bucket < 7 else "dev" if bucket == 7 else "test"


def _kept(key: str, share: float) -> bool:
    return zlib.crc32(f"affectlens-xcorpus-thin:{key}".encode()) % 1000 < share * 1000


def _make(corpus: str, texts: list[str], labels: list[str], mapping: dict[str, str | None],
          ids: list[str]) -> CorpusTexts:
    ekman = np.array([EKMAN7.index(m) if (m := mapping[label]) is not None else -1 for label in labels],
                     dtype=np.int64)
    return CorpusTexts(corpus, texts, labels, ekman, ids)


def _check(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")


# -- GoEmotions: the official grouping into Ekman (from the taxonomy layer); texts with one Ekman group only


def goemotions_ekman_matrix() -> np.ndarray:
    """(28, 7) 0/1: GoEmotions label -> its Ekman-7 group (Demszky et al.'s ``ekman_mapping.json``,
    as the taxonomy layer states it)."""
    from affectlens.taxonomy.mappings import grouping

    groups = grouping("goemotions", "ekman")
    if groups is None:  # the taxonomy states GoEmotions -> Ekman as a one-hot grouping
        raise RuntimeError("the taxonomy has no one-hot GoEmotions -> Ekman grouping")
    out = np.zeros((len(GOEMOTIONS_LABELS), len(EKMAN7)), dtype=np.float32)
    for label, group in groups.items():
        out[GOEMOTIONS_LABELS.index(label), EKMAN7.index(group)] = 1.0
    return out


def load_goemotions_ekman(split: str, root: str | Path | None = None) -> CorpusTexts:
    """GoEmotions texts whose gold labels fall in exactly one Ekman-7 group (about 93 %)."""
    _check(split)
    corpus = load_goemotions(split, root)
    groups = (corpus.labels.astype(np.float32) @ goemotions_ekman_matrix()) > 0
    keep = np.flatnonzero(groups.sum(axis=1) == 1)
    labels = [EKMAN7[int(np.argmax(groups[i]))] for i in keep]
    return _make("goemotions", [corpus.texts[i] for i in keep], labels, {g: g for g in EKMAN7},
                 [corpus.ids[i] for i in keep])


# -- DailyDialog ------------------------------------------------------------------------------
DAILYDIALOG_TO_EKMAN: dict[str, str | None] = {
    "no emotion": "neutral", "happiness": "joy", "surprise": "surprise", "sadness": "sadness",
    "anger": "anger", "disgust": "disgust", "fear": "fear"}
_DD_SPLITS = {"train": "train", "dev": "validation", "test": "test"}


def _normalised(dialogue: dict) -> str:
    return re.sub("[^a-z0-9]", "", "".join(t["utterance"] for t in dialogue["turns"]).lower())


def load_dailydialog(split: str, root: str | Path | None = None, thin_neutral: float = 0.2) -> CorpusTexts:
    """DailyDialog utterances (official split, RECCON test dialogues removed, clean test)."""
    _check(split)
    folder = data_root(root) / "dailydialog_full"
    with zipfile.ZipFile(_require(folder / "data.zip")) as archive:
        dialogues = json.loads(archive.read("data/dialogues.json"))
    overlap = folder / "reccon_test_overlap.csv"
    with _require(overlap).open(encoding="utf-8", newline="") as handle:
        reccon_test = {row["dd_dialogue_id"] for row in csv.DictReader(handle)}
    train_texts = {_normalised(d) for d in dialogues if d["data_split"] == "train"} if split == "test" else set()
    texts: list[str] = []
    labels: list[str] = []
    ids: list[str] = []
    for dialogue in dialogues:
        if dialogue["data_split"] != _DD_SPLITS[split] or dialogue["dialogue_id"] in reccon_test:
            continue
        if split == "test" and _normalised(dialogue) in train_texts:
            continue
        for turn in dialogue["turns"]:
            uid = f"{dialogue['dialogue_id']}-{turn['utt_idx']}"
            emotion = turn["emotion"]
            if split == "train" and emotion == "no emotion" and not _kept(uid, thin_neutral):
                continue
            if not turn["utterance"].strip():
                continue
            texts.append(turn["utterance"])
            labels.append(emotion)
            ids.append(uid)
    return _make("dailydialog", texts, labels, DAILYDIALOG_TO_EKMAN, ids)


# -- ISEAR ------------------------------------------------------------------------------------
ISEAR_TO_EKMAN: dict[str, str | None] = {
    "joy": "joy", "fear": "fear", "anger": "anger", "sadness": "sadness", "disgust": "disgust",
    "shame": None, "guilt": None}


def load_isear(split: str, root: str | Path | None = None) -> CorpusTexts:
    """ISEAR self-reports, split by respondent; non-answers dropped."""
    _check(split)
    path = _require(data_root(root) / "isear" / "isear.csv")
    texts: list[str] = []
    labels: list[str] = []
    ids: list[str] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["non_answer"] == "1" or not row["text"].strip():
                continue
            if stable_split(f"isear:{row['subject_id']}") != split:
                continue
            texts.append(row["text"])
            labels.append(row["emotion"])
            ids.append(row["id"])
    return _make("isear", texts, labels, ISEAR_TO_EKMAN, ids)


# -- EmoEvent ---------------------------------------------------------------------------------
EMOEVENT_TO_EKMAN: dict[str, str | None] = {
    "others": "neutral", "joy": "joy", "disgust": "disgust", "sadness": "sadness", "anger": "anger",
    "surprise": "surprise", "fear": "fear"}


def load_emoevent(split: str, root: str | Path | None = None) -> CorpusTexts:
    """EmoEvent English tweets, official split; ``others`` ("neutral or other emotions") -> neutral."""
    _check(split)
    path = _require(data_root(root) / "emoevent" / f"{split}.tsv")
    texts: list[str] = []
    labels: list[str] = []
    ids: list[str] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            texts.append(row["tweet"])
            labels.append(row["emotion"].strip())
            ids.append(row["id"])
    return _make("emoevent", texts, labels, EMOEVENT_TO_EKMAN, ids)


# -- CrowdFlower ------------------------------------------------------------------------------
# SOURCE.md's coarse grouping; boredom has no Ekman counterpart
CROWDFLOWER_TO_EKMAN: dict[str, str | None] = {
    "happiness": "joy", "fun": "joy", "enthusiasm": "joy", "love": "joy", "relief": "joy",
    "sadness": "sadness", "empty": "sadness", "worry": "fear", "hate": "anger", "anger": "anger",
    "surprise": "surprise", "neutral": "neutral", "boredom": None}


def load_crowdflower(split: str, root: str | Path | None = None) -> CorpusTexts:
    """CrowdFlower tweets, split by author (the handle is used for the split only, never kept)."""
    import html

    _check(split)
    path = _require(data_root(root) / "crowdflower_text_emotion" / "text_emotion.csv")
    texts: list[str] = []
    labels: list[str] = []
    ids: list[str] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if stable_split(f"crowdflower:{row['author']}") != split or not row["content"].strip():
                continue
            texts.append(html.unescape(row["content"]))
            labels.append(row["sentiment"])
            ids.append(row["tweet_id"])
    return _make("crowdflower", texts, labels, CROWDFLOWER_TO_EKMAN, ids)


# -- EmpatheticDialogues ----------------------------------------------------------------------
# one label per conversation (the emotion the speaker's situation was written for), mapped by the
# taxonomy layer as ``bench empathetic``'s Ekman view maps it (``coarse_of``): a label it splits
# over two Ekman emotions (jealous, nostalgic, sentimental) has no single class and is not scored
_ED_FILES = {"train": "train", "dev": "valid", "test": "test"}


def load_empatheticdialogues(split: str, root: str | Path | None = None) -> CorpusTexts:
    """EmpatheticDialogues, official split: each conversation's opening speaker turn with its label."""
    from affectlens.bench.empathetic import coarse_of, load_ed

    _check(split)
    # later turns answer the listener; the listener's turns carry the speaker's label, not theirs
    rows = [row for row in load_ed(_ED_FILES[split], data_root(root), situation=False) if row[2]]
    labels = [emotion for _, emotion, _ in rows]
    mapping = {label: coarse_of(label) for label in set(labels)}
    return _make("empatheticdialogues", [text for _, _, text in rows], labels, mapping, [cid for cid, _, _ in rows])


def load_meld_ekman(split: str, root: str | Path | None = None) -> CorpusTexts:
    """MELD utterances (Friends transcripts): a probe only, never trained on; its 7 classes are Ekman-7."""
    from affectlens.bench.datasets import load_meld

    _check(split)
    rows = load_meld(split, root)
    return _make("meld", [u.text for u in rows], [u.emotion for u in rows], {g: g for g in EKMAN7},
                 [f"{u.dialogue_id}_{u.turn}" for u in rows])


_ALL6 = ("anger", "disgust", "fear", "joy", "sadness", "surprise")
CORPORA: dict[str, CorpusInfo] = {
    "goemotions": CorpusInfo(
        "goemotions", "GoEmotions (Reddit comments)", "CC BY 4.0",
        "official; texts with one Ekman group", EKMAN7, EKMAN7),
    "dailydialog": CorpusInfo(
        "dailydialog", "DailyDialog (written everyday dialogue)", "CC BY-NC-SA 4.0",
        "official; RECCON test dialogues out of train/dev; test without train twins; train neutral thinned to 20 %",
        EKMAN7, _ALL6),
    "isear": CorpusInfo(
        "isear", "ISEAR (self-reported experiences)",
        "research use (GPL-3.0 copy; CC BY-NC-SA 3.0 per UniGe, unverified)",
        "by respondent, CRC32 70/10/20; shame and guilt not scored", _ALL6[:5], _ALL6[:5]),
    "emoevent": CorpusInfo(
        "emoevent", "EmoEvent English (event tweets)", "no license stated: research use",
        "official; others -> neutral", EKMAN7, EKMAN7),
    "crowdflower": CorpusInfo(
        "crowdflower", "CrowdFlower Emotion in Text (tweets, noisy)", "no license: research use",
        "by author, CRC32 70/10/20; 13 labels grouped to 6, boredom not scored",
        ("anger", "fear", "joy", "sadness", "surprise", "neutral"),
        ("anger", "fear", "joy", "sadness", "surprise", "neutral")),
    "empatheticdialogues": CorpusInfo(
        "empatheticdialogues", "EmpatheticDialogues (opening turns of support-seeking chats)", "CC BY-NC 4.0",
        "official; the speaker's opening turn; 29 of 32 labels grouped to 6 by the taxonomy, 3 not scored",
        _ALL6, _ALL6),
    "meld": CorpusInfo(
        "meld", "MELD (TV dialogue; probe, never trained on)", "GPL-3.0", "official", EKMAN7, EKMAN7),
}
#: the corpora the systems learn from (MELD is only ever a probe)
TRAINING_CORPORA = ("goemotions", "dailydialog", "isear", "emoevent", "crowdflower", "empatheticdialogues")

LOADERS = {
    "goemotions": load_goemotions_ekman,
    "dailydialog": load_dailydialog,
    "isear": load_isear,
    "emoevent": load_emoevent,
    "crowdflower": load_crowdflower,
    "empatheticdialogues": load_empatheticdialogues,
    "meld": load_meld_ekman,
}


def subsample(data: CorpusTexts, max_texts: int | None) -> CorpusTexts:
    """At most ``max_texts`` texts, chosen by a hash of their ids (the same on every machine), in order."""
    if max_texts is None or len(data) <= max_texts:
        return data
    ranks = np.argsort([zlib.crc32(f"affectlens-xcorpus-sub:{i}".encode()) for i in data.ids], kind="stable")
    return data.select(np.sort(ranks[:max_texts]))


def load_corpus(name: str, split: str, root: str | Path | None = None,
                max_texts: int | None = None) -> CorpusTexts:
    """One split of one corpus; ``max_texts`` caps it by a fixed hash of the ids."""
    if name not in LOADERS:
        raise KeyError(f"unknown corpus {name!r}; corpora: {', '.join(LOADERS)}")
    return subsample(LOADERS[name](split, root), max_texts)
