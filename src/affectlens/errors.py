"""One error table: each library error type -> the CLI's exit code and the service's HTTP status.

The CLI (``affectlens.cli.errors``) and the service (``service.engine.describe_exception``)
both describe an exception through ``describe``, so an error means the same thing on every
surface.  The first matching row wins; anything unlisted is an internal error (exit 1, 500).
Error types are named, and resolved only from modules already loaded, so importing or
reading this table loads nothing else.
"""

from __future__ import annotations

import builtins
import sys
from dataclasses import dataclass

#: a usage or input error (bad argument, missing/unreadable input, unknown model or label set)
USAGE_ERROR = 2
#: anything else (a missing extra, a bug)
RUNTIME_ERROR = 1
#: a folder, table or list of which not one input could be analysed (every one is an error/empty result)
NOTHING_ANALYSED = 3


@dataclass(frozen=True)
class ErrorRow:
    error: str  # "module:Class" (or a builtin's name)
    exit_code: int
    http_status: int
    meaning: str


#: first match wins: subclasses before their bases
ERROR_TABLE: tuple[ErrorRow, ...] = (
    ErrorRow("affectlens.media_limits:MediaTooLarge", USAGE_ERROR, 413, "an image or video over the pixel cap"),
    ErrorRow("affectlens.io:UnsupportedInput", USAGE_ERROR, 501, "a file type no reader handles"),
    ErrorRow("affectlens.recognizer_pool:NoRecognizer", USAGE_ERROR, 501, "no recognizer for the input's modality"),
    ErrorRow("affectlens.recognizer_pool:MissingDependency", RUNTIME_ERROR, 501, "an extra is not installed"),
    ErrorRow("affectlens.registry:UnknownRecognizer", USAGE_ERROR, 400, "no model of that name"),
    ErrorRow("affectlens.taxonomy:UnknownLabelSet", USAGE_ERROR, 400, "no label set of that name"),
    ErrorRow("affectlens.inputs:InputError", USAGE_ERROR, 400, "input that cannot be analysed"),
    ErrorRow("FileNotFoundError", USAGE_ERROR, 500, "a named file is missing (in the service: its own temp file)"),
    ErrorRow("PermissionError", USAGE_ERROR, 500, "a file that may not be read"),
    ErrorRow("IsADirectoryError", USAGE_ERROR, 500, "a folder where a file was expected"),
    ErrorRow("NotADirectoryError", USAGE_ERROR, 500, "a file where a folder was expected"),
    ErrorRow("ValueError", USAGE_ERROR, 400, "a bad parameter (an option a route cannot honour, a bad column ...)"),
)
INTERNAL = ErrorRow("Exception", RUNTIME_ERROR, 500, "anything else: a bug or an environment problem")


def _resolve(name: str) -> type[BaseException] | None:
    """The class named ``module:Class``; ``None`` when its module is not loaded (then no exception
    can be an instance of it, and nothing is imported just to find that out)."""
    if ":" not in name:
        return getattr(builtins, name)  # type: ignore[no-any-return]
    module, _, attribute = name.partition(":")
    loaded = sys.modules.get(module)
    return getattr(loaded, attribute, None) if loaded is not None else None


def row_for(exc: BaseException) -> ErrorRow:
    """The table's row for ``exc`` (``INTERNAL`` when none matches)."""
    for row in ERROR_TABLE:
        error_type = _resolve(row.error)
        if error_type is not None and isinstance(exc, error_type):
            return row
    return INTERNAL


def one_line(value: object) -> str:
    return " ".join(str(value).split())


def message_of(exc: BaseException) -> str:
    """The one-line message of a library error (``KeyError``s keep no quotes; a label set's first line)."""
    if type(exc).__name__ == "UnknownLabelSet":
        return one_line(exc.args[0] if exc.args else exc)
    return one_line(exc)


def describe(exc: BaseException) -> tuple[ErrorRow, str]:
    """(row, one-line message) for ``exc``; an internal error's message names its type."""
    row = row_for(exc)
    if row is INTERNAL:
        return row, f"{type(exc).__name__}: {one_line(exc)}"
    return row, message_of(exc)


__all__ = ["ERROR_TABLE", "INTERNAL", "NOTHING_ANALYSED", "RUNTIME_ERROR", "USAGE_ERROR", "ErrorRow", "describe",
           "message_of", "one_line", "row_for"]
