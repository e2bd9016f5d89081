"""No import loop through the registry, the spec declarations and the peers (issue 22, item 5).

A static check: every ``import`` in ``src/affectlens`` (those inside functions too, since a lazy
import that closes a loop is a loop that merely waits; not those under ``if TYPE_CHECKING:``)
makes the module graph, and no cycle may pass through the modules below.  ``apart`` owns the
check of the whole package; this one is about the registry's corner of it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import affectlens

PACKAGE_DIR = Path(affectlens.__file__).resolve().parent
GUARDED = ("affectlens.registry", "affectlens.builtin_models", "affectlens.recognizer_spec",
           "affectlens.recognizers.peers", "affectlens.recognizers.peer_specs", "affectlens.model_folder",
           "affectlens.recognizer_params", "affectlens.protocols")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE_DIR.rglob("*.py")}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, here: str, modules: dict[str, Path], is_package: bool) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                package = here.split(".") if is_package else here.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # ``from pkg import module``
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {name for name in found if name in modules and name != here}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(ast.parse(path.read_text(encoding="utf-8")), name, modules, path.name == "__init__.py")
            for name, path in modules.items()}


def cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A shortest import path from ``start`` back to itself, or None."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for name in frontier:
            for target in sorted(graph.get(name, ())):
                if target == start:
                    return [*paths[name], start]
                if target not in paths:
                    paths[target] = [*paths[name], target]
                    following.append(target)
        frontier = following
    return None


@pytest.mark.parametrize("module", GUARDED)
def test_no_import_loop_through(module: str) -> None:
    graph = import_graph()
    assert module in graph, f"{module} is not a module of the package any more: update GUARDED"
    loop = cycle_through(graph, module)
    assert loop is None, "import loop: " + " -> ".join(loop or [])


def test_the_checker_finds_a_loop() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycle_through(graph, "a") == ["a", "b", "c", "a"]
    assert cycle_through(graph, "d") is None


def test_the_checker_reads_lazy_and_relative_imports_and_skips_type_checking() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import registry\n"
        "if TYPE_CHECKING:\n    from affectlens.types import Modality\n"
        "def f():\n    from affectlens.model_folder import describe\n"
    )
    modules = _modules()
    found = _imports(ast.parse(source), "affectlens.builtin_models", modules, is_package=False)
    assert found == {"affectlens", "affectlens.registry", "affectlens.model_folder"}


@pytest.mark.parametrize("module", GUARDED)
def test_each_imports_alone_in_a_fresh_interpreter(module: str) -> None:
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
