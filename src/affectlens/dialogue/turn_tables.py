"""Turn tables read as dialogues: what a conversation model's ``analyze(items)`` does with its items.

Consecutive ``TextItem`` s with one ``dialogue_id`` form a dialogue (an item without one is a
dialogue of its own); each dialogue's result is given back as one result per item, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from affectlens.dialogue.types import Dialogue, Turn
from affectlens.inputs import TextItem
from affectlens.types import EmotionResult

EMPTY_TURN_WARNING = "empty text: nothing to analyse"


def turn_table_dialogues(items: Sequence[TextItem]) -> list[tuple[list[int], Dialogue]]:
    """``(the items' indices, the dialogue they form)`` for each run of items with one ``dialogue_id``."""
    groups: list[list[int]] = []
    for i, item in enumerate(items):
        if groups and item.dialogue_id is not None and items[groups[-1][0]].dialogue_id == item.dialogue_id:
            groups[-1].append(i)
        else:
            groups.append([i])
    return [(group, Dialogue(items[group[0]].dialogue_id or f"item {group[0]}", tuple(
        Turn(k, items[i].speaker or "?", items[i].text, items[i].start, items[i].end, record_id=items[i].record_id)
        for k, i in enumerate(group)), source=items[group[0]].source)) for group in groups]


def item_results(items: Sequence[TextItem], group: Sequence[int], result: EmotionResult,
                 warnings: tuple[str, ...] = ()) -> list[EmotionResult]:
    """One result per item of ``group`` from its dialogue's ``result``: the turn's segment (with the
    item's own turn and record id, and ``warnings``), or an empty result that says the turn was empty."""
    by_turn = {seg.turn: seg for seg in result.segments}
    out: list[EmotionResult] = []
    for k, i in enumerate(group):
        seg = by_turn.get(k)
        if seg is None:
            out.append(EmotionResult((), items[i].source, (EMPTY_TURN_WARNING,), items[i].record_id))
        else:
            out.append(EmotionResult((replace(seg, turn=items[i].turn, record_id=items[i].record_id),),
                                     items[i].source, warnings, items[i].record_id))
    return out


__all__ = ["EMPTY_TURN_WARNING", "item_results", "turn_table_dialogues"]
