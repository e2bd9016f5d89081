"""``affectlens analyze``: one route through the planner, then that route's way of reporting.

The item route (texts, files, folders, tables) writes one result per input with the
collectors that draw (``--plot``, ``--annotate``) or track (``--tracks``) them; the dialogue
route writes one result per dialogue (``cli.dialogue``: resume, shifts, support); the media
routes (a transcript, ``--words``) write their one fused result.  Output options a route has
nothing for are refused with an ``error:`` line.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from affectlens.cli.errors import NOTHING_ANALYSED, CliError
from affectlens.cli.media import output_format as _output_format
from affectlens.cli.progress import ProblemCounter as _ProblemCounter
from affectlens.cli.progress import progress_reporter as _progress_reporter


def run_analyze(
    input: str,
    fmt: str | None,
    out: Path | None,
    options: Any,  # AnalyzeOptions (imported lazily: --help stays fast)
    model: str | None,
    progress: bool,
    *,
    plot: Path | None = None,
    annotate: Path | None = None,
    tracks: Path | None = None,
    resume: bool = False,
) -> None:
    """Every ``analyze`` run: one route through the planner, then the route's way of reporting."""
    from affectlens import planner
    from affectlens.inputs import TextItem
    from affectlens.io.text_checks import decode_utf8, is_blank

    source: Any = input
    if input == "-":
        # bytes, decoded by the one policy of ``io.text_checks`` whatever the locale says
        binary = getattr(sys.stdin, "buffer", None)  # absent when a caller swapped in a text stream
        text = (decode_utf8(binary.read()) if binary is not None else sys.stdin.read()).strip()
        if is_blank(text):
            raise CliError("empty input: nothing on standard input")
        source = TextItem(text, source="<stdin>")
    elif options.as_text:
        source = TextItem(input)  # empty or invalid UTF-8: one error from ``plan_input``
    route, _, _ = planner.route_for(source, options, model)
    _refuse_surface_options(route, plot=plot, annotate=annotate, tracks=tracks, resume=resume)
    fmt = _output_format(fmt, out)
    if route == "items" and fmt != "table" and plot is None and annotate is None and tracks is None:
        # a video's segments go to the writer as they come: flat memory over an hour of video
        # (the table and the collectors that draw or track need them whole)
        options = options.with_changes(stream_segments=True)
    if out is not None and out.parent and not out.parent.exists():
        raise CliError(f"output folder not found: {out.parent}")
    with _progress_reporter(enabled=progress and route != "media" and route != "words") as report:
        analysis = planner.start(source, options, model=model, progress=report,
                                 notify=lambda note: typer.echo(note, err=True))
        if route == "dialogues":
            from affectlens.cli.dialogue import write_dialogue_run

            write_dialogue_run(analysis.details, Path(input), fmt, out, resume=resume)
            return
        if route in ("media", "words"):
            _write_media_result(analysis.results, fmt, out, plot, input, route)
            return
        _write_items(analysis, fmt, out, plot=plot, annotate=annotate, tracks=tracks)


def _refuse_surface_options(route: str, *, plot: Path | None, annotate: Path | None, tracks: Path | None,
                            resume: bool) -> None:
    """Output options the route has nothing for: an ``error:`` line, never silently ignored."""
    what = {"dialogues": "dialogues", "media": "media with a transcript (fused per turn)",
            "words": "--words"}.get(route)
    if what is not None:
        for name, value in (("--annotate", annotate), ("--tracks", tracks)):
            if value is not None:
                raise CliError(f"{name} is not available for {what}: it draws or tracks the faces of an image "
                               "or video analysed on its own")
    if route == "dialogues" and plot is not None:
        raise CliError("--plot is not available for dialogues (it draws a speech or video timeline)")
    if resume and route != "dialogues":
        raise typer.BadParameter("--resume is for dialogues (--dialogue); tables resume with 'affectlens batch'")


def _write_media_result(results: Iterator[Any], fmt: str, out: Path | None, plot: Path | None, input: str,
                        route: str) -> None:
    """The one fused result of a media file: its warnings on stderr, the result, its timeline plot."""
    from affectlens import output

    [result] = list(results)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    output.write_results([result], fmt, out)
    if plot is not None:
        from affectlens.timeline import plot_timeline

        title = "words + voice per speech segment" if route == "words" else "text + voice + face per turn"
        plot_timeline(list(result.segments), plot, title=f"{Path(input).name}: {title}")


def _write_items(analysis: Any, fmt: str, out: Path | None, *, plot: Path | None, annotate: Path | None,
                 tracks: Path | None) -> None:
    """The item route's results (one per text/row/file) with the collectors that draw or track them."""
    from affectlens import output

    problems = _ProblemCounter()
    results = problems.watch(analysis.streamed if analysis.streamed is not None else analysis.results)
    if annotate is not None:
        from affectlens.vision.annotate import AnnotateCollector

        faces = AnnotateCollector()
        results = faces.watch(results)
    if plot is not None:
        from affectlens.timeline import TimelineCollector

        timeline = TimelineCollector()
        results = timeline.watch(results)
    if tracks is not None:
        from affectlens.vision.tracks import TrackCollector

        tracked = TrackCollector()
        results = tracked.watch(results)
    output.write_results(results, fmt, out)
    problems.report(analysis.plan.unit)
    if not analysis.plan.single and problems.total and problems.count_empty == problems.total:
        typer.echo(f"error: nothing could be analysed: all {problems.total} {analysis.plan.unit} gave no result",
                   err=True)
        raise typer.Exit(NOTHING_ANALYSED)
    if tracks is not None and tracked.save(tracks) == 0:
        typer.echo("warning: --tracks: no tracked face (tracks come from videos)", err=True)
    if plot is not None:
        timeline.plot(plot)
    if annotate is not None and faces.save(annotate) is None:
        typer.echo("warning: --annotate: no face to draw", err=True)
