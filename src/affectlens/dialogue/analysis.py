"""The dialogue route of the processing layer: read dialogues, pick the conversation model, stream results.

No command-line code here (the CLI, the service and ``fusion.media`` all use it): the loaded
conversation model (``conversation_model``) and one run over a file of dialogues
(``DialogueRun``: whole dialogues, ``TURNS_PER_CALL`` turns per model call, label mapping,
emotion-shift cues, progress).  What a surface prints about the run (the summary, the shifts,
support suggestions) it reads from the run's fields.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from affectlens.dialogue.conversation import (
    ConversationRecognizer,
    UtteranceBaseline,
    emotion_shifts,
    with_shift_cues,
)
from affectlens.dialogue.types import Dialogue, dialogue_chunks
from affectlens.recognizer_pool import AffectlensWarning
from affectlens.types import EmotionResult

#: turns (whole dialogues) per call of the recognizer: results stream out, progress moves
TURNS_PER_CALL = 512
#: the label set emotion shifts are described in when no --labels is given
SHIFT_LABELS = "ekman"


def conversation_model(model: str | None = None, batch_size: int = 64) -> ConversationRecognizer:
    """The loaded dialogue model: ``model`` if it reads dialogues, a context-free baseline over
    ``model`` if it is a text model, else the shipped context model (the baseline over the
    default text model, with an ``AffectlensWarning``, when the context model's files are not in place)."""
    from affectlens.registry import get_spec

    if model is not None:
        built = get_spec(model).build()
        if isinstance(built, ConversationRecognizer):
            built.load()
            return built
        baseline = UtteranceBaseline(built, batch_size=batch_size)
        baseline.load()
        return baseline
    from affectlens.dialogue.context_model import ContextualErc

    try:
        contextual = ContextualErc()
        contextual.load()
        return contextual
    except FileNotFoundError as exc:
        warnings.warn(f"no context model ({exc}); each turn is classified alone", AffectlensWarning, stacklevel=2)
    baseline = UtteranceBaseline(batch_size=batch_size)
    baseline.load()
    return baseline


@dataclass
class DialogueRun:
    """One lazy run over ``dialogues``; ``results()`` streams one ``EmotionResult`` per dialogue.

    ``shift_lines`` and ``suggestions`` fill while the results stream (for a surface to print);
    ``check`` (e.g. the CLI's resume guard) sees every result before it is yielded.
    """

    dialogues: list[Dialogue]
    recognizer: ConversationRecognizer
    labels: str | None = None
    support: bool = False
    progress: Callable[[Any], None] | None = None
    check: Callable[[EmotionResult], None] | None = None
    shift_labels: str = SHIFT_LABELS
    reading_warnings: list[str] = field(default_factory=list)
    shift_lines: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    @property
    def turns(self) -> int:
        return sum(len(d) for d in self.dialogues)

    def results(self) -> Iterator[EmotionResult]:
        from affectlens import processing

        done = 0
        total = self.turns
        for chunk in dialogue_chunks(self.dialogues, TURNS_PER_CALL):
            for result in self.recognizer.analyze_dialogues(chunk):
                result = with_shift_cues(processing.map_result(result, self.labels), self.labels or self.shift_labels)
                if self.check is not None:
                    self.check(result)
                self.shift_lines.extend(f"  [{result.record_id}] turn {shift.turn}: {shift.describe()}"
                                        for shift in emotion_shifts(result, self.labels or self.shift_labels))
                if self.support:
                    from affectlens.dialogue.support import support_lines

                    self.suggestions.extend(support_lines(result))
                yield result
            done += sum(len(d) for d in chunk)
            if self.progress is not None:
                self.progress(processing.ProgressUpdate(done, total, done / max(1, total), "turns"))

    def summary(self) -> str:
        """``2 dialogue(s), 3 turn(s), 0 emotion shift(s) [model: ...]`` (after the results were read)."""
        how = ("each turn read with its dialogue]" if self.recognizer.uses_context
               else "context-free baseline, each turn classified alone]")
        return (f"{len(self.dialogues)} dialogue(s), {self.turns} turn(s), {len(self.shift_lines)} emotion shift(s) "
                f"[{self.recognizer.name}: " + how)


def read_dialogue_file(path: str | Path) -> tuple[list[Dialogue], list[str]]:
    """The dialogues in ``path`` and what looked wrong while reading them."""
    from affectlens.dialogue.io import read_dialogues

    dialogues = read_dialogues(Path(path))
    return dialogues, [w for d in dialogues for w in d.warnings]


def start_dialogue_run(path: str | Path, *, model: str | None = None, labels: str | None = None,
                       batch_size: int = 64, support: bool = False, supporter: str | None = None,
                       progress: Callable[[Any], None] | None = None) -> DialogueRun:
    """Read ``path`` (checking ``labels`` first), load the model, return the lazy run."""
    from affectlens import processing

    if labels:
        processing.check_label_set(labels)
    dialogues, reading_warnings = read_dialogue_file(path)
    support = support or supporter is not None
    if support:
        from affectlens.dialogue.support import support_model

        recognizer: ConversationRecognizer = support_model(model, supporter)
    else:
        recognizer = conversation_model(model, batch_size=batch_size)
    return DialogueRun(dialogues, recognizer, labels, support, progress, reading_warnings=reading_warnings)


__all__ = ["TURNS_PER_CALL", "DialogueRun", "conversation_model", "read_dialogue_file", "start_dialogue_run"]
