"""Readers that turn files and tables into typed inputs, with clear errors for bad input.

This package stays light: heavy readers (pandas, pyarrow) are imported inside the
functions that need them, never at import time.
"""

from __future__ import annotations

from affectlens.inputs import InputError


class InputNotFound(InputError):
    """A path that was named as input does not exist."""


class UnsupportedInput(InputError):
    """A file whose type no reader handles."""


class EmptyInput(InputError):
    """An input that holds nothing to analyse (an empty file, a table without rows)."""


class MissingColumn(InputError):
    """A table lacks the column that was asked for."""


__all__ = ["EmptyInput", "InputError", "InputNotFound", "MissingColumn", "UnsupportedInput"]
