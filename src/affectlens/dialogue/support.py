"""Emotional-support strategies: where the seeker is, and which supportive move could come next.

``SupportRecognizer`` (registered as ``support.esconv-minilm.v1``) is a
``ConversationRecognizer``.  For a dialogue between a help-seeker and a supporter it:

* reads every turn once with the shipped text encoder (GoEmotions emotions, VAD, word
  cues: the segments of its result, as the context-free baseline gives them);
* reads which of the 8 ESConv strategies each supporter turn that was spoken used (the
  ``observe`` head; ``extras["strategy"]`` on that turn's segment);
* at every point where the supporter speaks next (before each supporter turn, and after a
  final seeker turn) gives a **calibrated probability for each strategy** (the ``suggest``
  head, temperature fitted on ESConv valid), the seeker's current emotion and trajectory so
  far, and cues: the parts of the context that pushed the suggestion up (the seeker's last
  turn and its words, the supporter's previous move, the seeker's valence shift).  The
  point is attached as ``extras["support"]`` to the turn after which the supporter speaks.

Care (``dialogue/support_care.py``): where the seeker's latest turns contain an explicit
crisis phrase from a fixed list, no strategy is suggested, and the point says to route the
person to a human.  Every point carries ``SUPPORT_NOTICE``: suggestions for a human
supporter, not therapy.

Who is the supporter: ``supporter=`` names them; else a speaker called ``sys``,
``supporter``, ``helper``, ``listener``, ``counselor``/``counsellor``, ``agent`` or
``volunteer``; else the second speaker to appear (with a warning saying so).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.calibration import softmax
from affectlens.dialogue.support_care import ROUTE_TO_PERSON, SUPPORT_NOTICE, crisis_in
from affectlens.dialogue.support_features import (
    N_STRATEGIES,
    STRATEGIES,
    observe_inputs,
    seeker_run,
    suggest_inputs,
)
from affectlens.dialogue.types import Dialogue, Turn
from affectlens.recognizer_params import RecognizerParams
from affectlens.types import Cue, EmotionResult, Modality, Provenance, Segment

DEFAULT_NAME = "support.esconv-minilm.v1"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "support-esconv-minilm-v1"
SUPPORTER_NAMES = frozenset({"sys", "supporter", "helper", "listener", "counselor", "counsellor", "agent",
                             "volunteer"})
SUPPORT_CUE = "support"
#: a seeker valence change at least this large between their last two turns is a cue
VALENCE_SHIFT_CUE = 0.2
#: the blocks of the suggest head's input, in order, and how a cue names each
_BLOCKS = (("seeker_turn", "the seeker's last turn"), ("supporter_turn", "the supporter's previous turn"),
           ("history", "the supporter's previous strategies"), ("state", "the seeker's valence and the position"))


def supporter_of(dialogue: Dialogue, supporter: str | None = None) -> tuple[str | None, str | None]:
    """``(supporter name, warning)``: the named one, a known role name, else the second speaker."""
    speakers = dialogue.speakers
    if supporter is not None:
        # a supporter who has not spoken yet still gets a suggestion for their first turn
        return (supporter, None) if supporter in speakers else (
            supporter, f"supporter {supporter!r} has not spoken in this dialogue yet")
    for name in speakers:
        if name.strip().lower() in SUPPORTER_NAMES:
            return name, None
    if len(speakers) < 2:
        return None, "one speaker only: no supporter to suggest strategies for"
    return speakers[1], (f"supporter assumed to be {speakers[1]!r} (the second speaker); "
                         "pass supporter=NAME to choose")


@dataclass(frozen=True)
class SupportPoint:
    """A point where the supporter speaks next: before turn ``next_turn`` (None: after the end)."""

    after_turn: int | None  # the dialogue's turn index after which the supporter speaks
    next_turn: int | None
    probabilities: dict[str, float] | None  # None where crisis language routes to a person
    suggested: str | None
    seeker_emotion: dict[str, Any] | None  # the seeker's last turn: top emotions, valence
    seeker_trajectory: list[dict[str, Any]]  # the seeker's turns so far
    cues: tuple[Cue, ...] = ()
    crisis: tuple[str, ...] = ()
    actual: str | None = None  # how the supporter's actual next turn reads (observe head), if spoken
    notice: str = SUPPORT_NOTICE
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def route_to_person(self) -> bool:
        return bool(self.crisis)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "after_turn": self.after_turn, "next_turn": self.next_turn, "suggested": self.suggested,
            "probabilities": self.probabilities, "seeker_emotion": self.seeker_emotion,
            "seeker_trajectory": self.seeker_trajectory, "cues": [c.to_dict() for c in self.cues],
            "route_to_person": self.route_to_person, "notice": self.notice}
        if self.crisis:
            out["crisis_phrases"] = list(self.crisis)
            out["message"] = ROUTE_TO_PERSON
        if self.actual is not None:
            out["actual_strategy"] = self.actual
        return out


class SupportRecognizer(RecognizerParams):
    """Seeker emotions per turn + the supporter's next strategy (ESConv's 8), with cues and care."""

    RUNTIME_PARAMS = frozenset({"supporter"})  # analysis only: with_params copies share the model

    modality = Modality.TEXT
    uses_context = True
    label_set = "goemotions"  # the segments' scores: the text model's emotions per turn

    def __init__(self, model_dir: str | Path | None = None, *, name: str = DEFAULT_NAME,
                 supporter: str | None = None, text_model: Any = None, threads: int | None = None,
                 verify: bool = True) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
        self.name = name
        self.version = name.rsplit(".", 1)[-1]
        self.supporter = supporter
        self.threads = threads
        self.verify = verify
        self._text_model = text_model
        self._heads: dict[str, Any] = {}
        self._config: dict[str, Any] = {}

    def load(self) -> None:
        if self._heads:
            return
        from affectlens.model_folder import load_onnx_heads
        from affectlens.recognizers.text_onnx import TextOnnxRecognizer

        # one small matrix product per head: threads cost more than they give
        config, heads = load_onnx_heads(self.model_dir, kind="support", threads=1, verify=self.verify)
        if self._text_model is None:
            # the heads learnt from the encoder's features as onnxruntime computes them with this
            # graph and these session entries (those of the conversation model)
            encoder = config["encoder"]
            self._text_model = TextOnnxRecognizer(threads=self.threads, model_file=encoder["file"],
                                                  session_config=encoder["onnxruntime_session_config"])
        self._text_model.load()
        self._config = config
        self._heads = heads

    @property
    def strategies(self) -> tuple[str, ...]:
        return STRATEGIES

    # -- the Recognizer contract: turn tables -------------------------------------------------------

    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        """One result per item; consecutive items with one ``dialogue_id`` are read as a dialogue."""
        from affectlens.dialogue.turn_tables import item_results, turn_table_dialogues
        from affectlens.inputs import as_text_item

        items = [as_text_item(x) for x in batch]
        out: list[EmotionResult] = []
        for group, dialogue in turn_table_dialogues(items):
            result = self.analyze_dialogues([dialogue])[0]
            out += item_results(items, group, result, result.warnings if len(group) > 1 else ())
        return out

    def _logits(self, mode: str, rows: list[np.ndarray]) -> np.ndarray:
        if not rows:
            return np.zeros((0, N_STRATEGIES))
        x = np.stack(rows).astype(np.float32)
        return np.asarray(self._heads[mode].run(["logits"], {"features": x})[0], dtype=np.float64)

    # -- the ConversationRecognizer contract ----------------------------------------------------

    def analyze_dialogues(self, dialogues: Sequence[Dialogue]) -> list[EmotionResult]:
        return [self._result(d, *self._analyse(d)) for d in dialogues]

    def suggest(self, dialogue: Dialogue, supporter: str | None = None) -> list[SupportPoint]:
        """Every point of ``dialogue`` where the supporter (default: ``self.supporter``) speaks next."""
        return self._analyse(dialogue, supporter)[1]

    def read_strategies(self, texts: Sequence[str], contexts: Sequence[str] | None = None) -> list[dict[str, float]]:
        """Which strategy each supporter ``text`` uses (``contexts``: the seeker turn before each).

        Used to classify replies that were not in a dialogue, e.g. an LLM's drafts.
        """
        self.load()
        if not texts:
            return []
        contexts = list(contexts) if contexts is not None else [""] * len(texts)
        out: list[dict[str, float]] = []
        for text, context in zip(texts, contexts, strict=True):
            turns = [t for t in (Turn(0, "seeker", context), Turn(1, "supporter", text)) if not t.is_empty]
            if not turns or turns[-1].speaker != "supporter":
                out.append({})
                continue
            features, _ = self._text_model.turn_features([t.text for t in turns])
            is_sup = np.array([t.speaker == "supporter" for t in turns])
            logits = self._logits("observe", [observe_inputs(features, is_sup, len(turns) - 1)])
            p = softmax(logits, self._config["temperatures"]["observe"])[0]
            out.append({s: round(float(v), 4) for s, v in zip(STRATEGIES, p, strict=True)})
        return out

    def _analyse(self, dialogue: Dialogue, supporter: str | None = None,
                 ) -> tuple[list[Turn], list[SupportPoint], list[EmotionResult], list[str]]:
        self.load()
        warnings: list[str] = []
        turns = [t for t in dialogue.turns if not t.is_empty]
        if not turns:
            return [], [], [], ["no non-empty turn: nothing to analyse"]
        supporter, warning = supporter_of(dialogue, supporter or self.supporter)
        if warning:
            warnings.append(warning)
        encoded = self._text_model.analyze_with_turn_features([t.text for t in turns])
        features = encoded.features
        vad = np.array([[r.segments[0].vad.valence, r.segments[0].vad.arousal, r.segments[0].vad.dominance]
                        if r.segments and r.segments[0].vad else [0.0, 0.0, 0.0] for r in encoded.results],
                       dtype=np.float32)
        if supporter is None:
            return turns, [], encoded.results, warnings
        is_sup = np.array([t.speaker == supporter for t in turns])
        temps = self._config["temperatures"]
        observed = np.zeros((len(turns), N_STRATEGIES), dtype=np.float32)
        sup_rows = [i for i in range(len(turns)) if is_sup[i]]
        if sup_rows:
            logits = self._logits("observe", [observe_inputs(features, is_sup, i) for i in sup_rows])
            observed[sup_rows] = softmax(logits, temps["observe"])
        points = [k for k in range(len(turns) + 1)
                  if (k < len(turns) and is_sup[k]) or (k == len(turns) and not is_sup[-1])]
        inputs = [suggest_inputs(features, vad, is_sup, observed, k) for k in points]
        logits = self._logits("suggest", inputs)
        probs = softmax(logits, temps["suggest"]) if len(points) else np.zeros((0, N_STRATEGIES))
        # each seeker turn's emotion once: every later point's trajectory and cues read it
        emotions = {i: _emotion(turns[i], encoded.results[i]) for i in range(len(turns)) if not is_sup[i]}
        out = [self._point(turns, encoded.results, emotions, is_sup, observed, k, inputs[n], probs[n])
               for n, k in enumerate(points)]
        return turns, out, encoded.results, warnings

    def _point(self, turns: list[Turn], results: list[EmotionResult], emotions: dict[int, dict[str, Any]],
               is_sup: np.ndarray, observed: np.ndarray, k: int, x: np.ndarray, p: np.ndarray) -> SupportPoint:
        seeker = [i for i in range(k) if not is_sup[i]]
        block = seeker_run(is_sup, k)
        trajectory = [emotions[i] for i in seeker]
        crisis = tuple(crisis_in([turns[i].text for i in block]))
        actual = STRATEGIES[int(observed[k].argmax())] if k < len(turns) else None
        common: dict[str, Any] = {"after_turn": turns[k - 1].index if k else None,
                  "next_turn": turns[k].index if k < len(turns) else None,
                  "seeker_emotion": trajectory[-1] if trajectory else None, "seeker_trajectory": trajectory,
                  "actual": actual}
        if crisis:
            cue = Cue(kind=SUPPORT_CUE, phrase=f"crisis language ({', '.join(crisis)}): {ROUTE_TO_PERSON}",
                      weight=0.0, turn=turns[block[0]].index)
            return SupportPoint(probabilities=None, suggested=None, cues=(cue,), crisis=crisis, **common)
        top = int(p.argmax())
        cues = self._cues(turns, results, trajectory, is_sup, observed, seeker, k, x, top)
        return SupportPoint(probabilities={s: round(float(v), 4) for s, v in zip(STRATEGIES, p, strict=True)},
                            suggested=STRATEGIES[top], cues=tuple(cues), **common)

    def _cues(self, turns: list[Turn], results: list[EmotionResult], trajectory: list[dict[str, Any]],
              is_sup: np.ndarray, observed: np.ndarray, seeker: list[int], k: int, x: np.ndarray,
              top: int) -> list[Cue]:
        """What pushed ``top`` up: each input block's share of its logit, and the seeker's words and shift."""
        label = STRATEGIES[top]
        dim = (len(x) - 3 * N_STRATEGIES - 10) // 2
        bounds = [0, dim, 2 * dim, 2 * dim + 3 * N_STRATEGIES, len(x)]
        # the head is linear: a block's contribution is the logit change when the block is zeroed,
        # taken against the strategies' mean change (read through onnxruntime: no onnx package needed)
        masked = [x.copy() for _ in _BLOCKS]
        for row, (lo, hi) in zip(masked, itertools.pairwise(bounds), strict=True):
            row[lo:hi] = 0.0
        logits = self._logits("suggest", [x, *masked])
        deltas = logits[0] - logits[1:]
        shares = [float(d[top] - d.mean()) for d in deltas]
        cues: list[Cue] = []
        supporter = [i for i in range(k) if is_sup[i]]
        for (block, description), share in sorted(zip(_BLOCKS, shares, strict=True), key=lambda z: -z[1]):
            if share <= 0:
                continue
            phrase, turn = description, None
            if block == "seeker_turn" and seeker:
                turn = turns[seeker[-1]].index
                phrase += f' ("{_short(turns[seeker[-1]].text)}")'
            elif block == "supporter_turn" and supporter:
                turn = turns[supporter[-1]].index
                phrase += f' ("{_short(turns[supporter[-1]].text)}")'
            elif block == "history" and supporter:
                phrase += f" (last read as {STRATEGIES[int(observed[supporter[-1]].argmax())]})"
            cues.append(Cue(kind=SUPPORT_CUE, phrase=f"{phrase} \u2192 {label} ({share:+.2f})",
                            weight=round(share, 4), label=label, turn=turn))
        if seeker:  # the seeker's words behind their emotion
            last = results[seeker[-1]]
            for cue in (last.segments[0].cues if last.segments else ())[:2]:
                if cue.kind == "word" and cue.span is not None:
                    word = turns[seeker[-1]].text[cue.span[0]:cue.span[1]]
                    # no span: the cue sits on the turn the supporter answers, which may not be this one
                    cues.append(Cue(kind=SUPPORT_CUE, phrase=f'seeker said "{word}" ({cue.label})',
                                    weight=round(cue.weight, 4), label=label, turn=turns[seeker[-1]].index))
        if len(seeker) > 1:
            a, b = trajectory[-2], trajectory[-1]
            change = (b["valence"] or 0.0) - (a["valence"] or 0.0)
            if a["emotion"] != b["emotion"] or abs(change) >= VALENCE_SHIFT_CUE:
                cues.append(Cue(kind=SUPPORT_CUE, weight=round(change, 4), label=label, value=round(change, 4),
                                turn=turns[seeker[-1]].index,
                                phrase=f"seeker moved {a['emotion']} \u2192 {b['emotion']} "
                                       f"(valence {a['valence']:+.2f} \u2192 {b['valence']:+.2f})"))
        return cues

    def _result(self, dialogue: Dialogue, turns: list[Turn], points: list[SupportPoint],
                results: list[EmotionResult], warnings: list[str]) -> EmotionResult:
        by_after = {p.after_turn: p for p in points if p.after_turn is not None}
        strategy_of = {p.next_turn: p.actual for p in points if p.next_turn is not None}
        segments: list[Segment] = []
        for turn, result in zip(turns, results, strict=True):
            for seg in result.segments[:1]:
                extras = {**dict(seg.extras), "context": "dialogue", "erc": self.name}
                cues = seg.cues
                if turn.index in strategy_of and strategy_of[turn.index] is not None:
                    extras["strategy"] = strategy_of[turn.index]
                point = by_after.get(turn.index)
                if point is not None:
                    extras["support"] = point.to_dict()
                    cues = (*cues, *point.cues)
                segments.append(replace(seg, speaker=turn.speaker, turn=turn.index, start=turn.start, end=turn.end,
                                        record_id=dialogue.dialogue_id, source=dialogue.source, text=turn.text,
                                        cues=cues, extras={**extras, "emotions_by": seg.provenance.recognizer},
                                        provenance=Provenance(self.name, self.version)))
        return EmotionResult(tuple(segments), dialogue.source, (*dialogue.warnings, *warnings), dialogue.dialogue_id)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _emotion(turn: Turn, result: EmotionResult) -> dict[str, Any]:
    """A seeker turn's emotion: the top Ekman group and GoEmotions labels, valence, arousal."""
    from affectlens.taxonomy import convert_scores

    seg = result.segments[0] if result.segments else None
    if seg is None:
        return {"turn": turn.index, "emotion": "", "labels": [], "valence": None, "arousal": None}
    ekman = convert_scores(seg.scores, seg.label_set, "ekman")
    top = max(ekman, key=lambda k: ekman[k]) if ekman else ""
    return {"turn": turn.index, "emotion": top, "labels": list(seg.labels),
            "valence": round(seg.vad.valence, 4) if seg.vad else None,
            "arousal": round(seg.vad.arousal, 4) if seg.vad else None}


def support_model(model: str | None = None, supporter: str | None = None) -> SupportRecognizer:
    """The loaded support recognizer: ``model`` (a registry name of one) or the shipped one."""
    if model is not None:
        from affectlens.registry import get_spec

        built = get_spec(model).build()
        if not isinstance(built, SupportRecognizer):
            raise ValueError(f"--support needs a support model (e.g. {DEFAULT_NAME}), not {model!r}")
    else:
        built = SupportRecognizer()
    if supporter is not None:
        built.supporter = supporter
    built.load()
    return built


def support_lines(result: EmotionResult) -> list[str]:
    """One line per support point of a result: what the CLI prints under a table."""
    out = []
    for seg in result.segments:
        point = seg.extras.get("support")
        if not point:
            continue
        where = f"  [{result.record_id}] after turn {point['after_turn']}"
        if point.get("route_to_person"):
            out.append(f"{where}: ROUTE TO A PERSON ({', '.join(point['crisis_phrases'])})")
            continue
        probs = point["probabilities"]
        ranked = sorted(probs, key=lambda k: -probs[k])[:2]
        emotion = point.get("seeker_emotion") or {}
        out.append(f"{where}: suggest {ranked[0]} ({probs[ranked[0]]:.2f}; then {ranked[1]} {probs[ranked[1]]:.2f})"
                   + (f"; seeker {emotion['emotion']}" if emotion.get("emotion") else "")
                   + (f"; actual {point['actual_strategy']}" if point.get("actual_strategy") else ""))
    return out


def create(**params: Any) -> SupportRecognizer:
    return SupportRecognizer(**params)


__all__ = ["DEFAULT_MODEL_DIR", "SUPPORTER_NAMES", "SupportPoint", "SupportRecognizer", "create", "support_lines",
           "support_model", "supporter_of"]
