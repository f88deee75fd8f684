"""`FixedStepClock`: whole fixed-step frames for a loop driven by a timer.

A Qt timer (the editor's play mode, the player window) fires roughly every
frame, early or late. The clock turns the wall-clock time since the last tick
into a whole number of frames to run, so the game advances at its fixed step
on average, never runs more than a few frames to catch up, and never builds a
backlog after the process was stopped in a debugger.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class FixedStepClock:
    """Frames due at each tick of a timer-driven loop.

    Args:
        dt: the fixed time step in seconds.
        max_frames_per_tick: the most frames one tick may ask for (to catch up).
        now: the clock to read (``time.perf_counter``; tests pass their own).
    """

    def __init__(
        self,
        dt: float,
        max_frames_per_tick: int = 4,
        now: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.dt = dt
        self.max_frames_per_tick = max_frames_per_tick
        self._now = now
        self._last = now()
        self._debt = 0.0

    def start(self, *, at_once: bool = True) -> None:
        """Start (or restart) counting; the first tick then runs one frame at once.

        Without `at_once`, counting starts from a frame that just ran: the next is
        due one step from now.
        """
        self._last = self._now()
        self._debt = self.dt if at_once else 0.0

    def frames_due(self) -> int:
        """How many frames to run now: time owed, in whole steps, capped.

        Time beyond one step that could not be run is forgotten rather than
        carried, so a slow machine plays slower instead of spiralling.
        """
        now = self._now()
        self._debt += now - self._last
        self._last = now
        frames = min(self.max_frames_per_tick, int(self._debt / self.dt))
        self._debt = min(self._debt - frames * self.dt, self.dt)
        return frames
