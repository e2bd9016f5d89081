"""Read the JSON files in ``taxonomy/data`` once per process."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_json(name: str) -> Any:
    """Parsed content of ``taxonomy/data/<name>`` (cached; callers must not mutate it)."""
    text = resources.files("affectlens.taxonomy").joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text)
