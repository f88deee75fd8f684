"""Separate-process play in the main window: the run target, the Remote dock, the hang prompt."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QMessageBox, QWidget

from editor.log_panel import LogEntry
from editor.play import PlayTarget
from editor.player_process.play_target import SeparateProcessPlay
from editor.player_process.process import PlayerProcess
from editor.remote_tree import RemoteTreePanel
from runtime import Handle
from runtime.build import BuildResult

if TYPE_CHECKING:
    from editor.main_window import MainWindow


class UnresponsivePlayerPrompt(QObject):
    """Tells the user that the game stopped answering, and offers to kill it.

    The offer is a non-modal message box (Kill / Wait): the editor stays fully
    usable while it is up, it closes by itself when the game answers again or
    ends, and tests answer it with `answer` (or by clicking its buttons).

    Args:
        player: the window's player process.
        window: the main window (``show_status``, ``log_panel``).
    """

    def __init__(self, player: PlayerProcess, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("unresponsivePlayerPrompt")
        self.player = player
        self.window = window
        self._box: Any = None  # the QMessageBox, made on first use
        player.unresponsive.connect(self._on_unresponsive)
        player.responsive.connect(self._on_responsive)
        player.finished.connect(lambda *_: self.close())

    @property
    def box(self) -> Any:
        """The message box (a ``QMessageBox``; hidden when there is nothing to ask)."""
        if self._box is None:
            box = QMessageBox(self.window)
            box.setObjectName("unresponsivePlayerBox")
            box.setIcon(QMessageBox.Icon.Warning)
            box.setWindowTitle("The game is not answering")
            box.setWindowModality(Qt.WindowModality.NonModal)
            self.kill_button = box.addButton("Kill", QMessageBox.ButtonRole.DestructiveRole)
            self.wait_button = box.addButton("Wait", QMessageBox.ButtonRole.RejectRole)
            box.setDefaultButton(self.wait_button)
            box.setEscapeButton(self.wait_button)
            box.buttonClicked.connect(lambda b: self.answer(kill=b is self.kill_button))
            self._box = box
        return self._box

    @property
    def asking(self) -> bool:
        """Whether the offer is on screen."""
        return self._box is not None and self._box.isVisible()

    def ask(self, seconds: float) -> None:
        """Show the offer (without blocking: the answer comes through `answer`)."""
        box = self.box
        box.setText(f"The game has not answered for {seconds:.0f} seconds.")
        box.setInformativeText(
            "Its frame may never end (an endless loop in a script?). "
            "Kill it, or wait a little longer?"
        )
        box.show()

    def answer(self, *, kill: bool) -> None:
        """The user's answer: kill the game (the editor goes back to editing), or wait."""
        self.close()
        if kill and self.player.running:
            self.window.log_panel.log(
                logging.WARNING, "killed the game: it was not answering", "hotplay.player"
            )
            self.window.show_status("killed the game: it was not answering", "warning")
            self.player.kill()

    def close(self) -> None:
        """Take the offer off the screen (nothing is decided)."""
        if self._box is not None:
            self._box.hide()

    def _on_unresponsive(self, seconds: float) -> None:
        text = f"the game is not answering ({seconds:.0f} s) — Stop kills it"
        # Stays until the game answers or ends (each replaces it).
        self.window.show_status(text, "error", seconds=3600)
        self.window.log_panel.log(logging.WARNING, text, "hotplay.player")
        self.ask(seconds)

    def _on_responsive(self) -> None:
        self.close()
        self.window.show_status("the game answers again", "ok")


def install_separate_process(window: MainWindow, *, headless: bool = False) -> PlayerProcess:
    """Plug separate-process play into a `editor.main_window.MainWindow`.

    Registers the ``Separate process`` run target (also used for ``Release``),
    adds a *Remote* dock with a `RemoteTreePanel` (tabbed with the scene tree),
    routes the player's logs to the log panel and its reload reports to the
    status bar, and offers to kill a player that stops answering
    (`UnresponsivePlayerPrompt`). Uses only the
    window's public API: ``project``, ``profile``, ``edited_scene``,
    ``scene_path``, ``is_modified``, ``log_panel``, ``tree_dock``, ``show_status``,
    ``look_ahead`` and ``register_play_target``.

    Returns:
        The window's `PlayerProcess` (a child of the window: deleting the window
        kills a player that is still running; quitting the app stops it first).
    """
    player = PlayerProcess(window)
    player.setObjectName("hotplayPlayerProcess")
    remote = RemoteTreePanel()
    remote.setObjectName("remoteTreePanel")
    remote.attach(player)
    dock = QDockWidget("Remote", window)
    dock.setObjectName("remoteDock")
    dock.setWidget(remote)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    # Like a Local/Remote switch: the remote tree shares the scene tree's place,
    # comes to the front while a separate-process game runs, and leaves after.
    window.tabifyDockWidget(window.tree_dock, dock)
    window.tree_dock.raise_()
    player.started.connect(dock.raise_)
    player.finished.connect(lambda *_: window.tree_dock.raise_())

    def on_log(rec: dict[str, Any]) -> None:
        if rec["logger"] == "hotplay.reload":
            return  # the player's reload report says the same, as one row (`on_report`)
        window.log_panel.add_entry(
            LogEntry(
                float(rec["created"]),
                int(rec["level"]),
                f"player: {rec['logger']}",
                str(rec["message"]),
            )
        )

    def on_build(result: BuildResult) -> None:
        level = logging.INFO if result.ok else logging.ERROR
        window.log_panel.log(level, "\n".join(result.lines()), "hotplay.build")

    def on_report(report: dict[str, Any]) -> None:
        ok = bool(report.get("ok"))
        window.show_status(f"player: {report.get('summary', '')}", "ok" if ok else "error")
        # The editor reloads its own copy of the same save; its watcher has the batch
        # by now (the same quiet window), so apply it first: when both came to the
        # same end, the editor's row already says it, and one save is one row.
        window.game.apply_pending_reloads()
        own = window.game.reports[-1] if window.game.reports else None
        if own is not None and str(own) == report.get("summary"):
            return
        window.log_panel.log(
            logging.INFO if ok else logging.ERROR,
            f"player: {report.get('details', report.get('summary', ''))}",
            "hotplay.reload",
        )

    def on_error(text: str) -> None:
        window.log_panel.log(logging.ERROR, f"player: {text}", "hotplay.player")

    player.log_record.connect(on_log)
    player.build_finished.connect(on_build)
    player.reload_report.connect(on_report)
    player.error.connect(on_error)
    UnresponsivePlayerPrompt(player, window)

    # One selection: the Remote tree, the panels (which show the mirror of the
    # player's scene) and a pick in the player window all select the same entity.
    def on_remote_selected(handle: int) -> None:
        if handle and window.is_playing and window.selected_handle != handle:
            window.select(Handle(handle))

    def on_selection_changed(handle: Handle | None) -> None:
        if handle is not None and window.is_playing:
            remote.select_handle(int(handle))

    def on_picked(handle: int) -> None:
        if window.is_playing:
            window.select(Handle(handle))
            remote.select_handle(handle)
            window.show_status(f"picked entity {handle} in the game window", "info")

    remote.entitySelected.connect(on_remote_selected)
    window.shown.selectionChanged.connect(on_selection_changed)
    player.picked.connect(on_picked)

    def scene() -> Any:
        if window.scene_path is not None and not window.is_modified:
            return window.scene_path
        return window.edited_scene  # unsaved: the player gets a temporary copy

    def factory(parent: QWidget) -> PlayTarget:
        return SeparateProcessPlay(
            player,
            window.project.root,
            scene,
            window.profile,
            parent,
            resolve=window.game.registry.resolve,
            headless=headless,
            # The player looks ahead as the editor's own game does (the editor's choice).
            look_ahead_frames=window.look_ahead.frames,
        )

    window.register_play_target("Separate process", factory)
    return player
