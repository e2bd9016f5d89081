"""One file's pooled rows kept on disk until the file ends, with their running mean and spread.

Why: file-mode normalisation z-scores each utterance's row against all of the file's rows, so
every row must wait for the end of the file.  An hour of speech is ~740 rows of 5,120 float32
(15 MB) held in memory that way; written to an unlinked temporary file they cost nothing while
they wait, and come back in chunks.  The mean and spread are accumulated as the rows arrive
(float64), so the rows are read once.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np


class RowSpill:
    """Rows of one width, in the order added; ``chunks`` reads them back, ``mean_std`` over all of them."""

    def __init__(self) -> None:
        self._file: Any = tempfile.TemporaryFile(prefix="affectlens-rows-")  # noqa: SIM115 - closed in close()
        self.count = 0
        self.width: int | None = None
        self._sum: np.ndarray | None = None
        self._squares: np.ndarray | None = None

    def add(self, row: np.ndarray) -> None:
        row = np.ascontiguousarray(row, dtype=np.float32).reshape(-1)
        if self.width is None:
            self.width = row.size
            self._sum, self._squares = np.zeros(row.size), np.zeros(row.size)
        elif row.size != self.width:
            raise ValueError(f"rows of {self.width} values expected, got {row.size}")
        assert self._sum is not None and self._squares is not None
        self._file.write(row.tobytes())
        wide = row.astype(np.float64)
        self._sum += wide
        self._squares += wide * wide
        self.count += 1

    def mean_std(self, floor: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation (population, floored) of every row added."""
        if self._sum is None or self._squares is None or self.count == 0:
            raise ValueError("no rows")
        mean = self._sum / self.count
        variance = np.maximum(self._squares / self.count - mean * mean, 0.0)
        return mean, np.maximum(np.sqrt(variance), floor)

    def chunks(self, size: int) -> Iterator[np.ndarray]:
        """The rows in order, ``size`` at a time, as (n, width) float32 arrays."""
        if self.width is None:
            return
        self._file.flush()
        self._file.seek(0)
        for first in range(0, self.count, size):
            n = min(size, self.count - first)
            yield np.frombuffer(self._file.read(n * self.width * 4), dtype=np.float32).reshape(n, self.width)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> RowSpill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["RowSpill"]
