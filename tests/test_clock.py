"""FixedStepClock: whole frames for a timer-driven loop, on a fake clock."""

from runtime.clock import FixedStepClock


class FakeTime:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_first_tick_runs_a_frame_then_frames_follow_time() -> None:
    now = FakeTime()
    clock = FixedStepClock(0.01, max_frames_per_tick=4, now=now)
    clock.start()
    assert clock.frames_due() == 1  # at once
    now.t += 0.005
    assert clock.frames_due() == 0
    now.t += 0.006
    assert clock.frames_due() == 1
    now.t += 0.03
    assert clock.frames_due() == 3


def test_a_long_stall_is_capped_and_not_carried() -> None:
    now = FakeTime()
    clock = FixedStepClock(0.01, max_frames_per_tick=4, now=now)
    clock.start()
    clock.frames_due()
    now.t += 5.0  # stopped in a debugger
    assert clock.frames_due() == 4
    assert clock.frames_due() == 1  # at most one step of debt is kept
    assert clock.frames_due() == 0
