"""A small dialogue input: ordered turns (``TextItem`` with speaker and turn index)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from affectlens.inputs import InputError, TextItem


@dataclass(frozen=True)
class Dialogue:
    """Turns in order.  ``targets`` picks the turn positions to label (None: every turn).

    A turn's ``turn`` field, when set, is its index in the conversation; otherwise its
    position in ``turns`` is used.
    """

    turns: tuple[TextItem, ...]
    record_id: str | None = None
    source: str | None = None
    targets: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if not self.turns:
            raise InputError("a dialogue needs at least one turn")
        if self.targets is not None:
            bad = [t for t in self.targets if not 0 <= t < len(self.turns)]
            if bad:
                raise InputError(f"dialogue targets {bad} outside 0..{len(self.turns) - 1}")

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str | None, str]], **kwargs: object) -> Dialogue:
        """``[("Alice", "Hi"), ("Bob", "Hello")]`` -> a dialogue (speaker may be None)."""
        turns = tuple(TextItem(text, speaker=speaker, turn=i) for i, (speaker, text) in enumerate(pairs))
        return cls(turns, **kwargs)  # type: ignore[arg-type]

    def turn_index(self, position: int) -> int:
        turn = self.turns[position].turn
        return turn if turn is not None else position

    @property
    def target_positions(self) -> tuple[int, ...]:
        return self.targets if self.targets is not None else tuple(range(len(self.turns)))


def as_dialogue(value: object) -> Dialogue | None:
    """A ``Dialogue``, or a list/tuple of ``TextItem``/``str`` read as one; None for anything else."""
    if isinstance(value, Dialogue):
        return value
    if (isinstance(value, Sequence) and not isinstance(value, str | bytes) and value
            and all(isinstance(v, TextItem | str) for v in value)):
        return Dialogue(tuple(v if isinstance(v, TextItem) else TextItem(v) for v in value))
    return None
