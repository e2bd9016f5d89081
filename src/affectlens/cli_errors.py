"""The CLI's errors: exit codes, ``CliError`` and ``cli_errors`` (expected exceptions -> one line on stderr).

Set ``AFFECTLENS_DEBUG=1`` to get tracebacks instead.  Light: imports only ``typer``.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

USAGE_ERROR = 2
RUNTIME_ERROR = 1
#: a folder, table or list of which not one input could be analysed (every one is an error/empty result)
NOTHING_ANALYSED = 3


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
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
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
    from affectlens.inputs import InputError
    from affectlens.processing import MissingDependency, NoRecognizer
    from affectlens.registry import UnknownRecognizer

    unknown_label_set: tuple[type[Exception], ...] = ()
    if "affectlens.taxonomy" in sys.modules:
        unknown_label_set = (sys.modules["affectlens.taxonomy"].UnknownLabelSet,)
    if isinstance(exc, CliError):
        return str(exc), exc.exit_code
    if isinstance(exc, InputError | UnknownRecognizer | NoRecognizer):
        return str(exc), USAGE_ERROR
    if unknown_label_set and isinstance(exc, unknown_label_set):
        return one_line(exc.args[0] if exc.args else exc), USAGE_ERROR
    if isinstance(exc, MissingDependency):
        return str(exc), RUNTIME_ERROR
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {exc.filename or exc}", USAGE_ERROR
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or exc}", USAGE_ERROR
    if isinstance(exc, IsADirectoryError | NotADirectoryError):
        return f"{exc.strerror}: {exc.filename}", USAGE_ERROR
    if isinstance(exc, ValueError):
        return one_line(exc), USAGE_ERROR
    return (
        f"{type(exc).__name__}: {one_line(exc)} (set AFFECTLENS_DEBUG=1 for the traceback)",
        RUNTIME_ERROR,
    )


def one_line(value: object) -> str:
    return " ".join(str(value).split())
