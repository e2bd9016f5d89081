"""docs/service.md's settings table says what ``ServiceSettings`` does: every setting, its default."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from affectlens.service.settings import ServiceSettings

DOC = Path(__file__).resolve().parents[2] / "docs" / "service.md"
UNPARSED = object()  # a default described in words ("registry default"): not compared


def _value(text: str) -> Any:
    text = text.strip().strip("`")
    if text == "none":
        return None
    if match := re.fullmatch(r"([\d.]+) MiB", text):
        return int(float(match.group(1)) * (1 << 20))
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return UNPARSED


def documented_defaults() -> dict[str, Any]:
    table = DOC.read_text(encoding="utf-8").split("| setting | default |", 1)[1].split("\n\n", 1)[0]
    found: dict[str, Any] = {}
    for row in table.splitlines()[2:]:
        names_cell, default_cell = row.split(" | ")[:2]
        names = re.findall(r"`([a-z_]+)`", re.sub(r"\([^)]*\)", "", names_cell))
        values = re.split(r" / |, ", default_cell)
        for i, name in enumerate(names):
            found[name] = _value(values[i]) if len(values) == len(names) else UNPARSED
    return found


def test_every_setting_is_documented_with_its_default() -> None:
    documented = documented_defaults()
    defaults = ServiceSettings()
    assert {f.name for f in dataclasses.fields(ServiceSettings)} <= set(documented)
    compared = 0
    for name, value in documented.items():
        if value is UNPARSED:
            continue
        actual = getattr(defaults, name)
        assert actual == (pytest.approx(value) if value is not None else None), f"{name}: docs {value}, code {actual}"
        compared += 1
    assert compared >= 18
