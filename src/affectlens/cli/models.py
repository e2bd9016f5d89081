"""``affectlens models``: every registered model as a table or JSON (imported when the command runs)."""

from __future__ import annotations

import json
from typing import Any

import typer


def print_models(*, as_json: bool) -> None:
    """Print the registered models (``as_json``: a JSON list of their cards)."""
    from affectlens.registry import available, default_for

    specs = available()
    # several specs of a modality may be marked default (each with the modules it needs); the one in use here is
    # default_for's choice
    defaults = {default_for(m).name for m in {s.modality for s in specs if s.default}}
    rows = [
        {
            "name": s.name,
            "version": s.version,
            "modality": s.modality.value,
            "label_set": s.label_set,
            "default": s.name in defaults,
            "size_bytes": s.size_bytes,
            "license": s.license,
            "training_data": s.training_data,
            "headline_metric": s.headline_metric,
            "description": s.description,
        }
        for s in specs
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    from affectlens import output

    table = Table(title="Registered models (* = default for its modality)")
    for name in (
        "name",
        "version",
        "modality",
        "label set",
        "size",
        "license",
        "training data",
        "metric",
    ):
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(
            ("* " if row["default"] else "") + str(row["name"]),
            str(row["version"]),
            str(row["modality"]),
            str(row["label_set"]),
            _human_size(row["size_bytes"]),
            str(row["license"]),
            str(row["training_data"]),
            str(row["headline_metric"]),
        )
    output.wide_console().print(table)


def _human_size(size: Any) -> str:
    if size is None:
        return "—"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(size)
