"""Shared fixtures: the keyword recognizer, table writers, an isolated registry."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from affectlens import registry
from affectlens.testing import DummyRecognizer, register_dummy

# the TF-IDF peer trains itself on first use (minutes); the fast suite must never wait for that
os.environ.setdefault("AFFECTLENS_PEER_TRAIN", "0")
# the keyword recognizer is no shipped model: the tests name it, so they register it (subprocesses
# run `python -m affectlens.testing.cli`, which does the same)
register_dummy()

TableWriter = Callable[[str, Sequence[dict[str, Any]]], Path]


@pytest.fixture
def dummy() -> DummyRecognizer:
    return DummyRecognizer()


def write_table(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Write ``rows`` as csv / tsv / jsonl / parquet, chosen by ``path``'s suffix."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    elif suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(list(rows)), path, row_group_size=3)
    else:
        import pandas as pd

        pd.DataFrame(list(rows)).to_csv(path, sep="\t" if suffix == ".tsv" else ",", index=False)
    return path


@pytest.fixture
def table_writer(tmp_path: Path) -> TableWriter:
    def make(name: str, rows: Sequence[dict[str, Any]]) -> Path:
        return write_table(tmp_path / name, rows)

    return make


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, registry.RecognizerSpec]]:
    """The registry as loaded now, in a copy that the test may change freely."""
    registry.available()  # make sure builtins and plugins are in
    copy = dict(registry._REGISTRY)
    monkeypatch.setattr(registry, "_REGISTRY", copy)
    yield copy
