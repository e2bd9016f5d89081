"""Drafting a supporter's reply with the user's own LLM, following a support strategy.

``draft_reply`` asks the configured OpenAI-compatible endpoint (``llm/config.py``; nothing is
sent unless one is configured) to write the supporter's next message in a given ESConv
strategy (by default the one ``support.esconv-minilm.v1`` suggests) and to explain the
choice.  Where the seeker's latest turns hold crisis language, nothing is drafted and the
draft says to route the person to a human.

``strategy_study`` is the bench mode (``affectlens bench esconv --llm``): on ESConv test
points it asks the LLM for the supporter's next message twice, without and with our
suggested strategy in the prompt, classifies each draft's strategy with our ``observe``
head, and counts how often it matches the human supporter's strategy, with the KL
divergence of the LLM's strategy mix from the human one (its preference bias).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from affectlens.dialogue.support_care import ROUTE_TO_PERSON, SUPPORT_NOTICE, crisis_in
from affectlens.dialogue.support_features import N_STRATEGIES, STRATEGIES, seeker_run
from affectlens.dialogue.types import Dialogue

#: one line per strategy, after ESConv's definitions (Liu et al. 2021, Helping Skills Theory)
STRATEGY_GUIDE: dict[str, str] = {
    "Question": "ask an open question that helps the seeker say more about their situation or feelings",
    "Restatement or Paraphrasing": "restate what the seeker said, briefly and more clearly, to show you follow",
    "Reflection of feelings": "name and reflect the feelings the seeker seems to have",
    "Self-disclosure": "share a brief, relevant experience of your own to show you understand",
    "Affirmation and Reassurance": "affirm the seeker's strengths or efforts and reassure them",
    "Providing Suggestions": "offer a possible way to act or to think about the problem, without ordering",
    "Information": "give useful, factual information (e.g. about resources), without diagnosing",
    "Others": "greet, thank, or make small talk that keeps the conversation going",
}
DRAFT_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["reply", "explanation"],
    "properties": {"reply": {"type": "string"}, "explanation": {"type": "string"}},
}
FREE_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["reply"],
    "properties": {"reply": {"type": "string"}},
}


@dataclass(frozen=True)
class Draft:
    """A drafted supporter message (None where crisis language routes to a person)."""

    reply: str | None
    strategy: str | None
    explanation: str | None
    suggested_by: str  # "model" (our suggestion), "user" (a chosen strategy) or "none"
    crisis: tuple[str, ...] = ()
    notice: str = SUPPORT_NOTICE

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"reply": self.reply, "strategy": self.strategy, "explanation": self.explanation,
               "suggested_by": self.suggested_by, "notice": self.notice}
        if self.crisis:
            out.update({"route_to_person": True, "crisis_phrases": list(self.crisis), "message": ROUTE_TO_PERSON})
        return out


def render_conversation(dialogue: Dialogue, supporter: str) -> str:
    lines = [f"{'Supporter' if t.speaker == supporter else 'Seeker'}: {t.text}" for t in dialogue.turns
             if not t.is_empty]
    return "\n".join(lines)


def _messages(conversation: str, strategy: str | None) -> list[dict[str, str]]:
    system = ("You help a trained human peer supporter draft their next message in an emotional-support chat. "
              "The draft is a suggestion the human will edit; it is not therapy. Write one short message "
              "(1-3 sentences) in a warm, plain voice. Reply with one JSON object only.")
    if strategy is None:
        task = 'Write the supporter\'s next message. JSON: {"reply": "..."}'
    else:
        task = (f"Write the supporter's next message using the strategy \u201c{strategy}\u201d: "
                f"{STRATEGY_GUIDE[strategy]}. Then explain in one sentence why this strategy fits now. "
                'JSON: {"reply": "...", "explanation": "..."}')
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"{task}\n\nConversation so far:\n{conversation}"}]


def _parse(with_explanation: bool) -> Callable[[str], dict[str, str]]:
    from affectlens.llm.parsing import ReplyParseError, extract_json

    def parse(text: str) -> dict[str, str]:
        data = extract_json(text)
        if not isinstance(data, dict) or not str(data.get("reply", "")).strip():
            raise ReplyParseError('expected {"reply": "..."} with a non-empty reply')
        out = {"reply": str(data["reply"]).strip()}
        if with_explanation:
            out["explanation"] = str(data.get("explanation", "")).strip()
        return out

    return parse


def draft_reply(dialogue: Dialogue, strategy: str | None = None, *, client: Any = None, recognizer: Any = None,
                supporter: str | None = None, **config: Any) -> Draft:
    """The supporter's next message in ``strategy`` (default: our suggestion), drafted by the user's LLM.

    ``client`` is a ``ChatClient`` (default: one over ``resolve_config(**config)``, which
    raises ``LLMNotConfigured`` before anything is sent when no endpoint is set).
    """
    from affectlens.dialogue.support import SupportRecognizer, supporter_of

    if strategy is not None and strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    who, _ = supporter_of(dialogue, supporter)
    if who is None:
        raise ValueError("cannot tell who the supporter is: pass supporter=NAME")
    turns = [t for t in dialogue.turns if not t.is_empty]
    crisis = tuple(crisis_in([turns[i].text for i in seeker_run([t.speaker == who for t in turns], len(turns))]))
    suggested_by = "user" if strategy is not None else "model"
    if crisis:
        return Draft(None, None, None, suggested_by, crisis)
    if strategy is None:
        rec = recognizer or SupportRecognizer(supporter=who)
        points = rec.suggest(dialogue)
        last = points[-1] if points and points[-1].next_turn is None else None
        if last is None or last.suggested is None:
            raise ValueError("the supporter spoke last: there is no next supporter turn to draft")
        strategy = last.suggested
    client = client or chat_client(**config)
    data, _ = client.complete(_messages(render_conversation(dialogue, who), strategy), _parse(True),
                              schema=DRAFT_SCHEMA, schema_name="support_draft")
    return Draft(data["reply"], strategy, data.get("explanation") or None, suggested_by)


def chat_client(**config: Any) -> Any:
    """A ``ChatClient`` over ``resolve_config(**config)``: ``LLMNotConfigured`` before anything is sent
    when no endpoint is set."""
    from affectlens.llm.client import ChatClient
    from affectlens.llm.config import resolve_config

    return ChatClient(resolve_config(**config))


def strategy_study(dialogues: Sequence[Any], *, client: Any, recognizer: Any, limit: int = 200,
                   seed: int = 0, on_progress: Callable[[str], None] = print) -> dict[str, Any]:
    """How often the LLM's own strategy matches the human supporter's, without and with our suggestion.

    ``dialogues`` are ESConv dialogues (``bench.esconv_data.EsconvDialogue``); ``limit``
    supporter turns are drawn at random (``seed``) among those after a seeker turn.
    """
    from affectlens.dialogue.types import Turn
    from affectlens.metrics import distribution_kl

    candidates = [(d, i) for d, dialogue in enumerate(dialogues) for i, s in enumerate(dialogue.speakers)
                  if s == "sys" and i > 0 and dialogue.speakers[i - 1] == "usr"]
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(len(candidates), size=min(limit, len(candidates)), replace=False).tolist())
    gold, plain, guided, ours = [], [], [], []
    for n, k in enumerate(chosen):
        d, i = candidates[k]
        source = dialogues[d]
        context = Dialogue(f"{source.dialogue_id}@{i}", tuple(
            Turn(j, source.speakers[j], source.texts[j]) for j in range(i)))
        points = recognizer.suggest(context, "sys")
        point = points[-1] if points and points[-1].next_turn is None else None
        if point is None or point.suggested is None:  # crisis language: not drafted, not counted
            continue
        conversation = render_conversation(context, "sys")
        free, _ = client.complete(_messages(conversation, None), _parse(False), schema=FREE_SCHEMA,
                                  schema_name="support_reply")
        steered, _ = client.complete(_messages(conversation, point.suggested), _parse(True), schema=DRAFT_SCHEMA,
                                     schema_name="support_draft")
        read = recognizer.read_strategies([free["reply"], steered["reply"]], [source.texts[i - 1]] * 2)
        plain.append(STRATEGIES.index(max(read[0], key=lambda s: read[0][s])))
        guided.append(STRATEGIES.index(max(read[1], key=lambda s: read[1][s])))
        gold.append(STRATEGIES.index(source.strategies[i]))
        ours.append(STRATEGIES.index(point.suggested))
        if (n + 1) % 20 == 0:
            on_progress(f"LLM study: {n + 1}/{len(chosen)} points")
    g = np.array(gold)

    def summary(pred: list[int]) -> dict[str, Any]:
        p = np.array(pred)
        return {"match_human": round(float((p == g).mean()), 4) if len(g) else None,
                "kl_to_human": round(distribution_kl(g, p, N_STRATEGIES), 4) if len(g) else None,
                "share": {s: round(float((p == k).mean()), 4) if len(p) else 0.0
                          for k, s in enumerate(STRATEGIES)}}

    return {"points": len(g), "drawn": len(chosen), "seed": seed,
            "llm_alone": summary(plain), "llm_with_our_suggestion": summary(guided), "our_suggestion": summary(ours),
            "followed_our_suggestion": round(float((np.array(guided) == np.array(ours)).mean()), 4) if ours else None,
            "strategies": list(STRATEGIES), "n_strategies": N_STRATEGIES,
            "method": "each draft's strategy is read by support.esconv-minilm.v1's observe head (not by a human)"}


__all__ = ["DRAFT_SCHEMA", "STRATEGY_GUIDE", "Draft", "chat_client", "draft_reply", "render_conversation",
           "strategy_study"]
