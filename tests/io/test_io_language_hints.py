"""Cheap hints that a text is not English: its script, or the function words of another language."""

from __future__ import annotations

import pytest

from affectlens.io.language_hints import ENGLISH_WORDS, FUNCTION_WORDS, latin_language, non_latin_script, not_english


@pytest.mark.parametrize(("text", "script"), [
    ("I am so happy", None), ("Estoy muy feliz, ¿sí?", None), ("I love 東京 so much", None), ("café ☕ 😀", None),
    ("我今天很难过", "Han"), ("مرحبا كيف حالك", "Arabic"), ("Я очень рад", "Cyrillic"), ("ደስ ብሎኛል", "Ethiopic"),
    ("오늘 행복해요", "Hangul"), ("12345 !!!", None),
])
def test_the_script_of_most_letters_is_named_when_it_is_not_latin(text: str, script: str | None) -> None:
    assert non_latin_script(text) == script


@pytest.mark.parametrize(("text", "language"), [
    ("Estoy muy feliz hoy, gracias a todos por venir", "Spanish"),
    ("Estou com muito medo do que vai acontecer amanhã", "Portuguese"),
    ("Je suis tellement heureux de te voir aujourd'hui", "French"),
    ("Sono molto triste oggi, non so cosa fare", "Italian"),
    ("Ich bin so wütend auf dich, das ist unglaublich", "German"),
    ("Ik ben zo blij dat je er bent", "Dutch"),
    ("Jag är så arg på dig just nu", "Swedish/Danish/Norwegian"),
    # English, also with a foreign word or a link, a song's "la la la", fillers, and too-short texts
    ("I am so happy for you today!", None), ("We had tacos con queso at the fiesta, it was great", None),
    ("Chandler, easy, easy. Go to your happy place. La la la la la la la.", None), ("Oh-ho-ho, yeah!", None),
    ("Ok, um, ok, um,", None), ("stay tuned http://www.example.de/de/la/que", None), ("Sono felice", None),
])
def test_a_latin_script_language_is_told_by_its_function_words(text: str, language: str | None) -> None:
    assert latin_language(text) == language


def test_no_function_word_list_holds_a_common_english_word() -> None:
    english_too = {"die", "was", "men", "son", "come", "per", "pour", "hat", "gut", "den", "also", "um"}
    for language, words in FUNCTION_WORDS.items():
        assert not words & ENGLISH_WORDS, language
        assert not words & english_too, language


def test_not_english_says_how() -> None:
    assert not_english("我今天很难过") == "mostly in the Han script"
    assert not_english("Estoy muy feliz hoy, gracias a todos") == "Spanish, by its words"
    assert not_english("I am so happy") is None
