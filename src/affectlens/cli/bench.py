"""``affectlens bench``: run recognizers (ours and peers) on a task, print and write the table.

    affectlens bench list
    affectlens bench goemotions --model text.minilm-goemotions.v1 --model peer.vader.v1 --limit 200

Each task is its own sub-command (``bench <task> [options]``), generated from the task
registry, so a new corpus adds a command without touching this file.  Expected problems
(missing corpus, unknown model or split) print one line and exit with code 2.
"""


import os
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from affectlens.bench.tasks import Task, get_task, list_tasks
from affectlens.cli.errors import command_group, fail
from affectlens.errors import USAGE_ERROR as USAGE_ERROR  # re-exported
from affectlens.readiness import TRAIN_ENV

PLUGIN_GROUP = "affectlens.bench"

app = command_group("Benchmarks on the public corpora: metrics, throughput and memory for our models and peers.")



@app.command("list")
def list_command() -> None:
    """List the benchmark tasks."""
    for task in list_tasks():
        metrics = ", ".join(metric.name for metric in task.metrics)
        typer.echo(f"{task.name:<18} {task.title} [{task.modality.value}; splits {'/'.join(task.splits)}; "
                   f"metrics: {metrics}]")
    typer.echo(f"{'esconv':<18} ESConv support strategies: the supporter's next move, ours and peers trained in "
               "the same run [text dialogues; test; metrics: accuracy, weighted_f1, macro_f1, kl_to_human]")
    typer.echo(f"{'xcorpus':<18} Text, leave-one-corpus-out over 5 corpora (+ MELD probe) in Ekman-7: ours and "
               "peers trained on the other corpora [text; metrics: macro_f1, weighted_f1]")
    typer.echo(f"{'empathetic':<18} EmpatheticDialogues, 32 emotions (situation + first turn): the text model's "
               "coverage through the taxonomy, TF-IDF + LR and NRC peers [text; test; metrics: accuracy, macro_f1]")
    for name, plugin in _plugin_commands():
        doc = (plugin.help or plugin.callback.__doc__ or "").strip()  # type: ignore[union-attr]
        typer.echo(f"{name:<18} {doc.splitlines()[0] if doc else ''} [plugin: re-trains our recipe]")


def default_models(task: Task) -> list[str]:
    """The default model of the task's modality (when one is registered) and every peer of it."""
    from affectlens.recognizers.peers import register_peers
    from affectlens.registry import available, default_for

    register_peers()
    specs = available(task.modality)
    chosen = [default_for(task.modality).name] if any(spec.default for spec in specs) else []
    chosen += [spec.name for spec in specs if spec.extras.get("peer")]
    return chosen


def run_task(task: Task, models: list[str] | None, split: str | None, limit: int | None,
             data_root: Path | None, out: Path, batch_size: int, bootstrap: int, in_process: bool) -> None:
    from rich.console import Console

    from affectlens.bench.datasets import DatasetMissing
    from affectlens.bench.report import print_report, write_report
    from affectlens.bench.runner import run_benchmark
    from affectlens.recognizers.peers import register_peers
    from affectlens.registry import UnknownRecognizer, get_spec

    split = split or task.default_split
    if split not in task.splits:
        raise fail(f"task {task.name!r} has splits {', '.join(task.splits)}, not {split!r}")
    register_peers()
    names = models or default_models(task)
    if not names:
        raise fail(f"no models to run for {task.name}; pass --model NAME (see 'affectlens models')")
    try:
        names = [get_spec(name).name for name in names]
    except UnknownRecognizer as err:
        raise fail(str(err)) from None
    try:
        data = task.load(split, data_root, limit)
    except DatasetMissing as err:
        where = str(err).split(" (set AFFECTLENS_DATA")[0]  # the reader's own hint names its API
        raise fail(f"{where}; pass --data-root PATH or set AFFECTLENS_DATA to the folder that holds "
                    "the corpora") from None
    console = Console(stderr=True)
    limited = f", LIMITED to the first {limit}" if limit is not None else ""
    console.print(f"[bold]{task.name}[/] {split}: {len(data)} examples{limited}; models: {', '.join(names)}")
    words = ["affectlens", "bench", task.name, *[w for name in names for w in ("--model", name)],
             "--split", split]
    if limit is not None:
        words += ["--limit", str(limit)]
    if data_root is not None:
        words += ["--data-root", str(data_root)]
    if batch_size != 64:
        words += ["--batch-size", str(batch_size)]
    if in_process:
        words.append("--in-process")
    command = shlex.join(words)
    report = run_benchmark(
        task, names, split=split, limit=limit, data=data, batch_size=batch_size, bootstrap=bootstrap,
        isolate=not in_process, command=command,
        on_model=lambda name: console.print(f"running {name} ..."))
    print_report(report)
    json_path, md_path = write_report(report, out)
    console.print(f"wrote {json_path} and {md_path}")
    if any(run.error for run in report.models):
        raise typer.Exit(1)


@app.command("esconv")
def esconv_command(
    data_root: Annotated[Path | None, typer.Option(
        "--data-root", metavar="PATH",
        help="Folder that holds esconv/ [default: $AFFECTLENS_DATA, else ../shared/datasets].")] = None,
    out: Annotated[Path, typer.Option(
        "--out", "-o", metavar="DIR", help="Where to write esconv-test.json and .md.")] = Path("bench-results"),
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=0, metavar="N",
                                           help="Resamples for the 95% intervals (0: none).")] = 1000,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, metavar="N",
                                              help="Only the first N test dialogues (quick runs).")] = None,
    llm: Annotated[str | None, typer.Option(
        "--llm", metavar="MODEL", help="Also ask your LLM (endpoint from $AFFECTLENS_LLM_URL or llm.toml) for the "
        "supporter's next message, without and with our suggestion (see docs/support.md).")] = None,
    llm_limit: Annotated[int, typer.Option("--llm-limit", min=1, metavar="N",
                                           help="Test points drawn for the LLM study.")] = 200,
) -> None:
    """ESConv test: the supporter's next strategy, support.esconv-minilm.v1 and peers in one run, with bias."""
    import sys

    from rich.console import Console

    from affectlens.bench.datasets import DatasetMissing
    from affectlens.bench.esconv import run_esconv, run_llm_study, to_markdown, write_report
    from affectlens.llm.config import LLMNotConfigured
    from affectlens.llm.support import chat_client

    console = Console(stderr=True)
    try:
        client = chat_client(model=llm) if llm else None  # before the long run: fail fast, send nothing
        report = run_esconv(data_root=data_root, bootstrap=bootstrap, limit=limit,
                            on_progress=lambda line: console.print(line, highlight=False))
        if client is not None:
            report["llm_study"] = run_llm_study(client, llm_limit, data_root,
                                                lambda line: console.print(line, highlight=False))
            report["llm_study"]["model"] = llm
    except DatasetMissing as err:
        raise fail(f"{err}; pass --data-root PATH or set AFFECTLENS_DATA") from None
    except LLMNotConfigured as err:
        raise fail(str(err)) from None
    report["command"] = " ".join(["affectlens", "bench", "esconv", *sys.argv[3:]])
    sys.stdout.write(to_markdown(report))
    json_path, md_path = write_report(report, out)
    console.print(f"wrote {json_path} and {md_path}")


@app.command("empathetic")
def empathetic_command(
    data_root: Annotated[Path | None, typer.Option(
        "--data-root", metavar="PATH",
        help="Folder that holds empatheticdialogues/ [default: $AFFECTLENS_DATA, else ../shared/datasets].")] = None,
    out: Annotated[Path, typer.Option(
        "--out", "-o", metavar="DIR", help="Where to write empathetic-test.json and .md.")] = Path("bench-results"),
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=0, metavar="N",
                                           help="Resamples for the 95% intervals (0: none).")] = 1000,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, metavar="N",
                                              help="Only the first N test conversations.")] = None,
) -> None:
    """EmpatheticDialogues test (situation + first turn): the text model's coverage of the 32 emotions, with peers."""
    import sys

    from rich.console import Console

    from affectlens.bench.datasets import DatasetMissing
    from affectlens.bench.empathetic import LabelSetMissing, run_empathetic, to_markdown, write_report

    console = Console(stderr=True)
    try:
        report = run_empathetic(data_root=data_root, bootstrap=bootstrap, limit=limit,
                                on_progress=lambda line: console.print(line, highlight=False))
    except (DatasetMissing, LabelSetMissing) as err:
        raise fail(str(err)) from None
    report["command"] = shlex.join(["affectlens", "bench", "empathetic", *sys.argv[3:]])
    sys.stdout.write(to_markdown(report))
    json_path, md_path = write_report(report, out)
    console.print(f"wrote {json_path} and {md_path}")


@app.command("xcorpus")
def xcorpus_command(
    corpus: Annotated[list[str] | None, typer.Option(
        "--corpus", metavar="NAME",
        help="Held-out corpus to score; repeat [default: goemotions, dailydialog, isear, emoevent, "
             "crowdflower, empatheticdialogues].")] = None,
    data_root: Annotated[Path | None, typer.Option(
        "--data-root", metavar="PATH",
        help="Folder that holds the corpora [default: $AFFECTLENS_DATA, else ../shared/datasets].")] = None,
    cache: Annotated[Path | None, typer.Option(
        "--cache", metavar="DIR",
        help="Where the encoder features are cached [default: $AFFECTLENS_CACHE/xcorpus].")] = None,
    out: Annotated[Path, typer.Option(
        "--out", "-o", metavar="DIR", help="Where to write xcorpus-test.json and .md.")] = Path("bench-results"),
    bootstrap: Annotated[int, typer.Option(
        "--bootstrap", min=0, metavar="N", help="Resamples for the 95% intervals (0: none).")] = 1000,
    max_train: Annotated[int, typer.Option(
        "--max-train", min=100, metavar="N", help="Train texts per corpus (a fixed hashed subset).")] = 6_000,
    model: Annotated[list[str] | None, typer.Option(
        "--model", "-m", metavar="NAME",
        help="A registered GoEmotions text model to score beside the systems (its calibrated probabilities "
             "summed into Ekman groups); repeat.")] = None,
) -> None:
    """Text, leave-one-corpus-out: each corpus scored in Ekman-7 by systems trained on the other five.

    Ours (a head on the shipped encoder's features), TF-IDF + LR on the same corpora, the NRC
    lexicon and the previous model, next to an in-domain reference. Needs scikit-learn ('bench'
    extra); the first run encodes about 60k texts (30 min on 2 loaded cores; cached).
    """
    import importlib.util
    import sys

    from rich.console import Console

    from affectlens.bench.datasets import DatasetMissing
    from affectlens.bench.xcorpus import run_xcorpus, to_markdown, write_report
    from affectlens.bench.xcorpus_data import CORPORA
    from affectlens.bench.xcorpus_features import FeatureCache

    if importlib.util.find_spec("sklearn") is None:
        raise fail("the cross-corpus benchmark needs scikit-learn: pip install 'affectlens[bench]'")
    unknown = [name for name in corpus or [] if name not in CORPORA]
    if unknown:
        raise fail(f"unknown corpus {unknown[0]!r}; corpora: {', '.join(CORPORA)}")
    from affectlens.registry import UnknownRecognizer, get_spec

    try:
        not_goemotions = [n for n in model or [] if get_spec(n).label_set != "goemotions"]
    except UnknownRecognizer as err:
        raise fail(str(err)) from None
    if not_goemotions:
        raise fail(f"--model {not_goemotions[0]!r}: only GoEmotions text models are grouped into Ekman here")
    console = Console(stderr=True)
    progress = lambda line: console.print(line, highlight=False)  # noqa: E731
    command = shlex.join(["affectlens", "bench", "xcorpus", *sys.argv[3:]])
    try:
        report = run_xcorpus(FeatureCache(cache, data_root, on_progress=progress), corpus, bootstrap,
                             command=command, max_train=max_train, on_progress=progress, models=model or ())
    except DatasetMissing as err:
        raise fail(f"{err}; pass --data-root PATH or set AFFECTLENS_DATA") from None
    sys.stdout.write(to_markdown(report))
    json_path, md_path = write_report(report, out)
    console.print(f"wrote {json_path} and {md_path}")


def _task_command(task: Task) -> Callable[..., None]:
    splits = ", ".join(task.splits)

    def command(
        model: Annotated[list[str] | None, typer.Option(
            "--model", "-m", metavar="NAME",
            help="Registry name of a recognizer; repeat for several "
                 "[default: the default model and every peer].")] = None,
        split: Annotated[str, typer.Option(
            "--split", metavar="SPLIT", help=f"One of {splits}.")] = task.default_split,
        limit: Annotated[int | None, typer.Option(
            "--limit", "-n", min=1, metavar="N",
            help="Only the first N examples (quick runs; the table says so).")] = None,
        data_root: Annotated[Path | None, typer.Option(
            "--data-root", metavar="PATH",
            help="Folder that holds the corpora "
                 "[default: $AFFECTLENS_DATA, else ../shared/datasets].")] = None,
        out: Annotated[Path, typer.Option(
            "--out", "-o", metavar="DIR",
            help="Where to write <task>-<split>.json and .md.")] = Path("bench-results"),
        batch_size: Annotated[int, typer.Option(
            "--batch-size", "-b", min=1, metavar="N", help="Inputs per analyze() call.")] = 64,
        bootstrap: Annotated[int, typer.Option(
            "--bootstrap", min=0, metavar="N",
            help="Resamples for the headline metric's 95% interval (0: none).")] = 1000,
        in_process: Annotated[bool, typer.Option(
            "--in-process",
            help="Run models in this process (faster start; memory peaks then overlap).")] = False,
        train_peers: Annotated[bool, typer.Option(
            "--train-peers",
            help="Let peers without shipped weights (peer.tfidf-logreg.v1, ...) train from the corpus and "
                 "cache the result (minutes; off by default: AFFECTLENS_PEER_TRAIN=1 does the same).")] = False,
    ) -> None:
        if train_peers:  # an environment variable so that the per-model subprocesses see it too
            os.environ[TRAIN_ENV] = "1"
        run_task(task, model, split, limit, data_root, out, batch_size, bootstrap, in_process)

    command.__doc__ = f"{task.title}. Data: {task.data}."
    return command


def _plugin_commands() -> list[tuple[str, typer.models.CommandInfo]]:
    """Commands other distributions add to ``affectlens bench`` (entry-point group ``affectlens.bench``).

    The benchmarks that re-train our recipes (``ravdess``, ``speech-xcorpus``) come this way from
    ``affectlens_recipes``, which the runtime never imports by name.
    """
    from importlib.metadata import entry_points

    found = []
    for point in entry_points(group=PLUGIN_GROUP):
        try:
            plugin = point.load()
        except Exception as exc:  # a broken plugin must not break the other benchmarks
            typer.echo(f"warning: bench plugin {point.name!r} not loaded: {exc}", err=True)
            continue
        for info in getattr(plugin, "registered_commands", []):
            found.append((info.name or info.callback.__name__, info))
    return found


def _register_task_commands() -> None:
    for task in list_tasks():
        app.command(task.name)(_task_command(task))
    known = {task.name for task in list_tasks()} | {"list"}
    for name, info in _plugin_commands():
        if name not in known:
            app.registered_commands.append(info)


_register_task_commands()

__all__ = ["app", "default_models", "get_task", "run_task"]
