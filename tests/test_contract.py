"""The runtime core never imports Qt or the editor (only `runtime.qt` may use Qt)."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
from pathlib import Path

from .conftest import REPO_ROOT
from .no_qt import python_without_qt

RUNTIME = REPO_ROOT / "runtime"
#: The only runtime modules allowed to import PySide6; nothing in the core imports them.
QT_MODULES = {
    "runtime.qt.keys",
    "runtime.qt.player_window",
    "runtime.qt.render",
}
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
    for expected in (
        "runtime",
        "runtime.game",
        "runtime.scene",
        "runtime.reload",
        "runtime.cli",
        "runtime.player",
        "runtime.qt",  # the package itself imports nothing
    ):
        assert expected in mods


def test_the_qt_modules_are_the_modules_of_runtime_qt() -> None:
    in_package = {
        ".".join(f.relative_to(REPO_ROOT).with_suffix("").parts)
        for f in (RUNTIME / "qt").glob("*.py")
        if f.stem != "__init__"
    }
    assert in_package == QT_MODULES


def _run_without_qt(code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a child Python that cannot import PySide6 (installed or not)."""
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    return subprocess.run(
        python_without_qt(code),
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


#: Prints, as JSON, the modules loaded that the core must not load.
_PRINT_FORBIDDEN_MODULES = (
    "bad = sorted(m for m in sys.modules\n"
    "             if m.split('.')[0] in ('PySide6', 'shiboken6', 'editor'))\n"
    "print(json.dumps(bad))\n"
)


def test_importing_the_core_loads_no_qt_and_no_editor() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for m in {core_modules()!r}:\n"
        "    importlib.import_module(m)\n"
    ) + _PRINT_FORBIDDEN_MODULES
    proc = _run_without_qt(code)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_headless_play_child_and_release_run_without_qt(tmp_path: Path) -> None:
    """Every headless path of ``play`` runs, and loads no Qt, where PySide6 cannot be imported."""
    project = tmp_path / "sample"
    for part in ("plugins", "assets"):
        shutil.copytree(
            REPO_ROOT / part, project / part, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO_ROOT / "hotplay.toml", project / "hotplay.toml")
    code = f"""
import json, socket, sys
from runtime.cli import main

project = {str(project)!r}
# The editor's end, never read: the kernel queues the child's few frames.
editor = socket.create_server(("127.0.0.1", 0))
channel = f"127.0.0.1:{{editor.getsockname()[1]}}"
play = ["play", "--project", project, "--headless", "--frames", "3"]
codes = [
    main(play),
    main([*play, "--channel", channel]),
    main(["build", "--project", project, "--profile", "release"]),
    main([*play, "--profile", "release"]),
    main([*play, "--profile", "release", "--channel", channel]),
]
print(json.dumps(codes))
"""
    proc = _run_without_qt(code + _PRINT_FORBIDDEN_MODULES)
    assert proc.returncode == 0, proc.stderr
    codes, loaded = (json.loads(line) for line in proc.stdout.strip().splitlines()[-2:])
    assert codes == [0, 0, 0, 0, 0], proc.stderr
    assert loaded == []
    assert proc.stdout.count("ran 3 frames") == 4, proc.stdout


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
    assert not any("runtime.qt" in ast.unparse(n) for n in top_level)
