"""The command line is one package: nothing outside ``affectlens/cli/`` imports it or ``typer``."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import affectlens
from affectlens.errors import ERROR_TABLE, INTERNAL, describe

SRC = Path(affectlens.__file__).resolve().parent


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
            if node.module == "affectlens":  # ``from affectlens import cli``
                found.extend((node.lineno, f"affectlens.{alias.name}") for alias in node.names)
    return found


def _is_cli(module: str) -> bool:
    return module.split(".")[0] == "typer" or module == "affectlens.cli" or module.startswith("affectlens.cli.")


def test_no_module_outside_the_cli_package_imports_it_or_typer() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative.startswith("cli/") or relative == "__main__.py":  # ``python -m affectlens`` runs the CLI
            continue
        if relative == "testing/cli.py":  # the test kit's CLI (the real one, with the dummy model registered)
            continue
        offenders.extend(f"{relative}:{line}: {module}"
                         for line, module in _imports(ast.parse(path.read_text(encoding="utf-8")))
                         if _is_cli(module))
    assert offenders == [], "CLI imports outside affectlens/cli/:\n" + "\n".join(offenders)


def test_the_check_sees_both_import_forms() -> None:
    tree = ast.parse("import typer\nfrom affectlens import cli\nfrom affectlens.cli.errors import CliError\n")
    assert [m for _, m in _imports(tree) if _is_cli(m)] == ["typer", "affectlens.cli", "affectlens.cli.errors"]


def test_every_command_module_lives_in_the_cli_package() -> None:
    from affectlens.cli import _LAZY_GROUPS

    for module, _ in _LAZY_GROUPS.values():
        assert module.startswith("affectlens.cli."), module
        importlib.import_module(module)


def test_every_row_of_the_error_table_names_a_real_error_type() -> None:
    for row in ERROR_TABLE:
        module, _, name = row.error.rpartition(":")
        error_type = getattr(importlib.import_module(module or "builtins"), name)
        assert issubclass(error_type, BaseException), row


@pytest.mark.parametrize(("make", "exit_code", "http_status"), [
    (lambda: __import__("affectlens.io", fromlist=["x"]).UnsupportedInput("no reader for .xyz"), 2, 501),
    (lambda: __import__("affectlens.io", fromlist=["x"]).EmptyInput("empty input"), 2, 400),
    (lambda: __import__("affectlens.media_limits", fromlist=["x"]).MediaTooLarge("too big"), 2, 413),
    (lambda: __import__("affectlens.recognizer_pool", fromlist=["x"]).MissingDependency("no onnx"), 1, 501),
    (lambda: __import__("affectlens.options", fromlist=["x"]).UnsupportedOption("--column: no"), 2, 400),
    (lambda: RuntimeError("boom"), 1, 500),
])
def test_the_cli_and_the_service_read_one_table(make: object, exit_code: int, http_status: int) -> None:
    from affectlens.cli.errors import _describe

    exc = make()  # type: ignore[operator]
    row, _ = describe(exc)
    assert (row.exit_code, row.http_status) == (exit_code, http_status)
    assert _describe(exc)[1] == exit_code
    try:
        from affectlens.service.engine import describe_exception
    except ImportError:  # the service extra is not installed
        return
    assert describe_exception(exc)[0] == http_status
    assert (row is INTERNAL) == (http_status == 500)
