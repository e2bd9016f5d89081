"""Recipe skeleton for the context-aware MELD model (issue 6, goal 2). NOT trained yet.

What exists and is tested: the data preparation (``context_examples``), which turns
MELD's official splits into (context + target utterance, label) pairs the way the
planned model will read them at run time through ``affectlens.dialogue.TurnInContext``::

    python -m affectlens.training.erc_meld stats --window 4

The plan (to be written and measured; no number is claimed here):

1. Encoder: the shipped MiniLM-L6 (``training/text.py``), initialised from the GoEmotions
   fine-tune; input = the last ``window`` turns as ``"<speaker>: <text>"`` joined by
   ``" [SEP] "``, the target turn last and marked (``"[TARGET] <speaker>: <text>"``),
   truncated from the left at 128 tokens.
2. Head: 7-way softmax over ``MELD_LABELS``, class-weighted cross-entropy (neutral is 47%
   of train); select the epoch on dev weighted-F1; temperature-scale on dev.
3. Ablation in the same run: the same recipe with ``window=0`` (no context) to report
   the gain from context on MELD test (``affectlens bench meld``).
4. Export to int8 ONNX like the text model and wrap it as a ``ConversationRecognizer``
   (``uses_context = True``) that builds the same strings from ``TurnInContext``.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from affectlens.bench.datasets import MELD_LABELS, MeldUtterance, load_meld

SEP = " [SEP] "
TARGET = "[TARGET] "


@dataclass(frozen=True)
class ContextExample:
    text: str  # context turns, then the marked target turn
    label: int  # index into MELD_LABELS
    dialogue_id: str
    turn: int


def format_turn(speaker: str, text: str) -> str:
    return f"{speaker}: {text.strip()}"


def context_string(history: Sequence[tuple[str, str]], target: tuple[str, str], window: int) -> str:
    """``window`` previous (speaker, text) turns and the target, oldest first, target marked."""
    previous = list(history)[-window:] if window > 0 else []
    parts = [format_turn(s, t) for s, t in previous] + [TARGET + format_turn(*target)]
    return SEP.join(parts)


def context_examples(utterances: Sequence[MeldUtterance], window: int = 4) -> list[ContextExample]:
    """One example per utterance, with up to ``window`` earlier turns of the same dialogue."""
    out: list[ContextExample] = []
    history: list[tuple[str, str]] = []
    current: str | None = None
    for u in utterances:
        if u.dialogue_id != current:
            current, history = u.dialogue_id, []
        out.append(ContextExample(context_string(history, (u.speaker, u.text), window),
                                  MELD_LABELS.index(u.emotion), u.dialogue_id, u.turn))
        history.append((u.speaker, u.text))
    return out


def _stats(window: int, root: Path | None) -> None:
    for split in ("train", "dev", "test"):
        rows = load_meld(split, root)
        examples = context_examples(rows, window)
        counts = Counter(MELD_LABELS[e.label] for e in examples)
        mean_chars = sum(len(e.text) for e in examples) / max(1, len(examples))
        print(f"{split}: {len(examples)} utterances, {len({r.dialogue_id for r in rows})} dialogues, "
              f"mean input {mean_chars:.0f} chars with window {window}; "
              + ", ".join(f"{k} {v / len(examples):.1%}" for k, v in counts.most_common()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m affectlens.training.erc_meld", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    stats = sub.add_parser("stats", help="split sizes, label shares and input lengths")
    stats.add_argument("--window", type=int, default=4)
    stats.add_argument("--data-root", type=Path, default=None)
    sub.add_parser("train", help="not written yet")
    args = parser.parse_args(argv)
    if args.command == "stats":
        _stats(args.window, args.data_root)
        return 0
    parser.error("training is not written yet: this module is a recipe skeleton (see its docstring)")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
