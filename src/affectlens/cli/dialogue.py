"""What ``affectlens analyze FILE --dialogue`` (and ``analyze talk.srt``) runs.

Kept out of ``cli.py`` so that the CLI stays thin: read dialogues, run the
conversation recognizer (the shipped context model, or the context-free baseline over a
chosen text model), map labels, add shift cues, write the results, print reading
warnings and the shifts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import astuple
from pathlib import Path
from typing import Any

import typer

from affectlens.dialogue.analysis import DialogueRun
from affectlens.dialogue.analysis import conversation_model as conversation_model  # re-exported (moved)
from affectlens.io.fingerprint import changed_parts, content_hash, record_parts
from affectlens.types import EmotionResult


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
    """Analyse every dialogue in ``path`` through the planner's dialogue route; returns the number
    of dialogues written (see ``write_dialogue_run``)."""
    from affectlens import planner
    from affectlens.options import AnalyzeOptions

    if resume and (fmt != "jsonl" or out is None):
        raise ValueError("--resume needs --out PATH written as JSON Lines (--format jsonl)")
    options = AnalyzeOptions(labels=labels, batch_size=batch_size, dialogue=True, support=support, supporter=supporter)
    analysis = planner.start(path, options, model=model, progress=progress)
    analysis.details.shift_labels = shift_labels
    return write_dialogue_run(analysis.details, Path(path), fmt, out, resume=resume)


def write_dialogue_run(run: DialogueRun, path: Path, fmt: str, out: Path | None, *, resume: bool = False) -> int:
    """Write ``run``'s results (streamed, whole dialogues per model call) and print its summary and shifts.

    ``resume`` (JSON Lines ``out`` only) skips the dialogues ``out`` already holds and appends
    the others, refusing when the earlier records came from another model or label set, or
    hold dialogues that ``path`` does not have (another input).
    """
    from affectlens import output

    if resume and (fmt != "jsonl" or out is None):
        raise ValueError("--resume needs --out PATH written as JSON Lines (--format jsonl)")
    dialogues = run.dialogues
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
        run.dialogues = [d for d in dialogues if d.dialogue_id not in written]
        typer.echo(f"resuming: {len(dialogues) - len(run.dialogues)} dialogue(s) already in {out}", err=True)

    def same_signature(result: EmotionResult) -> None:
        first = result.segments[0] if result.segments else None
        this_run = (first.label_set, first.provenance.recognizer) if first else None
        if signature is not None and this_run is not None and this_run != signature:
            raise ValueError(
                f"cannot resume in {out}: its records were written with label set and model "
                f"{signature}, this run gives {this_run}; use the same --labels and --model, "
                "or a new --out")

    run.check = same_signature
    count = output.write_results(run.results(), fmt, out, append=resume)
    typer.echo(run.summary(), err=True)
    lines = run.shift_lines
    if fmt == "table" and out is None:
        for line in lines[:50]:
            typer.echo(line, err=True)
        if len(lines) > 50:
            typer.echo(f"  ... {len(lines) - 50} more (see the emotion_shift cues)", err=True)
    if run.suggestions:
        from affectlens.dialogue.support_care import SUPPORT_NOTICE

        typer.echo(f"support: {SUPPORT_NOTICE}", err=True)
        for line in run.suggestions[:50] if fmt == "table" and out is None else []:
            typer.echo(line, err=True)
    return count
