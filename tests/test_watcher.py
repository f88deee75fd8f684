"""The plugin watcher, alone and driving reloads of a running game end to end."""

from __future__ import annotations

import os
import queue
import sys
import threading

import pytest

from runtime import BuildProfile
from runtime.watcher import SETTLE_MS, PluginWatcher, is_relevant

from .reload_lab import Lab, entity, scripts_of
from .test_reload import INIT, KINDS, MOVER_V1


@pytest.fixture(autouse=True)
def no_leaked_threads():
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leaked, f"threads left running: {leaked}"


@pytest.fixture
def lab(tmp_path):
    return Lab(
        tmp_path / "proj",
        {"game/__init__.py": INIT, "game/mover.py": MOVER_V1, "game/kinds.py": KINDS},
        [entity(1, "A", ("game.mover:Mover", {"velocity": [1, 0]}))],
    )


@pytest.mark.parametrize(
    "path, relevant",
    [
        ("plugins/game/mover.py", True),
        ("plugins/game/sub", True),
        ("plugins/game/__pycache__/mover.cpython-311.pyc", False),
        ("plugins/game/.mover.py.swp", False),
        ("plugins/game/mover.py~", False),
        ("plugins/game/4913", False),
        ("plugins/game/.#mover.py", False),
        ("plugins/game/notes.txt", False),
        ("plugins/game/mover.py___jb_tmp___", False),
    ],
)
def test_relevant_paths(path, relevant):
    assert is_relevant(path) is relevant


class Batches:
    def __init__(self):
        self.q: queue.Queue = queue.Queue()

    def __call__(self, paths, t):
        self.q.put((paths, t))

    def next(self, timeout=5.0):
        return self.q.get(timeout=timeout)


def test_burst_of_saves_gives_one_batch(tmp_path):
    batches = Batches()
    w = PluginWatcher(tmp_path, batches, quiet_ms=150, settle_ms=SETTLE_MS)
    w.start()
    try:
        # While one file of the burst is still being written, every save waits the
        # whole quiet window; the burst ends when it is closed.
        with open(tmp_path / "c.py", "w") as writing:
            writing.write("z = 0\n")
            writing.flush()
            for i in range(5):
                (tmp_path / "a.py").write_text(f"x = {i}\n")
            (tmp_path / "b.py").write_text("y = 1\n")
        paths, _ = batches.next()
        assert {os.path.basename(p) for p in paths} == {"a.py", "b.py", "c.py"}
        with pytest.raises(queue.Empty):
            batches.next(timeout=0.3)
    finally:
        w.stop()
    assert not w.alive


def test_a_finished_save_is_handed_over_without_waiting_the_quiet_window(tmp_path):
    batches = Batches()
    # Ten minutes: never waited out. (Without a settle window of its own, a watcher with
    # a quiet window of its own waits it out after every event.)
    w = PluginWatcher(tmp_path, batches, quiet_ms=600_000, settle_ms=SETTLE_MS)
    w.start()
    try:
        (tmp_path / "a.py").write_text("x = 1\n")  # written and closed
        paths, _ = batches.next()
        assert [os.path.basename(p) for p in paths] == ["a.py"]
        (tmp_path / "b.tmp").write_text("y = 1\n")
        os.replace(tmp_path / "b.tmp", tmp_path / "b.py")  # an editor's atomic save
        paths, _ = batches.next()
        assert [os.path.basename(p) for p in paths] == ["b.py"]
    finally:
        w.stop()


def test_a_file_still_being_written_holds_the_batch_until_it_is_closed(tmp_path):
    batches = Batches()
    w = PluginWatcher(tmp_path, batches, quiet_ms=600_000, settle_ms=SETTLE_MS)
    w.start()
    try:
        with open(tmp_path / "slow.py", "w") as slow:
            slow.write("x = 1\n")
            slow.flush()
            (tmp_path / "quick.py").write_text("y = 1\n")  # finished, but slow.py is not
            with pytest.raises(queue.Empty):
                batches.next(timeout=0.3)
        paths, _ = batches.next()
        assert {os.path.basename(p) for p in paths} == {"quick.py", "slow.py"}
    finally:
        w.stop()


def test_a_running_watcher_gets_the_interpreter_lock_within_a_millisecond(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "getswitchinterval", lambda: 0.005)  # Python's default
    chosen = []
    monkeypatch.setattr(sys, "setswitchinterval", chosen.append)
    w = PluginWatcher(tmp_path, Batches())
    w.start()
    w.stop()
    assert chosen == [0.001]


def test_reading_plugin_files_wakes_no_watcher_thread(tmp_path, monkeypatch):
    """Every reload reads the sources: opening a file must not reach the observer's threads."""
    from runtime import watcher

    seen: list[str] = []
    handle = watcher._Recorder.on_any_event

    def spy(self, event):
        seen.append(event.event_type)
        handle(self, event)

    monkeypatch.setattr(watcher._Recorder, "on_any_event", spy)
    (tmp_path / "a.py").write_text("x = 1\n")
    batches = Batches()
    w = PluginWatcher(tmp_path, batches, quiet_ms=600_000, settle_ms=SETTLE_MS)
    w.start()
    try:
        for _ in range(5):
            (tmp_path / "a.py").read_bytes()
        # Events come in order: once this save's batch is in, every read's events were too.
        (tmp_path / "b.py").write_text("y = 1\n")
        paths, _ = batches.next()
        assert [os.path.basename(p) for p in paths] == ["b.py"]
    finally:
        w.stop()
    assert "closed" in seen
    assert "opened" not in seen and "closed_no_write" not in seen, seen


@pytest.mark.parametrize(
    "change",
    [
        lambda path: os.utime(path, (1_000_000, 1_000_000)),  # the times only
        lambda path: os.chmod(path, 0o600),
    ],
    ids=["utime", "chmod"],
)
def test_a_change_of_a_files_metadata_alone_is_still_seen(tmp_path, change):
    """Not opening or reading a file must not hide a chmod or a touch of its times."""
    (tmp_path / "a.py").write_text("x = 1\n")
    batches = Batches()
    w = PluginWatcher(tmp_path, batches, quiet_ms=30)
    w.start()
    try:
        change(tmp_path / "a.py")
        paths, _ = batches.next()
        assert [os.path.basename(p) for p in paths] == ["a.py"]
    finally:
        w.stop()


def test_watcher_survives_a_failing_handler(tmp_path):
    calls = Batches()

    def handler(paths, t):
        calls(paths, t)
        raise RuntimeError("handler bug")

    w = PluginWatcher(tmp_path, handler, quiet_ms=5)
    w.start()
    try:
        (tmp_path / "a.py").write_text("x = 1\n")
        calls.next()
        (tmp_path / "b.py").write_text("x = 1\n")
        calls.next()
        assert w.alive
    finally:
        w.stop()


def test_save_while_running_reloads_with_state(lab):
    with lab.game(profile=BuildProfile.DEBUG_HR) as game:
        game.step(5)
        lab.write("game/mover.py", MOVER_V1.replace("self.steps += 1", "self.steps += 1000"))
        report = game.wait_for_reload(timeout=10)
        assert report is not None and report.ok, report and report.details()
        assert report.timings["detect"] >= 0
        a = scripts_of(game, "Mover")[0]
        assert a.steps == 5 and game.scene.find("A").position == (5.0, 0.0)
        game.step(1)
        assert a.steps == 1005


def test_atomic_rename_save_is_seen(lab):
    with lab.game(profile=BuildProfile.DEBUG_HR) as game:
        game.step(1)
        tmp = lab.path("game/mover.py___jb_tmp___")
        tmp.write_text(MOVER_V1.replace("self.steps += 1", "self.steps += 7"))
        os.replace(tmp, lab.path("game/mover.py"))  # how JetBrains IDEs and vim save
        report = game.wait_for_reload(timeout=10)
        assert report is not None and report.ok
        game.step(1)
        assert scripts_of(game, "Mover")[0].steps == 8


def test_new_subpackage_and_deleted_module(lab):
    with lab.game(profile=BuildProfile.DEBUG_HR) as game:
        lab.write("game/extras/__init__.py", "")
        lab.write(
            "game/extras/spin.py",
            "from runtime import Script\n\nclass Spin(Script):\n    speed: float = 1.0\n",
        )
        report = game.wait_for_reload(timeout=10)
        assert report is not None and report.ok
        assert game.registry.resolve("game.extras.spin:Spin") is not None
        lab.path("game/extras/spin.py").unlink()
        report = game.wait_for_reload(timeout=10)
        assert report is not None and report.ok
        assert game.registry.resolve("game.extras.spin:Spin") is None


def test_bad_save_then_fix_through_the_watcher(lab):
    with lab.game(profile=BuildProfile.DEBUG_HR) as game:
        game.step(2)
        lab.write("game/mover.py", "class Broken(:\n")
        report = game.wait_for_reload(timeout=10)
        assert report is not None and not report.ok and "mover.py:1:" in report.error
        game.step(1)
        assert scripts_of(game, "Mover")[0].steps == 3
        lab.write("game/mover.py", MOVER_V1)
        report = game.wait_for_reload(timeout=10)
        assert report is not None and report.ok


def test_symlinked_plugin_folder_and_file_reload_through_the_watcher(tmp_path):
    """Issue 14, item 10: a linked plugin package, or a linked file, never reloaded."""
    lab = Lab(
        tmp_path / "proj",
        {"game/__init__.py": INIT, "game/kinds.py": KINDS},
        [entity(1, "A", ("game.mover:Mover", {"velocity": [1, 0]}))],
    )
    # plugins/game/mover.py links to a file elsewhere; plugins/extra links to a folder.
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "extra").mkdir(parents=True)
    (elsewhere / "mover.py").write_text(MOVER_V1)
    extra = "from runtime import Plugin\n\nclass Extra(Plugin):\n    level: int = 1\n"
    (elsewhere / "extra" / "__init__.py").write_text(extra)
    lab.path("game/mover.py").symlink_to(elsewhere / "mover.py")
    lab.path("extra").symlink_to(elsewhere / "extra")
    with lab.game(profile=BuildProfile.DEBUG_HR, quiet_ms=30) as game:
        game.step(2)
        assert game.plugin("extra").level == 1
        (elsewhere / "mover.py").write_text(MOVER_V1.replace("self.steps += 1", "self.steps += 10"))
        report = game.wait_for_reload(timeout=10)
        assert report is not None and report.ok and report.plugins == ("game",), report
        game.step(1)
        assert scripts_of(game, "Mover")[0].steps == 12
        (elsewhere / "extra" / "__init__.py").write_text(extra + "    x: int = 5\n")
        report = game.wait_for_reload(timeout=10)
        assert report is not None and report.ok and report.plugins == ("extra",), report
        assert game.plugin("extra").x == 5
