"""Shared fixtures: throw-away Hotplay projects written into ``tmp_path``.

Most runtime tests need a project on disk: a ``hotplay.toml``, plugin packages
under ``plugins/`` and a scene. `make_project` writes one from Python literals::

    def test_spinner_turns(make_project):
        root = make_project(
            plugins={"toys": {"spin.py": '''
                from runtime import Script

                class Spin(Script):
                    speed: float = 90.0

                    def on_update(self, ctx, dt):
                        ctx.entity.rotation += self.speed * dt
            '''}},
            scene=[entity(1, "Top", scripts=[script("toys.spin:Spin")])],
        )
        with Game(root) as game:
            game.step(60)
            assert game.scene[1].rotation == pytest.approx(90.0)

Sources are dedented, so they can be written indented inside the test.
`entity`, `script` and `scene_data` build scene-file data; import them with
``from .conftest import entity, script, scene_data``.
"""

from __future__ import annotations

import json
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

#: The scene `make_project` writes when given entities (relative to the project root).
MAIN_SCENE = "assets/scenes/main.scene.json"

#: The repository, which is also Hotplay's sample project.
REPO_ROOT = Path(__file__).resolve().parent.parent


def script(type_id: str, **fields: Any) -> dict[str, Any]:
    """A script entry of a scene file: ``{"type": ..., "fields": {...}}``."""
    return {"type": type_id, "fields": fields}


def entity(handle: int, name: str = "Entity", *, parent: int = 0, **attrs: Any) -> dict[str, Any]:
    """An entity entry of a scene file; `attrs` are further keys (``position``, ``scripts``...)."""
    return {"handle": handle, "name": name, "parent": parent, **attrs}


def scene_data(*entities: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A complete format-1 scene: `entities` plus top-level keys (``name``, ``next_handle``...)."""
    data: dict[str, Any] = {"format": 1, "name": "test"}
    data.update(top)
    data.setdefault("entities", list(entities))
    return data


PluginFiles = Mapping[str, "str | None"] | str
SceneSpec = Mapping[str, Any] | list[dict[str, Any]] | str | bytes | None


def write_project(
    root: Path,
    *,
    plugins: Mapping[str, PluginFiles] | None = None,
    scene: SceneSpec = None,
    scene_path: str = MAIN_SCENE,
    assets: Mapping[str, str | bytes] | None = None,
    name: str = "Test project",
    toml: str | None = None,
) -> Path:
    """Write a project into `root` (created if needed) and return `root`.

    Args:
        plugins: ``{plugin: {file: source}}``. File names are relative to
            ``plugins/<plugin>/`` and may contain ``/``. An empty ``__init__.py``
            is added unless given; map ``"__init__.py"`` to ``None`` to leave it
            out (a folder that is not a package). A plain string instead of the
            mapping is the ``__init__.py`` source.
        scene: the main scene: a mapping (dumped as JSON), a list of entity
            mappings (wrapped by `scene_data`), or ``str``/``bytes`` written
            verbatim (for broken files). ``None`` writes an empty scene.
        scene_path: where the scene goes, relative to the root; also written as
            ``main_scene`` in ``hotplay.toml``.
        assets: extra files under ``assets/`` (images...), by relative path.
        name: the project name in ``hotplay.toml``.
        toml: the whole ``hotplay.toml`` text, replacing the generated one.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / "plugins").mkdir(exist_ok=True)
    (root / "assets").mkdir(exist_ok=True)
    if toml is None:
        toml = f"[project]\nname = {json.dumps(name)}\nmain_scene = {json.dumps(scene_path)}\n"
    (root / "hotplay.toml").write_text(toml, encoding="utf-8")
    for plugin, files in (plugins or {}).items():
        if isinstance(files, str):
            files = {"__init__.py": files}
        pdir = root / "plugins" / plugin
        pdir.mkdir(parents=True, exist_ok=True)
        if "__init__.py" not in files:
            (pdir / "__init__.py").write_text("", encoding="utf-8")
        for rel, source in files.items():
            if source is None:
                continue
            f = pdir / rel
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    for rel, content in (assets or {}).items():
        f = root / "assets" / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            f.write_bytes(content)
        else:
            f.write_text(content, encoding="utf-8")
    sp = root / scene_path
    sp.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(scene, bytes):
        sp.write_bytes(scene)
    elif isinstance(scene, str):
        sp.write_text(scene, encoding="utf-8")
    else:
        data = scene_data(*scene) if isinstance(scene, list) else (scene or scene_data())
        sp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return root


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """A function writing a project under ``tmp_path`` (see `write_project`); returns its root.

    The first call writes ``tmp_path / "project"``; pass ``root=`` (a path, or a
    name under ``tmp_path``) to make several projects in one test.
    """
    counter = iter(range(1, 1000))

    def make(root: Path | str | None = None, **kwargs: Any) -> Path:
        if root is None:
            n = next(counter)
            root = tmp_path / ("project" if n == 1 else f"project{n}")
        elif not Path(root).is_absolute():
            root = tmp_path / root
        return write_project(Path(root), **kwargs)

    return make


def _plugin_namespaces() -> set[str]:
    return {m for m in sys.modules if m.startswith("hotplay_plugins")}


@pytest.fixture(autouse=True)
def _no_leaked_games() -> Iterator[None]:
    """Fail a test that leaves plugin modules, import finders or threads behind.

    A closed `Game` removes its plugin namespace from ``sys.modules`` and its
    finder from ``sys.meta_path``; anything left means a game was not closed.
    """
    modules = _plugin_namespaces()
    finders = list(sys.meta_path)
    threads = set(threading.enumerate())
    yield
    leaked = _plugin_namespaces() - modules
    assert not leaked, f"plugin modules left in sys.modules (a Game not closed?): {leaked}"
    assert sys.meta_path == finders, "an import finder was left on sys.meta_path"
    extra = [t for t in threading.enumerate() if t not in threads and t.is_alive()]
    assert not extra, f"threads left running: {extra}"


@pytest.fixture
def editor_side() -> Iterator[Callable[..., Any]]:
    """Make `tests.fake_editor.FakeEditor` players; each is closed after the test, never orphaned.

    Call it as ``editor_side(project, *play_args, command=...)``; `command` is
    the interpreter and module to run (default ``python -m runtime``).
    """
    from .fake_editor import FakeEditor

    made: list[FakeEditor] = []

    def make(project: Path, *args: str, command: list[str] | None = None) -> FakeEditor:
        fe = (
            FakeEditor(project, *args)
            if command is None
            else FakeEditor(project, *args, command=command)
        )
        made.append(fe)
        return fe

    yield make
    for fe in made:
        fe.close()
        assert fe.proc.returncode is not None  # no orphan player
