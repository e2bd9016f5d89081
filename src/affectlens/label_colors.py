"""The colour of each emotion label in the terminal (Rich styles), shared by the table and the timeline.

A module of its own so that ``output`` (the result table) and ``timeline`` (the timeline
table) both use it without importing each other.
"""

from __future__ import annotations

_LABEL_COLORS = {
    "joy": "yellow",
    "happy": "yellow",
    "happiness": "yellow",
    "amusement": "yellow",
    "excitement": "yellow",
    "love": "magenta",
    "admiration": "bright_magenta",
    "gratitude": "bright_yellow",
    "pride": "gold1",
    "optimism": "bright_green",
    "approval": "green",
    "caring": "pink1",
    "relief": "sea_green2",
    "desire": "orchid",
    "anger": "red",
    "angry": "red",
    "annoyance": "indian_red",
    "disapproval": "red3",
    "disgust": "green4",
    "contempt": "dark_olive_green3",
    "fear": "purple",
    "fearful": "purple",
    "nervousness": "medium_purple",
    "sadness": "blue",
    "sad": "blue",
    "grief": "navy_blue",
    "disappointment": "steel_blue",
    "remorse": "slate_blue1",
    "embarrassment": "light_salmon1",
    "surprise": "cyan",
    "surprised": "cyan",
    "realization": "turquoise2",
    "confusion": "khaki1",
    "curiosity": "aquamarine1",
    "neutral": "grey62",
    "calm": "grey70",
    "positive": "green",
    "negative": "red",
    "trust": "spring_green2",
    "anticipation": "orange1",
}
_FALLBACK_COLORS = ("bright_cyan", "bright_magenta", "bright_green", "bright_blue", "orange3", "plum2")



def label_color(label: str) -> str:
    """A label's Rich colour: a fixed one for known labels, else a stable pick from a small palette."""
    if label in _LABEL_COLORS:
        return _LABEL_COLORS[label]
    return _FALLBACK_COLORS[sum(map(ord, label)) % len(_FALLBACK_COLORS)]
