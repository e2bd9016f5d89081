"""The CLI's errors: exit codes, ``CliError`` and ``cli_errors`` (expected exceptions -> one line on stderr).

Set ``AFFECTLENS_DEBUG=1`` to get tracebacks instead.  Light: imports only ``typer``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from affectlens.errors import INTERNAL, describe
from affectlens.errors import NOTHING_ANALYSED as NOTHING_ANALYSED  # re-exported: the exit codes live there
from affectlens.errors import RUNTIME_ERROR as RUNTIME_ERROR
from affectlens.errors import USAGE_ERROR as USAGE_ERROR
from affectlens.errors import one_line as one_line


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on stderr; the ``typer.Exit`` (usage error) for the caller to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(USAGE_ERROR)


def command_group(help: str) -> typer.Typer:
    """A Typer group as every command group here is built: no completion, plain help, no pretty tracebacks."""
    return typer.Typer(help=help, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                       rich_markup_mode=None)


class CliError(Exception):
    """An error the CLI reports as one line with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = USAGE_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@contextmanager
def cli_errors() -> Iterator[None]:
    """Map expected exceptions to one line on stderr and an exit code; never a traceback."""
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            yield
        except (typer.Exit, typer.Abort, typer.TyperException, BrokenPipeError):
            raise  # a closed pipe (`... | head`) is not an error: click (or ``cli.run``) ends the run quietly
        except Exception as exc:
            if os.environ.get("AFFECTLENS_DEBUG"):
                raise
            message, code = _describe(exc)
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(code) from None


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    typer.echo(f"warning: {message}", err=True)


def _describe(exc: Exception) -> tuple[str, int]:
    """(message, exit code) from the one error table (``affectlens.errors``), worded for a terminal."""
    if isinstance(exc, CliError):
        return str(exc), exc.exit_code
    row, message = describe(exc)
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {exc.filename or exc}", row.exit_code
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or exc}", row.exit_code
    if isinstance(exc, IsADirectoryError | NotADirectoryError):
        return f"{exc.strerror}: {exc.filename}", row.exit_code
    if row is INTERNAL:
        return f"{message} (set AFFECTLENS_DEBUG=1 for the traceback)", row.exit_code
    return message, row.exit_code
