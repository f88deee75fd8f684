"""The recovery journal: each change appended as it happens, replayed after a kill."""

import json
import logging
import os
from pathlib import Path

import pytest

from editor.commands import ReparentEntity
from editor.recovery import (
    RecoveryChoice,
    RecoveryInfo,
    RecoveryStore,
    base_copy_for,
    journal_for,
)
from runtime import BuildProfile, Handle, Vec2
from runtime.scenefile import scene_to_data
from tests.editor.test_recovery import killed_editor


def _recover(make_window) -> tuple[object, list[RecoveryInfo]]:
    asked: list[RecoveryInfo] = []

    def policy(info: RecoveryInfo) -> RecoveryChoice:
        asked.append(info)
        return RecoveryChoice.RECOVER

    return make_window(profile=BuildProfile.DEBUG, recovery_policy=policy), asked


def edit_every_way(window) -> None:
    """A move, a rename, an added child, a reparent, a delete and an undone delete."""
    scene = window.edited_scene
    ball = scene.find("Ball A")
    window.inspector.attributeEdited.emit(ball.handle, "position", Vec2(7.0, 8.0))
    window.inspector.attributeEdited.emit(ball.handle, "name", "Ball renamed")
    window.select(ball.handle)
    child = window.add_entity(child=True)
    assert child is not None
    other = next(e for e in scene if e.handle not in (ball.handle, child) and not e.children)
    window.undo_stack.push(ReparentEntity(window.document.edit_target, other.handle, child, None))
    window.select(scene.roots[-1])
    window.editing.delete_selected()
    window.select(scene.roots[0])
    window.editing.delete_selected()
    window.undo_stack.undo()


def test_an_edit_journals_only_what_it_touched(window) -> None:
    ball = window.edited_scene.find("Ball A")
    window.inspector.attributeEdited.emit(ball.handle, "position", Vec2(1.0, 2.0))
    target = window.recovery.path_for(window.scene_path)
    assert not target.exists(), "the scene file is the base: no copy of the whole scene"
    header, record = [json.loads(line) for line in journal_for(target).read_text().splitlines()]
    assert header["base"] == "scene"
    assert [d["handle"] for d in record["entities"]] == [int(ball.handle)]
    assert record["entities"][0]["position"] == [1.0, 2.0]


def test_every_kind_of_edit_is_recovered_after_the_editor_died(make_window) -> None:
    first = make_window(profile=BuildProfile.DEBUG)
    edit_every_way(first)
    edited = scene_to_data(first.edited_scene)
    first.hide()
    first.shutdown()  # no clean close: the journal is all there is
    second, asked = _recover(make_window)
    assert len(asked) == 1
    assert scene_to_data(second.edited_scene) == edited
    assert second.is_modified


def test_edits_after_a_snapshot_are_replayed_on_it(make_window) -> None:
    first = make_window(profile=BuildProfile.DEBUG)
    ball = first.edited_scene.find("Ball A")
    first.inspector.attributeEdited.emit(ball.handle, "position", Vec2(3.0, 3.0))
    snapshot = first.autosave_now()
    assert snapshot is not None
    edit_every_way(first)
    edited = scene_to_data(first.edited_scene)
    first.hide()
    first.shutdown()
    # The snapshot alone would not do: the scene file changing since does not matter.
    scene_file = first.scene_path
    scene_file.write_text(scene_file.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    second, asked = _recover(make_window)
    assert len(asked) == 1 and asked[0].scene_changed_on_disk()
    assert scene_to_data(second.edited_scene) == edited


def test_a_torn_last_record_is_skipped_and_the_rest_recovered(make_window, caplog) -> None:
    first = make_window(profile=BuildProfile.DEBUG)
    ball = first.edited_scene.find("Ball A")
    first.inspector.attributeEdited.emit(ball.handle, "position", Vec2(1.0, 1.0))
    kept = scene_to_data(first.edited_scene)
    first.inspector.attributeEdited.emit(ball.handle, "name", "torn away")
    first.hide()
    first.shutdown()
    journal = journal_for(first.recovery.path_for(first.scene_path))
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:-1]) + lines[-1][:-9])  # power lost mid-write
    with caplog.at_level(logging.WARNING, logger="hotplay"):
        second, asked = _recover(make_window)
    assert len(asked) == 1
    assert scene_to_data(second.edited_scene) == kept
    assert any("cut off" in r.getMessage() for r in caplog.records)


def _killed_after_one_move(make_window) -> tuple[Path, Path, dict]:
    """Move Ball A, end the editor without a clean close; the journal, scene file, edits."""
    first = make_window(profile=BuildProfile.DEBUG)
    ball = first.edited_scene.find("Ball A")
    first.inspector.attributeEdited.emit(ball.handle, "position", Vec2(1.0, 1.0))
    edited = scene_to_data(first.edited_scene)
    first.hide()
    first.shutdown()
    journal = journal_for(first.recovery.path_for(first.scene_path))
    assert journal.is_file()
    return journal, first.scene_path, edited


def _pull(scene_file: Path) -> None:
    """The scene file changes while no editor runs (a pull)."""
    scene_file.write_text(scene_file.read_text(encoding="utf-8") + "\n", encoding="utf-8")


def test_a_journal_survives_its_scene_file_changing_after_the_editor_died(make_window) -> None:
    journal, scene_file, edited = _killed_after_one_move(make_window)
    assert base_copy_for(_unit(journal)).is_file(), "the scene file it starts from, copied"
    _pull(scene_file)
    second, asked = _recover(make_window)
    assert len(asked) == 1 and asked[0].scene_changed_on_disk()
    assert scene_to_data(second.edited_scene) == edited


def test_a_journal_from_another_version_of_the_scene_is_set_aside(make_window, caplog) -> None:
    journal, scene_file, _edited = _killed_after_one_move(make_window)
    # The copy never made (the file changed at once, or the disk refused it): the
    # records would apply to a scene they never saw.
    base_copy_for(_unit(journal)).unlink()
    _pull(scene_file)
    with caplog.at_level(logging.WARNING, logger="hotplay"):
        second, asked = _recover(make_window)
    assert asked == []
    assert not second.is_modified and second.edited_scene.find("Ball A").position != (1.0, 1.0)
    assert not journal.exists()
    (aside,) = journal.parent.glob("*.corrupt.recovery.journal")
    assert aside.read_bytes()  # kept for a person to look at
    assert any("another version" in r.getMessage() for r in caplog.records)


def _unit(journal: Path) -> Path:
    return journal.with_name(journal.name.removesuffix(".journal") + ".json")


def test_scripts_a_reload_rebuilds_are_not_journaled(window) -> None:
    # A code save rebuilds every script of the edited scene; its data stays the same.
    scene = window.edited_scene
    with_scripts = [e.handle for e in scene if e.scripts]
    assert with_scripts
    window.game.notify_scripts_replaced(scene, with_scripts)
    window.document.recovery._on_reload_committed()  # as the reload's notify step calls it
    ball = scene.find("Ball A")
    window.inspector.attributeEdited.emit(ball.handle, "position", Vec2(4.0, 4.0))
    journal = journal_for(window.recovery.path_for(window.scene_path))
    record = json.loads(journal.read_text().splitlines()[-1])
    assert [d["handle"] for d in record["entities"]] == [int(ball.handle)]


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_journal_is_replayed_after_sigkill(make_window, project: Path, tmp_path: Path) -> None:
    line = killed_editor(project, tmp_path, "every-way", lambda _line: None)
    scene = project / "assets" / "scenes" / "demo.scene.json"
    assert not RecoveryStore(project).path_for(scene).exists(), "journaled, no snapshot"
    window, asked = _recover(make_window)
    assert len(asked) == 1
    assert scene_to_data(window.edited_scene) == json.loads(line)
    assert Handle(window.edited_scene.next_handle) > max(window.edited_scene.entities)


def test_undo_to_the_saved_state_and_redo_copy_the_scene_file_once(
    make_window, monkeypatch
) -> None:
    from editor.controllers import recovery as controller

    copies: list[Path] = []
    copy = controller.copy_base
    monkeypatch.setattr(controller, "copy_base", lambda *a: copies.append(a[0]) or copy(*a))
    first = make_window(profile=BuildProfile.DEBUG)
    ball = first.edited_scene.find("Ball A")
    first.inspector.attributeEdited.emit(ball.handle, "position", Vec2(2.0, 2.0))
    journal = journal_for(first.recovery.path_for(first.scene_path))
    first.undo_stack.undo()  # the saved state again: nothing to recover
    assert not first.is_modified and not journal.exists()
    first.undo_stack.redo()
    edited = scene_to_data(first.edited_scene)
    first.hide()
    first.shutdown()
    assert copies == [first.scene_path]
    _pull(first.scene_path)  # replayed on the copy kept from the first edit
    second, asked = _recover(make_window)
    assert len(asked) == 1
    assert scene_to_data(second.edited_scene) == edited
