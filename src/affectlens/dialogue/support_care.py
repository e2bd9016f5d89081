"""Care rules of the support recognizer: explicit crisis language, and what every output says.

The strategy model was trained on crowd-sourced chats between peers; it knows nothing of
risk.  So a fixed, documented list of explicit self-harm and suicide phrases is matched
(case-insensitive, whole words, with simple inflections) in the seeker's latest turns.
Where one matches, **no strategy is suggested**: the output says to route the person to a
trained human (a crisis line or emergency services) instead.  The list is deliberately
short and explicit: it will miss indirect or misspelt language, and it is a flag for a
human, not a risk assessment.  The same list is in ``docs/support.md``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: shown with every suggestion, on every surface
SUPPORT_NOTICE = ("Suggestions for a human supporter, not therapy or clinical advice; trained on ESConv "
                  "(crowd-worker peer-support chats, English, CC BY-NC 4.0: research use only).")
ROUTE_TO_PERSON = ("Crisis language: route to a person now (a trained crisis counsellor, a crisis line or "
                   "emergency services); no strategy is suggested for this turn.")

#: explicit self-harm / suicide phrases (regular expressions over lower-cased text, matched
#: on word boundaries); each entry is (what the docs call it, pattern)
CRISIS_PHRASES: tuple[tuple[str, str], ...] = (
    ("kill myself", r"kill(?:ing|ed)? my ?self"),
    ("end my life", r"end(?:ing)? (?:my|it) (?:own )?life|end it all"),
    ("take my own life", r"tak(?:e|ing) my (?:own )?life"),
    ("suicide / suicidal", r"suicid(?:e|al)"),
    ("want to die", r"(?:want|wanna|going|ready|wish) (?:to )?die|wish i (?:was|were) dead"),
    ("better off dead", r"better off dead|better off without me"),
    ("don't want to live / be alive", r"(?:do ?n[o']?t|not) want to (?:live|be alive)|no reason to live"),
    ("hurt / harm myself", r"(?:hurt|hurting|harm|harming) my ?self|self[- ]?harm(?:ing)?"),
    ("cut myself", r"cut(?:ting)? my ?self"),
    ("overdose", r"overdos(?:e|ed|ing)"),
    ("hang myself", r"hang(?:ing)? my ?self"),
)
_COMPILED = tuple((name, re.compile(rf"\b(?:{pattern})\b")) for name, pattern in CRISIS_PHRASES)


def crisis_phrases(text: str) -> list[str]:
    """The listed crisis phrases found in ``text`` (their names; empty when none)."""
    lowered = " ".join(str(text).lower().replace("\u2019", "'").split())
    return [name for name, pattern in _COMPILED if pattern.search(lowered)]


def crisis_in(texts: Sequence[str]) -> list[str]:
    """The crisis phrases found in any of ``texts``, each once, in list order."""
    found = {name for text in texts for name in crisis_phrases(text)}
    return [name for name, _ in CRISIS_PHRASES if name in found]


__all__ = ["CRISIS_PHRASES", "ROUTE_TO_PERSON", "SUPPORT_NOTICE", "crisis_in", "crisis_phrases"]
