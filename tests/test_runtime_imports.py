"""The runtime core's import graph: the edges that once tied nine modules into one knot stay cut.

Read from the sources (no import needed): every ``from runtime... import`` of a
module, split into run-time imports and those under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[1] / "runtime"


def _imports(module: str) -> tuple[set[str], set[str]]:
    """(run-time, type-only) runtime modules imported by `module`."""
    rel = Path(*module.split(".")[1:])
    path = RUNTIME / rel / "__init__.py" if (RUNTIME / rel).is_dir() else RUNTIME / f"{rel}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    run, typed = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("runtime."):
            (typed if id(node) in type_only else run).add(node.module or "")
    return run, typed


def _reload_modules() -> list[str]:
    return ["runtime.reload"] + [
        f"runtime.reload.{p.stem}"
        for p in (RUNTIME / "reload").glob("*.py")
        if p.stem != "__init__"
    ]


def test_plugins_and_build_do_not_import_each_other() -> None:
    assert not any(m.startswith("runtime.build") for m in set().union(*_imports("runtime.plugins")))
    assert "runtime.plugins" in _imports("runtime.build")[0]  # build uses plugins, one way


def test_contexts_do_not_know_the_game() -> None:
    assert "runtime.game" not in set().union(*_imports("runtime.context"))


def test_game_code_api_does_not_import_the_transaction() -> None:
    for module in ("runtime.scripting", "runtime.reports"):
        imported = set().union(*_imports(module))
        assert not any(m.startswith("runtime.reload") for m in imported), module


def test_the_transaction_imports_the_game_for_types_only() -> None:
    for module in _reload_modules():
        run, _ = _imports(module)
        assert "runtime.game" not in run, module
