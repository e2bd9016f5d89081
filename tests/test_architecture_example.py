"""``docs/architecture.md``'s "Add a recognizer" example runs exactly as written."""

import re
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def _blocks() -> list[str]:
    section = DOC.read_text(encoding="utf-8").split("## Add a recognizer, end to end", 1)[1]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_add_a_recognizer_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module, usage = _blocks()
    assert module.startswith("# my_emoji.py")
    (tmp_path / "my_emoji.py").write_text(module, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    from affectlens.registry import unregister

    try:
        exec(compile(usage, str(DOC), "exec"), {"__name__": "architecture_example"})
    finally:
        unregister("emoji.sentiment.v1")
        sys.modules.pop("my_emoji", None)
