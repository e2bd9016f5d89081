"""``affectlens`` command line: analyze, models, taxonomy, bench, batch, report, serve.

Every command-line module lives in this package (``errors``, ``progress``, ``media``,
``models``, ``dialogue``, ``batch``, ``report``, ``bench``, ``serve``, ``taxonomy``); nothing
outside it imports it or ``typer``.  Thin on purpose: it parses arguments, calls the planner
and ``output``, and turns every expected error into ONE line on stderr with exit code 2 (usage and input errors) or 1
(anything else).  Heavy modules are imported inside the commands so ``--help`` is fast.
Set ``AFFECTLENS_DEBUG=1`` to get tracebacks instead.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from affectlens.cli.errors import NOTHING_ANALYSED as NOTHING_ANALYSED  # re-exported (batch uses them)
from affectlens.cli.errors import RUNTIME_ERROR as RUNTIME_ERROR
from affectlens.cli.errors import USAGE_ERROR, CliError
from affectlens.cli.errors import cli_errors as _cli_errors
from affectlens.cli.errors import one_line as _one_line

# -- lazily mounted command groups ---------------------------------------------------------------

_LAZY_GROUPS: dict[str, tuple[str, str]] = {
    # name: (module with a Typer ``app``, short help shown by ``affectlens --help``)
    "taxonomy": ("affectlens.cli.taxonomy", "Label sets, their VAD anchors and the mappings between them."),
    "bench": ("affectlens.cli.bench", "Benchmarks on the public corpora (needs the datasets)."),
    "serve": ("affectlens.cli.serve", "Start the HTTP service and web page (needs the 'service' extra)."),
    "batch": ("affectlens.cli.batch", "Analyse a corpus into Parquet shards (resumable; local or Ray)."),
    "report": ("affectlens.cli.report", "Aggregate a batch output with DuckDB: CSV, plots, HTML."),
}


def _lazy_group_available(module: str) -> bool:
    """Whether the module's file exists (checked without importing it)."""
    relative = Path(*module.split(".")[1:]).with_suffix(".py")
    return (Path(__file__).resolve().parent.parent / relative).is_file()


class LazyGroup(TyperGroup):
    """A Typer group whose ``taxonomy``/``bench`` sub-groups are imported only when run."""

    def list_commands(self, ctx: Any) -> list[str]:
        lazy = [name for name, (module, _) in _LAZY_GROUPS.items() if _lazy_group_available(module)]
        return [*super().list_commands(ctx), *lazy]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in _LAZY_GROUPS and cmd_name not in self.commands:
            # a placeholder for help listings: no import until the group is really invoked
            return TyperCommand(name=cmd_name, help=_LAZY_GROUPS[cmd_name][1])
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] in _LAZY_GROUPS and args[0] not in self.commands:
            self.add_command(_load_group(args[0]), args[0])
        return super().resolve_command(ctx, args)


def _load_group(name: str) -> Any:
    module_name, _ = _LAZY_GROUPS[name]
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CliError(f"the '{name}' commands are not available ({exc})") from exc
    command = typer.main.get_command(module.app)
    command.name = name
    return command


app = typer.Typer(
    cls=LazyGroup,
    help="Local, offline, explainable emotion recognition.\n\n"
    "Examples:\n\n"
    "\b\n"
    '  affectlens analyze "I can\'t wait to see you!"\n'
    "  affectlens analyze reviews.csv --column body --id review_id --out emotions.csv\n"
    "  affectlens models\n"
    "  affectlens taxonomy show ekman",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        from affectlens import __version__

        typer.echo(f"affectlens {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    threads: Annotated[
        str | None,
        typer.Option("--threads", metavar="N|auto", help="Threads per model runtime pool [default: "
                     "AFFECTLENS_THREADS, else auto: the CPUs available, at most 4]."),
    ] = None,
    thread_spinning: Annotated[
        str | None,
        typer.Option("--thread-spinning", metavar="auto|on|off", help="Let idle pool threads spin-wait "
                     "[default: AFFECTLENS_THREAD_SPINNING, else auto = off].")
    ] = None,
) -> None:
    """Local, offline, explainable emotion recognition."""
    # before any model loads: every onnxruntime/CTranslate2 pool is built through runtime_threads
    from affectlens.runtime_threads import ThreadSettingError, configure

    try:
        configure(threads=threads, spinning=thread_spinning)
    except ThreadSettingError as exc:
        raise typer.BadParameter(str(exc).split(": ", 1)[-1], param_hint="--threads/--thread-spinning") from None


# -- analyze -------------------------------------------------------------------------------------


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"


class CueMethod(str, Enum):
    decomposition = "decomposition"
    occlusion = "occlusion"


@app.command()
def analyze(
    input: Annotated[
        str,
        typer.Argument(
            help="A text, a file (.txt = one document), a folder, a table (.csv .tsv .jsonl .parquet), "
            "or - for standard input.",
            show_default=False,
            metavar="INPUT",
        ),
    ],
    format: Annotated[
        OutputFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="Output format [default: from --out's suffix, else table].",
            show_default=False,
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "--output", "-o", help="Write here instead of stdout.")] = None,
    column: Annotated[
        str | None,
        typer.Option(
            "--column", "-c", help="Table column with the texts [default: the only column, or 'text']."
        ),
    ] = None,
    id_column: Annotated[
        str | None, typer.Option("--id", help="Table column with record ids [default: the row number].")
    ] = None,
    labels: Annotated[
        str | None,
        typer.Option("--labels", "-l", help="Express results in this label set (see 'affectlens taxonomy')."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="Model name (see 'affectlens models') [default: the default text model]."
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", min=1, help="Inputs per model call.")] = 64,
    as_text: Annotated[
        bool, typer.Option("--text", "-t", help="Treat INPUT as text even if it looks like or is a path.")
    ] = False,
    progress: Annotated[
        bool,
        typer.Option(
            "--progress/--no-progress",
            help="Progress bar on stderr for tables and folders (when a terminal).",
        ),
    ] = True,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Draw valence/arousal and top emotion over time (speech) here.")
    ] = None,
    annotate: Annotated[
        Path | None, typer.Option("--annotate", help="Images/videos: draw face boxes, labels and main cue here.")
    ] = None,
    tracks: Annotated[
        Path | None,
        typer.Option("--tracks", help="Videos: one row per tracked face (when seen, dominant emotion, mean "
                                      "scores, valence/arousal) here: .csv or .json."),
    ] = None,
    fps: Annotated[
        float | None, typer.Option("--fps", min=0.01, help="Videos: sampled frames per second [default: 5].")
    ] = None,
    start: Annotated[float | None, typer.Option("--start", min=0.0, help="Videos: start at this second.")] = None,
    end: Annotated[float | None, typer.Option("--end", min=0.0, help="Videos: stop at this second.")] = None,
    dialogue: Annotated[
        bool,
        typer.Option(
            "--dialogue",
            help="Read INPUT as dialogues: a table (dialogue_id, speaker, text) or JSON; .srt/.vtt always are.",
        ),
    ] = False,
    support: Annotated[
        bool,
        typer.Option(
            "--support",
            help="Dialogues: also suggest the supporter's next strategy (ESConv's 8) per turn, with cues; "
                 "suggestions for a human supporter, not therapy (see docs/support.md).",
        ),
    ] = False,
    supporter: Annotated[
        str | None,
        typer.Option("--supporter", metavar="SPEAKER", help="With --support: who the supporter is [default: a "
                     "speaker named sys/supporter/helper/listener/..., else the second speaker]."),
    ] = None,
    transcript: Annotated[
        Path | None,
        typer.Option(
            "--transcript",
            help="Audio/video INPUT: its transcript (.srt/.vtt); text, voice and faces fused per turn.",
        ),
    ] = None,
    asr_model: Annotated[
        Path | None,
        typer.Option(
            "--asr-model",
            help="Audio/video INPUT without a transcript: a local faster-whisper model directory (no downloads).",
        ),
    ] = None,
    words: Annotated[
        bool | None,
        typer.Option(
            "--words/--no-words",
            help="Audio/video INPUT without a transcript: per speech segment the words (pinned Whisper, the "
            "'whisper' extra: multilingual base, else English tiny.en), the voice and the words' emotion (English "
            "words only), fused with a disagreement score. Default: on for an audio file where multilingual "
            "base is installed, off otherwise; --no-words: the voice timeline alone.",
            show_default=False,
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Dialogues: continue a run that was stopped, appending to its --out JSON Lines file.",
        ),
    ] = False,
    cues: Annotated[
        CueMethod,
        typer.Option(
            "--cues",
            help="Text word cues: each word's share of the logit from one pass (decomposition), or the "
            "probability each label loses when the word is deleted, the model re-run per word (occlusion: "
            "slower, texts up to 64 words).",
        ),
    ] = CueMethod.decomposition,
) -> None:
    """Analyse emotions in a text, a file, a folder or a table.

    INPUT is a path when it exists.  An argument that does not exist is analysed as text,
    unless it looks like a path (it ends with a file suffix such as .txt or .csv, or it has a
    slash and no spaces): then it is an error ("file not found").  Use --text to force text.

    Examples:

    \b
      affectlens analyze "I can't believe it, this is wonderful!"
      affectlens analyze "Thank you so much, this made my day!" --cues occlusion
      affectlens analyze letter.txt --labels ekman
      affectlens analyze notes/ --format jsonl --out notes.jsonl
      affectlens analyze reviews.csv --column body --id review_id --out emotions.csv
      affectlens analyze big.parquet --column text --out emotions.parquet
      echo "so happy today" | affectlens analyze - --format json
      affectlens analyze photo.jpg --annotate photo_faces.jpg
      affectlens analyze clip.mp4 --fps 2 --start 10 --end 70 --output clip.csv --plot clip.png
      affectlens analyze clip.mp4 --tracks people.csv
      affectlens analyze turns.csv --dialogue --out turns_emotions.jsonl
      affectlens analyze turns.csv --dialogue --out turns_emotions.jsonl --resume
      affectlens analyze chat.csv --dialogue --support --supporter helper
      affectlens analyze talk.srt
      affectlens analyze clip.mp4 --transcript clip.srt --out clip.jsonl
      affectlens analyze talk.wav --out talk.jsonl          # words + voice per speech segment
      affectlens analyze talk.wav --no-words --plot talk.png  # the voice timeline alone
    """

    with _cli_errors():
        from affectlens.options import AnalyzeOptions

        options = AnalyzeOptions(
            column=column, id_column=id_column, batch_size=batch_size, labels=labels, fps=fps, start=start,
            end=end, cues=None if cues is CueMethod.decomposition else cues.value, as_text=as_text,
            dialogue=dialogue, transcript=transcript, asr_model=asr_model, words=words, support=support,
            supporter=supporter,
        )
        from affectlens.cli.routes import run_analyze

        run_analyze(input, format.value if format else None, out, options, model, progress,
                     plot=plot, annotate=annotate, tracks=tracks, resume=resume)


# -- models --------------------------------------------------------------------------------------


class ListFormat(str, Enum):
    table = "table"
    json = "json"


@app.command()
def models(
    format: Annotated[ListFormat, typer.Option("--format", "-f", help="table or json.")] = ListFormat.table,
) -> None:
    """List every registered model: name, version, modality, label set, size, license, data, metric.

    The default model of each modality is marked with *.

    Examples:

    \b
      affectlens models
      affectlens models --format json
    """
    with _cli_errors():
        from affectlens.cli.models import print_models

        print_models(as_json=format == ListFormat.json)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` and return the exit code (what ``main`` exits with)."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="affectlens", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        return 130
    except CliError as exc:  # raised while resolving a lazy command group
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except typer.TyperException as exc:  # usage errors: bad option, missing argument ...
        hint = ""
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:
            hint = f" (see '{ctx.command_path} --help')"
        typer.echo(f"error: {_one_line(exc.format_message())}{hint}", err=True)
        return int(getattr(exc, "exit_code", USAGE_ERROR))
    except BrokenPipeError:  # `affectlens analyze big.csv | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return result if isinstance(result, int) else 0


def main() -> None:
    """Console-script entry point (``affectlens``)."""
    sys.exit(run())
