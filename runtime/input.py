"""Keyboard input as scripts see it, fed by a window, the editor or a test."""

from __future__ import annotations


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
