"""Keyboard input as scripts see it, fed by a window, the editor or a test."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FrameInput:
    """The keyboard as scripts saw it during one frame: what the history records.

    Attributes:
        down: the keys held.
        pressed: the keys that went down since the previous frame.
        released: the keys that went up since the previous frame.
    """

    down: frozenset[str] = frozenset()
    pressed: frozenset[str] = frozenset()
    released: frozenset[str] = frozenset()


#: No key held, none pressed or released.
NO_INPUT = FrameInput()


class InputState:
    """Which keys are down, and which went down or up during the last frame.

    Keys are lower-case names: ``left``, ``right``, ``up``, ``down``, ``space``,
    ``enter``, ``escape``, ``shift``, ``ctrl``, ``a``..``z``, ``0``..``9``.
    Windows call `press`/`release` as events arrive; tests can do the same.
    """

    def __init__(self) -> None:
        self._down: set[str] = set()
        self._pressed: set[str] = set()
        self._released: set[str] = set()
        self._pending_pressed: set[str] = set()
        self._pending_released: set[str] = set()

    def press(self, key: str) -> None:
        """A key went down (auto-repeat presses of a held key are ignored)."""
        k = key.lower()
        if k not in self._down:
            self._down.add(k)
            self._pending_pressed.add(k)

    def release(self, key: str) -> None:
        """A key went up."""
        k = key.lower()
        if k in self._down:
            self._down.discard(k)
            self._pending_released.add(k)

    def release_all(self) -> None:
        """Forget every held key (the window lost focus)."""
        for k in list(self._down):
            self.release(k)

    def begin_frame(self) -> None:
        """Called by the game loop: presses since the last frame become this frame's."""
        self._pressed, self._pending_pressed = self._pending_pressed, set()
        self._released, self._pending_released = self._pending_released, set()

    def frame_input(self, previous: FrameInput | None = None) -> FrameInput:
        """This frame's keys, for the history; `previous` itself when nothing changed.

        Most frames repeat the one before (the same keys held, none pressed), so
        handing back the same object keeps a recording small.
        """
        if not (self._pressed or self._released):
            if not self._down:
                return NO_INPUT
            if (
                previous is not None
                and not (previous.pressed or previous.released)
                and previous.down == self._down
            ):
                return previous
        return FrameInput(
            frozenset(self._down), frozenset(self._pressed), frozenset(self._released)
        )

    def is_down(self, key: str) -> bool:
        """Whether the key is held now."""
        return key.lower() in self._down

    def was_pressed(self, key: str) -> bool:
        """Whether the key went down since the previous frame."""
        return key.lower() in self._pressed

    def was_released(self, key: str) -> bool:
        """Whether the key went up since the previous frame."""
        return key.lower() in self._released

    def axis(self, negative: str, positive: str) -> float:
        """-1, 0 or 1 from a pair of keys, e.g. ``axis("left", "right")``."""
        down = self._down
        return float((positive.lower() in down) - (negative.lower() in down))

    @property
    def keys_down(self) -> frozenset[str]:
        """Every key held now."""
        return frozenset(self._down)


class RecordedInput(InputState):
    """Input played back from a recording: each frame takes the next `FrameInput`.

    What a replay or a look-ahead puts in the game's place of the keyboard; past
    the last record the last one's held keys stay down (nothing is pressed).
    """

    def __init__(self, frames: Iterable[FrameInput]) -> None:
        super().__init__()
        self._frames = iter(frames)

    def begin_frame(self) -> None:
        """Take the next recorded frame's keys (the live keyboard plays no part)."""
        record = next(self._frames, None)
        if record is None:
            record = FrameInput(frozenset(self._down))
        self._down = set(record.down)
        self._pressed = set(record.pressed)
        self._released = set(record.released)
