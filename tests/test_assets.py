"""The asset watcher: saves under ``assets/`` reach the game thread as `AssetChange`s."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from runtime import Game
from runtime.assets import AssetChange, AssetKind, AssetWatcher, asset_kind, image_problem, is_asset

from .conftest import write_project

PNG_HEADER = b"\x89PNG\r\n\x1a\n"


def test_asset_kinds_and_editor_noise() -> None:
    assert asset_kind("a/b/hero.PNG") is AssetKind.IMAGE
    assert asset_kind("scenes/main.scene.json") is AssetKind.SCENE
    assert asset_kind("notes.txt") is None and asset_kind("data.json") is None
    assert is_asset("/p/assets/hero.png")
    assert not is_asset("/p/assets/.hero.png.swp") and not is_asset("/p/assets/hero.png~")
    assert not is_asset("/p/assets/.git/hero.png")


def test_image_problem_tells_files_that_cannot_be_images(tmp_path: Path) -> None:
    (tmp_path / "ok.png").write_bytes(PNG_HEADER + b"rest")
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("not an image")
    assert image_problem(tmp_path / "ok.png") is None
    assert image_problem(tmp_path / "empty.png") == "the file is empty"
    assert image_problem(tmp_path / "text.png") == "not an image file"
    assert "cannot read" in (image_problem(tmp_path / "gone.png") or "")


def test_a_save_is_debounced_into_one_change(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    (assets / "img").mkdir(parents=True)
    woken: list[int] = []
    first_wake = threading.Event()

    def wakeup() -> None:
        woken.append(1)
        first_wake.set()

    watcher = AssetWatcher(assets, quiet_ms=30, wakeup=wakeup)
    watcher.start()
    try:
        # An editor's atomic save: a temporary file renamed over the image, twice.
        for _ in range(2):
            tmp = assets / "img" / ".hero.png.tmp"
            tmp.write_bytes(PNG_HEADER)
            os.replace(tmp, assets / "img" / "hero.png")
        (assets / "notes.txt").write_text("ignored")
        assert first_wake.wait(10)
        changes = watcher.take()
    finally:
        watcher.stop()
    assert not watcher.alive
    assert changes == [AssetChange("img/hero.png", AssetKind.IMAGE, True)]
    assert len(woken) == 1


def test_the_game_tells_its_listeners_between_frames(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", plugins={}, scene=[])
    (root / "assets" / "hero.png").write_bytes(PNG_HEADER)
    heard: list[list[AssetChange]] = []
    with Game(root) as game:
        game.on_asset_change(heard.append)
        game.assets.post(["hero.png", "gone.png", "scenes/main.scene.json"])
        assert heard == []  # nothing happens on the poster's thread
        game.step()
        game.step()
    assert heard == [
        [
            AssetChange("hero.png", AssetKind.IMAGE, True),
            AssetChange("gone.png", AssetKind.IMAGE, False),
            AssetChange("scenes/main.scene.json", AssetKind.SCENE, True),
        ]
    ]


def test_one_save_reported_twice_is_taken_once(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    assets.mkdir()
    image = assets / "hero.png"
    image.write_bytes(PNG_HEADER + b"red")
    watcher = AssetWatcher(assets)
    watcher.post_saved(["hero.png"])
    assert watcher.take() == [AssetChange("hero.png", AssetKind.IMAGE, True)]
    watcher.post_saved([str(image)])  # the watcher's second batch of the same save
    assert watcher.take() == []

    image.write_bytes(PNG_HEADER + b"blu")  # a new save, the same size
    watcher.post_saved(["hero.png"])
    assert watcher.take() == [AssetChange("hero.png", AssetKind.IMAGE, True)]
    image.unlink()
    watcher.post_saved(["hero.png"])
    assert watcher.take() == [AssetChange("hero.png", AssetKind.IMAGE, False)]
