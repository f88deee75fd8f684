"""The new-project template (``python -m runtime new``), in process."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from runtime.game import Game
from runtime.project import Project
from runtime.scenefile import dumps_scene, dumps_scene_data
from runtime.template import TemplateError, create_project


def test_template_project_runs(tmp_path: Path) -> None:
    root = create_project(tmp_path / "space-race")
    project = Project.open(root)
    assert project.name == "space-race"
    assert project.main_scene == "assets/scenes/main.scene.json"
    assert (root / "plugins" / "space_race" / "scripts.py").is_file()
    with Game(root) as game:
        assert game.plugins.errors == {}
        assert list(game.plugin_objects) == ["space_race"]
        wobbler = game.scene.find("Wobbler")
        assert wobbler is not None
        script = wobbler.scripts[0]
        assert type(script).__name__ == "Wobbler"
        start = wobbler.position
        game.step(30)
        assert wobbler.rotation == pytest.approx(45.0)
        assert wobbler.position != start
        assert game.plugin("space_race").frames == 30


def test_template_scene_is_in_canonical_form(tmp_path: Path) -> None:
    root = create_project(tmp_path / "game")
    path = root / "assets" / "scenes" / "main.scene.json"
    text = path.read_text(encoding="utf-8")
    assert dumps_scene_data(json.loads(text)) == text  # the scene files' layout
    assert '"position": [0.0, -200.0],' in text
    with Game(root, scene=False) as game:
        saved = json.loads(dumps_scene(game.load_scene(path)))
    # Saving writes every field of a script; the template leaves them all at their
    # defaults, which is the only difference.
    assert saved["entities"][1]["scripts"][0]["fields"]["spin"] == 90.0
    saved["entities"][1]["scripts"][0]["fields"] = {}
    assert saved == json.loads(text)


@pytest.mark.parametrize(
    ("folder", "plugin"),
    [("My Game!", "my_game"), ("3d", "game_3d"), ("---", "game"), ("Été", "été")],
)
def test_plugin_name_from_folder(tmp_path: Path, folder: str, plugin: str) -> None:
    root = create_project(tmp_path / folder)
    assert (root / "plugins" / plugin / "__init__.py").is_file()
    with Game(root) as game:
        assert game.plugins.errors == {}
        assert list(game.plugin_objects) == [plugin]


@pytest.mark.parametrize("name", ['Quote " and \\ back', "Game 🎮", "tab\tand\x7f"])
def test_any_project_name_is_valid_toml(tmp_path: Path, name: str) -> None:
    root = create_project(tmp_path / "p", name=name)
    data = tomllib.loads((root / "hotplay.toml").read_text(encoding="utf-8"))
    assert data["project"]["name"] == name
    assert Project.open(root).name == name


def test_an_empty_existing_folder_is_fine(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert create_project(tmp_path / "empty") == (tmp_path / "empty").resolve()


def test_refuses_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / ".hidden").write_text("", encoding="utf-8")
    with pytest.raises(TemplateError, match="already exists and is not empty"):
        create_project(tmp_path / "x")
    assert [p.name for p in (tmp_path / "x").iterdir()] == [".hidden"]
