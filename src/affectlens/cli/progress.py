"""What ``affectlens analyze`` shows while it runs: a progress bar, and one line about inputs without a result."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer


class ProblemCounter:
    """Counts inputs that gave no result, to print one summary line at the end."""

    def __init__(self) -> None:
        self.total = 0
        self.empty: list[str] = []
        self.count_empty = 0

    def watch(self, results: Iterator[Any]) -> Iterator[Any]:
        for result in results:
            self.total += 1
            yield result  # counted once written: a streamed video's segments and warnings are known then
            if result.is_empty:
                self.count_empty += 1
                if len(self.empty) < 3:
                    self.empty.append("; ".join(result.warnings) or "no result")

    def report(self, unit: str) -> None:
        if self.count_empty:
            more = "; …" if self.count_empty > len(self.empty) else ""
            typer.echo(
                f"warning: {self.count_empty} of {self.total} {unit} gave no result "
                f"({'; '.join(self.empty)}{more})",
                err=True,
            )


@contextmanager
def progress_reporter(*, enabled: bool) -> Iterator[Callable[[Any], None] | None]:
    """A Rich progress bar (rate and ETA) on stderr, only when stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[done]} {task.fields[unit]} · {task.fields[rate]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("analysing", total=1000, done=0, unit="", rate="")

        def report(update: Any) -> None:
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = f"{update.done / elapsed:,.0f}/s" if elapsed > 0 else ""
            completed = 1000 * update.fraction if update.fraction is not None else None
            bar.update(task, completed=completed, done=f"{update.done:,}", unit=update.unit, rate=rate)

        yield report
