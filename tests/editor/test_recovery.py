"""Autosave to a recovery file, and the offer to recover after the editor was killed."""

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from editor.controllers import recovery as recovery_controller
from editor.player_process.command import remove_stale_play_folders
from editor.recovery import RecoveryChoice, RecoveryInfo, RecoveryStore
from runtime import BuildProfile, Vec2
from runtime.scenefile import remove_interrupted_saves, scene_to_data

REPO = Path(__file__).resolve().parents[2]


class Answers:
    """A recovery policy that answers with `choice` and records what it was asked."""

    def __init__(self, choice: RecoveryChoice) -> None:
        self.choice = choice
        self.asked: list[RecoveryInfo] = []

    def __call__(self, info: RecoveryInfo) -> RecoveryChoice:
        self.asked.append(info)
        return self.choice


def _move_ball(window, x: float = 123.0, y: float = -45.0) -> None:
    ball = window.edited_scene.find("Ball A")
    window.inspector.attributeEdited.emit(ball.handle, "position", Vec2(x, y))
    assert window.is_modified


def _killed_with_unsaved_edits(make_window) -> tuple[dict, Path]:
    """Edit, autosave, then end the window the way a kill would: no clean close."""
    first = make_window(profile=BuildProfile.DEBUG)
    _move_ball(first)
    first.add_entity()
    path = first.autosave_now()
    assert path is not None and path.is_file()
    edited = scene_to_data(first.edited_scene)
    first.hide()
    first.shutdown()  # stops threads; skips closeEvent, which deletes the recovery file
    assert path.is_file()
    return edited, path


def test_autosave_writes_only_unsaved_changes(window):
    assert not window.is_modified
    assert window.autosave_now() is None
    target = window.recovery.path_for(window.scene_path)
    assert not target.exists()
    _move_ball(window)
    assert window.autosave_now() == target
    assert target.is_file()
    window.undo_stack.undo()  # back to the saved state: the recovery file has no purpose
    assert not window.is_modified
    assert window.autosave_now() is None
    assert not target.exists()


def test_autosave_timer_folds_a_long_journal_into_a_snapshot(make_window, qtbot, monkeypatch):
    monkeypatch.setattr(recovery_controller, "COMPACT_AFTER_RECORDS", 2)
    window = make_window(profile=BuildProfile.DEBUG, autosave_interval_ms=20)
    target = window.recovery.path_for(window.scene_path)
    _move_ball(window)
    qtbot.wait(100)
    assert not target.exists(), "one record: the journal is enough"
    _move_ball(window, 5, 5)
    window.add_entity()
    qtbot.waitUntil(target.is_file, timeout=5000)
    assert _recovered_position(target) == [5.0, 5.0]
    assert window.recovery.read(target).scene_data == scene_to_data(window.edited_scene)


def test_recovery_file_holds_exactly_the_edited_scene(window, project):
    _move_ball(window)
    window.add_entity()
    path = window.autosave_now()
    assert path is not None
    assert path.parent == project / ".hotplay" / "recovery"
    assert path.name.endswith(".recovery.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    meta = data.pop("hotplay_recovery")
    assert data == scene_to_data(window.edited_scene)
    assert meta["scene"] == "assets/scenes/demo.scene.json"
    st = window.scene_path.stat()
    assert meta["saved_stamp"] == {"mtime_ns": st.st_mtime_ns, "size": st.st_size}
    info = RecoveryStore(project).find(window.scene_path)
    assert info is not None and info.scene_path == window.scene_path
    assert not info.scene_changed_on_disk() and info.newer_than_save()


def test_recover_after_kill_restores_the_edits(make_window):
    edited, path = _killed_with_unsaved_edits(make_window)
    answers = Answers(RecoveryChoice.RECOVER)
    second = make_window(profile=BuildProfile.DEBUG, recovery_policy=answers)
    assert len(answers.asked) == 1 and answers.asked[0].path == path
    assert not answers.asked[0].scene_changed_on_disk()
    assert scene_to_data(second.edited_scene) == edited
    assert second.is_modified and second.isWindowModified()
    assert path.is_file(), "kept until the user saves"
    second.autosave_now()
    assert path.is_file()
    assert second.save_scene()
    assert not path.exists()
    assert not second.is_modified


def test_discard_deletes_the_recovery_file(make_window):
    _edited, path = _killed_with_unsaved_edits(make_window)
    second = make_window(
        profile=BuildProfile.DEBUG, recovery_policy=Answers(RecoveryChoice.DISCARD)
    )
    assert not path.exists()
    assert not second.is_modified
    assert second.edited_scene.find("Ball A").position != Vec2(123.0, -45.0)


def test_later_keeps_the_file_and_asks_again(make_window):
    _edited, path = _killed_with_unsaved_edits(make_window)
    before = path.read_bytes()
    answers = Answers(RecoveryChoice.LATER)
    second = make_window(profile=BuildProfile.DEBUG, recovery_policy=answers)
    assert not second.is_modified
    (held,) = path.parent.glob("*.held-*.recovery.json")
    assert held.read_bytes() == before  # kept, never overwritten
    second.close()  # a clean close does not delete it either
    assert held.read_bytes() == before
    answers.choice = RecoveryChoice.RECOVER
    third = make_window(profile=BuildProfile.DEBUG, recovery_policy=answers)
    assert len(answers.asked) == 2
    assert third.edited_scene.find("Ball A").position == Vec2(123.0, -45.0)
    # Recovered, the edits are the scene's recovery file again: a save deletes it.
    assert path.is_file() and not held.exists()
    assert third.save_scene()
    assert not list(path.parent.glob("*.recovery.json"))


def test_edits_made_after_later_are_kept_too(make_window):
    # Later used to stop the scene's autosave, so a second crash lost the new edits.
    _edited, path = _killed_with_unsaved_edits(make_window)
    answers = Answers(RecoveryChoice.LATER)
    second = make_window(profile=BuildProfile.DEBUG, recovery_policy=answers)
    _move_ball(second, 1, 1)  # on disk at once, in the scene's own recovery file
    assert _recovered_position(path) == [1.0, 1.0]
    second.hide()
    second.shutdown()  # killed again: no clean close
    answers.choice = RecoveryChoice.DISCARD  # newest first: the new edits, then the old
    asked_before = len(answers.asked)
    make_window(profile=BuildProfile.DEBUG, recovery_policy=answers)
    asked = answers.asked[asked_before:]
    assert len(asked) == 2 and asked[0].written_at >= asked[1].written_at
    assert asked[0].scene_data["entities"] != asked[1].scene_data["entities"]
    assert not list(path.parent.glob("*.recovery.json"))


def test_recovery_offer_says_the_file_changed_since(make_window, qtbot):
    _edited, _path = _killed_with_unsaved_edits(make_window)
    answers = Answers(RecoveryChoice.LATER)
    probe = make_window(profile=BuildProfile.DEBUG, recovery_policy=answers)
    scene_file = probe.scene_path
    scene_file.write_text(scene_file.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert probe.open_scene(scene_file)
    info = answers.asked[-1]
    assert info.scene_changed_on_disk()
    box = probe.document.recovery.message_box(info)
    qtbot.addWidget(box)
    assert box.text().startswith("Recover unsaved changes to assets/scenes/demo.scene.json")
    assert "changed on disk" in box.informativeText()
    choices = {b.text(): b.property("choice") for b in box.buttons()}
    assert choices == {"Recover": "recover", "Discard": "discard", "Later": "later"}


def test_clean_close_deletes_the_recovery_file(make_window):
    window = make_window(profile=BuildProfile.DEBUG)
    _move_ball(window)
    path = window.autosave_now()
    assert path is not None and path.is_file()
    window.ask_unsaved_changes = lambda: "discard"
    assert window.close()
    assert not path.exists()


def test_save_deletes_the_recovery_file(window):
    _move_ball(window)
    path = window.autosave_now()
    assert path is not None and path.is_file()
    assert window.save_scene()
    assert not path.exists()
    assert window.autosave_now() is None


def test_untitled_scene_is_autosaved_too(window):
    assert window.new_scene()
    window.add_entity()
    path = window.autosave_now()
    assert path is not None and path.name == "untitled.recovery.json"
    assert window.recovery.all_recoveries()[0].scene_path is None


def test_corrupt_recovery_file_is_reported_ignored_and_kept(make_window, project, caplog):
    store = RecoveryStore(project)
    scene = project / "assets" / "scenes" / "demo.scene.json"
    bad = store.path_for(scene)
    bad.parent.mkdir(parents=True)
    bad.write_text('{"hotplay_recovery": {"version": 1, ', encoding="utf-8")
    answers = Answers(RecoveryChoice.RECOVER)
    with caplog.at_level(logging.WARNING, logger="hotplay"):
        window = make_window(profile=BuildProfile.DEBUG, recovery_policy=answers)
    assert answers.asked == []
    assert window.edited_scene.name == "demo" and not window.is_modified
    assert not bad.exists()
    aside = list(bad.parent.glob("*.corrupt.recovery.json"))
    assert len(aside) == 1
    assert aside[0].read_text(encoding="utf-8").startswith('{"hotplay_recovery"')
    assert any("unreadable" in r.getMessage() for r in caplog.records)
    shown = [e for e in window.log_panel.entries if "unreadable" in e.message]
    assert shown and shown[0].level == logging.WARNING


def test_store_sets_aside_every_kind_of_bad_file(tmp_path):
    store = RecoveryStore(tmp_path)
    store.directory.mkdir(parents=True)
    contents = ["[]", '{"format": 1}', '{"hotplay_recovery": {"version": 99}}', "\xff"]
    for i, text in enumerate(contents):
        (store.directory / f"s{i}.recovery.json").write_text(text, encoding="latin-1")
    assert store.all_recoveries() == []
    names = sorted(p.name for p in store.directory.iterdir())
    assert names == [f"s{i}.corrupt.recovery.json" for i in range(len(contents))]
    assert store.all_recoveries() == []  # set-aside files are not read again


def test_exit_after_show_prints_start_up_seconds(project, tmp_path):
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOTPLAY_EDITOR_EXIT_AFTER_SHOW="1",
        XDG_CONFIG_HOME=str(tmp_path / "config"),  # not the user's editor settings
    )
    done = subprocess.run(
        [sys.executable, "-m", "editor", str(project)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    seconds = float(done.stdout.strip().splitlines()[-1])
    assert seconds >= 0


def test_sigterm_keeps_unsaved_edits_even_while_playing(make_window, qapp, qtbot):
    import signal

    from editor.__main__ import _end_session_on_signals

    first = make_window(profile=BuildProfile.DEBUG)
    _move_ball(first)
    edited = scene_to_data(first.edited_scene)
    first.play()  # the autosave timer would skip a playing editor; a SIGTERM must not
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    wake = _end_session_on_signals(qapp, first)
    try:
        os.kill(os.getpid(), signal.SIGTERM)  # the handler runs at once, in this thread
    finally:
        wake.stop()
        wake.deleteLater()
        for s, handler in previous.items():
            signal.signal(s, handler)
    path = first.recovery.path_for(first.scene_path)
    assert path.is_file(), "the edits went to the recovery file"
    answers = Answers(RecoveryChoice.RECOVER)
    second = make_window(profile=BuildProfile.DEBUG, recovery_policy=answers)
    assert len(answers.asked) == 1
    assert scene_to_data(second.edited_scene) == edited


# --- nothing lost: every edit on disk within a second, leftovers of killed editors go ---

_POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="SIGKILL")

# An editor that moves "Ball A", prints when, optionally starts in-editor Play (and
# then blocks its event loop for good, as a hung game would), and runs until killed.
# Mode "every-way" makes every kind of edit instead and prints the scene it holds.
# Its periodic autosave is off: only the edit itself may write.
EDITOR = """
import json, os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
from editor import MainWindow
from runtime import BuildProfile, Vec2
from runtime.scenefile import scene_to_data
from tests.editor.test_recovery_journal import edit_every_way

app = QApplication([])
settings = QSettings(sys.argv[2], QSettings.Format.IniFormat)
window = MainWindow(sys.argv[1], settings=settings, profile=BuildProfile.DEBUG,
                    autosave_interval_ms=0)
window.show()

def edit():
    if sys.argv[3] == "every-way":
        edit_every_way(window)
        print(json.dumps(scene_to_data(window.edited_scene)), flush=True)
        return
    ball = window.edited_scene.find("Ball A")
    window.inspector.attributeEdited.emit(ball.handle, "position", Vec2(123.0, -45.0))
    if sys.argv[3] != "editing":
        window.play()
    print("edited", flush=True)
    if sys.argv[3] == "play-hung":  # game code that never returns blocks the event loop
        while True:
            pass

QTimer.singleShot(0, edit)
app.exec()
"""


def _recovered_position(path: Path) -> list[float] | None:
    """Ball A's position in the recovery `path` as the next start reads it (with its journal)."""
    info = RecoveryStore(path.parents[2]).read(path)
    if info is None:
        return None
    (ball,) = [e for e in info.scene_data["entities"] if e["name"] == "Ball A"]
    return ball["position"]


def killed_editor(
    project: Path, tmp_path: Path, mode: str, before_kill: Callable[[str], None]
) -> str:
    """Run `EDITOR` in `mode`, call `before_kill` with the line it prints, SIGKILL it."""
    editor = subprocess.Popen(
        [sys.executable, "-c", EDITOR, str(project), str(tmp_path / "killed.ini"), mode],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert editor.stdout is not None
        line = editor.stdout.readline()
        assert line.strip(), editor.communicate(timeout=30)[1][-3000:]
        before_kill(line)
        editor.send_signal(signal.SIGKILL)
        editor.communicate(timeout=30)
    finally:
        if editor.poll() is None:
            editor.kill()
            editor.communicate(timeout=30)
    assert editor.returncode == -signal.SIGKILL
    return line


@_POSIX_ONLY
@pytest.mark.parametrize("mode", ["editing", "play", "play-hung"])
def test_an_edit_is_on_disk_within_a_second_and_survives_sigkill(
    make_window, project: Path, tmp_path: Path, qtbot, mode: str
) -> None:
    scene = project / "assets" / "scenes" / "demo.scene.json"
    recovery = RecoveryStore(project).path_for(scene)

    def on_disk_within_a_second(line: str) -> None:
        assert line.strip() == "edited"
        # Within a second of the edit (the line was printed right after it).
        qtbot.waitUntil(lambda: _recovered_position(recovery) == [123.0, -45.0], timeout=1000)

    killed_editor(project, tmp_path, mode, on_disk_within_a_second)
    answers = Answers(RecoveryChoice.RECOVER)
    window = make_window(recovery_policy=answers)
    assert len(answers.asked) == 1
    assert tuple(window.edited_scene.find("Ball A").position) == (123.0, -45.0)
    assert window.is_modified


# Saves the demo scene with the rename replaced by a SIGKILL of itself: the save dies
# after its temporary file is written in full, just before the rename.
KILLED_MID_SAVE = """
import os, signal, sys
from runtime.scenefile import save_scene, load_scene

scene = load_scene(sys.argv[1], lambda type_id: None)
os.replace = lambda src, dst: os.kill(os.getpid(), signal.SIGKILL)
save_scene(scene, sys.argv[1])
"""


@_POSIX_ONLY
def test_the_next_start_deletes_the_temporary_file_of_a_killed_save(
    make_window, project: Path
) -> None:
    scenes = project / "assets" / "scenes"
    before = (scenes / "demo.scene.json").read_bytes()
    done = subprocess.run(
        [sys.executable, "-c", KILLED_MID_SAVE, str(scenes / "demo.scene.json")],
        cwd=REPO,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    (left,) = scenes.glob(".*.tmp")
    assert left.stat().st_size > 0
    assert (scenes / "demo.scene.json").read_bytes() == before  # the save was atomic

    # A save this process is making now is not touched.
    ours = scenes / f".demo.scene.json.{os.getpid()}-abcd1234.tmp"
    ours.write_text("in progress")
    make_window()
    assert not left.exists()
    assert ours.exists()
    assert remove_interrupted_saves(scenes) == []


# Plays an unsaved scene's way: writes it to a hotplay-play-* folder, then is killed.
KILLED_WITH_PLAY_FOLDER = """
import os, signal
from editor.player_process.command import scene_argument
from runtime import Scene

path, folder = scene_argument(Scene(name="unsaved"))
print(folder, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@_POSIX_ONLY
def test_play_folders_of_killed_editors_are_deleted(tmp_path: Path) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    done = subprocess.run(
        [sys.executable, "-c", KILLED_WITH_PLAY_FOLDER],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    left = Path(done.stdout.strip())
    assert left.parent == temp and (left / "unsaved.scene.json").is_file()
    mine = temp / f"hotplay-play-{os.getpid()}-live"
    mine.mkdir()
    unrelated = temp / "hotplay-play-notours"
    unrelated.mkdir()

    assert remove_stale_play_folders(temp) == [left]
    assert not left.exists() and mine.is_dir() and unrelated.is_dir()


def test_a_first_edit_is_on_disk_before_the_event_loop_turns_again(window) -> None:
    _move_ball(window)
    target = window.recovery.path_for(window.scene_path)
    assert _recovered_position(target) == [123.0, -45.0]


def test_a_write_within_a_second_after_each_change_while_editing(window, qtbot) -> None:
    # In process too: a change, then another after the first write, each reaches disk.
    target = window.recovery.path_for(window.scene_path)
    ball = window.edited_scene.find("Ball A")
    for x in (10.0, 20.0):
        started = time.monotonic()
        window.inspector.attributeEdited.emit(ball.handle, "position", Vec2(x, 0.0))
        qtbot.waitUntil(lambda x=x: _recovered_position(target) == [x, 0.0], timeout=1000)
        assert time.monotonic() - started < 1.0


# Lists the recoveries of the project given on the command line.
LIST_RECOVERIES = """
import sys
from editor.recovery import RecoveryStore
print(len(RecoveryStore(sys.argv[1]).all_recoveries()), flush=True)
"""


@_POSIX_ONLY
def test_a_fifo_among_the_recovery_files_is_skipped_not_read(project: Path) -> None:
    store = RecoveryStore(project)
    store.directory.mkdir(parents=True)
    os.mkfifo(store.directory / "blocked.recovery.json")
    done = subprocess.run(
        [sys.executable, "-c", LIST_RECOVERIES, str(project)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"
