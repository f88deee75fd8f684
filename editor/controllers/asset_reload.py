"""Asset hot reload in the editor: images and scenes changed on disk.

The game's asset watcher (`runtime.assets.AssetWatcher`) debounces saves under
``assets/`` like code saves and, on its own thread, only wakes this controller
(a queued signal). On the GUI thread the game hands over the changes
(`runtime.Game.apply_asset_changes`, which a playing in-editor game also calls
between its frames), and this controller, as one of the game's asset listeners:

- reloads each changed image in the scene view's renderer, which shows both the
  edited scene and an in-editor game; an unreadable file keeps the old image
  and is reported as an error row;
- for the edited scene's own file, asks what to do as on returning to the
  window (`DocumentController.check_disk`: reload, or keep the edits); while a
  game plays the question waits for Stop, and the game keeps running.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from editor.controllers import STATUS_SECONDS
from editor.controllers.document import DocumentController
from editor.play import PlayState
from editor.scene_view import SceneView
from runtime import Game
from runtime.assets import AssetChange, AssetKind, AssetReload

log = logging.getLogger("hotplay.editor")


class _WatcherSignals(QObject):
    """Lives on the GUI thread; emitting from the watcher thread queues the call."""

    changesDetected = Signal()


class AssetReloadController(QObject):
    """Keeps the scene view's images and the edited scene in step with ``assets/`` on disk.

    Args:
        game: the window's game (its asset watcher runs with its plugin watcher).
        document: the edited scene's document.
        scene_view: whose renderer caches the images.
        is_playing: whether a game runs (the edited scene is frozen then).
        parent: the owning window.

    Signals:
        assetsReloaded(list): the `runtime.assets.AssetReload` of each changed image.
        statusReported(str, str, float): a message for the status bar (text, kind, seconds).
    """

    assetsReloaded = Signal(list)
    statusReported = Signal(str, str, float)

    def __init__(
        self,
        game: Game,
        document: DocumentController,
        scene_view: SceneView,
        is_playing: Callable[[], bool],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._is_playing = is_playing
        self.game = game
        self._document = document
        self._scene_view = scene_view
        self._scene_changed_while_playing = False
        #: The latest result for each image reloaded, by its path under ``assets/``.
        self.latest: dict[str, AssetReload] = {}
        self._signals = _WatcherSignals(self)
        self._signals.changesDetected.connect(self._on_changes_detected)
        # Emitted on the watcher's thread: Qt queues the call to the GUI thread.
        game.assets.wakeup = self._signals.changesDetected.emit
        game.on_asset_change(self._on_assets_changed)

    def on_play_state_changed(self, state: PlayState) -> None:
        """After Stop, ask about a scene file that changed while the game ran."""
        if state is PlayState.STOPPED and self._scene_changed_while_playing:
            self._scene_changed_while_playing = False
            self._document.check_disk()

    def _on_changes_detected(self) -> None:
        self.game.apply_asset_changes()

    def _on_assets_changed(self, changes: list[AssetChange]) -> None:
        """The game's asset listener (GUI thread, between frames)."""
        reloads = [self._reload_image(c) for c in changes if c.kind is AssetKind.IMAGE]
        if reloads:
            self._scene_view.update()
            self.assetsReloaded.emit(reloads)
        scene_path = self._document.scene_path
        if scene_path is not None and any(
            c.kind is AssetKind.SCENE and self._is_file(c, scene_path) for c in changes
        ):
            self._on_scene_file_changed()

    def _reload_image(self, change: AssetChange) -> AssetReload:
        error = self._scene_view.renderer.reload_image(change.path)
        result = AssetReload(change.path, change.kind, error or "")
        before = self.latest.get(change.path)
        self.latest[change.path] = result
        if not result.ok and result == before:
            # One save can arrive as two batches (a late event of the write): the
            # same file still broken the same way is no news, and one save is one row.
            return result
        if result.ok:
            log.info("%s", result)
        else:
            log.error("%s", result)
            self.statusReported.emit(str(result), "error", STATUS_SECONDS)
        return result

    def _is_file(self, change: AssetChange, path: Path) -> bool:
        return (self.game.project.assets_dir / change.path).resolve() == path.resolve()

    def _on_scene_file_changed(self) -> None:
        # An own save leaves the file as the document recorded it: no question then.
        if not self._document.changed_on_disk():
            return
        if self._is_playing():
            # The running game plays its copy; the edited scene is frozen until Stop.
            self._scene_changed_while_playing = True
            log.info("the scene file changed on disk: you are asked after Stop")
            return
        self._document.check_disk()
