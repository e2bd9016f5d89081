"""``affectlens batch`` and ``affectlens report`` (mounted lazily by ``affectlens.cli``).

Two single-command Typer apps: ``app`` (batch) and ``report_app`` (report, re-exported as
``app`` by ``affectlens.cli.report`` so the main CLI's lazy loader can mount it).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
report_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


class Engine(str, Enum):
    local = "local"
    ray = "ray"


@app.command("batch")
def batch_command(
    input: Annotated[
        Path,
        typer.Argument(help="A table (.csv .tsv .jsonl .parquet), a folder of tables, or a folder of files.",
                       show_default=False, metavar="INPUT"),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (shards, manifest, errors).")],
    column: Annotated[str | None, typer.Option("--column", "-c", help="Text column [default: the only "
                                                                        "column, or 'text'].")] = None,
    id_column: Annotated[str | None, typer.Option("--id", help="Record id column [default: row number].")] = None,
    time_column: Annotated[str | None, typer.Option("--time", help="Time column, copied to the output.")] = None,
    group: Annotated[list[str] | None, typer.Option("--group", "-g", help="Group column, copied to the output "
                                                                           "(repeatable).")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model name [default: default text "
                                                                     "model].")] = None,
    labels: Annotated[str | None, typer.Option("--labels", "-l", help="Express results in this label set.")] = None,
    unit_rows: Annotated[int, typer.Option("--unit-rows", min=1, help="Rows per work unit / shard.")] = 4096,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", min=1, help="Texts per model call.")] = 4096,
    keep_text: Annotated[bool, typer.Option("--keep-text", help="Copy the analysed text into the output.")] = False,
    restart: Annotated[bool, typer.Option("--restart", help="Discard what an earlier run wrote to --out and "
                                                            "start over.")] = False,
    engine: Annotated[Engine, typer.Option("--engine", help="local (one process) or ray (needs the 'ray' "
                                                             "extra).")] = Engine.local,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="local: worker processes, one model "
                                                "each [default: one per CPU for 20,000+ rows, else 1]; ray: "
                                                "model actors [default: one per 2 CPUs].")] = None,
    address: Annotated[str | None, typer.Option("--address", help="Ray: cluster address (e.g. "
                                                                  "ray://head:10001) [default: local].")] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr (when a "
                                                                             "terminal).")] = True,
) -> None:
    """Analyse a corpus into Parquet shards: resumable, exactly once, streamed.

    Rerun the same command after an interruption (even kill -9) to continue; the
    output then holds every input row exactly once.  Rows that give no result are
    kept (column 'error') and listed in OUT/errors.jsonl.

    Examples:

    \b
      affectlens batch reviews.csv --column body --id review_id --out runs/reviews
      affectlens batch posts/ --column text --time created --group forum --out runs/posts
      affectlens batch big.parquet --out runs/big --engine ray --address ray://head:10001
      affectlens report runs/posts
    """
    from affectlens.cli.errors import NOTHING_ANALYSED, CliError, cli_errors

    with cli_errors():
        from affectlens.batch.local import run_batch
        from affectlens.batch.manifest import OutputBusy

        with _progress_bar(enabled=progress) as report:
            try:
                summary = run_batch(
                    input, out, model=model, column=column, id_column=id_column, time_column=time_column,
                    group_columns=tuple(group or ()), labels=labels, unit_rows=unit_rows, batch_size=batch_size,
                    keep_text=keep_text, restart=restart, engine=engine.value, workers=workers, address=address,
                    progress=report,
                )
            except OutputBusy as exc:
                raise CliError(str(exc), 1) from exc
        counts = summary.counts
        rate = f", {summary.rows_this_run / summary.seconds:,.0f} rows/s" if summary.seconds > 0 and \
            summary.rows_this_run else ""
        resumed = f" (resumed: {summary.resumed_units} units were already done)" if summary.resumed_units else ""
        typer.echo(
            f"{counts.get('input_rows', 0):,} rows -> {counts.get('shards', 0)} shards in {summary.out_dir}"
            f"; analysed {summary.rows_this_run:,} rows in {summary.seconds:.1f} s{rate}{resumed}",
            err=True,
        )
        if counts.get("errors"):
            typer.echo(f"warning: {counts['errors']:,} inputs gave no result; see {summary.out_dir / 'errors.jsonl'}",
                       err=True)
        if counts.get("errors") and not counts.get("analysed_rows"):  # every input failed: not a success
            typer.echo("error: nothing could be analysed (every input gave no result)", err=True)
            raise typer.Exit(NOTHING_ANALYSED)


@contextmanager
def _progress_bar(*, enabled: bool) -> Iterator[Callable[[int, int | None], None] | None]:
    """A Rich bar with rows done, rate and ETA, on stderr when it is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    columns = (
        TextColumn("batch"), BarColumn(), TaskProgressColumn(),
        TextColumn("{task.fields[done]} rows · {task.fields[rate]}"), TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("batch", total=None, done="0", rate="")
        first: list[tuple[int, float]] = []  # rows already done when this run began, and when

        def report(done: int, total: int | None) -> None:
            now = time.perf_counter()
            if not first:
                first.append((done, now))
            rows0, t0 = first[0]
            rate = f"{(done - rows0) / (now - t0):,.0f} rows/s" if now > t0 and done > rows0 else ""
            bar.update(task, completed=done, total=max(total, done) if total else None, done=f"{done:,}", rate=rate)

        yield report


@report_app.command("report")
def report_command(
    batch_output: Annotated[Path, typer.Argument(help="The --out folder of 'affectlens batch'.",
                                                 show_default=False, metavar="BATCH_OUTPUT")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Report folder [default: "
                                                                  "BATCH_OUTPUT/report].")] = None,
    period: Annotated[list[str] | None, typer.Option("--period", help="Time buckets: day, week, month "
                                                                      "(repeatable) [default: day and week].")] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Cue words per emotion.")] = 10,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Draw PNG plots (matplotlib).")] = True,
) -> None:
    """Aggregate a batch output with DuckDB: prevalence over time and by group, cue words, shifts.

    Writes CSV files, PNG plots and an index.html linking them.

    Examples:

    \b
      affectlens report runs/posts
      affectlens report runs/posts --out reports/posts --period week --top 20
    """
    from affectlens.cli.errors import cli_errors

    with cli_errors():
        from affectlens.batch.report import build_report

        index = build_report(batch_output, out, periods=tuple(period or ("day", "week")), top_cues=top, plots=plots)
        typer.echo(f"report: {index}", err=True)
