"""Play, Pause, Step and Stop: the run targets and the play state shown in the panels."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QMessageBox, QWidget

from editor.controllers import STATUS_SECONDS
from editor.controllers.shown_scene import ShownSceneController
from editor.live_changes import PlayModeChange, PlayModeChanges
from editor.play import InEditorPlay, PlayState, PlayTarget, UnavailablePlayTarget
from runtime import BuildProfile, Game, Handle, Scene, Visual
from runtime.scene import SceneError

log = logging.getLogger("hotplay.editor")

RUN_IN_EDITOR = "In editor"
RUN_SEPARATE = "Separate process"

#: Builds a play target; called with the main window, which becomes its parent.
PlayTargetFactory = Callable[[QWidget], PlayTarget]


@runtime_checkable
class RemoteGame(Protocol):
    """A play target whose game runs elsewhere (`SeparateProcessPlay`): edits travel to it.

    Its `PlayTarget.scene` is a mirror of the remote scene, which the panels
    show; a live edit changes the mirror at once and the remote game at its
    next frame.
    """

    def set_hot_reload(self, on: bool) -> None:
        """Switch the remote game between Debug and Debug (HR)."""

    def follow_entity(self, handle: Handle | None) -> None:
        """Ask often for the values of the entity the inspector shows."""

    def edit_entity(self, handle: Handle, attribute: str, value: Any) -> None:
        """Set an entity attribute in the remote game."""

    def edit_script_field(
        self, handle: Handle, index: int, type_id: str, field: str, value: Any
    ) -> None:
        """Set a script field in the remote game."""


class PlayController(QObject):
    """Runs the game on the chosen `PlayTarget` and shows its scene while it plays.

    One target is made per Play, by the factory registered for the run target
    (``Release`` always uses ``Separate process``), and dropped at Stop; the
    panels then show the edited scene again, exactly as it was.

    Args:
        game: the window's game (in-editor play runs a copy of the edited scene in it).
        edited_scene: returns the edited scene.
        profile: returns the build profile chosen.
        shown: the panels' scene.
        settings: where the run target choice is remembered.
        window: the main window (the parent of every play target).

    Signals:
        aboutToStart(): Play was asked for and a new game is about to start.
        stateChanged(object): the `PlayState` changed (also when the target is dropped).
        statsUpdated(dict): the target's statistics (``fps``, ``entities``...).
        statusReported(str, str, float): a message for the status bar (text, kind, seconds).
        changesKept(list): Play stopped with kept play-mode changes (`PlayModeChange`
            list) to apply to the edited scene.

    While a game plays, the inspector edits the running game (or, for a
    `RemoteGame`, its mirror and the game); each edit is noted in `changes`,
    which the inspector marks, and the kept ones go out with `changesKept`.
    """

    aboutToStart = Signal()
    stateChanged = Signal(object)
    statsUpdated = Signal(dict)
    statusReported = Signal(str, str, float)
    changesKept = Signal(list)

    def __init__(
        self,
        game: Game,
        edited_scene: Callable[[], Scene],
        profile: Callable[[], BuildProfile],
        shown: ShownSceneController,
        settings: QSettings,
        window: QWidget,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._profile = profile
        self._edited_scene = edited_scene
        self.shown = shown
        self.target: PlayTarget | None = None
        self._factories: dict[str, PlayTargetFactory] = {
            RUN_IN_EDITOR: lambda parent: InEditorPlay(game, edited_scene, parent),
        }
        self._run_target_choice: str | None = None  # set while Release overrides it
        self.run_target_combo = QComboBox()
        self.run_target_combo.setObjectName("runTargetCombo")
        self.run_target_combo.addItems([RUN_IN_EDITOR, RUN_SEPARATE])
        self.run_target_combo.setToolTip("Where Play runs the game")
        last = str(settings.value("runTarget", RUN_IN_EDITOR))
        if last in (RUN_IN_EDITOR, RUN_SEPARATE):
            self.run_target_combo.setCurrentText(last)
        self.run_target_combo.currentTextChanged.connect(
            lambda t: settings.setValue("runTarget", t)
        )
        self._stats_timer = QTimer(self)
        self._stats_timer.setInterval(250)
        self._stats_timer.timeout.connect(self.update_stats)
        shown.scene_view.keyPressed.connect(self._on_view_key_pressed)
        shown.scene_view.keyReleased.connect(self._on_view_key_released)
        #: The live inspector's edits during this Play (kept ones apply at Stop).
        self.changes = PlayModeChanges(self)
        shown.inspector.set_live_changes(self.changes)
        shown.inspector.attributeEdited.connect(self._on_live_attribute_edited)
        shown.inspector.scriptFieldEdited.connect(self._on_live_script_field_edited)
        shown.inspector.keepRequested.connect(self._on_keep_requested)
        shown.selectionChanged.connect(self._on_selection_changed)

        self._game = game
        #: The "frame over budget" question while it is shown (Resume / Stop).
        self.halt_box: QMessageBox | None = None
        # Both arrive on this thread from inside a frame: act once the frame is over.
        game.on_quit(lambda reason: QTimer.singleShot(0, self, lambda: self._on_game_quit(reason)))
        game.on_halt(
            lambda reason: QTimer.singleShot(0, self, lambda: self._on_game_halted(reason))
        )

    # --- state ----------------------------------------------------------------------------

    @property
    def state(self) -> PlayState:
        """Stopped, playing or paused."""
        return self.target.state if self.target is not None else PlayState.STOPPED

    @property
    def run_target(self) -> str:
        """Where Play runs the game (Release: always in a separate process)."""
        if self._profile().separate_process_only:
            return RUN_SEPARATE
        return self.run_target_combo.currentText()

    @property
    def chosen_run_target(self) -> str:
        """The user's own run target choice (not Release's override), to remember."""
        return self._run_target_choice or self.run_target_combo.currentText()

    def register_target(self, run_target: str, factory: PlayTargetFactory) -> None:
        """Make a run target available (``"Separate process"`` is plugged in here)."""
        self._factories[run_target] = factory
        if self.run_target_combo.findText(run_target) < 0:
            self.run_target_combo.addItem(run_target)

    def show_run_target_for(self, profile: BuildProfile) -> None:
        """In Release the run target shows Separate process; the user's choice comes back after."""
        combo = self.run_target_combo
        combo.blockSignals(True)  # not a choice of the user's: do not remember it
        try:
            if profile.separate_process_only:
                if self._run_target_choice is None:
                    self._run_target_choice = combo.currentText()
                combo.setCurrentText(RUN_SEPARATE)
            elif self._run_target_choice is not None:
                combo.setCurrentText(self._run_target_choice)
                self._run_target_choice = None
        finally:
            combo.blockSignals(False)

    def update_run_target_box(self) -> None:
        """Enable the run target box when it can change, and say why in its tooltip when not."""
        combo = self.run_target_combo
        if self._profile().separate_process_only:
            combo.setEnabled(False)
            combo.setToolTip("Release always runs the game in a separate process (python -O)")
        elif self.state is not PlayState.STOPPED:
            combo.setEnabled(False)
            combo.setToolTip("Where Play runs the game: Stop the game to change it")
        else:
            combo.setEnabled(True)
            combo.setToolTip("Where Play runs the game")

    def set_hot_reload(self, on: bool) -> None:
        """The profile switched between Debug and Debug (HR) while playing: tell a remote game.

        The in-editor game is the editor's own `Game`, whose profile is switched by
        `editor.controllers.code_reload.CodeReloadController`.
        """
        if isinstance(self.target, RemoteGame):
            self.target.set_hot_reload(on)

    def keep_changes(self, handle: Handle | None = None) -> int:
        """Keep the play-mode changes of an entity (``None``: all) for after Stop.

        Returns:
            How many changes are newly kept.
        """
        count = self.changes.keep(handle=handle)
        self._report_kept(count)
        return count

    def make_target(self) -> PlayTarget:
        """A new, not started play target for the run target and profile chosen now."""
        target = self.run_target_combo.currentText()
        if self._profile().separate_process_only:
            factory = self._factories.get(RUN_SEPARATE)
            if factory is None:
                return UnavailablePlayTarget(
                    "Release runs the game in a separate process (it needs python -O), "
                    "which is not available yet: choose Debug or Debug (HR) to play in the editor",
                    self._window,
                )
            return factory(self._window)
        factory = self._factories.get(target)
        if factory is None:
            return UnavailablePlayTarget(
                f"running the game in a {target.lower()} is not available yet: "
                f"choose “{RUN_IN_EDITOR}”",
                self._window,
            )
        return factory(self._window)

    # --- commands -------------------------------------------------------------------------

    def play(self) -> None:
        """Play (or resume when paused)."""
        if self.state is PlayState.PAUSED:
            assert self.target is not None
            self.target.resume()
            return
        if self.state is not PlayState.STOPPED:
            return
        self.aboutToStart.emit()
        self.changes.clear()
        target = self.make_target()
        target.stateChanged.connect(self._on_state_changed)
        target.frameAdvanced.connect(self._on_frame_advanced)
        target.failed.connect(self._on_failed)
        self.target = target
        target.start()
        if target.state is PlayState.STOPPED:
            self._drop_target()

    def toggle_pause(self) -> None:
        """Pause a playing game or resume a paused one."""
        t = self.target
        if t is None:
            return
        if t.state is PlayState.PLAYING:
            t.pause()
        elif t.state is PlayState.PAUSED:
            t.resume()
        self.stateChanged.emit(self.state)

    def step(self) -> None:
        """Run one frame (pausing first)."""
        if self.target is not None:
            self.target.step()

    def run_new_code_frame(self) -> bool:
        """Run the first frame of newly reloaded code now (`PlayTarget.run_new_code_frame`)."""
        return self.target is not None and self.target.run_new_code_frame()

    def stop(self) -> None:
        """Stop the game and show the edited scene exactly as it was."""
        if self.target is not None:
            self.target.stop()
            self._drop_target()

    def shutdown(self) -> None:
        """Stop the game and the statistics (the window is closing)."""
        self._stats_timer.stop()
        self.stop()

    def update_stats(self) -> None:
        """Pass on the target's statistics (a few times a second while playing)."""
        if self.target is not None:
            self.statsUpdated.emit(self.target.stats())

    # --- target events --------------------------------------------------------------------

    def _drop_target(self) -> None:
        t, self.target = self.target, None
        if self.halt_box is not None:
            self.halt_box.done(QMessageBox.DialogCode.Rejected.value)  # stopped: nothing to ask
        if t is not None:
            t.stateChanged.disconnect(self._on_state_changed)
            t.frameAdvanced.disconnect(self._on_frame_advanced)
            t.failed.disconnect(self._on_failed)
            t.deleteLater()
        self.stateChanged.emit(self.state)

    def _on_state_changed(self, state: PlayState) -> None:
        t = self.target
        view = self.shown.scene_view
        if state is PlayState.PLAYING:
            if t is not None and t.scene is not None and self.shown.scene is not t.scene:
                self.shown.show(t.scene, mode="playing")
            view.set_mode("playing")
            view.setFocus(Qt.FocusReason.OtherFocusReason)
            self._stats_timer.start()
            log.info("playing (%s, %s)", self._profile().display_name, self.run_target)
            self.shown.inspector.set_mode("playing")
            self._on_selection_changed(self.shown.selected)
        elif state is PlayState.PAUSED:
            view.set_mode("paused")
            self.shown.inspector.set_mode("paused")
            self.shown.inspector.refresh_values()
        else:
            self._stats_timer.stop()
            self.shown.show(self._edited_scene(), mode="editing")
            log.info("stopped; back to the edited scene")
            kept = self.changes.kept()
            self.changes.clear()
            if kept:
                self.changesKept.emit(kept)
        self.stateChanged.emit(state)
        self.update_stats()

    def _on_selection_changed(self, handle: Handle | None) -> None:
        if isinstance(self.target, RemoteGame):
            self.target.follow_entity(handle)

    def _report_kept(self, count: int) -> None:
        kept = len(self.changes.kept())
        edited = self._edited_scene()
        spawned = {int(c.handle) for c in self.changes.kept() if c.handle not in edited}
        if count and spawned:
            self.statusReported.emit(
                f"kept {count} play-mode change{'s' if count != 1 else ''}, but entities "
                f"{', '.join(map(str, sorted(spawned)))} were spawned while playing: they are "
                "not in the edited scene, so their changes cannot apply at Stop",
                "warning",
                STATUS_SECONDS,
            )
        elif count:
            self.statusReported.emit(
                f"kept {count} play-mode change{'s' if count != 1 else ''}: "
                f"{kept} will apply to the edited scene when Play stops",
                "ok",
                STATUS_SECONDS,
            )
        else:
            self.statusReported.emit("no play-mode changes to keep", "info", STATUS_SECONDS)

    def _on_keep_requested(self, handle: Handle | None, key: Any) -> None:
        if key is not None:
            self._report_kept(self.changes.keep(key=key))
        else:
            self.keep_changes(handle)

    def _live_scene(self) -> Scene | None:
        """The scene live edits change (the running one, or a remote game's mirror)."""
        if self.state is PlayState.STOPPED or self.target is None:
            return None
        return self.target.scene

    def _on_live_attribute_edited(self, handle: Handle, attribute: str, value: Any) -> None:
        scene = self._live_scene()
        e = scene.get(handle) if scene is not None else None
        if scene is None or e is None:
            return
        old = getattr(e, attribute)
        if old == value and type(old) is type(value):
            return
        try:
            scene.set_attr(handle, attribute, value.copy() if isinstance(value, Visual) else value)
        except SceneError as exc:
            self.statusReported.emit(f"live edit refused: {exc}", "error", STATUS_SECONDS)
            return
        if isinstance(self.target, RemoteGame):
            self.target.edit_entity(handle, attribute, value)
        if attribute != "visual" or old is None or value is None or old.kind != value.kind:
            self.changes.note(PlayModeChange(handle, attribute, value))
            return
        for f in dataclasses.fields(Visual):  # one mark per member of the visual changed
            new_member = getattr(value, f.name)
            if getattr(old, f.name) != new_member:
                self.changes.note(PlayModeChange(handle, f"visual.{f.name}", new_member))

    def _on_live_script_field_edited(
        self, handle: Handle, index: int, type_id: str, field: str, value: Any
    ) -> None:
        scene = self._live_scene()
        if scene is None or handle not in scene:
            return
        try:
            scene.set_script_field(handle, index, field, value)
        except SceneError as exc:
            self.statusReported.emit(f"live edit refused: {exc}", "error", STATUS_SECONDS)
            return
        if isinstance(self.target, RemoteGame):
            self.target.edit_script_field(handle, index, type_id, field, value)
        self.changes.note(PlayModeChange(handle, "scripts", value, index, type_id, field))

    def _on_game_quit(self, reason: str) -> None:
        # ctx.quit() in game code: the game is over, Play stops like the Stop button.
        if isinstance(self.target, InEditorPlay) and self.state is not PlayState.STOPPED:
            self.stop()
            self.statusReported.emit(f"the game quit: {reason}", "info", STATUS_SECONDS)

    def _on_game_halted(self, reason: str) -> None:
        """A frame ran over the budget: the game is paused; ask whether to resume or stop."""
        if self._game.halt_reason is None or self.halt_box is not None:
            return
        self.statusReported.emit(f"paused: {reason}", "warning", STATUS_SECONDS)
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Game paused: frame over budget",
            f"The game is paused: {reason}.\n\nA save that fixes the code is still "
            "picked up. Resume the game, or stop it?",
            parent=self._window,
        )
        resume = box.addButton("Resume", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Stop", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(resume)

        def on_answer() -> None:
            self.halt_box = None
            if box.clickedButton() is resume:
                self._game.resume_after_halt()
            else:
                self.stop()
            box.deleteLater()

        box.finished.connect(on_answer)
        self.halt_box = box
        box.open()  # window-modal, not a nested event loop: the editor keeps running

    def _on_frame_advanced(self) -> None:
        self.shown.frame_advanced(paused=self.state is PlayState.PAUSED)

    def _on_failed(self, reason: str) -> None:
        log.warning("%s", reason)
        self.statusReported.emit(reason, "warning", STATUS_SECONDS)

    def _on_view_key_pressed(self, key: str) -> None:
        if self.target is not None:
            self.target.press_key(key)

    def _on_view_key_released(self, key: str) -> None:
        if self.target is None:
            return
        if key == "*":
            self.target.release_all_keys()
        else:
            self.target.release_key(key)
