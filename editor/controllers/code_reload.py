"""Code changes: the build profile, the plugin watcher, hot reloads and the code banner.

The game keeps the one queue of saved files not loaded yet
(`runtime.Game.pending_changes`). The watcher's thread only wakes this
controller (a queued signal); on the GUI thread, between frames, ``Debug (HR)``
applies the queue at once, and ``Debug`` leaves it for the next Play or Build
(`apply_stale_changes`) and shows the "code changed" banner meanwhile;
``Release`` shows "code changed — Build, then Play" until the next Play.

After a reload whose report lists a changed ``on_init`` or ``on_start`` that
already ran ("changed but did not run"), the same banner offers one click to
run it again on those objects (`rerun_unapplied`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QMessageBox, QWidget

from editor.controllers import STATUS_SECONDS
from editor.extensions import ExtensionHost
from editor.inspector import InspectorPanel
from editor.scene_view import SceneView
from runtime import BuildProfile, Game
from runtime.reports import ReloadReport, UnappliedChange

log = logging.getLogger("hotplay.editor")


class _WatcherSignals(QObject):
    """Lives on the GUI thread; emitting from the watcher thread queues the call."""

    changesDetected = Signal()


class CodeReloadController(QObject):
    """Keeps the editor's copy of the plugins in step with the code on disk.

    It owns the profile box and the "code changed" banner (the window places
    them), switches the game's profile and watcher, applies code changes when
    the profile says so, and after every reload attempt reports it and marks
    the views that show code dirty; they are refreshed once, on the next turn
    of the event loop, outside the reload transaction.

    Threads: on its own thread the plugin watcher only queues the change in the
    game and emits a Qt signal, which Qt delivers on the GUI thread (the
    emitter lives there), where the reload runs between frames.

    Args:
        game: the window's game.
        extensions: the plugins' editor contributions (a reload participant).
        inspector: shows script fields and offers script types.
        scene_view: repainted after a reload.
        settings: where the profile chosen is remembered.
        is_playing: whether a game runs.
        parent: the owning window.
        frames_coming: whether the game plays (not paused), so that its next frame
            repaints the scene view anyway: a reload then leaves the repaint to it.
        run_new_code_frame: runs the playing game's first frame of the new code at
            once, after a reload this controller applied (see `_on_changes_detected`);
            returns whether a frame ran here (not in another process).

    While a game plays, Debug ↔ Debug (HR) switches live (`hotReloadSwitched`
    tells a game in another process); a switch to or from Release needs
    another process, so it asks (`ask_restart`) whether to restart Play
    (`restartRequested`) and otherwise goes back to the running profile.

    Signals:
        profileChanged(object): the user chose another `BuildProfile`.
        hotReloadSwitched(bool): Debug (HR) turned on or off while playing.
        restartRequested(): restart Play with the chosen profile (Stop, `commit_profile`, Play).
        statusReported(str, str, float): a message for the status bar (text, kind, seconds).
    """

    profileChanged = Signal(object)
    hotReloadSwitched = Signal(bool)
    restartRequested = Signal()
    statusReported = Signal(str, str, float)

    def __init__(
        self,
        game: Game,
        extensions: ExtensionHost,
        inspector: InspectorPanel,
        scene_view: SceneView,
        settings: QSettings,
        is_playing: Callable[[], bool],
        parent: QObject | None = None,
        frames_coming: Callable[[], bool] = lambda: False,
        run_new_code_frame: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__(parent)
        self.game = game
        self.extensions = extensions
        self._inspector = inspector
        self._scene_view = scene_view
        self._settings = settings
        self._is_playing = is_playing
        self._frames_coming = frames_coming
        self._run_new_code_frame = run_new_code_frame
        self._closed = False
        #: Asks whether to restart Play for a switch to or from Release (tests replace it).
        self.ask_restart: Callable[[BuildProfile, BuildProfile], bool] = self._ask_restart

        self.profile_combo = QComboBox()
        self.profile_combo.setObjectName("buildProfileCombo")
        for p in BuildProfile:
            self.profile_combo.addItem(p.display_name, p.value)
        self.profile_combo.setToolTip(
            "Build profile: Debug (code changes apply at the next Play), Debug (HR) "
            "(hot reload: saved changes apply at once), Release (separate process, python -O)"
        )
        self.profile_combo.currentIndexChanged.connect(self._on_profile_changed)
        self.banner = QLabel("code changed — restart to apply")
        self.banner.setObjectName("codeChangedBanner")
        self.banner.setStyleSheet(
            "background: #5c4813; color: #ffe8a3; padding: 5px 10px; font-weight: bold"
        )
        self.banner.setVisible(False)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.banner.linkActivated.connect(self._on_banner_link)
        #: The hooks the last reload changed but could not run again by itself.
        self._offer: tuple[UnappliedChange, ...] = ()

        self._watcher_signals = _WatcherSignals(self)
        self._watcher_signals.changesDetected.connect(self._on_changes_detected)
        # Emitted on the watcher's thread: Qt queues the call to the GUI thread.
        game.set_change_wakeup(self._watcher_signals.changesDetected.emit)
        game.on_reload(self._on_reload)
        game.add_reload_participant(extensions.prepare)

    @property
    def profile(self) -> BuildProfile:
        """The build profile chosen in the profile box."""
        return BuildProfile(self.profile_combo.currentData())

    def show_profile(self, profile: BuildProfile) -> None:
        """Show `profile` in the box without applying it (at start-up, before `apply_profile`)."""
        self.profile_combo.blockSignals(True)
        self.profile_combo.setCurrentIndex(self.profile_combo.findData(profile.value))
        self.profile_combo.blockSignals(False)

    def set_profile(self, profile: BuildProfile) -> bool:
        """Switch the build profile, as choosing it in the box does (see the class).

        Returns:
            Whether the profile chosen is now `profile`.
        """
        self.profile_combo.setCurrentIndex(self.profile_combo.findData(profile.value))
        return self.profile is profile

    def apply_profile(self) -> None:
        """Give the game the chosen profile; Debug (HR) applies the changes noted so far."""
        p = self.profile
        # Debug and Release watch too: they only note changes, for the banner (and
        # the asset watcher keeps the editor's images in step in every profile).
        self.game.set_profile(p, watch=True)
        if p.hot_reload:
            self.apply_stale_changes()
        else:
            self.update_banner()

    def apply_stale_changes(self) -> None:
        """Reload the plugin files changed since the last Play or Build (``Debug``)."""
        self.game.apply_pending_reloads(any_profile=True)
        self.update_banner()

    def before_play(self) -> None:
        """A game is about to start: without hot reload, code changes apply now."""
        if not self.game.profile.hot_reload:
            self.apply_stale_changes()

    def rerun_unapplied(self) -> int:
        """Run the changed ``on_init``/``on_start`` of the last reload again; how many ran."""
        offer, self._offer = self._offer, ()
        ran = sum(self.game.rerun(change) for change in offer)
        hooks = " and ".join(sorted({c.what for c in offer})) or "nothing"
        self.statusReported.emit(
            f"re-ran {hooks} on {ran} object{'s' if ran != 1 else ''}", "ok", STATUS_SECONDS
        )
        self.update_banner()
        return ran

    def update_banner(self) -> None:
        """Show the "code changed" banner while changes wait for the next Play or Build.

        While a game plays, it offers instead to run again a changed ``on_init`` or
        ``on_start`` the last reload could not apply to existing objects.
        """
        if self._offer and self._is_playing():
            count = len({(c.type_id, h) for c in self._offer for h in c.entities})
            count += sum(c.plugin_object for c in self._offer)
            hooks = " and ".join(sorted({c.what for c in self._offer}))
            self.banner.setText(
                f"{hooks} changed but already ran on {count} object{'s' if count != 1 else ''}"
                f" — <a href='rerun' style='color: #ffe8a3'>Re-run {hooks}</a>"
            )
            self.banner.setVisible(True)
            return
        self._offer = ()
        stale = bool(self.game.pending_changes())
        if self.game.profile is BuildProfile.RELEASE:
            # Release plays its compiled build: only a new Build picks the change up.
            text = "code changed — Build, then Play"
        elif self._is_playing():
            text = (
                "code changed — restart to apply: Stop, then Play; "
                "or pick Debug (HR) to load it now"
            )
        else:
            text = "code changed — restart to apply (the changes load at the next Play or Build)"
        self.banner.setText(text)
        self.banner.setVisible(stale and not self.game.profile.hot_reload)

    def close(self) -> None:
        """Ignore what arrives after the window closed (the game closes after this)."""
        self._closed = True

    def commit_profile(self) -> None:
        """Make the profile chosen in the box the game's, and remember it."""
        self.profileChanged.emit(self.profile)
        self.apply_profile()
        self._settings.setValue("profile", self.profile.value)
        log.info("build profile: %s", self.profile.display_name)

    def _on_profile_changed(self, _index: int) -> None:
        running, chosen = self.game.profile, self.profile
        if not self._is_playing() or running is chosen:
            self.commit_profile()
        elif not (running.separate_process_only or chosen.separate_process_only):
            # Debug <-> Debug (HR): the same game goes on, with or without hot reload.
            self.commit_profile()
            self.hotReloadSwitched.emit(chosen.hot_reload)
            self.statusReported.emit(
                "hot reload on: saved code changes apply at once"
                if chosen.hot_reload
                else "hot reload off: code changes wait for the next Play",
                "ok",
                STATUS_SECONDS,
            )
        elif self.ask_restart(running, chosen):
            self.restartRequested.emit()
        else:
            self.show_profile(running)  # the game goes on as it was

    def _ask_restart(self, running: BuildProfile, chosen: BuildProfile) -> bool:
        parent = self.parent()
        answer = QMessageBox.question(
            parent if isinstance(parent, QWidget) else None,
            "Restart Play?",
            f"The game is playing in {running.display_name}. {chosen.display_name} runs "
            f"it differently (Release: a separate process under python -O), so the game "
            f"has to start again.\n\nStop and Play again in {chosen.display_name}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _on_banner_link(self, link: str) -> None:
        if link == "rerun":
            self.rerun_unapplied()

    def _on_changes_detected(self) -> None:
        # GUI thread, between frames: a playing game would apply this at its next
        # frame anyway, but a paused game or the edited scene would not.
        if self._closed:
            return
        started = self.game.guard.clock()
        reports = self.game.apply_pending_reloads()  # Debug (HR) only: Debug waits for Play
        self.update_banner()
        # The frame before the save left a repaint pending: the new code's first frame
        # runs now, so that this repaint shows it, rather than the old frame first (a
        # repaint: 20 ms at 10,000 entities), and is shown at once, ahead of the views the
        # reload left to refresh on the next turn of the event loop (the scene tree, the
        # inspector). A frame that would keep the event loop from turning for longer than
        # a budget waits for the next tick instead.
        # (`run_new_code_frame` runs none unless a game plays in this process.)
        if (
            any(r.ok for r in reports)
            and self.game.frame_fits(started)
            and self._run_new_code_frame()
        ):
            self._scene_view.repaint()

    def _on_reload(self, report: ReloadReport) -> None:
        """After every reload attempt (GUI thread): report it, mark what shows code dirty."""
        if self._closed:
            return
        self.statusReported.emit(str(report), "ok" if report.ok else "error", STATUS_SECONDS)
        if report.ok:
            self._offer = tuple(u for u in report.unapplied if u.kind == "hook")
            self.update_banner()
            self._inspector.set_script_types(self.game.registry.script_types())
            self.extensions.forget_missing()
            self._inspector.set_custom_editors(self.extensions.field_editors())
        self._inspector.schedule_rebuild()
        if not self._frames_coming():
            # While the game plays, the view would show the frame before the reload once
            # more (25 ms at 10,000 entities) ahead of the first frame of the new code.
            self._scene_view.update()
