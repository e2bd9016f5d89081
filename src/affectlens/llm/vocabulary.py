"""Open-vocabulary emotion words -> labels of a label set, and their VAD anchors.

An LLM answers with whatever emotion words it likes ("furious", "thankful", "wistful").
We map each word onto the user's label set in this order, recording how:

1. ``label`` — the word (lower-cased, stripped) *is* a label of the target set;
2. ``synonym`` — ``SYNONYMS`` below sends it to a canonical label word, which is a label of
   the target set or of another registered set (then ``taxonomy.convert_scores`` carries it
   across, e.g. ``thankful -> gratitude (goemotions) -> joy (ekman)``); a word that is a
   label of another set (``happy`` is a RAVDESS label) is handled the same way;
3. ``parrott`` — the word is a node of Parrott's (2001) tree (``taxonomy.parrott_path``):
   its secondary node, else its primary, is resolved as in 1–2 (``wrath -> rage -> anger``);
4. ``unmapped`` — dropped from the scores, kept in the segment's extras.

Nearest-anchor matching is impossible for words without a VAD rating (we ship anchors for
the label words only), hence the table.  **Source of ``SYNONYMS``**: written for
affectlens by hand (editorial judgement, not a lexicon), guided by the GoEmotions label
definitions (Demszky et al. 2020, ACL, appendix: e.g. *amusement* "finding something funny
or being entertained", *caring* "displaying kindness and concern for others") and by the
words Parrott's tree files under each node; entries whose home is not a GoEmotions label
(``calm``, ``trust``, ``anticipation``, ``contempt``) point at the RAVDESS, Plutchik and FER+
labels of those names.  Every mapping applied is reported (``mapped_from``, method, route),
so users can audit and override it (``LLMRecognizer(synonyms={...})``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from affectlens.types import VAD

# word -> canonical label word (a label of some registered set)
SYNONYMS: Mapping[str, str] = {
    # joy / happiness
    "happy": "joy", "happiness": "joy", "glad": "joy", "gladness": "joy", "delight": "joy",
    "delighted": "joy", "joyful": "joy", "joyous": "joy", "cheerful": "joy", "cheer": "joy",
    "elated": "joy", "elation": "joy", "ecstatic": "joy", "ecstasy": "joy", "euphoria": "joy",
    "euphoric": "joy", "bliss": "joy", "blissful": "joy", "content": "joy", "contentment": "joy",
    "contented": "joy", "satisfied": "joy", "satisfaction": "joy", "pleased": "joy", "pleasure": "joy",
    "enjoyment": "joy", "jubilant": "joy", "jubilation": "joy", "happy-go-lucky": "joy",
    # amusement
    "amused": "amusement", "funny": "amusement", "humor": "amusement", "humour": "amusement",
    "humorous": "amusement", "laughter": "amusement", "entertained": "amusement", "playful": "amusement",
    "playfulness": "amusement", "glee": "amusement", "gleeful": "amusement", "mirth": "amusement",
    "sarcasm": "amusement", "sarcastic": "amusement",
    # excitement
    "excited": "excitement", "enthusiasm": "excitement", "enthusiastic": "excitement", "thrill": "excitement",
    "thrilled": "excitement", "eager": "excitement", "eagerness": "excitement", "zeal": "excitement",
    "exhilaration": "excitement", "exhilarated": "excitement", "hyped": "excitement", "zest": "excitement",
    # love / caring / desire
    "loving": "love", "affection": "love", "affectionate": "love", "adoration": "love", "adore": "love",
    "fondness": "love", "tenderness": "love", "romance": "love", "romantic": "love", "liking": "love",
    "care": "caring", "compassion": "caring", "compassionate": "caring", "sympathy": "caring",
    "sympathetic": "caring", "empathy": "caring", "empathetic": "caring", "concern": "caring",
    "concerned": "caring", "kindness": "caring", "supportive": "caring", "support": "caring",
    "pity": "caring", "tender": "caring",
    "want": "desire", "wanting": "desire", "longing": "desire", "yearning": "desire", "craving": "desire",
    "lust": "desire", "envy": "desire", "envious": "desire", "jealousy": "desire", "jealous": "desire",
    "wish": "desire", "hunger": "desire", "passion": "desire",
    # admiration / approval / pride / gratitude / optimism / relief
    "admire": "admiration", "admiring": "admiration", "awe": "admiration", "impressed": "admiration",
    "respect": "admiration", "appreciation": "admiration", "praise": "admiration", "reverence": "admiration",
    "approve": "approval", "approving": "approval", "agreement": "approval", "agree": "approval",
    "acceptance": "approval", "endorsement": "approval",
    "proud": "pride", "triumph": "pride", "triumphant": "pride", "accomplished": "pride",
    "self-satisfied": "pride",
    "grateful": "gratitude", "thankful": "gratitude", "thanks": "gratitude", "thankfulness": "gratitude",
    "appreciative": "gratitude",
    "hope": "optimism", "hopeful": "optimism", "optimistic": "optimism", "confident": "optimism",
    "confidence": "optimism", "determination": "optimism", "determined": "optimism", "encouraged": "optimism",
    "relieved": "relief", "reassured": "relief", "reassurance": "relief",
    # calm / trust / anticipation (labels of ravdess / plutchik)
    "calmness": "calm", "peaceful": "calm", "peace": "calm", "serene": "calm", "serenity": "calm",
    "relaxed": "calm", "tranquil": "calm", "tranquility": "calm", "composed": "calm",
    "trusting": "trust", "faith": "trust", "security": "trust", "safe": "trust",
    "anticipating": "anticipation", "expectation": "anticipation", "expectant": "anticipation",
    # surprise / curiosity / confusion / realization
    "surprised": "surprise", "amazed": "surprise", "amazement": "surprise", "astonished": "surprise",
    "astonishment": "surprise", "shocked": "surprise", "shock": "surprise", "startled": "surprise",
    "stunned": "surprise", "disbelief": "surprise", "wonder": "surprise",
    "curious": "curiosity", "interest": "curiosity", "interested": "curiosity", "intrigued": "curiosity",
    "inquisitive": "curiosity", "fascination": "curiosity", "fascinated": "curiosity",
    "confused": "confusion", "puzzled": "confusion", "perplexed": "confusion", "bewildered": "confusion",
    "bewilderment": "confusion", "uncertain": "confusion", "uncertainty": "confusion", "doubt": "confusion",
    "baffled": "confusion", "unsure": "confusion",
    "realisation": "realization", "realized": "realization", "realised": "realization",
    "insight": "realization", "recognition": "realization", "understanding": "realization",
    # anger / annoyance / disapproval / disgust / contempt
    "angry": "anger", "furious": "anger", "fury": "anger", "rage": "anger", "enraged": "anger",
    "outrage": "anger", "outraged": "anger", "wrath": "anger", "mad": "anger", "hostility": "anger",
    "hostile": "anger", "hatred": "anger", "hate": "anger", "resentment": "anger", "resentful": "anger",
    "bitterness": "anger", "bitter": "anger", "indignation": "anger", "indignant": "anger",
    "irate": "anger", "livid": "anger",
    "annoyed": "annoyance", "irritation": "annoyance", "irritated": "annoyance", "frustration": "annoyance",
    "frustrated": "annoyance", "exasperation": "annoyance", "exasperated": "annoyance",
    "aggravation": "annoyance", "impatience": "annoyance", "impatient": "annoyance", "grumpy": "annoyance",
    "irked": "annoyance", "bothered": "annoyance",
    "disapprove": "disapproval", "disapproving": "disapproval", "criticism": "disapproval",
    "critical": "disapproval", "disagreement": "disapproval", "disagree": "disapproval",
    "objection": "disapproval", "skepticism": "disapproval", "skeptical": "disapproval",
    "scepticism": "disapproval", "dislike": "disapproval", "condemnation": "disapproval",
    "disgusted": "disgust", "revulsion": "disgust", "repulsed": "disgust", "revolted": "disgust",
    "loathing": "disgust", "grossed out": "disgust", "nausea": "disgust", "aversion": "disgust",
    "contemptuous": "contempt", "scorn": "contempt", "disdain": "contempt", "derision": "contempt",
    # sadness / grief / disappointment / remorse / embarrassment
    "sad": "sadness", "unhappy": "sadness", "unhappiness": "sadness", "sorrow": "sadness",
    "sorrowful": "sadness", "depressed": "sadness", "depression": "sadness", "melancholy": "sadness",
    "gloom": "sadness", "gloomy": "sadness", "misery": "sadness", "miserable": "sadness",
    "despair": "sadness", "hopeless": "sadness", "hopelessness": "sadness", "lonely": "sadness",
    "loneliness": "sadness", "hurt": "sadness", "heartbroken": "sadness", "downcast": "sadness",
    "blue": "sadness", "dejected": "sadness", "dejection": "sadness", "wistful": "sadness",
    "nostalgia": "sadness", "nostalgic": "sadness", "empathic sadness": "sadness",
    "grieving": "grief", "mourning": "grief", "bereavement": "grief", "heartbreak": "grief",
    "anguish": "grief", "devastated": "grief", "devastation": "grief",
    "disappointed": "disappointment", "let down": "disappointment", "dismay": "disappointment",
    "dismayed": "disappointment", "discouraged": "disappointment", "disillusioned": "disappointment",
    "displeasure": "disappointment", "regretful": "remorse", "regret": "remorse", "guilt": "remorse",
    "guilty": "remorse", "sorry": "remorse", "apologetic": "remorse", "repentance": "remorse",
    "contrition": "remorse", "contrite": "remorse",
    "embarrassed": "embarrassment", "shame": "embarrassment", "ashamed": "embarrassment",
    "humiliation": "embarrassment", "humiliated": "embarrassment", "awkward": "embarrassment",
    "awkwardness": "embarrassment", "self-conscious": "embarrassment", "mortified": "embarrassment",
    "shy": "embarrassment",
    # fear / nervousness
    "afraid": "fear", "scared": "fear", "fearful": "fear", "terror": "fear", "terrified": "fear",
    "horror": "fear", "horrified": "fear", "panic": "fear", "frightened": "fear", "fright": "fear",
    "dread": "fear", "alarm": "fear", "alarmed": "fear",
    "nervous": "nervousness", "anxiety": "nervousness", "anxious": "nervousness", "worry": "nervousness",
    "worried": "nervousness", "uneasy": "nervousness", "unease": "nervousness", "apprehension": "nervousness",
    "apprehensive": "nervousness", "tense": "nervousness", "tension": "nervousness", "stress": "nervousness",
    "stressed": "nervousness", "insecure": "nervousness", "insecurity": "nervousness",
    "overwhelmed": "nervousness", "distress": "nervousness", "distressed": "nervousness",
    # no emotion
    "none": "neutral", "no emotion": "neutral", "neutrality": "neutral", "indifference": "neutral",
    "indifferent": "neutral", "objective": "neutral", "factual": "neutral", "informative": "neutral",
    "bored": "neutral", "boredom": "neutral", "apathy": "neutral", "unemotional": "neutral",
}

# where a canonical word that is not a label of the target set is looked up, finest first
HOME_SET_ORDER = ("goemotions", "ekman", "plutchik", "ravdess", "ferplus", "meld", "sentiment")

_NON_WORD = re.compile(r"[^a-z\- ]+")


def normalise_word(word: str) -> str:
    """``"  Furious!! "`` -> ``"furious"``; ``"Joy (0.8)"`` -> ``"joy"``; underscores become spaces."""
    text = word.strip().lower().replace("_", " ")
    text = re.sub(r"\(.*?\)", " ", text)
    text = _NON_WORD.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip(" -")
    for prefix in ("feeling ", "feels ", "a sense of ", "sense of ", "slightly ", "mild ", "very ", "slight "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text


@dataclass(frozen=True)
class WordMapping:
    """How one stated word landed on a label: ``method`` is label | synonym | parrott | unmapped."""

    word: str
    label: str | None
    method: str
    route: str  # e.g. "thankful -> goemotions:gratitude -> ekman:joy"
    anchor: VAD | None  # the VAD anchor of the word's canonical label (its home set's)

    @property
    def mapped(self) -> bool:
        return self.method not in ("label", "unmapped")


@cache
def _label_sets() -> dict[str, tuple[str, ...]]:
    from affectlens.taxonomy import get_label_set

    return {name: tuple(get_label_set(name).labels) for name in HOME_SET_ORDER}


def _home_of(word: str) -> str | None:
    return next((name for name, labels in _label_sets().items() if word in labels), None)


class LabelVocabulary:
    """Maps stated words onto ``label_set`` (see the module docstring for the order of rules)."""

    def __init__(self, label_set: str, synonyms: Mapping[str, str] | None = None) -> None:
        from affectlens.taxonomy import get_label_set

        self.label_set = get_label_set(label_set).name
        self.labels: tuple[str, ...] = tuple(get_label_set(label_set).labels)
        self.synonyms = {**SYNONYMS, **{normalise_word(k): v for k, v in (synonyms or {}).items()}}
        self._memo: dict[str, WordMapping] = {}

    def map(self, word: str) -> WordMapping:
        if word not in self._memo:
            self._memo[word] = self._map(word)
        return self._memo[word]

    def _resolve(self, canonical: str) -> tuple[str, str, VAD] | None:
        """(target label, route tail, anchor) for a canonical label word, or None."""
        from affectlens.taxonomy import convert_scores, get_label_set

        if canonical in self.labels:
            return canonical, f"{self.label_set}:{canonical}", get_label_set(self.label_set).anchors[canonical]
        home = _home_of(canonical)
        if home is None:
            return None
        converted = convert_scores({canonical: 1.0}, home, self.label_set, aggregate="max")
        target = max(converted, key=lambda k: converted[k])
        if converted[target] <= 0:
            return None
        return target, f"{home}:{canonical} -> {self.label_set}:{target}", get_label_set(home).anchors[canonical]

    def _map(self, word: str) -> WordMapping:
        from affectlens.taxonomy import parrott_path

        key = normalise_word(word)
        if key in self.labels:
            resolved = self._resolve(key)
            assert resolved is not None
            return WordMapping(word, key, "label", key, resolved[2])
        variants = [key]
        for suffix in ("ly", "s"):  # "angrily" is not in the table; "worries" -> "worrie" misses harmlessly
            if key.endswith(suffix) and len(key) > len(suffix) + 3:
                variants.append(key[: -len(suffix)])
        for variant in variants:
            canonical = self.synonyms.get(variant) or (variant if _home_of(variant) else None)
            if canonical:
                resolved = self._resolve(canonical)
                if resolved is not None:
                    return WordMapping(word, resolved[0], "synonym", f"{key} -> {resolved[1]}", resolved[2])
        path = parrott_path(key)
        if path is not None:
            for node in (path.secondary, path.primary):
                canonical = self.synonyms.get(node, node)
                resolved = self._resolve(canonical)
                if resolved is not None:
                    route = f"{key} -> parrott:{path.primary}/{path.secondary} -> {resolved[1]}"
                    return WordMapping(word, resolved[0], "parrott", route, resolved[2])
        return WordMapping(word, None, "unmapped", key, None)
