"""The output format rule every ``affectlens analyze`` run shares."""

from __future__ import annotations

from pathlib import Path

from affectlens.cli.errors import CliError


def output_format(fmt: str | None, out: Path | None) -> str:
    """``--format``, else the ``--out`` suffix's format, else a table; parquet needs a file."""
    from affectlens import output

    fmt = fmt or (output.format_for_path(out) if out else None) or "table"
    if fmt == "parquet" and out is None:
        raise CliError("parquet output needs --out PATH")
    return fmt
