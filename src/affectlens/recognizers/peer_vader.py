"""``peer.vader.v1``: VADER sentiment (Hutto & Gilbert 2014, MIT) as a recognizer (see ``peers``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from affectlens.inputs import TextItem
from affectlens.recognizer_params import RecognizerParams
from affectlens.recognizers.peer_common import _find_spans, _segment, analyze_each
from affectlens.types import VAD, Cue, EmotionResult, Modality

VADER_NAME = "peer.vader.v1"
SENTIMENT_LABELS = ("positive", "negative", "neutral")


class VaderRecognizer(RecognizerParams):
    """VADER sentiment as a recognizer over the ``sentiment`` label set (valence only)."""

    RUNTIME_PARAMS = frozenset({"threshold", "n_cues"})  # analysis only: with_params copies share the model

    modality = Modality.TEXT
    label_set = "sentiment"
    vad_dimensions = ("valence",)

    def __init__(self, *, name: str = VADER_NAME, threshold: float = 0.05, n_cues: int = 5) -> None:
        self.name = name
        self.version = name.rsplit(".", 1)[-1]
        self.threshold = threshold
        self.n_cues = n_cues
        self._analyzer: Any = None

    def load(self) -> None:
        if self._analyzer is not None:
            return
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        except ImportError as err:
            raise ImportError("peer.vader.v1 needs the vaderSentiment package: "
                              "pip install 'affectlens[bench]' (or vaderSentiment)") from err
        self._analyzer = SentimentIntensityAnalyzer()

    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        if not batch:
            return []
        self.load()
        return analyze_each(batch, self._analyze_one)

    def _token_valences(self, text: str) -> tuple[list[str], list[float], dict[str, float]]:
        """VADER's own ``polarity_scores`` steps, keeping the per-token valences it sums.

        Mirrors vaderSentiment 3.3.2 ``polarity_scores`` line by line (emoji -> description,
        tokenise, booster / "kind of" skip, ``sentiment_valence``, "but" rule) and scores
        with its ``score_valence``, so the polarity equals ``polarity_scores(text)``.
        """
        from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentiText

        analyzer = self._analyzer
        text_no_emoji = ""
        prev_space = True
        for char in text:
            if char in analyzer.emojis:
                if not prev_space:
                    text_no_emoji += " "
                text_no_emoji += analyzer.emojis[char]
                prev_space = False
            else:
                text_no_emoji += char
                prev_space = char == " "
        clean = text_no_emoji.strip()
        sentitext = SentiText(clean)
        words = sentitext.words_and_emoticons
        sentiments: list[float] = []
        for i, word in enumerate(words):
            lower = word.lower()
            if lower in BOOSTER_DICT or (
                    i < len(words) - 1 and lower == "kind" and words[i + 1].lower() == "of"):
                sentiments.append(0.0)
                continue
            sentiments = analyzer.sentiment_valence(0, sentitext, word, i, sentiments)
        sentiments = analyzer._but_check(words, sentiments)
        polarity = analyzer.score_valence(sentiments, clean)
        return list(words), [float(s) for s in sentiments], polarity

    def _analyze_one(self, item: TextItem) -> EmotionResult:
        words, valences, polarity = self._token_valences(item.text)
        compound = float(polarity["compound"])
        scores = {"positive": float(polarity["pos"]), "negative": float(polarity["neg"]),
                  "neutral": float(polarity["neu"])}
        if sum(scores.values()) == 0:  # no tokens at all
            scores["neutral"] = 1.0
        if compound >= self.threshold:
            label, confidence = "positive", compound
        elif compound <= -self.threshold:
            label, confidence = "negative", -compound
        else:
            label, confidence = "neutral", 1.0 - abs(compound)
        spans = _find_spans(item.text, words)
        driving = sorted((i for i, v in enumerate(valences) if v != 0.0), key=lambda i: -abs(valences[i]))
        cues = tuple(
            Cue(kind="word", phrase=words[i], weight=abs(valences[i]) / 4.0,  # lexicon range is +-4
                label="positive" if valences[i] > 0 else "negative", span=spans[i], value=valences[i])
            for i in driving[: self.n_cues])
        segment = _segment(item, label_set=self.label_set, scores=scores, labels=(label,),
                           vad=VAD(compound, 0.0, 0.0), confidence=float(confidence), name=self.name,
                           version=self.version, cues=cues)
        return EmotionResult((segment,), item.source)
