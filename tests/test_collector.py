"""`runtime.collector.collector_paused`, and the bursts of objects it is used for."""

from __future__ import annotations

import gc
import json
import weakref
from pathlib import Path
from typing import Any

import pytest

from runtime import scenefile
from runtime.collector import collector_paused
from runtime.scene import Scene

from .conftest import entity, scene_data


def test_pauses_and_restores_what_it_found() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("a failure inside still turns the collector back on")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled(), "a collector that was off stays off"
    finally:
        gc.enable()


def test_a_kept_burst_joins_the_oldest_generation_unwalked() -> None:
    with collector_paused(keep=True):
        made = [[index] for index in range(100)]
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert all(id(m) in oldest for m in made)
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_a_kept_burst_does_not_move_young_garbage_to_the_oldest_generation() -> None:
    class Node:
        pass

    gc.collect()
    gone = weakref.WeakSet()
    for _ in range(20):
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the collector frees it
        gone.add(a)
        del a, b
    assert len(gone) == 20
    with collector_paused(keep=True):
        pass
    gc.collect(0)  # what the youngest generation's next collection finds
    assert len(gone) == 0


def test_a_kept_burst_does_not_move_garbage_of_the_middle_generation_either() -> None:
    class Node:
        pass

    gc.collect()
    gone = weakref.WeakSet()
    held = []
    for _ in range(20):
        a, b = Node(), Node()
        a.other, b.other = b, a
        gone.add(a)
        held.append(a)
        del a, b
    gc.collect(0)  # they survive it: now in the middle generation
    held.clear()  # and garbage there
    assert len(gone) == 20
    with collector_paused(keep=True):
        pass
    gc.collect(1)
    assert len(gone) == 0


def test_a_kept_burst_leaves_what_someone_else_froze_frozen() -> None:
    held = [[1], [2]]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collector_paused(keep=True):
            made = [[index] for index in range(10)]
        assert gc.get_freeze_count() == frozen
        assert made and held
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("bad", [False, True])
def test_loading_and_copying_a_scene_run_without_collections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: bool
) -> None:
    """The collector is off while a scene is read or copied, and on again after, errors too."""
    seen: list[bool] = []
    real = scenefile._SceneReader.read

    def read(self: Any, data: Any) -> Scene:
        seen.append(gc.isenabled())
        return real(self, data)

    monkeypatch.setattr(scenefile._SceneReader, "read", read)
    path = tmp_path / "s.scene.json"
    data = scene_data(*(entity(h) for h in range(1, 50)))
    path.write_text(json.dumps(data)[: -2 if bad else None], encoding="utf-8")
    if bad:
        with pytest.raises(scenefile.SceneFileError, match="not valid JSON"):
            scenefile.load_scene(path, lambda _: None)
    else:
        scene = scenefile.load_scene(path, lambda _: None)
        assert seen == [False] and gc.isenabled()
        copied: list[bool] = []
        monkeypatch.setattr(scenefile, "_copy_scripts", lambda *a: copied.append(gc.isenabled()))
        scenefile.copy_scene(scene, lambda _: None)
        assert copied == [False]
    assert gc.isenabled()


MOVER = """
from runtime import Script

class Mover(Script):
    steps: int = 0
{extra}
    def on_update(self, ctx, dt):
        self.steps += 1
"""


#: A field edit whose reload rebuilds every Mover: an ``on_after_reload`` runs on new objects
#: (a field edit alone migrates the kept objects in place).
REBUILT = (
    "    speed: float = {speed}\n\n"
    "    def on_after_reload(self, ctx, report):\n"
    "        self.heard = True\n"
)


def mover_lab(tmp_path: Path, init: str = "") -> Any:
    """A project of five Movers (`MOVER`), with `init` as its package's __init__.py."""
    from .reload_lab import Lab, entity

    return Lab(
        tmp_path / "proj",
        {"game/__init__.py": init, "game/mover.py": MOVER.format(extra="")},
        [entity(h, f"E{h}", ("game.mover:Mover", {})) for h in range(1, 6)],
    )


def counted_young_collections(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Count the reload's young collections; any rebuild of a scene's scripts is large."""
    from runtime.reload import restore

    monkeypatch.setattr(restore, "_MANY", 1)  # five objects stand for thousands
    collected: list[bool] = []
    monkeypatch.setattr(restore, "collect_young", lambda: collected.append(True))
    return collected


@pytest.mark.parametrize("frames_ahead", [0, 3])
def test_objects_a_reload_rebuilds_join_the_oldest_generation_unless_it_looked_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, frames_ahead: int
) -> None:
    # A rebuild makes every object anew; left young, they were all walked by the
    # collections of the next frames. A look-ahead's world, thrown away, is young too:
    # when one ran, nothing is moved.
    from runtime.reload import restore

    from .reload_lab import scripts_of

    monkeypatch.setattr(restore, "_MANY", 1)  # five objects stand for thousands
    lab = mover_lab(tmp_path)
    with lab.game(look_ahead_frames=frames_ahead) as game:
        game.step(2)
        lab.write("game/mover.py", MOVER.format(extra=REBUILT.format(speed=2.0)))
        report = game.reload()
        assert report.ok, report.details()
        rebuilt = scripts_of(game, "Mover")
        assert [s.speed for s in rebuilt] == [2.0] * 5
        oldest = {id(o) for o in gc.get_objects(generation=2)}
        moved = [id(s) in oldest for s in rebuilt]
        assert moved == [frames_ahead == 0] * 5


def test_a_code_only_edit_does_not_collect_the_young_generation_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It rebuilds the plugin object alone: a collection first would walk the reload's
    # lists of every script for it (about 3 ms at 10,000 entities).
    collected = counted_young_collections(monkeypatch)
    lab = mover_lab(tmp_path, "from runtime import Plugin\n\nclass Game(Plugin):\n    n: int = 0\n")
    with lab.game() as game:
        game.step(1)
        lab.write("game/mover.py", MOVER.format(extra="").replace("+= 1", "+= 2"))
        assert game.reload().ok
        lab.write("game/mover.py", MOVER.format(extra=REBUILT.format(speed=2.0)))
        assert game.reload().ok
    assert collected == [True]  # the rebuild only


def test_a_reload_leaves_the_collector_alone_when_the_game_turned_it_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    collected = counted_young_collections(monkeypatch)
    lab = mover_lab(tmp_path)
    with lab.game() as game:
        game.step(1)
        gc.disable()
        try:
            lab.write("game/mover.py", MOVER.format(extra=REBUILT.format(speed=2.0)))
            assert game.reload().ok
            assert not gc.isenabled()
        finally:
            gc.enable()
        lab.write("game/mover.py", MOVER.format(extra=REBUILT.format(speed=3.0)))
        assert game.reload().ok
    assert collected == [True]  # the second reload only
