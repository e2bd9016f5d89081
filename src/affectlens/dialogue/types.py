"""Typed dialogue inputs: a ``Dialogue`` is an ordered tuple of ``Turn`` s plus reading warnings."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

UNKNOWN_SPEAKER = "unknown"


@dataclass(frozen=True)
class Turn:
    """One utterance in a conversation.

    ``index`` is the turn's position in its dialogue (0-based, after ordering);
    ``start``/``end`` are seconds (None when the source has no times); ``media`` an
    optional audio/video file the turn belongs to.  An empty ``text`` is kept (with a
    warning on the dialogue), never dropped.
    """

    index: int
    speaker: str
    text: str
    start: float | None = None
    end: float | None = None
    media: str | None = None
    record_id: str | None = None  # e.g. the table row it came from

    @property
    def is_empty(self) -> bool:
        """Nothing to analyse: only whitespace, NULs or zero-width characters, or text that is not
        valid Unicode (``io.text_checks``; the dialogue's warnings say which)."""
        from affectlens.io.text_checks import text_problem

        return text_problem(self.text) is not None


@dataclass(frozen=True)
class Dialogue:
    dialogue_id: str
    turns: tuple[Turn, ...]
    source: str | None = None
    warnings: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.turns)

    def __iter__(self) -> Iterator[Turn]:
        return iter(self.turns)

    @property
    def speakers(self) -> tuple[str, ...]:
        """Speakers in order of first appearance."""
        seen: dict[str, None] = {}
        for turn in self.turns:
            seen.setdefault(turn.speaker, None)
        return tuple(seen)

    def history(self, index: int, window: int | None = None) -> tuple[Turn, ...]:
        """The turns before turn ``index`` (the last ``window`` of them when given)."""
        before = self.turns[:index]
        return before if window is None else before[max(0, len(before) - window):]


def dialogue_chunks(dialogues: Iterable[Dialogue], turns: int) -> Iterator[list[Dialogue]]:
    """Whole dialogues, in order, grouped into lists of about ``turns`` turns (bounded batches)."""
    chunk: list[Dialogue] = []
    n_turns = 0
    for dialogue in dialogues:
        chunk.append(dialogue)
        n_turns += len(dialogue)
        if n_turns >= turns:
            yield chunk
            chunk, n_turns = [], 0
    if chunk:
        yield chunk
