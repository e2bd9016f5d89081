"""``affectlens taxonomy``: list label sets, show anchors, print mappings.

The main CLI mounts ``app`` as the ``taxonomy`` command group.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Annotated, get_args

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from affectlens.cli.errors import fail
from affectlens.taxonomy.label_sets import UnknownLabelSet, get_label_set, lexicon_info, list_label_sets
from affectlens.taxonomy.mappings import Kind, mapping

app = typer.Typer(
    name="taxonomy",
    help="Label sets, their VAD anchors and the mappings between them.",
    invoke_without_command=True,
    no_args_is_help=False,
    add_completion=False,
)

FORMATS = ("table", "json")
KIND_ORDER: tuple[str, ...] = get_args(Kind)  # the kinds, in the order the rows are counted


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False)


@app.callback()
def list_sets(ctx: typer.Context) -> None:
    """List the label sets (name, number of labels, description)."""
    if ctx.invoked_subcommand is not None:
        return
    table = Table(title="Label sets")
    table.add_column("name", style="bold")
    table.add_column("labels", justify="right")
    table.add_column("description")
    for label_set in list_label_sets():
        table.add_row(label_set.name, str(len(label_set)), label_set.description)
    _console().print(table)


@app.command()
def show(name: Annotated[str, typer.Argument(help="Label set name, e.g. goemotions.")]) -> None:
    """Show a set's labels with their VAD anchors (in [-1, 1]) and lexicon headwords."""
    try:
        label_set = get_label_set(name)
    except UnknownLabelSet as error:
        raise fail(str(error)) from None
    table = Table(title=f"{label_set.name}: {label_set.description}")
    for column in ("label", "valence", "arousal", "dominance", "headword", "raw V A D (0..1)"):
        table.add_column(column, justify="right" if column in {"valence", "arousal", "dominance"} else "left")
    for label in label_set.labels:
        vad, origin = label_set.anchors[label], label_set.anchor_sources[label]
        table.add_row(label, f"{vad.valence:+.3f}", f"{vad.arousal:+.3f}", f"{vad.dominance:+.3f}",
                      origin.headword,
                      f"{origin.raw_valence:.3f} {origin.raw_arousal:.3f} {origin.raw_dominance:.3f}")
    console = _console()
    console.print(table)
    console.print(f"Labels: {label_set.source}")
    console.print(f"Anchors: {lexicon_info()['citation']}")


@app.command("map")
def map_sets(
    from_set: Annotated[str, typer.Option("--from", help="Source label set.")],
    to_set: Annotated[str, typer.Option("--to", help="Target label set.")],
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    min_weight: Annotated[float, typer.Option(help="Hide targets with weight <= this.")] = 0.01,
    sources: Annotated[bool, typer.Option("--sources/--no-sources",
                                          help="Show each row's source and reason.")] = True,
) -> None:
    """Print how each source label maps onto the target set: weights, kind and source of every row.

    Kinds: exact (the same emotion), intensity (a weaker or stronger grade of one target),
    dyad (a blend of two, Plutchik), approximation (nearest counterpart, reason given),
    none (neutral into a set without a no-emotion class: none of these), vad (no theory
    links the two labels; nearest VAD anchors).
    """
    if output_format not in FORMATS:
        raise fail(f"unknown format {output_format!r} (choose from: {', '.join(FORMATS)})")
    try:
        table_map = mapping(from_set, to_set)
    except UnknownLabelSet as error:
        raise fail(str(error)) from None
    if output_format == "json":
        typer.echo(json.dumps(table_map.to_dict(min_weight), indent=2))
        return
    table = Table(title=f"{table_map.from_set} -> {table_map.to_set}")
    table.add_column(table_map.from_set, style="bold")
    table.add_column("kind")
    table.add_column(f"{table_map.to_set} (weight)")
    if sources:
        table.add_column("why / source", overflow="fold")
    for label in table_map.source_labels:
        weighted = table_map.targets(label, min_weight)
        targets = ", ".join(f"{target} {weight:.2f}" for target, weight in weighted) or "(none of these)"
        cells = [label, table_map.kind[label], targets]
        if sources:
            cells.append(escape(table_map.source[label]))  # '[key]' is not Rich markup
        table.add_row(*cells)
    console = _console()
    console.print(table)
    counts: Counter[str] = Counter(table_map.kind.values())
    console.print("rows: " + ", ".join(f"{counts[k]} {k}" for k in KIND_ORDER if counts[k]))
    if sources:
        for key, citation in table_map.references.items():
            console.print(f"[{key}] {citation}", markup=False)
