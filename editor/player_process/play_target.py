"""The main window's "Separate process" run target: a `PlayTarget` over a `PlayerProcess`."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

from editor.play import PlayState, PlayTarget
from editor.player_process.mirror import RemoteSceneMirror, TypeResolver
from editor.player_process.output import describe_exit
from editor.player_process.process import PlayerProcess
from editor.timeline import TimelineRange
from runtime import Handle, Scene, Visual
from runtime.fields import PlainDataError, to_plain
from runtime.profiles import BuildProfile

#: How often the entity the inspector shows is asked for (the whole tree comes less often).
FOLLOW_INTERVAL_MS = 150


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
        resolve: the script class of a type id (the editor's loaded plugins), for the
            mirror of the remote scene (`scene`), which the panels show and edit.
        show_fps: ask the player window for its FPS overlay.
        headless: run the player without a window (tests).
        look_ahead_frames: frames a reload tries the new code ahead in the player
            (``None``: the project's setting).

    It is a `editor.controllers.play.RemoteGame`: live edits of the mirror are
    sent to the player, which applies them before its next frame; and an
    `editor.controllers.timeline.RecordedGame`: the player's history comes
    with its statistics, past frames when asked for.
    """

    def __init__(
        self,
        player: PlayerProcess,
        project: str | os.PathLike[str],
        scene: Any,
        profile: BuildProfile,
        parent: QObject | None = None,
        *,
        resolve: TypeResolver | None = None,
        show_fps: bool = True,
        headless: bool = False,
        look_ahead_frames: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.mirror = RemoteSceneMirror(resolve or (lambda _type_id: None))
        self._followed: Handle | None = None
        self._follow_timer = QTimer(self)
        self._follow_timer.setInterval(FOLLOW_INTERVAL_MS)
        self._follow_timer.timeout.connect(self._on_follow_timer)
        player.tree.connect(self._on_tree)
        player.preview.connect(self._on_preview)
        self._show_past: Callable[[int, Scene], None] | None = None
        player.entity.connect(self._on_entity)
        self.player = player
        self.project = project
        self._scene = scene
        self.profile = profile
        self.show_fps = show_fps
        self.headless = headless
        self.look_ahead_frames = look_ahead_frames
        self._stats: dict[str, Any] = {}
        player.stats.connect(self._on_stats)
        player.finished.connect(self._on_finished)

    @property
    def scene(self) -> Scene | None:
        """The mirror of the player's scene while it runs (filled as its trees arrive)."""
        return self.mirror.scene if self._state is not PlayState.STOPPED else None

    # --- RemoteGame -----------------------------------------------------------------------

    def set_hot_reload(self, on: bool) -> None:
        """Switch the player between Debug and Debug (HR)."""
        self.player.set_hot_reload(on)

    def follow_entity(self, handle: Handle | None) -> None:
        """Ask for this entity's values a few times a second (``None``: stop)."""
        self._followed = handle
        if handle is not None and self._state is not PlayState.STOPPED:
            self._follow_timer.start()
            self.player.request_entity(int(handle))
        else:
            self._follow_timer.stop()

    def edit_entity(self, handle: Handle, attribute: str, value: Any) -> None:
        """Send a live edit of an entity attribute to the player."""
        if isinstance(value, Visual):
            plain: Any = {
                "kind": value.kind.value,
                "size": to_plain(value.size),
                "color": value.color.hex,
                "z": value.z,
                "image": value.image,
                "text": value.text,
                "font_size": value.font_size,
            }
        else:
            plain = to_plain(value)
        self.player.set_entity_attribute(int(handle), attribute, plain)

    def edit_script_field(
        self, handle: Handle, index: int, type_id: str, field: str, value: Any
    ) -> None:
        """Send a live edit of a script field to the player."""
        try:
            plain = to_plain(value)
        except PlainDataError as exc:
            self.failed.emit(f"that value cannot be sent to the game: {exc}")
            return
        self.player.set_script_field(int(handle), index, type_id, field, plain)

    # --- RecordedGame ---------------------------------------------------------------------

    def history_range(self) -> TimelineRange | None:
        """The frames the player has recorded, as of its last statistics."""
        h = self._stats.get("history")
        if not isinstance(h, dict):
            return None
        try:
            return TimelineRange(
                first=int(h["first"]),
                live=int(h["last"]),
                dt=float(h["dt"]),
                keyframes=tuple(int(k) for k in h["keyframes"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def why_no_history(self) -> str:
        """Why there is no `history_range`."""
        return (
            "the game has sent no history yet, or its project turns recording off "
            "(hotplay.toml: [history] seconds = 0)"
        )

    def request_preview(self, frame: int, show: Callable[[int, Scene], None]) -> None:
        """Ask the player for the scene at `frame`; `show` gets it when it arrives."""
        self._show_past = show
        self.player.request_preview(frame)

    def rewind_to(self, frame: int) -> None:
        """Take the player's game back to `frame` (its tree follows)."""
        self.player.rewind_to(frame)

    def replay_from(self, frame: int) -> None:
        """Take the player's game back to `frame`, then play its recorded input up to now."""
        self.player.replay_from(frame)

    def _on_preview(self, payload: dict[str, Any]) -> None:
        show = self._show_past
        if show is None or self._state is PlayState.STOPPED:
            return
        past = RemoteSceneMirror(self.mirror.resolve)
        past.update(payload)
        show(int(payload.get("frame", 0)), past.scene)

    def _on_tree(self, payload: dict[str, Any]) -> None:
        if self._state is not PlayState.STOPPED:
            self.mirror.update(payload)

    def _on_entity(self, handle: int, data: dict[str, Any] | None) -> None:
        if self._state is not PlayState.STOPPED and data is not None:
            self.mirror.update_entity(data)

    def _on_follow_timer(self) -> None:
        if self._followed is not None:
            self.player.request_entity(int(self._followed))

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
            look_ahead_frames=self.look_ahead_frames,
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
        self._follow_timer.stop()
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
        self._follow_timer.stop()
        self._set_state(PlayState.STOPPED)
        if code != 0 and not self.player.stop_requested:
            self.failed.emit(describe_exit(code, tail))
        elif not self.player.stop_requested:
            self.failed.emit("the player window was closed")
