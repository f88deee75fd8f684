"""The one queue of saved plugin files: watcher thread in, game thread out."""

from __future__ import annotations

import threading

from runtime import BuildProfile, changes
from runtime.changes import PendingChanges, file_stamps
from runtime.scripting import type_id_of

from .reload_lab import Lab, entity

PLUGIN_INIT = """
from runtime import Plugin

class {name}Plugin(Plugin):
    pass
"""

SCRIPT = """
from runtime import Script

class Counter(Script):
    count: int = 0

    def on_update(self, ctx, dt):
        self.count += {step}
"""


def test_a_take_gathers_every_batch_with_the_first_save_time() -> None:
    woken: list[int] = []
    changes = PendingChanges(wakeup=lambda: woken.append(1))
    changes.post(["b.py"], 2.0)
    changes.post(["a.py", "b.py"], 1.5)
    assert len(woken) == 2
    batch = changes.take()
    assert batch is not None and batch.paths == ("a.py", "b.py") and batch.detected_at == 1.5
    assert changes.take() is None and not changes


def test_rolled_back_paths_wait_for_the_next_save_and_ride_along() -> None:
    changes = PendingChanges()
    changes.post(["good.py", "bad.py"], 1.0)
    batch = changes.take()
    assert batch is not None
    changes.keep_unloaded(batch)
    # Kept paths alone do not ask for a reload: it would only fail again.
    assert changes.take() is None
    assert changes.paths() == ["bad.py", "good.py"]
    assert not changes.wait(0.0)
    changes.post(["bad.py"], 3.0)
    again = changes.take()
    assert again is not None and again.paths == ("bad.py", "good.py")
    assert again.detected_at == 1.0


def test_wait_returns_when_another_thread_posts() -> None:
    changes = PendingChanges()
    poster = threading.Timer(0.05, changes.post, args=(["x.py"],))
    poster.start()
    try:
        assert changes.wait(10.0)
    finally:
        poster.join()


def _two_plugin_lab(root) -> Lab:
    return Lab(
        root,
        {
            "alpha/__init__.py": PLUGIN_INIT.format(name="Alpha"),
            "alpha/counter.py": SCRIPT.format(step=1),
            "beta/__init__.py": PLUGIN_INIT.format(name="Beta"),
            "beta/counter.py": SCRIPT.format(step=1),
        },
        [
            entity(1, "A", ("alpha.counter:Counter", {})),
            entity(2, "B", ("beta.counter:Counter", {})),
        ],
    )


def _steps_per_frame(game, type_id: str) -> int:
    script = next(s for e in game.scene for s in e.scripts if type_id_of(type(s)) == type_id)
    before = script.count
    game.step(1)
    script = next(s for e in game.scene for s in e.scripts if type_id_of(type(s)) == type_id)
    return script.count - before


def test_a_good_change_rolled_back_with_a_broken_one_loads_when_that_is_fixed(tmp_path) -> None:
    lab = _two_plugin_lab(tmp_path / "proj")
    with lab.game(profile=BuildProfile.DEBUG_HR, watch=False) as game:
        game.step(1)
        good = lab.write("alpha/counter.py", SCRIPT.format(step=10))
        bad = lab.write("beta/counter.py", SCRIPT.format(step=2) + "\n  broken(\n")
        game.queue_reload([str(good), str(bad)])
        [failed] = game.apply_pending_reloads()
        assert not failed.ok
        assert _steps_per_frame(game, "alpha.counter:Counter") == 1  # rolled back: old code
        assert sorted(game.pending_changes()) == sorted([str(bad), str(good)])
        assert game.apply_pending_reloads() == []  # nothing new saved: no retry every frame

        lab.write("beta/counter.py", SCRIPT.format(step=2))
        game.queue_reload([str(bad)])  # only the fixed file is saved again
        [report] = game.apply_pending_reloads()
        assert report.ok and set(report.plugins) == {"alpha", "beta"}
        assert _steps_per_frame(game, "alpha.counter:Counter") == 10
        assert _steps_per_frame(game, "beta.counter:Counter") == 2
        assert game.pending_changes() == []


def test_without_hot_reload_saves_wait_for_the_editors_play(tmp_path) -> None:
    lab = _two_plugin_lab(tmp_path / "proj")
    with lab.game(profile=BuildProfile.DEBUG, watch=False) as game:
        game.step(1)
        path = lab.write("alpha/counter.py", SCRIPT.format(step=5))
        game.queue_reload([str(path)])
        game.step(1)  # Debug: a frame does not apply it
        assert _steps_per_frame(game, "alpha.counter:Counter") == 1
        assert game.pending_changes() == [str(path)]
        [report] = game.apply_pending_reloads(any_profile=True)  # what Play does in Debug
        assert report.ok and _steps_per_frame(game, "alpha.counter:Counter") == 5
        assert game.pending_changes() == []


def test_a_notice_of_a_file_that_still_holds_what_was_loaded_is_dropped(tmp_path) -> None:
    path = tmp_path / "ball.py"
    path.write_text("x = 1\n")
    queue = PendingChanges()
    queue.mark_loaded(file_stamps([str(path)]))
    queue.post_saved([str(path)])  # the watcher reports the write the game already loaded
    assert queue.paths() == [] and queue.take() is None

    path.write_text("x = 2\n")  # same size, other bytes: a real save
    queue.post_saved([str(path)])
    assert queue.paths() == [str(path)]


def test_the_watchers_thread_reads_no_file_the_game_thread_checks_it(tmp_path, monkeypatch) -> None:
    """Reading on the watcher's thread took the interpreter's lock from a playing game."""
    path = tmp_path / "ball.py"
    path.write_text("x = 1\n")
    queue = PendingChanges()
    queue.mark_loaded(file_stamps([str(path)]))
    readers: list[str] = []
    real = changes.file_stamp
    monkeypatch.setattr(
        changes, "file_stamp", lambda p: readers.append(threading.current_thread().name) or real(p)
    )
    watcher = threading.Thread(target=queue.post_saved, args=([str(path)],), name="watcher")
    watcher.start()
    watcher.join()
    assert readers == []
    assert queue.take() is None  # the repeat is dropped, read here
    assert readers == [threading.current_thread().name]
    # A reload asked for by name counts, whatever the watcher says of the same file.
    queue.post([str(path)])
    queue.post_saved([str(path)])
    taken = queue.take()
    assert taken is not None and taken.paths == (str(path),)


def test_a_repeat_notice_does_not_end_a_wait_but_the_next_save_does(tmp_path) -> None:
    path = tmp_path / "ball.py"
    path.write_text("x = 1\n")
    queue = PendingChanges()
    queue.mark_loaded(file_stamps([str(path)]))
    queue.post_saved([str(path)])  # the second half of a save already loaded
    assert not queue.wait(0.05)

    def save() -> None:
        path.write_text("x = 2\n")
        queue.post_saved([str(path)])

    saver = threading.Timer(0.05, save)
    saver.start()
    try:
        assert queue.wait(10.0)  # the real save ends it
    finally:
        saver.join()
    taken = queue.take()
    assert taken is not None and taken.paths == (str(path),)


def test_loading_a_queued_file_drops_its_notice_unless_it_changed_since(tmp_path) -> None:
    loaded, resaved = tmp_path / "a.py", tmp_path / "b.py"
    loaded.write_text("a = 1\n")
    resaved.write_text("b = 1\n")
    queue = PendingChanges()
    queue.post_saved([str(loaded), str(resaved)])  # noticed while the game loads them
    stamps = file_stamps([str(loaded), str(resaved)])  # taken before the load read them
    resaved.write_text("b = 22\n")  # saved again during the load
    queue.mark_loaded(stamps)
    assert queue.paths() == [str(resaved)]


def test_a_file_loaded_after_its_rollback_is_no_longer_kept(tmp_path) -> None:
    path = tmp_path / "a.py"
    path.write_text("a = 1\n")
    queue = PendingChanges()
    queue.post([str(path)])
    batch = queue.take()
    assert batch is not None
    queue.keep_unloaded(batch)
    queue.mark_loaded(file_stamps([str(path)]))
    assert queue.paths() == []


def test_a_file_the_game_reloaded_itself_is_not_code_changed(tmp_path) -> None:
    # What the editor's New Script does: write a file, reload it at once, in
    # Debug; the watcher's notice of the write must not say "code changed".
    lab = _two_plugin_lab(tmp_path / "proj")
    with lab.game(profile=BuildProfile.DEBUG, watch=False) as game:
        game.step(1)
        path = lab.write("alpha/counter.py", SCRIPT.format(step=7))
        assert game.reload([str(path)]).ok
        game.changes.post_saved([str(path)])  # the watcher's thread, a moment later
        assert game.pending_changes() == []
        assert _steps_per_frame(game, "alpha.counter:Counter") == 7

        broken = lab.write("alpha/counter.py", SCRIPT.format(step=8) + "\n  broken(\n")
        assert not game.reload([str(broken)]).ok  # a failed load marks nothing
        game.changes.post_saved([str(broken)])
        assert game.pending_changes() == [str(broken)]


def test_while_a_rolled_back_batch_waits_every_save_counts(tmp_path) -> None:
    # Writing back the running code of one file is still the user's retry of the kept ones.
    running, kept = tmp_path / "a.py", tmp_path / "b.py"
    running.write_text("a = 1\n")
    kept.write_text("b = (\n")
    queue = PendingChanges()
    queue.mark_loaded(file_stamps([str(running)]))
    queue.post([str(kept)])
    batch = queue.take()
    assert batch is not None
    queue.keep_unloaded(batch)
    queue.post_saved([str(running)])
    taken = queue.take()
    assert taken is not None and taken.paths == tuple(sorted([str(running), str(kept)]))
