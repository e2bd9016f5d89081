"""The import graph of ``src/``, read with ``ast`` (nothing is imported): no loops, no private
names taken across packages, and the runtime never imports the test kit or the training recipes.

Every import counts, also those inside functions (a lazy import only hides a loop until the
function runs); imports under ``if TYPE_CHECKING:`` do not.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
RUNTIME = "affectlens"
TEST_KIT = "affectlens.testing"
RECIPES = "affectlens_recipes"

#: loops another change removes; each names who fixes it, so the test tightens when they merge (none now)
KNOWN_LOOPS: dict[frozenset[str], str] = {}
#: private names taken across packages that another change removes (same rule as KNOWN_LOOPS)
KNOWN_PRIVATE: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # the module imported (the names' module for ``from m import a, b``)
    names: tuple[str, ...]
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under ``node``, leaving out the bodies of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield other
                yield from _walk(other)
            continue
        yield child
        yield from _walk(child)


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    """The imports of module ``name`` that land in ``src/``, each resolved to a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []
    for node in _walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    found.append(Import(name, alias.name, (), node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            plain: list[str] = []
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in modules:  # ``from pkg import module``
                    found.append(Import(name, submodule, (), node.lineno))
                else:
                    plain.append(alias.name)
            if plain and base in modules:
                found.append(Import(name, base, tuple(plain), node.lineno))
    return found


def import_graph() -> dict[str, list[Import]]:
    modules = all_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def loops(graph: dict[str, list[Import]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan), and self-imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:  # the graph is small (a few hundred modules): recursion is fine
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for edge in graph.get(node, ()):
            if edge.target not in index:
                visit(edge.target)
                low[node] = min(low[node], low[edge.target])
            elif edge.target in on_stack:
                low[node] = min(low[node], index[edge.target])
        if low[node] == index[node]:
            component: set[str] = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    found += [frozenset({n}) for n, edges in graph.items() if any(e.target == n for e in edges)]
    return found


def _parent(module: str, modules: dict[str, Path]) -> str:
    return module if modules[module].name == "__init__.py" else module.rpartition(".")[0]


def _private(part: str) -> bool:
    return part.startswith("_") and not part.startswith("__")


def private_cross_imports(graph: dict[str, list[Import]],
                          known: Collection[tuple[str, str]] = ()) -> list[str]:
    """``from other.package.module import _name`` (or a ``_module``) taken by a module of another package;
    ``known`` (importer, module) pairs are let through."""
    modules = all_modules()
    bad = []
    for importer, edges in graph.items():
        for edge in edges:
            if _parent(importer, modules) == _parent(edge.target, modules):
                continue
            private = [n for n in edge.names if _private(n)]
            if any(_private(p) for p in edge.target.split(".")):
                private.append(edge.target)
            if private and (importer, edge.target) not in known:
                bad.append(f"{importer}:{edge.line} takes {', '.join(private)} from {edge.target}")
    return bad


def _is_in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def runtime_imports_of(graph: dict[str, list[Import]], package: str) -> list[str]:
    return [f"{importer}:{edge.line} imports {edge.target}"
            for importer, edges in graph.items()
            if _is_in(importer, RUNTIME) and not _is_in(importer, package) and not _is_in(importer, TEST_KIT)
            for edge in edges if _is_in(edge.target, package)]


@pytest.fixture(scope="module")
def graph() -> dict[str, list[Import]]:
    return import_graph()


def test_no_import_loops(graph: dict[str, list[Import]]) -> None:
    found = [sorted(loop) for loop in loops(graph) if loop not in KNOWN_LOOPS]
    assert found == [], f"import loops: {found}"


def test_known_loops_are_still_there(graph: dict[str, list[Import]]) -> None:
    # once the owner removes one, delete it from KNOWN_LOOPS so that it cannot come back
    gone = [why for loop, why in KNOWN_LOOPS.items() if loop not in loops(graph)]
    assert gone == [], f"fixed: remove from KNOWN_LOOPS: {gone}"


def test_no_private_names_across_packages(graph: dict[str, list[Import]]) -> None:
    assert private_cross_imports(graph, KNOWN_PRIVATE) == []


def test_known_private_imports_are_still_there(graph: dict[str, list[Import]]) -> None:
    still = {(importer, edge.target) for importer, edges in graph.items() for edge in edges
             if any(_private(n) for n in edge.names) or any(_private(p) for p in edge.target.split("."))}
    gone = set(KNOWN_PRIVATE) - still
    assert gone == set(), f"fixed: remove from KNOWN_PRIVATE: {gone}"


def test_runtime_does_not_import_the_test_kit(graph: dict[str, list[Import]]) -> None:
    assert runtime_imports_of(graph, TEST_KIT) == []


def test_runtime_does_not_import_the_recipes(graph: dict[str, list[Import]]) -> None:
    assert any(_is_in(m, RECIPES) for m in graph), "the recipes package moved: update RECIPES"
    assert runtime_imports_of(graph, RECIPES) == []


# -- the checks themselves, on made-up sources ---------------------------------------------------


def test_the_checks_find_a_loop_a_private_import_and_a_runtime_import(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "src"
    files = {
        "affectlens/__init__.py": "",
        "affectlens/a.py": "from affectlens.sub import b\n",
        "affectlens/sub/__init__.py": "",
        "affectlens/sub/b.py": "def f():\n    from affectlens import a\n",
        "affectlens/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from affectlens import d\n"
                           "from affectlens.sub.b import _helper\nfrom affectlens.testing import x\n",
        "affectlens/d.py": "from affectlens import c\n",
        "affectlens/testing/__init__.py": "x = 1\n",
        "affectlens_recipes/__init__.py": "",
        "affectlens_recipes/r.py": "from . import s\nfrom affectlens.sub.b import _helper\n",
        "affectlens_recipes/s.py": "from .r import _y\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    monkeypatch.setitem(globals(), "SRC", root)
    found = import_graph()
    assert sorted(map(sorted, loops(found))) == [["affectlens.a", "affectlens.sub.b"],
                                                 ["affectlens_recipes.r", "affectlens_recipes.s"]]
    assert private_cross_imports(found) == [
        "affectlens.c:4 takes _helper from affectlens.sub.b",
        "affectlens_recipes.r:2 takes _helper from affectlens.sub.b"]
    assert runtime_imports_of(found, TEST_KIT) == ["affectlens.c:5 imports affectlens.testing"]
