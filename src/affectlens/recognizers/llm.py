"""Explainable emotion reasoning with the user's own LLM (any OpenAI-compatible endpoint).

Our recognizers perceive and textualize the cues; the user's LLM reasons over them::

    from affectlens.recognizers.llm import LLMRecognizer, Dialogue
    rec = LLMRecognizer("llama3.1:8b", url="http://localhost:11434/v1")   # or AFFECTLENS_LLM_* env vars
    rec.analyze(["Thanks so much, this made my day!"])
    rec.analyze([Dialogue.from_pairs([("A", "I lost my keys again."), ("B", "Ugh, not again!")])])
    rec.analyze([speech_segment])            # a Segment / EmotionResult: its cues rendered to text

In the registry: ``load_recognizer("llm:llama3.1:8b?shots=5&prompt=emotionprompt&labels=ekman")``
(``affectlens bench goemotions --model 'llm:llama3.1:8b?shots=5'``).  Name parameters:
``shots`` (few-shot examples from the GoEmotions TRAIN split, drawn with ``seed``), ``prompt``
(``plain``, ``emotionprompt``, ``ep01``..``ep11``), ``labels`` (output label set, default
``goemotions``), ``seed``, ``threshold``, ``temperature``.  See ``docs/llm.md``.

Output per text (or dialogue turn): a ``Segment`` over the chosen label set whose scores
are the intensities the model stated (0 for labels it did not name), mapped from its own
words by ``affectlens.llm.vocabulary`` (recorded as ``mapped_from``); VAD is the
intensity-weighted mean of the NRC VAD anchors of those words' labels; cues are the
model's emotion words (kind ``emotion_word``), the phrases it quoted (``quote``, with
character spans when found in the text) and its rationale (``rationale``).
``Segment.confidence`` is the top stated intensity; the model's own *verbalized*
confidence is kept apart in ``extras["verbalized_confidence"]``.  Neither is calibrated.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from affectlens.inputs import InputError, TextItem
from affectlens.llm.config import LLMConfig, LLMNotConfigured, model_from_environment, resolve_config
from affectlens.llm.dialogue import Dialogue, as_dialogue
from affectlens.llm.parsing import Judgement, parse_dialogue_judgements, parse_judgement
from affectlens.llm.prompts import (
    DIALOGUE_SCHEMA,
    JUDGEMENT_SCHEMA,
    PROMPT_VERSION,
    FewShotExample,
    build_messages,
    render_cues,
    render_dialogue,
    render_text,
    stimulus_for,
)
from affectlens.recognizer_params import RecognizerParams
from affectlens.registry import RecognizerSpec
from affectlens.types import VAD, Cue, EmotionResult, Modality, Provenance, Segment

__all__ = [
    "NAME_PARAMS",
    "NAME_PREFIX",
    "Dialogue",
    "FewShotExample",
    "LLMNotConfigured",
    "LLMRecognizer",
    "LLMSpec",
    "canonical_name",
    "draw_train_examples",
    "parse_name",
    "resolve_spec",
]

NAME_PREFIX = "llm:"
# parameters a registry name may carry, with their types and defaults
NAME_PARAMS: Mapping[str, tuple[type, Any]] = {
    "labels": (str, "goemotions"), "prompt": (str, "plain"), "shots": (int, 0), "seed": (int, 0),
    "threshold": (float, 0.3), "temperature": (float, None),
}
_CONSTRUCTOR_NAMES = {"labels": "label_set"}


def parse_name(name: str) -> tuple[str | None, dict[str, Any]]:
    """``"llm:qwen2.5:7b?shots=5&prompt=ep02"`` -> ``("qwen2.5:7b", {"shots": 5, "prompt": "ep02"})``."""
    if not name.startswith(NAME_PREFIX):
        raise ValueError(f"an LLM recognizer name starts with {NAME_PREFIX!r}: {name!r}")
    model, _, query = name[len(NAME_PREFIX):].partition("?")
    params: dict[str, Any] = {}
    for key, raw in parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)):
        if key not in NAME_PARAMS:
            raise ValueError(f"unknown parameter {key!r} in {name!r}; known: {', '.join(NAME_PARAMS)}")
        kind = NAME_PARAMS[key][0]
        try:
            params[key] = kind(raw)
        except ValueError:
            raise ValueError(f"parameter {key}={raw!r} in {name!r} is not a valid {kind.__name__}") from None
    return (model or None), params


def canonical_name(model: str, params: Mapping[str, Any]) -> str:
    """The one spelling of a configuration: defaults dropped, keys sorted (``seed`` only with shots)."""
    kept = {k: v for k, v in params.items() if v is not None and v != NAME_PARAMS[k][1]}
    if not kept.get("shots"):
        kept.pop("seed", None)
    query = "&".join(f"{k}={kept[k]}" for k in sorted(kept))
    return f"{NAME_PREFIX}{model}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class LLMSpec(RecognizerSpec):
    """A registry entry made on the fly for an ``llm:<model>?...`` name (never stored in the registry)."""

    model: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return self.name[len(NAME_PREFIX):]

    def build(self, **params: Any) -> LLMRecognizer:  # type: ignore[override]
        merged = {_CONSTRUCTOR_NAMES.get(k, k): v for k, v in self.params.items()}
        merged.update(params)
        return LLMRecognizer(self.model, **merged)


def resolve_spec(name: str) -> RecognizerSpec:
    """The registry's resolver for the ``llm:`` prefix; bad names raise ``UnknownRecognizer``."""
    from affectlens.registry import UnknownRecognizer

    try:
        model, params = parse_name(name)
        stimulus_for(params.get("prompt", "plain"))
        if "labels" in params:
            from affectlens.taxonomy import get_label_set

            params["labels"] = get_label_set(params["labels"]).name
    except (ValueError, KeyError) as err:
        raise UnknownRecognizer(str(err)) from None
    model = model or model_from_environment()
    if not model:
        raise UnknownRecognizer(f"{name!r} names no model: write llm:<model> or set AFFECTLENS_LLM_MODEL")
    return LLMSpec(
        name=canonical_name(model, params), modality=Modality.TEXT,
        label_set=params.get("labels", "goemotions"), factory="affectlens.recognizers.llm:LLMRecognizer",
        description=f"the user's LLM {model!r} through an OpenAI-compatible endpoint (AFFECTLENS_LLM_URL)",
        license="depends on the user's model and endpoint", model=model, params=params)


def draw_train_examples(label_set: str, shots: int, seed: int = 0,
                        data_root: str | Path | None = None) -> list[FewShotExample]:
    """``shots`` GoEmotions TRAIN examples, uniformly at random with ``random.Random(seed)``.

    Gold labels are expressed in ``label_set`` through the taxonomy (the targets each GoEmotions
    label is, ``LabelMapping.components``: one for ekman/sentiment, both emotions of a Plutchik
    dyad, none for neutral into a set without a no-emotion class).  Never reads dev or test.
    """
    from affectlens.bench.datasets import GOEMOTIONS_LABELS, load_goemotions
    from affectlens.taxonomy import mapping

    corpus = load_goemotions("train", data_root)
    if shots > len(corpus.texts):
        raise ValueError(f"asked for {shots} shots, the train split has {len(corpus.texts)} examples")
    chosen = random.Random(seed).sample(range(len(corpus.texts)), shots)
    examples: list[FewShotExample] = []
    for index in chosen:
        gold = [GOEMOTIONS_LABELS[j] for j in corpus.labels[index].nonzero()[0]]
        labels: list[str] = []
        for gold_label in gold:
            targets = [gold_label]
            if label_set != "goemotions":
                # every target the label *is* (both emotions of a dyad; none for neutral
                # in a set without a no-emotion class)
                targets = list(mapping("goemotions", label_set).components(gold_label))
            labels.extend(label for label in targets if label not in labels)
        examples.append(FewShotExample(corpus.texts[index], tuple(labels)))
    return examples


@dataclass
class CallStats:
    """Counters over this recognizer's lifetime (not part of results, so results stay deterministic)."""

    requests: int = 0
    cache_hits: int = 0
    http_attempts: int = 0
    reasks: int = 0
    failures: int = 0


@dataclass(frozen=True)
class _Job:
    index: int
    kind: str  # text | dialogue | cues
    messages: list[dict[str, str]]
    finish: Callable[[Any], EmotionResult]
    parse: Callable[[str], Any]
    schema: Mapping[str, Any]
    source: str | None
    record_id: str | None


class LLMRecognizer(RecognizerParams):
    """Emotions, a rationale and a verbalized confidence from an OpenAI-compatible chat endpoint.

    ``__init__`` stores parameters only; ``load()`` resolves the endpoint (raising
    ``LLMNotConfigured`` when there is none: nothing is ever sent unconfigured) and draws the
    few-shot examples.  Endpoint settings not given here come from ``AFFECTLENS_LLM_*``
    environment variables or the config file (see ``affectlens.llm.config``).
    """

    modality = Modality.TEXT

    def __init__(
        self,
        model: str | None = None,
        *,
        label_set: str = "goemotions",
        prompt: str = "plain",
        shots: int = 0,
        seed: int = 0,
        threshold: float = 0.3,
        examples: Sequence[FewShotExample] | None = None,
        synonyms: Mapping[str, str] | None = None,
        url: str | None = None,
        api_key: str | None = None,
        config_file: str | Path | None = None,
        cache: bool | None = None,
        cache_dir: str | Path | None = None,
        timeout: float | None = None,
        concurrency: int | None = None,
        max_retries: int | None = None,
        parse_retries: int | None = None,
        backoff: float | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        response_format: str | None = None,
        data_root: str | Path | None = None,
    ) -> None:
        stimulus_for(prompt)  # unknown variants fail here, before anything is sent
        if shots < 0:
            raise ValueError("shots cannot be negative")
        self.model = model or model_from_environment(config_file)
        self.label_set = label_set
        self.prompt = prompt
        self.shots = len(examples) if examples is not None else shots
        self.seed = seed
        self.threshold = threshold
        self._given_examples = list(examples) if examples is not None else None
        self._synonyms = dict(synonyms or {})
        self._config_file = config_file
        self._overrides: dict[str, Any] = {
            "url": url, "api_key": api_key, "cache": cache, "cache_dir": Path(cache_dir) if cache_dir else None,
            "timeout": timeout, "concurrency": concurrency, "max_retries": max_retries,
            "parse_retries": parse_retries, "backoff": backoff, "temperature": temperature,
            "max_tokens": max_tokens, "response_format": response_format}
        self._data_root = data_root
        params = {"labels": label_set, "prompt": prompt, "shots": self.shots, "seed": seed,
                  "threshold": threshold, "temperature": temperature}
        self.name = canonical_name(self.model or "unconfigured", params)
        if examples is not None and examples:
            self.name += ("&" if "?" in self.name else "?") + "examples=custom"
        self.version = self.name[len(NAME_PREFIX):]
        self.stats = CallStats()
        self._stats_lock = threading.Lock()
        self._client: Any = None
        self.config: LLMConfig | None = None
        self._vocabulary: Any = None
        self._examples: list[FewShotExample] = []
        self._labels: tuple[str, ...] = ()

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def is_loaded(self) -> bool:
        return self._client is not None

    def load(self) -> None:
        if self._client is not None:
            return
        from affectlens.llm.client import ChatClient
        from affectlens.llm.vocabulary import LabelVocabulary
        from affectlens.taxonomy import get_label_set

        config = resolve_config(self._config_file, model=self.model, **self._overrides)
        labels = get_label_set(self.label_set)
        self.label_set = labels.name
        self._labels = tuple(labels.labels)
        self._vocabulary = LabelVocabulary(self.label_set, self._synonyms)
        if self._given_examples is not None:
            self._examples = self._given_examples
        elif self.shots:
            self._examples = draw_train_examples(self.label_set, self.shots, self.seed, self._data_root)
        self.config = config
        self._client = ChatClient(config)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    @property
    def examples(self) -> list[FewShotExample]:
        """The few-shot examples in use (after ``load()``)."""
        return list(self._examples)

    # -- analysis --------------------------------------------------------------------------
    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        self.load()
        results: list[EmotionResult | None] = [None] * len(batch)
        jobs: list[_Job] = []
        for index, value in enumerate(batch):
            try:
                job = self._prepare(index, value)
            except InputError as err:
                results[index] = EmotionResult((), getattr(value, "source", None), (str(err),),
                                               getattr(value, "record_id", None))
                continue
            if isinstance(job, EmotionResult):
                results[index] = job
            else:
                jobs.append(job)
        if len(jobs) == 1:
            results[jobs[0].index] = self._run(jobs[0])
        elif jobs:
            workers = min(self.config.concurrency if self.config else 1, len(jobs))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="affectlens-llm") as pool:
                for job, result in zip(jobs, pool.map(self._run, jobs), strict=True):
                    results[job.index] = result
        return [r if r is not None else EmotionResult((), warnings=("internal: no result",)) for r in results]

    def _stimulus_messages(self, kind: str, rendered: str) -> list[dict[str, str]]:
        return build_messages(kind, rendered, self._labels, self._examples, stimulus_for(self.prompt))

    def _prepare(self, index: int, value: Any) -> _Job | EmotionResult:
        if isinstance(value, str | TextItem):
            item = value if isinstance(value, TextItem) else TextItem(value)
            if not item.text.strip():
                return EmotionResult((), item.source, ("empty text",), item.record_id)
            return _Job(index, "text", self._stimulus_messages("text", render_text(item)),
                        lambda j: self._finish_text(item, j), parse_judgement, JUDGEMENT_SCHEMA,
                        item.source, item.record_id)
        if isinstance(value, Segment | EmotionResult):
            segments = (value,) if isinstance(value, Segment) else tuple(value.segments)
            if not segments:
                raise InputError("an EmotionResult without segments has no cues to reason over")
            return _Job(index, "cues", self._stimulus_messages("cues", render_cues(value)),
                        lambda j: self._finish_cues(segments, value, j), parse_judgement, JUDGEMENT_SCHEMA,
                        segments[0].source, getattr(value, "record_id", None))
        dialogue = as_dialogue(value)
        if dialogue is not None:
            if any(not t.text.strip() for t in dialogue.turns):
                return EmotionResult((), dialogue.source, ("dialogue has an empty turn",), dialogue.record_id)
            n_turns = max(dialogue.turn_index(p) for p in range(len(dialogue.turns))) + 1
            return _Job(index, "dialogue", self._stimulus_messages("dialogue", render_dialogue(dialogue)),
                        lambda js: self._finish_dialogue(dialogue, js),
                        lambda text: parse_dialogue_judgements(text, n_turns), DIALOGUE_SCHEMA,
                        dialogue.source, dialogue.record_id)
        raise InputError(f"the LLM recognizer takes text (str/TextItem), a Dialogue (or a list of "
                         f"TextItems) or a Segment/EmotionResult, not {type(value).__name__}")

    def _run(self, job: _Job) -> EmotionResult:
        from affectlens.llm.client import LLMError

        name = "emotion_dialogue" if job.kind == "dialogue" else "emotion_judgement"
        try:
            parsed, reply = self._client.complete(job.messages, job.parse, schema=job.schema, schema_name=name)
        except LLMError as err:
            with self._stats_lock:
                self.stats.requests += 1
                self.stats.failures += 1
            return EmotionResult((), job.source, (f"llm: {err}",), job.record_id)
        with self._stats_lock:
            self.stats.requests += 1
            self.stats.cache_hits += int(reply.cached)
            self.stats.http_attempts += reply.http_attempts
            self.stats.reasks += max(0, reply.parse_attempts - 1)
        return job.finish(parsed)

    # -- building results ------------------------------------------------------------------
    def _segment(self, judgement: Judgement, text: str | None, context: Sequence[str] = (),
                 **where: Any) -> tuple[Segment, list[str]]:
        """One segment from a judgement; ``context`` are earlier turns' texts (for quoted cues)."""
        warnings: list[str] = []
        scores = dict.fromkeys(self._labels, 0.0)
        stated: list[dict[str, Any]] = []
        anchors: list[tuple[VAD, float]] = []
        cues: list[Cue] = []
        for emotion in judgement.emotions:
            mapping = self._vocabulary.map(emotion.word)
            entry: dict[str, Any] = {"word": emotion.word, "intensity": round(emotion.intensity, 4),
                                     "label": mapping.label, "method": mapping.method, "route": mapping.route}
            if mapping.mapped:
                entry["mapped_from"] = emotion.word
            stated.append(entry)
            if mapping.label is None:
                continue
            scores[mapping.label] = max(scores[mapping.label], emotion.intensity)
            if mapping.anchor is not None and emotion.intensity > 0:
                anchors.append((mapping.anchor, emotion.intensity))
            cues.append(Cue("emotion_word", emotion.word, emotion.intensity, mapping.label))
        unmapped = [e["word"] for e in stated if e["label"] is None]
        if unmapped:
            warnings.append(f"emotion word(s) not mapped onto {self.label_set}: {', '.join(unmapped)}")
        if not judgement.emotions and "neutral" in scores:
            scores["neutral"] = 1.0  # an empty list is the model saying "no emotion"
        vad = _weighted_vad(anchors)
        if vad is None and "neutral" in scores and scores["neutral"] > 0:
            from affectlens.taxonomy import get_label_set

            vad = get_label_set(self.label_set).anchors["neutral"]
        ranked = sorted((k for k, v in scores.items() if v > 0), key=lambda k: -scores[k])
        predicted = tuple(k for k in ranked if scores[k] >= self.threshold) or tuple(ranked[:1])
        for quote in judgement.cues:
            label = self._vocabulary.map(quote.emotion).label if quote.emotion else None
            span, turn = _locate(quote.phrase, text, context)
            weight = scores[label] if label else 1.0
            cues.append(Cue("quote", quote.phrase, weight, label, span=span, turn=turn))
        if judgement.rationale:
            cues.append(Cue("rationale", judgement.rationale, 1.0, predicted[0] if predicted else None))
        extras = {
            "emotions": stated, "rationale": judgement.rationale,
            "verbalized_confidence": judgement.confidence,
            "llm": {"model": self.model, "prompt": self.prompt, "shots": self.shots,
                    "prompt_version": PROMPT_VERSION},
        }
        segment = Segment(
            modality=Modality.TEXT, label_set=self.label_set, scores=scores, labels=predicted, vad=vad,
            confidence=max(scores.values(), default=0.0), provenance=Provenance(self.name, self.version),
            cues=tuple(cues), text=text, extras=extras, **where)
        return segment, warnings

    def _finish_text(self, item: TextItem, judgement: Judgement) -> EmotionResult:
        segment, warnings = self._segment(
            judgement, item.text, source=item.source, speaker=item.speaker, turn=item.turn,
            start=item.start, end=item.end, record_id=item.record_id)
        return EmotionResult((segment,), item.source, tuple(warnings), item.record_id)

    def _finish_cues(self, segments: Sequence[Segment], value: Segment | EmotionResult,
                     judgement: Judgement) -> EmotionResult:
        first = segments[0]
        starts = [s.start for s in segments if s.start is not None]
        ends = [s.end for s in segments if s.end is not None]
        transcript = next((s.text for s in segments if s.text), None)
        segment, warnings = self._segment(
            judgement, transcript, source=first.source, speaker=first.speaker, turn=first.turn,
            start=min(starts) if starts else None, end=max(ends) if ends else None,
            track_id=first.track_id, record_id=first.record_id)
        perceived = sorted({s.modality.value for s in segments})
        segment = _with_extras(segment, {"reasoned_over": perceived,
                                         "reasoned_over_recognizers": sorted({s.provenance.recognizer
                                                                              for s in segments})})
        record_id = value.record_id if isinstance(value, EmotionResult) else first.record_id
        return EmotionResult((segment,), first.source, tuple(warnings), record_id)

    def _finish_dialogue(self, dialogue: Dialogue, judgements: Sequence[Judgement]) -> EmotionResult:
        by_turn = {j.turn: j for j in judgements}
        position_of = {dialogue.turn_index(p): p for p in range(len(dialogue.turns))}
        segments: list[Segment] = []
        warnings: list[str] = []
        for position in dialogue.target_positions:
            index = dialogue.turn_index(position)
            judgement = by_turn.get(index)
            if judgement is None:
                warnings.append(f"the model did not label turn {index}")
                continue
            item = dialogue.turns[position]
            earlier = {i: dialogue.turns[p].text for i, p in position_of.items() if i < index}
            segment, more = self._segment(
                judgement, item.text, context=[earlier.get(i, "") for i in range(index)],
                source=item.source or dialogue.source, speaker=item.speaker, turn=index,
                start=item.start, end=item.end, record_id=item.record_id or dialogue.record_id)
            segments.append(segment)
            warnings += [f"turn {index}: {w}" for w in more]
        return EmotionResult(tuple(segments), dialogue.source, tuple(warnings), dialogue.record_id)


def _weighted_vad(anchors: Sequence[tuple[VAD, float]]) -> VAD | None:
    total = sum(w for _, w in anchors)
    if total <= 0:
        return None
    return VAD(sum(a.valence * w for a, w in anchors) / total, sum(a.arousal * w for a, w in anchors) / total,
               sum(a.dominance * w for a, w in anchors) / total)


def _locate(phrase: str, text: str | None, context: Sequence[str]) -> tuple[tuple[int, int] | None, int | None]:
    """Span of ``phrase`` in ``text`` (case-insensitive), else the latest earlier turn quoting it."""
    needle = phrase.strip().strip("\"'").lower()
    if not needle:
        return None, None
    if text:
        position = text.lower().find(needle)
        if position >= 0:
            return (position, position + len(needle)), None
    for turn in range(len(context) - 1, -1, -1):
        if needle in context[turn].lower():
            return None, turn
    return None, None


def _with_extras(segment: Segment, more: Mapping[str, Any]) -> Segment:
    from dataclasses import replace

    return replace(segment, extras={**segment.extras, **more})
