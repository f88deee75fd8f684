"""The history of a playing game: keyframes and inputs, preview, rewind and replay."""

from __future__ import annotations

import struct

import pytest

from runtime import Game, history
from runtime.history import History, HistoryError, capture_state
from runtime.project import ProjectError
from runtime.scene import EntityAdded, EntityRemoved

from .conftest import entity, script
from .reload_lab import Lab

COUNTER_V1 = """
from runtime import Script

class Counter(Script):
    steps: int = 0

    def on_init(self, ctx):
        self.started_at = ctx.frame  # undeclared: kept by keyframes

    def on_update(self, ctx, dt):
        self.steps += 1
        if ctx.input.is_down("right"):
            ctx.entity.position = ctx.entity.position.with_x(ctx.entity.position.x + 1)
"""

COUNTER_V2 = COUNTER_V1.replace("self.steps += 1", "self.steps += 100")


@pytest.fixture
def lab(tmp_path):
    return Lab(
        tmp_path,
        {"game/__init__.py": "", "game/counter.py": COUNTER_V1},
        [
            {
                "handle": 1,
                "name": "Counter",
                "scripts": [{"type": "game.counter:Counter", "fields": {}}],
            }
        ],
    )


def counter(game: Game):
    return game.scene.find("Counter").scripts[0]


def assert_a_rewind_plays_out_the_same(game: Game, frames: int, seconds: float) -> None:
    """Play `frames`, rewind `seconds`, play live back to the same frame: the same state."""
    game.step(frames)
    expected, at = capture_state(game), game.frame
    game.step(at - game.rewind(seconds))
    assert game.frame == at
    assert capture_state(game) == expected


def test_the_history_keeps_a_keyframe_a_second_and_every_frame(lab):
    with lab.game() as game:
        game.step(150)
        h = game.history
        assert [k.frame for k in h.keyframes] == [0, 60, 120]
        assert (h.first_frame, h.last_frame) == (0, 150)
        assert h.dt == game.fixed_dt
        assert h.seconds == 10.0
        assert h.seconds_kept == pytest.approx(2.5)
        assert h.byte_size >= sum(len(k.blob) for k in h.keyframes)
        assert len(h.inputs(0, 150)) == 150


def test_memory_stays_bounded_over_a_long_run(lab):
    with lab.game(history_seconds=2) as game:
        sizes = []
        for _ in range(30):
            game.step(60)
            sizes.append(game.history.byte_size)
        h = game.history
        assert len(h.keyframes) <= 3
        assert 2.0 <= h.seconds_kept <= 3.0
        assert h.first_frame >= game.frame - 3 * 60
        with pytest.raises(HistoryError):
            h.inputs(0, 10)
        assert max(sizes[5:]) <= 1.1 * sizes[4]


def test_recording_off_keeps_no_history(lab, tmp_path):
    with lab.game(history_seconds=0) as game:
        game.step(10)
        assert game.history is None
        with pytest.raises(HistoryError, match="records no history"):
            game.rewind(1)
        with pytest.raises(HistoryError):
            game.preview(5)
    (lab.root / "hotplay.toml").write_text(
        '[project]\nmain_scene = "assets/scenes/main.scene.json"\n[history]\nseconds = 0\n'
    )
    with lab.game() as game:
        assert game.history is None
    (lab.root / "hotplay.toml").write_text('[project]\n[history]\nseconds = "long"\n')
    with pytest.raises(ProjectError, match=r"\[history\] seconds"):
        lab.game()


def test_preview_shows_a_past_frame_without_touching_the_live_game(lab):
    with lab.game() as game:
        game.step(70)
        at_70 = capture_state(game)
        game.input.press("right")
        game.step(50)
        live = capture_state(game)
        past = game.preview(70)
        assert past is not game.scene
        assert past.find("Counter").scripts[0].steps == 70
        assert past.find("Counter").position.x == 0
        assert game.preview(100).find("Counter").position.x == 30
        assert capture_state(game) == live  # nothing live changed
        assert game.rewind((120 - 70) * game.fixed_dt) == 70
        assert capture_state(game) == at_70


@pytest.mark.parametrize("frame", [-1, 121, 10_000])
def test_a_frame_outside_the_history_is_refused(lab, frame):
    with lab.game() as game:
        game.step(120)
        with pytest.raises(HistoryError, match=f"frame {frame} is not in the history"):
            game.preview(frame)
        with pytest.raises(HistoryError):
            game.replay(frame)
        with pytest.raises(HistoryError):
            game.replay(0, frame)


def test_frames_forgotten_by_the_ring_buffer_are_outside_it(lab):
    with lab.game(history_seconds=1) as game:
        game.step(400)
        with pytest.raises(HistoryError, match="frames 300 to 400"):
            game.preview(10)


def test_rewind_goes_back_and_keeps_the_recorded_input_until_the_game_steps_live(lab):
    with lab.game() as game:
        game.step(150)
        scene = game.scene
        heard = []
        scene.subscribe(heard.append)
        assert game.rewind(1.0) == 90
        assert game.scene is scene  # the same scene, its contents rewound
        assert counter(game).steps == 90
        assert counter(game).started_at == 0
        assert game.time == pytest.approx(90 * game.fixed_dt)
        assert EntityRemoved(1, 0) in heard and EntityAdded(1) in heard
        assert game.history.last_frame == 150  # the future is still there for a replay
        game.step(1)
        assert game.history.last_frame == 91  # stepping live dropped it
        assert counter(game).steps == 91


def test_rewind_further_than_the_history_stops_at_its_first_frame(lab):
    with lab.game(history_seconds=1) as game:
        game.step(300)
        first = game.history.first_frame
        assert game.rewind(60) == first
        with pytest.raises(ValueError):
            game.rewind(-1)


def test_rewind_then_replay_under_the_new_code_after_a_hot_reload(lab):
    with lab.game() as game:
        game.step(120)
        lab.write("game/counter.py", COUNTER_V2)
        assert game.reload().ok
        assert counter(game).steps == 120
        assert game.rewind(1.0) == 60
        assert counter(game).steps == 60
        assert type(counter(game)) is type(game.scene.find("Counter").scripts[0])
        assert game.replay(60) == 120
        assert counter(game).steps == 60 + 60 * 100  # the recorded frames ran the new code
        # The replayed frames have keyframes of their own, under the new code.
        assert game.preview(120).find("Counter").scripts[0].steps == 6060


def test_replay_to_a_frame_stops_there_and_replays_the_recorded_keys(lab):
    with lab.game() as game:
        game.step(30)
        game.input.press("right")
        game.step(30)
        game.input.release("right")
        game.step(60)
        assert game.replay(0, 45) == 45
        assert game.scene.find("Counter").position.x == 15
        assert game.replay(45) == 120
        assert game.scene.find("Counter").position.x == 30


def test_a_script_error_in_a_replay_pauses_the_script_as_in_play(lab, caplog):
    with lab.game() as game:
        game.step(90)
        lab.write("game/counter.py", COUNTER_V1.replace("self.steps += 1", "1 / 0"))
        assert game.reload().ok
        game.replay(game.history.first_frame)
        assert "ZeroDivisionError" in caplog.text
        assert counter(game).__dict__.get("_hp_faulted")


def test_a_preview_past_a_script_error_is_the_frame_asked_for_with_the_script_paused(lab):
    with lab.game() as game:
        game.step(90)
        lab.write("game/counter.py", COUNTER_V1.replace("self.steps += 1", "1 / 0"))
        assert game.reload().ok
        first = game.history.first_frame
        aside = game.replayed_aside(first + 30)
        assert aside.frame == first + 30  # not the frame the error was in
        assert len(aside.failures) == 1  # paused at once, as in play: raised once
        assert counter(aside).__dict__.get("_hp_faulted")
        assert game.frame == 90 and not counter(game).__dict__.get("_hp_faulted")


def test_a_field_whose_type_changed_takes_its_default_and_keeps_the_value_aside(lab):
    with lab.game() as game:
        game.step(90)
        lab.write("game/counter.py", COUNTER_V1.replace("steps: int = 0", 'steps: str = ""'))
        lab.write(
            "game/counter.py",
            COUNTER_V1.replace("steps: int = 0", 'steps: str = ""').replace(
                "self.steps += 1", "pass"
            ),
        )
        assert game.reload().ok
        past = game.preview(60).find("Counter").scripts[0]
        assert past.steps == ""
        assert past.__dict__["_hp_stash"] == {"steps": 60}


def test_timers_and_spawns_come_back_with_a_rewind(make_project):
    root = make_project(
        plugins={
            "toys": {
                "spawn.py": """
                from runtime import Script

                class Spawner(Script):
                    made: int = 0

                    def on_init(self, ctx):
                        ctx.every(0.5, self.spawn)

                    def spawn(self, ctx):
                        self.made += 1
                        ctx.spawn(f"Child {self.made}")
                """
            }
        },
        scene=[entity(1, "Spawner", scripts=[script("toys.spawn:Spawner")])],
    )
    with Game(root) as game:
        game.step(200)
        game.rewind(2.0)  # frame 80: the timer fired at frames 30 and 60
        assert [e.name for e in game.scene][1:] == ["Child 1", "Child 2"]
        game.step(120)  # frame 200 again, live
        assert game.scene.find("Spawner").scripts[0].made == 6


def test_a_new_running_scene_starts_the_history_afresh(lab):
    with lab.game() as game:
        game.step(30)
        game.add_scene(game.copy_scene(game.scene), run=True)
        assert not game.history.keyframes
        with pytest.raises(HistoryError, match="empty"):
            game.history.first_frame  # noqa: B018


def test_a_history_needs_a_positive_length():
    with pytest.raises(ValueError):
        History(0, 1 / 60)


def test_a_keyframe_holds_every_kind_of_scene_state(make_project, caplog):
    root = make_project(
        plugins={
            "mix": {
                "parts.py": """
                from runtime import Handle, Script, Vec2

                class Slotted(Script):
                    __slots__ = ("spin",)
                    spin: float

                    def on_update(self, ctx, dt):
                        self.spin += 1.5
                        ctx.entity.rotation = self.spin

                class Tagger(Script):
                    other: Handle = Handle(0)
                    tags: list[str] = []

                    def on_init(self, ctx):
                        self.callback = lambda: None  # cannot be recorded

                    def on_update(self, ctx, dt):
                        self.tags = (self.tags + [str(ctx.frame)])[-3:]
                        child = ctx.get(self.other)
                        if child is not None:
                            child.position = child.position + Vec2(1, 0)
                """
            }
        },
        scene=[
            entity(
                1,
                "Parent",
                visual={"kind": "text", "text": "hi", "color": "#ff0000"},
                scripts=[script("mix.parts:Slotted"), script("mix.parts:Tagger", other=2)],
            ),
            entity(2, "Child", parent=1, position=[5, 5]),
            entity(3, "Lost", scripts=[script("gone.mod:Missing", value=3)]),
        ],
    )
    with Game(root) as game:
        game.step(61)
        at_61 = capture_state(game)
        assert caplog.text.count("history: mix.parts:Tagger.callback cannot be recorded") == 1
        game.step(30)
        assert game.rewind(0.5) == 61
        assert capture_state(game) == at_61
        parent = game.scene.find("Parent")
        assert [type(s).__name__ for s in parent.scripts] == ["Slotted", "Tagger"]
        assert parent.scripts[0].spin == 61 * 1.5
        assert parent.visual.text == "hi" and parent.children == [2]
        assert game.scene.find("Child").parent == 1
        assert game.scene.find("Child").position.x == 5 + 61
        lost = game.scene.find("Lost").scripts[0]
        assert lost.missing_type_id == "gone.mod:Missing" and lost.data == {"value": 3}
        assert not hasattr(parent.scripts[1], "callback")  # not recorded: gone, as the log said
        for e in game.scene:  # every slot of every entity read back is set
            assert all(hasattr(e, slot) for slot in type(e).__slots__), e


def test_a_recording_that_fails_stops_and_the_game_goes_on(lab, monkeypatch, caplog):
    import runtime.history

    def broken(game, **kwargs):
        raise RuntimeError("disk full")

    with lab.game() as game:
        game.step(5)
        monkeypatch.setattr(runtime.history, "capture_state", broken)
        game.step(60)  # frame 60 is due a keyframe
        assert game.history is None
        assert counter(game).steps == 65
        assert "the history cannot record this game: recording stops" in caplog.text


FRAGILE = COUNTER_V1.replace(
    "self.steps += 1",
    "self.steps += 1\n        if self.steps == 30:\n            raise ValueError('thirty')",
)


def test_a_paused_script_stays_paused_under_the_same_code_and_not_under_new_code(lab):
    lab.write("game/counter.py", FRAGILE)
    with lab.game() as game:
        game.step(130)
        assert counter(game).__dict__.get("_hp_faulted")
        game.rewind(1.0)  # frame 70, keyframe 60: the script had raised already
        assert counter(game).__dict__.get("_hp_faulted")
        lab.write("game/counter.py", COUNTER_V1)
        assert game.reload().ok
        assert game.rewind(0.0) == 70  # keyframe 60, then 10 frames under the new code
        assert not counter(game).__dict__.get("_hp_faulted")
        assert counter(game).steps == 40


DATED = """
from dataclasses import dataclass

from runtime import Script


@dataclass
class Stamp:
    day: int = 1

    def __post_init__(self):
        if self.day > LAST_DAY:
            raise ValueError("no such day")


LAST_DAY = 31


class Counter(Script):
    steps: int = 0
    stamp: Stamp = Stamp()
    gone: str = "kept"

    def on_update(self, ctx, dt):
        self.steps += 1
        self.stamp = Stamp(31 if self.steps <= 62 else 10)
"""


def test_values_the_current_code_refuses_are_set_aside_in_the_stash(lab):
    lab.write("game/counter.py", DATED)
    with lab.game() as game:
        game.step(65)
        # The new code: days only up to 20, and the field "gone" removed.
        lab.write(
            "game/counter.py",
            DATED.replace("LAST_DAY = 31", "LAST_DAY = 20")
            .replace('    gone: str = "kept"\n', "")
            .replace("Stamp(31 if", "Stamp(20 if"),
        )
        assert game.reload().ok  # the live Stamp(10) fits the new code
        past = game.preview(60).find("Counter").scripts[0]
        assert past.stamp.day == 1  # the default: the new code refuses the stored Stamp(31)
        assert past.__dict__["_hp_stash"] == {"stamp": {"day": 31}, "gone": "kept"}
        assert past.steps == 60


def test_scripts_of_several_classes_keep_their_order_on_their_entities(make_project):
    root = make_project(
        plugins={
            "two": {
                "parts.py": """
                from runtime import Script

                class A(Script):
                    n: int = 0

                    def on_update(self, ctx, dt):
                        self.n += 1

                class B(Script):
                    n: int = 0

                    def on_update(self, ctx, dt):
                        self.n += 2
                """
            }
        },
        scene=[
            entity(1, "B only", scripts=[script("two.parts:B")]),
            # A only ever first, after a B was met first: the keyframe lists B's scripts first.
            entity(2, "A then B", scripts=[script("two.parts:A"), script("two.parts:B")]),
        ],
    )
    with Game(root) as game:
        assert_a_rewind_plays_out_the_same(game, 90, 0.5)
        order = [[type(s).__name__ for s in e.scripts] for e in game.scene]
        assert order == [["B"], ["A", "B"]]


def test_a_rewind_takes_the_timer_ids_back_too(make_project):
    root = make_project(
        plugins={
            "tick": {
                "ticker.py": """
                from runtime import Script

                class Ticker(Script):
                    ticks: int = 0

                    def on_update(self, ctx, dt):
                        ctx.after(0.1, self.tick)  # a new timer, with a new id, every frame

                    def tick(self, ctx):
                        self.ticks += 1
                """
            }
        },
        scene=[entity(1, "Ticker", scripts=[script("tick.ticker:Ticker")])],
    )
    with Game(root) as game:
        assert_a_rewind_plays_out_the_same(game, 120, 1.0)


def test_the_byte_size_counts_each_distinct_frame_input_once(lab):
    from runtime.history import _input_size

    with lab.game(history_seconds=1) as game:
        for i in range(300):
            if i % 7 == 0:
                game.input.press("right")
            if i % 11 == 0:
                game.input.release("right")
            game.step(1)
            if i == 150:
                game.rewind(0.4)  # the next live step drops the recorded future
        h = game.history
        inputs = h.inputs(h.first_frame, h.last_frame)
        distinct = [x for k, x in enumerate(inputs) if k == 0 or inputs[k - 1] is not x]
        expected = (
            sum(len(k.blob) for k in h.keyframes)
            + sum(map(_input_size, distinct))
            + len(inputs) * struct.calcsize("P")
        )
        assert h.byte_size == expected
        h.clear()
        assert h.byte_size == 0


def test_a_keyframe_packs_again_only_the_columns_that_changed(make_project, monkeypatch):
    root = make_project(
        plugins={
            "walk": {
                "walker.py": """
                from runtime import Script

                class Walker(Script):
                    steps: int = 0
                    trail: list[int] = []
                    sign: float = 0.0
                    flag: float = 1.0
                    label: str = "walker"

                    def on_update(self, ctx, dt):
                        self.steps += 1
                        if ctx.frame % 2:
                            self.trail.append(ctx.frame)  # the same list, changed in place
                        self.sign = -self.sign  # 0.0 and -0.0: equal, not the same bits
                        self.flag = (1.0, 1, True)[ctx.frame % 3]  # equal, packed apart
                        self.label = "".join(["walk", "er"])  # an equal string, anew
                        ctx.entity.name = f"W{ctx.entity.handle}"  # likewise
                """
            }
        },
        scene=[entity(h, f"W{h}", scripts=[script("walk.walker:Walker")]) for h in range(1, 40)],
    )
    packed: list[object] = []
    real_packb = history.packb
    monkeypatch.setattr(history, "packb", lambda value: packed.append(value) or real_packb(value))
    columns = history.ColumnCache()

    def capture_with_the_cache(game: Game) -> tuple[bytes, int]:
        packed.clear()
        blob = capture_state(game, columns=columns)
        return blob, len(packed)

    with Game(root, history_seconds=0) as game:
        game.step(1)
        _, packs_at_first = capture_with_the_cache(game)
        for frames in (1, 1, 60):
            game.step(frames)
            game.scene.roots.reverse()  # a list of the scene changed in place, too
            assert capture_with_the_cache(game)[0] == capture_state(game)
        blob, packs_unchanged = capture_with_the_cache(game)  # no frame ran since the last
        assert blob == capture_state(game)
    assert packs_unchanged < packs_at_first


def scene_state(scene) -> tuple[int, float]:
    c = scene.find("Counter")
    return c.scripts[0].steps, c.position.x


def test_scrubbing_forward_plays_on_from_the_frame_shown_and_shows_what_preview_does(
    lab, monkeypatch
):
    import runtime.game

    rebuilt: list[int] = []
    real_restore = runtime.game.restore_state
    monkeypatch.setattr(
        runtime.game,
        "restore_state",
        lambda blob, *args: rebuilt.append(len(blob)) or real_restore(blob, *args),
    )
    with lab.game() as game:
        game.step(70)
        game.input.press("right")
        game.step(50)
        live = capture_state(game)
        past = history.PastFrames(game)
        shown = [scene_state(past.scene_at(frame)) for frame in range(61, 119, 3)]
        assert len(rebuilt) == 1  # one keyframe read back for the whole drag forward
        rebuilt.clear()
        assert shown == [scene_state(game.preview(frame)) for frame in range(61, 119, 3)]
        assert shown[-1] == (118, 118 - 70)
        assert capture_state(game) == live  # nothing live changed
        rebuilt.clear()
        assert scene_state(past.scene_at(65)) == (65, 0)  # backwards: rebuilt
        assert scene_state(past.scene_at(70)) == (70, 0)
        assert len(rebuilt) == 1


def test_a_scrub_rebuilds_once_the_history_or_the_code_changed(lab):
    with lab.game() as game:
        game.step(90)
        past = history.PastFrames(game)
        assert scene_state(past.scene_at(80)) == (80, 0)
        # Rewound to 70 and played live with other keys: frames 71 on are not what they were.
        game.rewind(20 * game.fixed_dt)
        game.input.press("right")
        game.step(20)
        assert scene_state(past.scene_at(85)) == (85, 15) == scene_state(game.preview(85))
        lab.write("game/counter.py", COUNTER_V2)
        assert game.reload().ok
        # Under the new code, from the keyframe at 60: 60 old steps, then 100 a frame.
        assert scene_state(past.scene_at(85)) == scene_state(game.preview(85))
        assert scene_state(past.scene_at(85))[0] == 60 + 25 * 100


def test_recording_keeps_no_class_of_the_old_code_alive_after_a_reload(lab):
    import gc
    import weakref

    with lab.game() as game:
        game.step(61)  # keyframes at 0 and 60
        old_class = weakref.ref(type(counter(game)))
        lab.write("game/counter.py", COUNTER_V2)
        assert game.reload().ok
        gc.collect()
        assert old_class() is None


def test_a_slow_keyframe_is_not_game_code_over_its_frame_budget(lab, monkeypatch):
    # A keyframe of a very large scene takes longer than the frame budget: engine work,
    # not game code, so it must not pause the game as "frame over budget".
    import time

    import runtime.history

    real = runtime.history.capture_state

    def slow(game, **kwargs):
        time.sleep(0.06)  # a keyframe of a large scene, in miniature
        return real(game, **kwargs)

    monkeypatch.setattr(runtime.history, "capture_state", slow)
    with lab.game(budget=0.04) as game:
        game.step(3)
        assert game.halt_reason is None
        assert counter(game).steps == 3
        assert game.history is not None  # within MAX_KEYFRAME_SECONDS: it records on


def test_a_keyframe_past_its_deadline_is_given_up_before_it_is_finished(lab, monkeypatch, caplog):
    # A very large scene's keyframe would take seconds only to be dropped: the first
    # frame of a large Play waited for it. It is given up between two columns instead.
    import runtime.history

    monkeypatch.setattr(runtime.history, "MAX_KEYFRAME_SECONDS", 0.0)
    packed: list[object] = []
    real = runtime.history._splice
    monkeypatch.setattr(runtime.history, "_splice", lambda obj: packed.append(obj) or real(obj))
    with lab.game() as game:
        game.step(3)
        assert game.history is None
        assert counter(game).steps == 3
    assert not packed  # no blob was put together
    [row] = [r for r in caplog.records if "keyframe of this game" in r.getMessage()]
    assert "was given up after" in row.getMessage()
    assert "recording stops" in row.getMessage()


def test_a_game_whose_keyframes_would_stall_it_stops_recording_and_says_why(
    lab, monkeypatch, caplog
):
    import runtime.history

    monkeypatch.setattr(runtime.history, "MAX_KEYFRAME_SECONDS", 0.0)
    with lab.game() as game:
        game.step(3)
        assert game.history is None
        assert counter(game).steps == 3
    [row] = [r for r in caplog.records if "keyframe of this game" in r.getMessage()]
    assert "(1 entities)" in row.getMessage()
    assert "recording stops" in row.getMessage() and row.exc_info is None
