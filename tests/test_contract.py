"""The runtime core never imports Qt or the editor (only its rendering modules may use Qt)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import REPO_ROOT

RUNTIME = REPO_ROOT / "runtime"
#: The only runtime modules allowed to import PySide6; nothing in the core imports them.
QT_MODULES = {"runtime.qt_render", "runtime.player_window"}
FORBIDDEN = ("PySide6", "editor")


def core_modules() -> list[str]:
    mods = []
    for f in sorted(RUNTIME.rglob("*.py")):
        rel = f.relative_to(REPO_ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        if name in QT_MODULES or parts[-1] == "__main__":
            continue
        mods.append(name)
    return mods


def test_there_are_core_modules_to_check() -> None:
    mods = core_modules()
    for expected in ("runtime", "runtime.game", "runtime.scene", "runtime.reload", "runtime.cli"):
        assert expected in mods


def test_importing_the_core_loads_no_qt_and_no_editor() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for m in {core_modules()!r}:\n"
        "    importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'editor'))\n"
        "print(json.dumps(bad))\n"
    )
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def _imports(tree: ast.Module) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", ""))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            out.append((node.lineno, node.args[0].value))
    return out


def test_no_source_file_of_the_core_imports_qt_or_the_editor() -> None:
    offenders = []
    for f in sorted(RUNTIME.rglob("*.py")):
        mod = ".".join(f.relative_to(REPO_ROOT).with_suffix("").parts)
        if mod in QT_MODULES:
            continue
        tree = ast.parse(f.read_text(encoding="utf-8"), filename=str(f))
        for line, name in _imports(tree):
            if name.split(".")[0] in FORBIDDEN:
                offenders.append(f"{f.relative_to(REPO_ROOT)}:{line}: imports {name}")
        # The Qt modules may be imported lazily (the CLI's windowed player), never at the top.
        for node in tree.body:
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            names = [a.name for a in node.names]
            if isinstance(node, ast.ImportFrom):
                names = [f"{node.module}.{n}" if node.module else n for n in names]
            for name in names:
                if any(name == q or name.startswith(q + ".") for q in QT_MODULES):
                    offenders.append(f"{f.relative_to(REPO_ROOT)}:{node.lineno}: imports {name}")
    assert offenders == []


def test_the_scan_finds_a_forbidden_import() -> None:
    """The AST scan itself can fail: it sees every form of import."""
    tree = ast.parse(
        "import PySide6.QtCore\n"
        "from editor.main import x\n"
        "def f():\n"
        "    import importlib\n"
        "    importlib.import_module('PySide6.QtGui')\n"
    )
    names = [n for _, n in _imports(tree)]
    assert names == ["PySide6.QtCore", "editor.main", "importlib", "PySide6.QtGui"]


def test_cli_imports_the_window_only_for_a_windowed_run() -> None:
    source = Path(RUNTIME / "cli.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    top_level = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert not any("player_window" in ast.unparse(n) for n in top_level)
