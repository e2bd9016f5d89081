from __future__ import annotations

from affectlens.bench.datasets import MeldUtterance
from affectlens.training.erc_meld import SEP, TARGET, context_examples


def _u(d: str, turn: int, speaker: str, text: str, emotion: str = "neutral") -> MeldUtterance:
    return MeldUtterance(d, turn, speaker, text, emotion, "neutral", None, None)


def test_context_examples_use_only_earlier_turns_of_the_same_dialogue() -> None:
    rows = [_u("0", 0, "Ross", "Hi"), _u("0", 1, "Rachel", "Oh no", "sadness"),
            _u("0", 2, "Ross", "What?", "surprise"), _u("1", 0, "Joey", "Food!", "joy")]
    examples = context_examples(rows, window=1)
    assert [e.text for e in examples] == [
        f"{TARGET}Ross: Hi", f"Ross: Hi{SEP}{TARGET}Rachel: Oh no",
        f"Rachel: Oh no{SEP}{TARGET}Ross: What?", f"{TARGET}Joey: Food!"]
    assert [e.label for e in examples] == [0, 4, 2, 1]
    assert context_examples(rows, window=0)[2].text == f"{TARGET}Ross: What?"
