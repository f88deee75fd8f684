"""The main window's "Separate process" run target: a `PlayTarget` over a `PlayerProcess`."""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QObject

from editor.play import PlayState, PlayTarget
from editor.player_process.output import describe_exit
from editor.player_process.process import PlayerProcess
from runtime.profiles import BuildProfile


class SeparateProcessPlay(PlayTarget):
    """The `editor.play.PlayTarget` that plays in a child process through a `PlayerProcess`.

    The window creates one per Play (see `install_separate_process`); the
    `PlayerProcess` outlives it, so a stopping player is still stopped, and
    killed if need be, after the window dropped the target.

    Args:
        player: the window's player process.
        project: the project root.
        scene: returns what to play: a scene file, or an unsaved `Scene`.
        profile: the build profile.
        show_fps: ask the player window for its FPS overlay.
        headless: run the player without a window (tests).
    """

    def __init__(
        self,
        player: PlayerProcess,
        project: str | os.PathLike[str],
        scene: Any,
        profile: BuildProfile,
        parent: QObject | None = None,
        *,
        show_fps: bool = True,
        headless: bool = False,
    ) -> None:
        super().__init__(parent)
        self.player = player
        self.project = project
        self._scene = scene
        self.profile = profile
        self.show_fps = show_fps
        self.headless = headless
        self._stats: dict[str, Any] = {}
        player.stats.connect(self._on_stats)
        player.finished.connect(self._on_finished)

    def stats(self) -> dict[str, Any]:
        """The player's last statistics (``fps``, ``entities``, ``frame``...)."""
        return dict(self._stats)

    def start(self) -> None:
        """Build, then start the player; a build error or a busy player is reported by `failed`."""
        if self._state is not PlayState.STOPPED:
            return
        if self.player.running:
            self.failed.emit("the previous player is still stopping: try again in a moment")
            return
        result = self.player.start(
            self.project,
            self._scene() if callable(self._scene) else self._scene,
            self.profile,
            show_fps=self.show_fps,
            headless=self.headless,
        )
        if not result.ok:
            self.failed.emit(f"Play stopped: the build failed at {result.errors[0]}")
            return
        self._set_state(PlayState.PLAYING)

    def stop(self) -> None:
        """Ask the player to quit (it is terminated, then killed, if it does not)."""
        if self._state is PlayState.STOPPED:
            return
        self.player.stop()
        self._stats = {}
        self._set_state(PlayState.STOPPED)

    def pause(self) -> None:
        """Pause the player's frames."""
        if self._state is PlayState.PLAYING:
            self.player.pause()
            self._set_state(PlayState.PAUSED)

    def resume(self) -> None:
        """Continue after `pause`."""
        if self._state is PlayState.PAUSED:
            self.player.resume()
            self._set_state(PlayState.PLAYING)

    def step(self) -> None:
        """One frame in the player (pausing it first)."""
        if self._state is PlayState.STOPPED:
            return
        self.player.step(1)
        self._set_state(PlayState.PAUSED)

    def _on_stats(self, stats: dict[str, Any]) -> None:
        self._stats = stats
        self.frameAdvanced.emit()

    def _on_finished(self, code: int, tail: str) -> None:
        if self._state is PlayState.STOPPED:
            return
        self._stats = {}
        self._set_state(PlayState.STOPPED)
        if code != 0 and not self.player.stop_requested:
            self.failed.emit(describe_exit(code, tail))
        elif not self.player.stop_requested:
            self.failed.emit("the player window was closed")
