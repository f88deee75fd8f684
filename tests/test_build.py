"""The Build step: every error of every plugin file, and the Release bytecode run under -O."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from runtime import BuildProfile, Game
from runtime.build import MANIFEST, build_project, release_dir, stale_sources
from runtime.bytecode import load_bytecode
from runtime.cli import main as cli_main

from .conftest import REPO_ROOT, entity, script

DEBUG_PROBE = """
from runtime import Plugin, Script


class Probe(Plugin):
    def on_init(self, ctx):
        print(f"probe: __debug__={__debug__} version={VERSION}", flush=True)


class Counter(Script):
    count: int = 0

    def on_update(self, ctx, dt):
        assert self.count >= 0, "never false"
        self.count += 1


VERSION = 1
"""


def _copy_sample(dest: Path) -> Path:
    import shutil

    for part in ("plugins", "assets"):
        shutil.copytree(REPO_ROOT / part, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "hotplay.toml", dest / "hotplay.toml")
    return dest


def test_sample_project_builds_for_every_profile(tmp_path: Path) -> None:
    root = _copy_sample(tmp_path / "sample")
    for profile in BuildProfile:
        result = build_project(root, profile)
        assert result.ok, result.lines()
        assert result.plugins == ("bouncy",)
        assert result.files == 3
        # Measured, not asserted (no timing assertions): the log says how long it took.
        print(f"{profile}: {result.seconds * 1000:.1f} ms")
        assert result.lines()[-1].startswith("build succeeded")
    assert (root / "build" / "release" / MANIFEST).is_file()
    assert not (REPO_ROOT / "plugins" / "bouncy" / "ball.pyc").exists()


def test_build_reports_every_error_with_file_line_and_column(
    make_project: Callable[..., Path],
) -> None:
    root = make_project(
        plugins={
            "broken": {
                "__init__.py": "from runtime import Plugin\n",
                "a.py": "x = 1\ndef f(:\n    pass\n",
                "b.py": "def g():\n  return 1\n    return 2\n",  # unexpected indent
                "ok.py": "y = 2\n",
                "_private.py": "z = (\n",  # not imported eagerly: still built
                "sub/__init__.py": "",
                "sub/deep.py": "for\n",
            },
            "other": {"__init__.py": "import = 3\n"},
            "fine": {"__init__.py": "from runtime import Plugin\n"},
        }
    )
    result = build_project(root, BuildProfile.DEBUG)
    assert not result.ok
    where = {(Path(e.path).relative_to(root / "plugins").as_posix(), e.line) for e in result.errors}
    assert where == {
        ("broken/a.py", 2),
        ("broken/b.py", 3),
        ("broken/_private.py", 1),
        ("broken/sub/deep.py", 1),
        ("other/__init__.py", 1),
    }
    a = next(e for e in result.errors if e.path.endswith("a.py"))
    assert a.column == 7 and "SyntaxError" in a.message
    lines = result.lines()
    assert any(
        line.startswith(f"{root / 'plugins' / 'broken' / 'a.py'}:2:7: error: SyntaxError")
        for line in lines
    )
    assert "    def f(:" in lines and "          ^" in lines
    assert lines[-1].startswith("build failed") and "5 errors" in lines[-1]
    assert result.plugins == ("broken", "fine", "other")
    # Nothing was written, and the same holds for Release.
    release = build_project(root, BuildProfile.RELEASE)
    assert not release.ok and release.output_dir is None
    assert not (root / "build").exists()


def test_build_warnings_do_not_fail_it(make_project: Callable[..., Path]) -> None:
    root = make_project(plugins={"p": {"w.py": 'x = "\\d"\nassert (x, "always true")\n'}, "q": {}})
    (root / "plugins" / "notapackage").mkdir()
    result = build_project(root, BuildProfile.DEBUG)
    assert result.ok
    texts = [str(w) for w in result.warnings]
    assert any("w.py:1" in t and "escape" in t for t in texts), texts
    assert any("w.py:2" in t and "SyntaxWarning" in t for t in texts), texts
    assert any("notapackage" in t for t in texts), texts


def test_build_command_exit_code(make_project: Callable[..., Path], capsys) -> None:
    good = make_project(plugins={"p": {"m.py": "x = 1\n"}})
    assert cli_main(["build", "--project", str(good), "--profile", "release"]) == 0
    assert "build succeeded (Release)" in capsys.readouterr().out
    bad = make_project("bad", plugins={"p": {"m.py": "x = \n"}})
    assert cli_main(["build", "--project", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad / 'plugins' / 'p' / 'm.py'}:1:" in out


def test_release_build_replaces_its_output_only_when_it_succeeds(
    make_project: Callable[..., Path],
) -> None:
    root = make_project(plugins={"p": {"m.py": "x = 1\n", "gone.py": "y = 2\n"}})
    assert build_project(root, BuildProfile.RELEASE).ok
    out = release_dir(root)
    assert (out / "plugins" / "p" / "gone.pyc").is_file()
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["optimize"] == 1 and set(manifest["files"]) == {
        "p/__init__.py",
        "p/m.py",
        "p/gone.py",
    }
    (root / "plugins" / "p" / "gone.py").unlink()
    (root / "plugins" / "p" / "m.py").write_text("x = (\n")
    assert stale_sources(out, root / "plugins") == ["p/m.py", "p/gone.py"]
    assert not build_project(root, BuildProfile.RELEASE).ok
    assert (out / "plugins" / "p" / "gone.pyc").is_file()  # untouched by the failed build
    (root / "plugins" / "p" / "m.py").write_text("x = 3\n")
    assert build_project(root, BuildProfile.RELEASE).ok
    assert not (out / "plugins" / "p" / "gone.pyc").exists()  # a fresh folder, no leftovers
    assert stale_sources(out, root / "plugins") == []
    assert [p.name for p in out.parent.iterdir()] == ["release"]


def test_game_runs_plugins_from_the_release_bytecode(make_project: Callable[..., Path]) -> None:
    root = make_project(
        plugins={"probe": {"__init__.py": DEBUG_PROBE}},
        scene=[entity(1, "C", scripts=[script("probe:Counter")])],
    )
    assert build_project(root, BuildProfile.RELEASE).ok
    # The source changes after the build: the release game still runs what was built.
    src = root / "plugins" / "probe" / "__init__.py"
    src.write_text(DEBUG_PROBE.replace("VERSION = 1", "VERSION = 2"))
    with Game(root, profile=BuildProfile.RELEASE, bytecode_dir=release_dir(root)) as game:
        game.step(3)
        module = game.plugins.plugins["probe"].modules[game.plugins.module_name("probe")]
        assert module.VERSION == 1
        assert module.__file__ == str(src)  # tracebacks still point at the source
        assert game.scene[1].scripts[0].count == 3
    code = load_bytecode(release_dir(root), (root / "plugins").resolve(), str(src))
    assert code.co_filename == str(src.resolve())


def test_release_player_runs_under_python_O_from_the_build(
    make_project: Callable[..., Path],
) -> None:
    root = make_project(
        plugins={"probe": {"__init__.py": DEBUG_PROBE}},
        scene=[entity(1, "C", scripts=[script("probe:Counter")])],
    )
    assert build_project(root, BuildProfile.RELEASE).ok
    (root / "plugins" / "probe" / "__init__.py").write_text(
        DEBUG_PROBE.replace("VERSION = 1", "VERSION = 2")
    )
    cmd = [
        sys.executable,
        *BuildProfile.RELEASE.interpreter_flags,
        "-m",
        "runtime",
        "play",
        "--project",
        str(root),
        "--profile",
        "release",
        "--headless",
        "--frames",
        "5",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=release_dir(root))
    assert done.returncode == 0, done.stderr
    assert "probe: __debug__=False version=1" in done.stdout
    assert "changed since the last Release build" in done.stderr
    assert "ran 5 frames" in done.stdout and "profile Release" in done.stdout  # its summary


def test_release_player_without_a_build_says_so(make_project: Callable[..., Path]) -> None:
    root = make_project(plugins={"probe": {"__init__.py": DEBUG_PROBE}})
    cmd = [
        sys.executable,
        "-O",
        "-m",
        "runtime",
        "play",
        "--project",
        str(root),
        "--profile",
        "release",
        "--headless",
        "--frames",
        "1",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "no Release build" in done.stderr
