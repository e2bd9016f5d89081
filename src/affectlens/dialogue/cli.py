"""What ``affectlens analyze FILE --dialogue`` (and ``analyze talk.srt``) runs.

Kept out of ``cli.py`` so that the CLI stays thin: read dialogues, run the
conversation recognizer (the shipped context model, or the context-free baseline over a
chosen text model), map labels, add shift cues, write the results, print reading
warnings and the shifts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import astuple
from pathlib import Path
from typing import Any

import typer

from affectlens.dialogue.conversation import (
    ConversationRecognizer,
    UtteranceBaseline,
    emotion_shifts,
    with_shift_cues,
)
from affectlens.dialogue.io import read_dialogues
from affectlens.dialogue.types import dialogue_chunks
from affectlens.io.fingerprint import changed_parts, content_hash, record_parts
from affectlens.types import EmotionResult

#: file suffixes that are always read as dialogues (no --dialogue needed)
ALWAYS_DIALOGUE = (".srt", ".vtt")
#: turns (whole dialogues) per call of the recognizer: results stream out, progress moves
TURNS_PER_CALL = 512


def conversation_model(model: str | None = None, batch_size: int = 64) -> ConversationRecognizer:
    """The loaded dialogue model: ``model`` if it reads dialogues, a context-free baseline over
    ``model`` if it is a text model, else the shipped context model (the baseline over the
    default text model when the context model's files are not in place)."""
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
        typer.echo(f"warning: no context model ({exc}); each turn is classified alone", err=True)
    baseline = UtteranceBaseline(batch_size=batch_size)
    baseline.load()
    return baseline


def _signature(record: dict[str, Any]) -> tuple[str, str]:
    """What a resumed run must share with the records it continues: label set and recognizer."""
    segments = record.get("segments") or [{}]
    return str(segments[0].get("label_set")), str(segments[0].get("provenance", {}).get("recognizer"))


def results_already_written(out: Path) -> tuple[set[str], tuple[str, str] | None]:
    """Dialogue ids of the complete records in the JSON Lines file ``out``, and the signature
    (label set, recognizer) they were written with.

    A last line cut short by a kill is removed from the file, so that appending continues
    cleanly; any other line that is not a result record stops the resume with an error.
    """
    if not out.exists():
        return set(), None
    data = out.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        with out.open("r+b") as handle:
            handle.truncate(end)
    done: set[str] = set()
    signature: tuple[str, str] | None = None
    for number, line in enumerate(data[:end].decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            done.add(str(record["record_id"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"cannot resume from {out}: line {number} is not a result record ({exc})") from exc
        signature = signature or _signature(record)
    return done, signature


def run_dialogue_analysis(path: str | Path, fmt: str, out: Path | None, *, labels: str | None = None,
                          model: str | None = None, batch_size: int = 64,
                          shift_labels: str = "ekman", progress: Callable[[Any], None] | None = None,
                          resume: bool = False, support: bool = False, supporter: str | None = None) -> int:
    """Analyse every dialogue in ``path``; returns the number of dialogues written.

    Results stream to the output about ``TURNS_PER_CALL`` turns at a time (whole dialogues),
    with ``progress`` (a ``processing.ProgressUpdate`` callback) told after each call.
    ``resume`` (JSON Lines ``out`` only) skips the dialogues ``out`` already holds and appends
    the others, refusing when the earlier records came from another model or label set, or
    hold dialogues that ``path`` does not have (another input).
    """
    from affectlens import output, processing

    path = Path(path)
    if labels:
        processing.check_label_set(labels)
    if resume and (fmt != "jsonl" or out is None):
        raise ValueError("--resume needs --out PATH written as JSON Lines (--format jsonl)")
    dialogues = read_dialogues(path)
    for dialogue in dialogues:
        for warning in dialogue.warnings:
            typer.echo(f"warning: {warning}", err=True)
    written, signature = results_already_written(out) if resume and out is not None else (set(), None)
    foreign = written - {d.dialogue_id for d in dialogues}
    if foreign:
        # records of dialogues this input lacks: the output belongs to another input
        raise ValueError(f"cannot resume in {out}: it holds {len(foreign)} dialogue(s) that {path} does not "
                         f"have (e.g. {sorted(foreign)[0]!r}); was it written from another input? Use a new --out")
    parts = {d.dialogue_id: content_hash([list(astuple(t)) for t in d.turns]) for d in dialogues}
    if written and out is not None and (changed := changed_parts(out, path, parts, written)) is not None:
        raise ValueError(f"cannot resume: {changed}; use a new --out (or delete it) to start over")
    if fmt == "jsonl" and out is not None:
        record_parts(out, path, parts)  # what a later --resume checks each written dialogue against
    if written:
        before = len(dialogues)
        dialogues = [d for d in dialogues if d.dialogue_id not in written]
        typer.echo(f"resuming: {before - len(dialogues)} dialogue(s) already in {out}", err=True)
    if support or supporter is not None:
        from affectlens.dialogue.support import support_model

        recognizer: ConversationRecognizer = support_model(model, supporter)
    else:
        recognizer = conversation_model(model, batch_size=batch_size)
    n_turns = sum(len(d) for d in dialogues)
    lines: list[str] = []
    suggestions: list[str] = []

    def results() -> Iterator[EmotionResult]:
        done = 0
        for chunk in dialogue_chunks(dialogues, TURNS_PER_CALL):
            for result in recognizer.analyze_dialogues(chunk):
                result = with_shift_cues(processing.map_result(result, labels), labels or shift_labels)
                first = result.segments[0] if result.segments else None
                this_run = (first.label_set, first.provenance.recognizer) if first else None
                if signature is not None and this_run is not None and this_run != signature:
                    raise ValueError(
                        f"cannot resume in {out}: its records were written with label set and model "
                        f"{signature}, this run gives {this_run}; use the same --labels and --model, "
                        "or a new --out")
                lines.extend(f"  [{result.record_id}] turn {shift.turn}: {shift.describe()}"
                             for shift in emotion_shifts(result, labels or shift_labels))
                if support or supporter is not None:
                    from affectlens.dialogue.support import support_lines

                    suggestions.extend(support_lines(result))
                yield result
            done += sum(len(d) for d in chunk)
            if progress is not None:
                progress(processing.ProgressUpdate(done, n_turns, done / max(1, n_turns), "turns"))

    count = output.write_results(results(), fmt, out, append=resume)
    typer.echo(f"{len(dialogues)} dialogue(s), {n_turns} turn(s), {len(lines)} emotion shift(s) "
               f"[{recognizer.name}: " + ("each turn read with its dialogue]" if recognizer.uses_context
                                          else "context-free baseline, each turn classified alone]"), err=True)
    if fmt == "table" and out is None:
        for line in lines[:50]:
            typer.echo(line, err=True)
        if len(lines) > 50:
            typer.echo(f"  ... {len(lines) - 50} more (see the emotion_shift cues)", err=True)
    if suggestions:
        from affectlens.dialogue.support_care import SUPPORT_NOTICE

        typer.echo(f"support: {SUPPORT_NOTICE}", err=True)
        for line in suggestions[:50] if fmt == "table" and out is None else []:
            typer.echo(line, err=True)
    return count

