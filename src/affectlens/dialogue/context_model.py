"""The context-aware conversation model: each turn read with the whole dialogue around it.

``ContextualErc`` (registered as ``dialogue.minilm-meld-bigru.v1``) encodes every turn
with the shipped text encoder (``text_encoder.TextEncoder.turn_features``) and runs a small
bidirectional GRU head over the dialogue (``models/dialogue-minilm-meld-bigru-v1``,
trained by ``affectlens_recipes/erc_meld.py``).  Each turn's segment carries:

* ``scores`` over MELD's 7 classes, calibrated (temperature fitted on MELD dev);
* ``vad`` from the text model's own VAD head for the turn;
* ``cues``: the words behind the turn's text emotions (the text model's word cues) and,
  where the dialogue changed the reading, a ``context`` cue: the same head without the
  GRU gives the turn's emotion alone, and the cue says how far context moved it;
* on emotional turns, ``cause`` cues naming the turns that caused the emotion
  (``dialogue/causes.py``) and, when ``models/cause-span-reccon-v1`` is in place, the
  words of each cause turn that did (``dialogue/cause_spans.py``; ``extras["causes"]``
  holds each span's text and character offsets in the cause turn).

It serves both contracts: ``analyze_dialogues`` (``ConversationRecognizer``) for the
dialogue readers, and ``analyze(items)`` (``Recognizer``) for turn tables such as the
MELD benchmark, where consecutive ``TextItem`` s with the same ``dialogue_id`` form one
dialogue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from affectlens.calibration import softmax
from affectlens.dialogue.turn_tables import item_results, turn_table_dialogues
from affectlens.dialogue.types import Dialogue, Turn, dialogue_chunks
from affectlens.inputs import as_text_item
from affectlens.io.language_hints import language_warning
from affectlens.recognizer_params import RecognizerParams
from affectlens.types import Cue, EmotionResult, Modality, Provenance, Segment

if TYPE_CHECKING:
    from affectlens.recognizers.text_encoder import PieceStates

#: the word pieces per turn the conversation model was trained on (``turn_features``' default)
TURN_MAX_TOKENS = 128
#: onnxruntime session entries of the text encoder whose features the conversation and cause
#: heads learnt from: none, i.e. onnxruntime's fused int8 kernels (``MatMulNBits``), not the
#: float path the text model's own config selects; recorded in the model's config
TURN_ENCODER_SESSION_CONFIG: dict[str, str] = {}
#: the text model's graph those features come from: its float-activation ``model.onnx``, not the
#: static int8 graph with a VAD student that the text model itself runs (``model_static.onnx``)
TURN_ENCODER_FILE = "model.onnx"
#: turns per encoder pass (whole dialogues): bounds the memory of a large dialogue file
TURNS_PER_PASS = 512
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "dialogue-minilm-meld-bigru-v1"
DEFAULT_NAME = "dialogue.minilm-meld-bigru.v1"
#: a context cue is added when context moves the top label's probability at least this much
CONTEXT_CUE_MIN_CHANGE = 0.10


def dialogue_inputs(features: np.ndarray, speakers: Sequence[str]) -> np.ndarray:
    """The head's input for one dialogue: turn features plus "same speaker as the turn before"."""
    same = np.zeros((len(speakers), 1), dtype=np.float32)
    for i in range(1, len(speakers)):
        same[i, 0] = float(speakers[i] == speakers[i - 1])
    return np.concatenate([np.asarray(features, dtype=np.float32), same], axis=1)


class ContextualErc(RecognizerParams):
    """Emotion recognition in conversation over MELD's 7 classes, with dialogue context."""

    modality = Modality.TEXT
    uses_context = True
    label_set = "meld"

    def __init__(self, model_dir: str | Path | None = None, *, name: str = DEFAULT_NAME,
                 text_model: Any = None, cause_model: Any = "shipped", span_model: Any = "shipped",
                 threads: int | None = None, verify: bool = True) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
        self.name = name
        self.version = name.rsplit(".", 1)[-1]
        self.threads = threads
        self.verify = verify
        self._text_model = text_model  # a TextOnnxRecognizer (default: the shipped one)
        self._heads: dict[str, Any] = {}
        self._config: dict[str, Any] = {}
        # "shipped": the shipped CauseModel when its folder is in place; None: no cause cues
        self._cause_choice = cause_model
        self._causes: Any = None
        # "shipped": the shipped SpanModel when its folder is in place (and causes are on); None: no spans
        self._span_choice = span_model
        self._spans: Any = None

    def load(self) -> None:
        if self._heads:
            return
        from affectlens.model_folder import load_onnx_heads
        from affectlens.recognizers.text_onnx import TextOnnxRecognizer

        # a small GRU: threads cost more than they give, so one unless asked (and never spinning)
        config, heads = load_onnx_heads(self.model_dir, kind="conversation", threads=self.threads or 1,
                                        verify=self.verify)
        if self._text_model is None:
            # the heads learnt from the encoder's features as onnxruntime computed them then
            # (its fused int8 kernels unless the config says otherwise), whatever the text model's
            # own config now asks for
            encoder = config.get("encoder", {})
            session = encoder.get("onnxruntime_session_config", TURN_ENCODER_SESSION_CONFIG)
            self._text_model = TextOnnxRecognizer(threads=self.threads, session_config=session,
                                                  model_file=encoder.get("file", TURN_ENCODER_FILE))
        self._text_model.load()
        from affectlens.dialogue.causes import DEFAULT_MODEL_DIR as CAUSE_DIR
        from affectlens.dialogue.causes import CauseModel

        if self._cause_choice == "shipped":
            self._causes = CauseModel.load(CAUSE_DIR, verify=self.verify) if CAUSE_DIR.is_dir() else None
        else:
            self._causes = self._cause_choice
        self._spans = self._load_spans() if self._causes is not None else None
        self._config = config
        self._heads = heads

    def _load_spans(self) -> Any:
        """The cause span model: the given one, or the shipped one when it fits the text encoder."""
        from affectlens.dialogue.cause_spans import DEFAULT_MODEL_DIR as SPAN_DIR
        from affectlens.dialogue.cause_spans import SpanModel

        if self._span_choice != "shipped":
            return self._span_choice
        if not SPAN_DIR.is_dir():
            return None
        spans = SpanModel.load(SPAN_DIR, verify=self.verify)
        # its word features come from one encoder: with another text model it would read noise
        encoder_sha = getattr(getattr(self._text_model, "config", None), "sha256", {}).get("model.onnx")
        if spans.text_model_sha256 and encoder_sha != spans.text_model_sha256:
            return None
        return spans

    @property
    def labels(self) -> tuple[str, ...]:
        self.load()
        return tuple(self._config["labels"])

    # -- Recognizer: turn tables -------------------------------------------------------------------

    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        """One result per item; consecutive items with one ``dialogue_id`` are read as a dialogue."""
        items = [as_text_item(x) for x in batch]
        grouped = turn_table_dialogues(items)
        results = self.analyze_dialogues([dialogue for _, dialogue in grouped])
        # the groups are runs of consecutive items, in order: their results, one after another
        return [r for (group, _), result in zip(grouped, results, strict=True)
                for r in item_results(items, group, result)]

    # -- ConversationRecognizer: whole dialogues ---------------------------------------------------

    def analyze_dialogues(self, dialogues: Sequence[Dialogue]) -> list[EmotionResult]:
        self.load()
        # whole dialogues, about TURNS_PER_PASS turns at a time: bounded memory
        return [result for chunk in dialogue_chunks(dialogues, TURNS_PER_PASS) for result in self._analyze_chunk(chunk)]

    def _analyze_chunk(self, dialogues: Sequence[Dialogue]) -> list[EmotionResult]:
        turns = [(d, t) for d, dialogue in enumerate(dialogues) for t in dialogue.turns if not t.is_empty]
        if not turns:
            return [_nothing_to_analyse(d) for d in dialogues]
        texts = [t.text for _, t in turns]
        if self._text_model.max_tokens == TURN_MAX_TOKENS:  # one encoder pass serves all three
            encoded = self._text_model.analyze_with_turn_features(texts)
            text_results, features, pieces = encoded.results, encoded.features, encoded.pieces
        else:
            features, _ = self._text_model.turn_features(texts, TURN_MAX_TOKENS)
            text_results, pieces = self._text_model.analyze(texts), [None] * len(texts)
        rows_of: dict[int, list[int]] = {}
        for row, (d, _) in enumerate(turns):
            rows_of.setdefault(d, []).append(row)
        labels = tuple(self._config["labels"])
        temperatures = self._config["temperatures"]
        segments: list[list[Segment]] = [[] for _ in dialogues]
        for d, rows in rows_of.items():
            x = dialogue_inputs(features[rows], [turns[r][1].speaker for r in rows])[None]
            probs = {mode: softmax(self._heads[mode].run(["log_probs"], {"turns": x})[0][0], temperatures[mode])
                     for mode in self._heads}
            speakers = [turns[r][1].speaker for r in rows]
            segs = [self._segment(dialogues[d], turns[row][1], probs, k, labels, text_results[row])
                    for k, row in enumerate(rows)]
            found = [self._find_causes(seg, features[rows], speakers, k) for k, seg in enumerate(segs)]
            spans = self._cause_spans(segs, found, features[rows], speakers, [turns[r][1] for r in rows],
                                      [pieces[r] for r in rows])
            segments[d].extend(self._with_causes(seg, found[k], spans, k, [turns[r][1] for r in rows])
                               for k, seg in enumerate(segs))
        return [EmotionResult(tuple(segs), dialogue.source, (*dialogue.warnings, *_language_notes(dialogue)),
                              dialogue.dialogue_id)
                if segs else _nothing_to_analyse(dialogue) for dialogue, segs in zip(dialogues, segments, strict=True)]

    def _find_causes(self, seg: Segment, features: np.ndarray, speakers: list[str],
                     k: int) -> list[tuple[int, float]]:
        """``(cause turn position, probability)`` for an emotional turn; nothing for a neutral one."""
        from affectlens.dialogue.causes import FROM_MELD

        label = seg.labels[0] if seg.labels else "neutral"
        if self._causes is None or label == "neutral":
            return []
        return list(self._causes.causes(features, speakers, k, FROM_MELD[label]))

    def _cause_spans(self, segs: list[Segment], found: list[list[tuple[int, float]]], features: np.ndarray,
                     speakers: list[str], turns: list[Turn], pieces: list[PieceStates | None],
                     ) -> dict[tuple[int, int], Any]:
        """``(target, cause) -> CauseSpan`` for every cause found in one dialogue (empty without a span model).

        A cause turn's words come from its ``pieces`` (the turn's encoder pass) when that pass
        read the whole turn; longer turns are encoded again (``encode_turns``).
        """
        if self._spans is None or not any(found):
            return {}
        from affectlens.dialogue.cause_spans import encode_turn_from_states, encode_turns, span_context
        from affectlens.dialogue.causes import FROM_MELD

        needed = sorted({c for causes in found for c, _ in causes})
        encoded = {c: encode_turn_from_states(turns[c].text, p.encoding, p.hidden_layer3, p.token_logits)
                   for c in needed if (p := pieces[c]) is not None}
        again = [c for c in needed if c not in encoded]
        encoded.update(zip(again, encode_turns(self._text_model, [turns[c].text for c in again]), strict=True))
        out: dict[tuple[int, int], Any] = {}
        for k, causes in enumerate(found):
            for c, _ in causes:
                context = span_context(features[k], FROM_MELD[segs[k].labels[0]], k - c, speakers[c] == speakers[k])
                span = self._spans.predict(encoded[c], context)
                if span is not None:
                    out[(k, c)] = span
        return out

    def _with_causes(self, seg: Segment, found: list[tuple[int, float]], spans: dict[tuple[int, int], Any],
                     k: int, turns: list[Turn]) -> Segment:
        """Cause cues for an emotional turn: the turns (earlier ones or itself) that caused it.

        With a span model, each cue quotes the cause span (the words of the cause turn that
        caused the emotion) and ``extras["causes"][i]["span"]`` gives its text and character
        offsets in the cause turn's text.
        """
        if not found:
            return seg
        label = seg.labels[0]
        cues = []
        causes: list[dict[str, Any]] = []
        for c, probability in found:
            cause = turns[c]
            span = spans.get((k, c))
            if span is None:
                quote = cause.text if len(cause.text) <= 60 else cause.text[:57] + "..."
            else:
                quote = span.text if len(span.text) <= 60 else span.text[:57] + "..."
                quote = ("..." if cause.text[:span.start].strip() else "") + quote
                quote += "..." if cause.text[span.end:].strip() and not quote.endswith("...") else ""
            if c == k:
                where = "this turn itself" + (f' ("{quote}")' if span is not None else "")
            else:
                where = f"turn {cause.index} ({cause.speaker}: \"{quote}\")"
            cues.append(Cue(kind="cause", phrase=f"{label} caused by {where}", weight=round(probability, 4),
                            label=label, turn=cause.index))
            entry: dict[str, Any] = {"turn": cause.index, "probability": round(probability, 4)}
            if span is not None:
                entry["span"] = span.to_dict()
            causes.append(entry)
        return replace(seg, cues=(*seg.cues, *cues), extras={**dict(seg.extras), "causes": causes})

    def _meld_label(self, label: str | None, label_set: str) -> str | None:
        """A word cue's label (e.g. GoEmotions 'gratitude') in this model's set ('joy')."""
        from affectlens.processing import closest_label

        if label is None or label_set == self.label_set:
            return label
        return closest_label(label, label_set, self.label_set)

    def _segment(self, dialogue: Dialogue, turn: Turn, probs: dict[str, np.ndarray], k: int,
                 labels: tuple[str, ...], text_result: EmotionResult) -> Segment:
        p = probs["context"][k]
        top = int(p.argmax())
        cues = [replace(c, label=self._meld_label(c.label, s.label_set)) for s in text_result.segments for c in s.cues]
        extras: dict[str, Any] = {"context": "dialogue", "erc": self.name}
        if "utterance" in probs:
            alone = probs["utterance"][k]
            extras["scores_without_context"] = {lb: round(float(v), 4) for lb, v in zip(labels, alone, strict=True)}
            change = float(p[top] - alone[top])
            if abs(change) >= CONTEXT_CUE_MIN_CHANGE:
                alone_top = labels[int(alone.argmax())]
                phrase = (f"dialogue context: {labels[top]} {alone[top]:.2f} -> {p[top]:.2f}"
                          + (f" (alone this turn reads as {alone_top})" if alone_top != labels[top] else ""))
                cues.append(Cue(kind="context", phrase=phrase, weight=round(change, 4), label=labels[top]))
        return Segment(
            modality=Modality.TEXT, label_set=self.label_set,
            scores={lb: float(v) for lb, v in zip(labels, p, strict=True)},
            labels=(labels[top],), vad=text_result.segments[0].vad, confidence=float(p[top]),
            provenance=Provenance(self.name, self.version), cues=tuple(cues), source=dialogue.source,
            text=turn.text, start=turn.start, end=turn.end, turn=turn.index, speaker=turn.speaker,
            record_id=dialogue.dialogue_id, extras=extras)


def _language_notes(dialogue: Dialogue) -> tuple[str, ...]:
    """The dialogue's language warning when its turns are plainly not English (``io.language_hints``)."""
    note = language_warning(" ".join(t.text for t in dialogue.turns if not t.is_empty), "dialogue")
    return () if note is None else (note,)


def _nothing_to_analyse(dialogue: Dialogue) -> EmotionResult:
    return EmotionResult((), dialogue.source, (*dialogue.warnings, "no non-empty turn: nothing to analyse"),
                         dialogue.dialogue_id)


def create(**params: Any) -> ContextualErc:
    return ContextualErc(**params)


__all__ = ["DEFAULT_MODEL_DIR", "ContextualErc", "create", "dialogue_inputs"]
