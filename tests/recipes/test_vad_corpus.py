"""The distillation corpus's readers, on tiny copies of the Debian files' formats."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from affectlens_recipes.vad_corpus import austen_sentences, emobank_crops, fortunes, wordnet_examples


def test_austen_sentences_split_paragraphs_but_not_after_titles(tmp_path: Path) -> None:
    rows = ["CHAPTER 1", "", "It is a truth universally acknowledged, that a single man in",
            "possession of a good fortune, must be in want of a wife.  Mr. Bennet made",
            "no answer to _that_ at all.", "", "Short one."]
    path = tmp_path / "austen.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "book"])
        writer.writerows([[r, "Pride & Prejudice"] for r in rows])
    sentences = list(austen_sentences(path))
    assert sentences == [
        "It is a truth universally acknowledged, that a single man in possession of a good fortune, "
        "must be in want of a wife.",
        "Mr. Bennet made no answer to that at all.",
    ]  # the heading and the two-word paragraph are dropped


def test_wordnet_examples_are_the_quoted_usages(tmp_path: Path) -> None:
    (tmp_path / "data.adj").write_text(
        '  1 This software and database is provided "as is" and Princeton makes no claims\n'
        '00001740 00 a 01 able 0 000 | having the skill to do something; "able to swim"; '
        '"she was able to program her computer"\n')
    for pos in ("adv", "noun", "verb"):
        (tmp_path / f"data.{pos}").write_text("")
    assert list(wordnet_examples(tmp_path)) == ["she was able to program her computer"]


def test_fortunes_drop_attributions_and_non_prose_files(tmp_path: Path) -> None:
    (tmp_path / "wisdom").write_text(
        "A fool and his money are soon parted.\n\t\t-- Proverb\n%\nok\n%\n"
        "if (x) { return y; } is not a saying\n%\n")
    (tmp_path / "wisdom.dat").write_bytes(b"\x00\x01")
    (tmp_path / "art").write_text("A picture made of many letters and words here\n%\n")
    assert list(fortunes(tmp_path)) == ["A fool and his money are soon parted."]


def test_emobank_crops_are_contiguous_parts_of_long_sentences() -> None:
    text = "the small village by the river woke up to a bright and happy morning"
    crops = list(emobank_crops([text, "too short to crop"], random.Random(0), per_text=3))
    assert len(crops) == 3
    for crop in crops:
        assert crop in text
        assert 0.5 * len(text.split()) - 1 <= len(crop.split()) < len(text.split())
