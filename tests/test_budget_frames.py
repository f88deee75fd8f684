"""A frame waits for one interrupted script at most: the others update in the next frame.

Without that, a class whose every object loops would block the editor's event
loop for one budget per object, in one frame. Runs in a child Python with a
timeout (`tests.test_guard.run_child`), so that a runtime without budgets fails
instead of hanging the suite.
"""

from __future__ import annotations

from runtime import BuildProfile, Game

from .budget_projects import COUNTER, counter_project
from .conftest import entity, script
from .test_guard import STEP_GAME, run_child

#: `STEP_GAME`, one frame per call (as the editor's timer runs them).
FRAME_BY_FRAME = STEP_GAME.replace(
    "game.step(int(sys.argv[2]))", "for _ in range(int(sys.argv[2])):\n        game.step(1)"
)

#: `STEP_GAME`, its frames run as the editor's timer runs them.
EDITOR_TICK = STEP_GAME.replace(
    "game.step(int(sys.argv[2]))", "game.step(int(sys.argv[2]), responsive=True)"
)

LOOPER = """
from runtime import Script


class Looper(Script):
    def on_update(self, ctx, dt):
        while True:
            pass
"""


def test_each_frame_interrupts_one_looping_script_and_leaves_the_rest_to_the_next(tmp_path):
    loopers = [entity(h, f"L{h}", scripts=[script("game.looper:Looper")]) for h in range(2, 6)]
    root = counter_project(tmp_path / "project", {"looper.py": LOOPER}, *loopers)
    for frames, paused in ((1, 1), (3, 3), (6, 4)):
        out = run_child(FRAME_BY_FRAME, str(root), str(frames))
        errors = [e for e in out["errors"] if "ran for longer than" in e]
        assert len(errors) == paused, (frames, errors)
        assert out["frame"] == frames and out["count"] == frames  # the game went on


def test_the_editors_frames_of_one_tick_stop_after_an_interrupted_script(tmp_path):
    # A tick of the editor's timer catching up runs several frames: it must not wait for
    # one looping script per frame before the event loop turns.
    loopers = [entity(h, f"L{h}", scripts=[script("game.looper:Looper")]) for h in range(2, 6)]
    root = counter_project(tmp_path / "project", {"looper.py": LOOPER}, *loopers)
    out = run_child(EDITOR_TICK, str(root), "4")
    assert out["frame"] == 1
    assert len([e for e in out["errors"] if "ran for longer than" in e]) == 1


def test_the_editors_tick_runs_the_first_frame_of_new_code_in_the_turn_of_its_reload(tmp_path):
    # A quick reload and a quick frame fit in one turn: the next repaint shows new code.
    # Only that frame: the editor shows it before it runs the next (frames due or not).
    root = counter_project(tmp_path / "project", {})
    counter_py = root / "plugins" / "game" / "counter.py"
    with Game(root, profile=BuildProfile.DEBUG_HR, watch=False) as game:
        game.step(2)
        counter_py.write_text(COUNTER.replace("self.count += 1", "self.count += 100"))
        game.queue_reload([str(counter_py)])
        game.step(4, responsive=True)
        assert game.reports[-1].ok and game.frame == 3
        assert game.scene.find("Counter").scripts[0].count == 102


#: `COUNTER` whose frames take `SLOW_FRAME` seconds and whose reload half a second more.
SLOW_COUNTER = COUNTER.replace(
    "from runtime import Script", "import time\n\nfrom runtime import Script"
).replace(
    "        self.count += 1",
    "        self.count += 1\n        time.sleep(0.55)\n\n"
    "    def on_before_reload(self, ctx):\n        time.sleep(0.5)",
)


def test_the_editors_tick_leaves_new_code_to_the_next_turn_past_a_budget(tmp_path):
    # A reload and a frame of its code may each take up to a budget: when the reload
    # and the last frame's time add up to more than one, the frame waits for the next turn.
    root = counter_project(tmp_path / "project", {"counter.py": SLOW_COUNTER}, budget=1.0)
    counter_py = root / "plugins" / "game" / "counter.py"
    with Game(root, profile=BuildProfile.DEBUG_HR, watch=False) as game:
        game.step(1)
        assert game.last_frame_seconds > 0.5
        counter_py.write_text(SLOW_COUNTER.replace("self.count += 1", "self.count += 100"))
        game.queue_reload([str(counter_py)])
        game.step(4, responsive=True)
        assert game.reports[-1].ok and game.frame == 1  # reloaded; no frame yet
        game.step(1, responsive=True)
        assert game.frame == 2 and game.scene.find("Counter").scripts[0].count == 101
