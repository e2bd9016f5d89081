"""Unlabelled English prose for distilling the VAD teacher into the shipped model's VAD branch.

GoEmotions' Reddit comments carried the teacher's valence poorly to EmoBank's genres (news,
essays, letters, fiction, travel guides): on EmoBank dev the student distilled on them
correlated only 0.87 with the teacher.  This corpus adds prose closer to those genres, all of
it from Debian packages so that the recipe runs offline::

    apt-get install fortunes wordnet-base r-cran-janeaustenr
    python -m affectlens_recipes.vad_corpus --out artifacts/text/vad_corpus.txt

Sources, sampled with a fixed seed (counts land in ``vad_corpus.json``):

* Jane Austen's six novels (``janeaustenr``, public domain): narrative and dialogue sentences;
* WordNet 3.0 usage examples (``wordnet-base``, WordNet license): short everyday sentences;
* fortune cookies (``fortunes``): quotations, proverbs, humour;
* crops of EmoBank *training* sentences (a contiguous 50-85% of the words): the teacher's
  VAD for a sentence's part, which differs from the whole sentence's gold.

Texts equal to an EmoBank dev or test sentence are dropped; nothing here is ever scored.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from affectlens.bench.datasets import load_emobank

SEED = 13
WORDNET_DIR = Path("/usr/share/wordnet")
FORTUNES_DIR = Path("/usr/share/games/fortunes")
# fortune files that are not prose (pictures, shell hints, definitions lists)
FORTUNE_SKIP = {"art", "ascii-art", "debian", "linux", "computers", "definitions", "knghtbrd", "perl"}
MIN_WORDS, MAX_WORDS = 4, 60
_SENTENCE_END = re.compile(r"(?<!\bMr\.)(?<!\bMrs\.)(?<!\bDr\.)(?<!\bSt\.)(?<=[.!?])[\"']?\s+(?=[\"'A-Z])")
_WORDNET_EXAMPLE = re.compile(r'"([^"]+)"')


def _words_ok(text: str) -> bool:
    return MIN_WORDS <= len(text.split()) <= MAX_WORDS


def austen_sentences(csv_path: Path | None = None) -> Iterator[str]:
    """Sentences of the six novels; reads ``janeaustenr`` through ``Rscript`` unless given its CSV dump."""
    with tempfile.TemporaryDirectory() as tmp:
        if csv_path is None:
            csv_path = Path(tmp) / "austen.csv"
            script = f'library(janeaustenr); write.csv(austen_books(), "{csv_path}", row.names=FALSE)'
            subprocess.run(["Rscript", "-e", script], check=True, capture_output=True)
        paragraphs: list[str] = []
        current: list[str] = []
        with csv_path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                line = row["text"].strip()
                if line:
                    current.append(line)
                elif current:
                    paragraphs.append(" ".join(current))
                    current = []
        if current:
            paragraphs.append(" ".join(current))
    for paragraph in paragraphs:
        if paragraph.isupper() or paragraph.startswith("CHAPTER"):
            continue
        clean = paragraph.replace("_", "").replace("--", " - ")
        for sentence in _SENTENCE_END.split(clean):
            sentence = " ".join(sentence.split())
            if _words_ok(sentence):
                yield sentence


def wordnet_examples(folder: Path = WORDNET_DIR) -> Iterator[str]:
    """The quoted usage examples of WordNet's glosses ("she was able to program her computer")."""
    for pos in ("adj", "adv", "noun", "verb"):
        for line in (folder / f"data.{pos}").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(" ") or "|" not in line:
                continue  # license header
            for example in _WORDNET_EXAMPLE.findall(line.split("|", 1)[1]):
                if _words_ok(example):
                    yield example.strip()


def fortunes(folder: Path = FORTUNES_DIR) -> Iterator[str]:
    """Fortune cookies that read as prose: one text per cookie, attribution lines dropped."""
    for path in sorted(folder.iterdir()):
        if path.suffix or path.name in FORTUNE_SKIP or not path.is_file():
            continue
        for cookie in path.read_text(encoding="utf-8", errors="replace").split("\n%\n"):
            lines = [ln.strip() for ln in cookie.splitlines() if ln.strip()]
            lines = [ln for ln in lines if not ln.startswith(("--", "-- ", "~"))]
            text = " ".join(" ".join(lines).split())
            if _words_ok(text) and not re.search(r"[{}<>\\|@#$]|\t", text):
                yield text


def emobank_crops(texts: Iterable[str], rng: random.Random, per_text: int = 2) -> Iterator[str]:
    """Contiguous spans of 50-85% of the words of each sentence long enough to crop."""
    for text in texts:
        words = text.split()
        if len(words) < 2 * MIN_WORDS:
            continue
        for _ in range(per_text):
            size = max(MIN_WORDS, round(len(words) * rng.uniform(0.5, 0.85)))
            start = rng.randrange(0, len(words) - size + 1)
            yield " ".join(words[start : start + size])


def build(out: Path, data_root: Path | None, sizes: dict[str, int], austen_csv: Path | None = None) -> dict[str, int]:
    """Write one text per line to ``out`` (shuffled, deduplicated) and the per-source counts beside it."""
    rng = random.Random(SEED)
    held_out = {" ".join(t.lower().split()) for s in ("dev", "test") for t in load_emobank(s, data_root).texts}
    sources = {
        "austen": lambda: austen_sentences(austen_csv),
        "wordnet": wordnet_examples,
        "fortunes": fortunes,
        "emobank_train_crops": lambda: emobank_crops(load_emobank("train", data_root).texts, rng),
    }
    seen: set[str] = set(held_out)
    chosen: list[str] = []
    counts: dict[str, int] = {}
    for name, make in sources.items():
        pool = []
        for text in make():
            key = " ".join(text.lower().split())
            if key not in seen:
                seen.add(key)
                pool.append(text.replace("\n", " "))
        rng.shuffle(pool)
        picked = pool[: sizes.get(name, len(pool))]
        counts[name] = len(picked)
        counts[f"{name}_available"] = len(pool)
        chosen += picked
    rng.shuffle(chosen)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(chosen) + "\n", encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps({"seed": SEED, "texts": len(chosen), **counts}, indent=2))
    return counts


def read_corpus(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("artifacts/text/vad_corpus.txt"))
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--austen-csv", type=Path, default=None, help="a CSV dump of austen_books() instead of Rscript")
    parser.add_argument("--austen", type=int, default=15000)
    parser.add_argument("--wordnet", type=int, default=12000)
    parser.add_argument("--fortunes", type=int, default=5000)
    parser.add_argument("--emobank-crops", type=int, default=12000)
    args = parser.parse_args()
    sizes = {"austen": args.austen, "wordnet": args.wordnet, "fortunes": args.fortunes,
             "emobank_train_crops": args.emobank_crops}
    print(json.dumps(build(args.out, args.data_root, sizes, args.austen_csv)))


if __name__ == "__main__":
    main()
