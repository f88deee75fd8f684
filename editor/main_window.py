"""The editor's main window: scene view, tree, inspector, log, toolbar and play.

The window owns one `runtime.Game` (no running scene at first): the edited
scene is added to it *not running*, so every hot reload migrates its scripts;
Play runs a copy of it in the same game. Panels only show and report; this
window turns their reports into undoable commands and routes model changes
back to them.

Threads: the plugin watcher calls `_queue_from_watcher` on its own thread. That
only queues the change and emits a Qt signal, which Qt delivers on the GUI
thread (the emitter lives there), where the reload runs between frames.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QObject, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStyle,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from editor import commands as cmd
from editor.extensions import ExtensionHost
from editor.inspector import InspectorPanel
from editor.log_panel import LogPanel, QtLogHandler
from editor.play import InEditorPlay, PlayState, PlayTarget, UnavailablePlayTarget
from editor.recovery import FileStamp, RecoveryChoice, RecoveryInfo, RecoveryStore
from editor.scene_tree import SceneTreeView
from editor.scene_view import SceneView
from runtime import (
    BuildProfile,
    Color,
    Game,
    Handle,
    Project,
    Scene,
    SceneFileError,
    Visual,
    VisualKind,
)
from runtime.plugins import describe_error
from runtime.reload import ReloadReport
from runtime.scene import EntityChanged, EntityRemoved, SceneEvent, ScriptsReplaced
from runtime.scenefile import scene_from_data

log = logging.getLogger("hotplay.editor")

#: The repository this package lives in is also the default project.
DEFAULT_PROJECT = Path(__file__).resolve().parent.parent

RUN_IN_EDITOR = "In editor"
RUN_SEPARATE = "Separate process"

STATUS_SECONDS = 8
MAX_RECENT = 8

_STATUS_COLORS = {"ok": "#4ade80", "error": "#ff6b6b", "warning": "#e9c46a", "info": "#c8ccd4"}

#: Builds a play target for the window (see `MainWindow.register_play_target`).
PlayTargetFactory = Callable[["MainWindow"], PlayTarget]


class _WatcherSignals(QObject):
    """Lives on the GUI thread; emitting from the watcher thread queues the call."""

    changesDetected = Signal()


def default_settings() -> QSettings:
    """The editor's persistent settings (window geometry, profile, recent scenes)."""
    return QSettings("Hotplay", "Hotplay Editor")


class MainWindow(QMainWindow):
    """The Hotplay editor window for one project.

    Args:
        project_dir: the project folder (default: this repository's sample project).
        settings: where to remember geometry, profile and recent scenes.
        scene: a scene file to open instead of the project's main scene.
        profile: the build profile to start with (default: the last one used).
        recovery_policy: answers "recover unsaved changes?" instead of a dialog
            (tests, benchmarks); see `ask_recover`.
        autosave_interval_ms: how often unsaved edits go to the recovery file
            (default `AUTOSAVE_INTERVAL_MS`; 0: only when `autosave_now` is called).

    Raises:
        runtime.ProjectError: `project_dir` is not a Hotplay project.
    """

    #: Default autosave period of unsaved edits to the recovery file.
    AUTOSAVE_INTERVAL_MS = 20_000

    def __init__(
        self,
        project_dir: str | os.PathLike[str] | None = None,
        *,
        settings: QSettings | None = None,
        scene: str | os.PathLike[str] | None = None,
        profile: BuildProfile | None = None,
        recovery_policy: Callable[[RecoveryInfo], RecoveryChoice] | None = None,
        autosave_interval_ms: int | None = None,
        headless_player: bool = False,
    ) -> None:
        super().__init__()
        self.project = Project.open(project_dir if project_dir is not None else DEFAULT_PROJECT)
        self.settings = settings if settings is not None else default_settings()
        if profile is None:
            try:
                profile = BuildProfile.parse(str(self.settings.value("profile", "debug")))
            except ValueError:
                profile = BuildProfile.DEBUG
        self._closed = False
        self._stale_lock = threading.Lock()
        self._stale_paths: set[str] = set()  # Debug: changed files not applied yet
        self._hot = False  # read by the watcher thread: whether to queue reloads
        self.play_target: PlayTarget | None = None
        self._play_factories: dict[str, PlayTargetFactory] = {
            RUN_IN_EDITOR: lambda w: InEditorPlay(w.game, lambda: w.edited_scene, w),
        }
        self._selected: Handle | None = None
        self._observed: Scene | None = None
        self._frames_since_refresh = 0
        self._frames_since_decor = 0
        #: Answers the unsaved-changes question: "save", "discard" or "cancel" (tests replace it).
        self.ask_unsaved_changes: Callable[[], str] = self._ask_unsaved_changes

        self.setObjectName("hotplayMainWindow")
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
        )
        self._build_log()
        self.game = Game(self.project, profile=profile, scene=False, watch=False)
        self._watcher_signals = _WatcherSignals(self)
        self._watcher_signals.changesDetected.connect(self._on_changes_detected)
        # Called on the watcher's thread after each batch: note it and wake the GUI thread.
        self.game.on_changes(self._on_watcher_batch)
        self.game.on_reload(self._on_reload)

        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.undo_stack.indexChanged.connect(self._on_undo_index_changed)
        self.scene_path: Path | None = None
        empty = Scene(name="untitled")
        self.edit_target = cmd.EditTarget(empty, self.game.registry.resolve)
        self._build_recovery(recovery_policy, autosave_interval_ms)

        self._build_central()
        self._build_docks()
        self._build_actions()
        self._build_toolbar()
        self._build_menus()
        self._build_status_bar()
        self.extensions = ExtensionHost(self)
        self.game.add_reload_participant(self.extensions.prepare)
        self.resize(QSize(1360, 860))
        # Separate-process play (and Release) with its Remote dock; before the
        # settings restore the dock layout. `headless_player` is for tests.
        from editor.player_process.install import install_separate_process

        self.player = install_separate_process(self, headless=headless_player)
        # Like a Local/Remote switch: the remote tree shares the scene tree's place,
        # comes to the front while a separate-process game runs, and leaves after.
        remote_dock = self.findChild(QDockWidget, "remoteDock")
        if remote_dock is not None:
            self.tabifyDockWidget(self.tree_dock, remote_dock)
            self.tree_dock.raise_()
            self.player.started.connect(remote_dock.raise_)
            self.player.finished.connect(lambda *_: self.tree_dock.raise_())
        self._restore_settings()

        self._select_profile_in_combo(profile)
        self._set_edited_scene(empty, None)
        path = Path(scene) if scene is not None else self.project.scene_path(None)
        if scene is not None or path.is_file() or self.recovery.path_for(path).is_file():
            self.open_scene(path, ask=False)
        self.inspector.set_script_types(self.game.registry.script_types())
        self.extensions.refresh()
        self._apply_profile()
        self._update_actions()
        for name, error in self.game.plugins.errors.items():
            self.show_status(f"plugin {name} failed to load: {error}", "error")

    # --- building -----------------------------------------------------------------------------

    def _build_log(self) -> None:
        self.log_panel = LogPanel()
        self._log_handler = QtLogHandler()
        self._log_handler.emitter.record.connect(self.log_panel.add_entry)
        root = logging.getLogger("hotplay")
        self._old_log_level = root.level
        if root.level == logging.NOTSET or root.level > logging.INFO:
            root.setLevel(logging.INFO)
        root.addHandler(self._log_handler)

    def _build_recovery(
        self,
        policy: Callable[[RecoveryInfo], RecoveryChoice] | None,
        interval_ms: int | None,
    ) -> None:
        #: Autosaved copies of unsaved edits, offered again after the editor was killed.
        self.recovery = RecoveryStore(self.project.root)
        #: Answers "recover unsaved changes?" (tests and benchmarks replace it).
        self.ask_recover: Callable[[RecoveryInfo], RecoveryChoice] = (
            policy if policy is not None else self._ask_recover
        )
        self._saved_stamp: FileStamp | None = None  # the scene file at its last open or save
        self._recovery_written: Path | None = None  # the recovery file holding our edits
        self._recovery_kept: Path | None = None  # one the user chose to deal with later
        self._autosave_error = ""
        self._autosave_timer = QTimer(self)
        self._autosave_timer.timeout.connect(self.autosave_now)
        interval = self.AUTOSAVE_INTERVAL_MS if interval_ms is None else interval_ms
        if interval > 0:
            self._autosave_timer.start(interval)

    def _build_central(self) -> None:
        self.scene_view = SceneView(self.project.assets_dir)
        self.scene_view.entityClicked.connect(self._on_view_entity_clicked)
        self.scene_view.moveFinished.connect(self._on_view_move_finished)
        self.scene_view.keyPressed.connect(self._on_view_key_pressed)
        self.scene_view.keyReleased.connect(self._on_view_key_released)
        self.banner = QLabel("code changed — restart to apply")
        self.banner.setObjectName("codeChangedBanner")
        self.banner.setStyleSheet(
            "background: #5c4813; color: #ffe8a3; padding: 5px 10px; font-weight: bold"
        )
        self.banner.setVisible(False)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.banner)
        lay.addWidget(self.scene_view, 1)
        self.setCentralWidget(central)

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        self.scene_tree = SceneTreeView()
        self.scene_tree.entitySelected.connect(self._on_tree_entity_selected)
        self.scene_tree.renameRequested.connect(self._on_tree_rename_requested)
        self.scene_tree.reparentRequested.connect(self._on_tree_reparent_requested)
        self.tree_toolbar = QToolBar()
        self.tree_toolbar.setIconSize(QSize(16, 16))
        tree_box = QWidget()
        tl = QVBoxLayout(tree_box)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.setSpacing(0)
        tl.addWidget(self.tree_toolbar)
        tl.addWidget(self.scene_tree, 1)
        self.tree_dock = self._dock(
            "Scene", "sceneTreeDock", tree_box, Qt.DockWidgetArea.LeftDockWidgetArea
        )

        self.inspector = InspectorPanel()
        self.inspector.attributeEdited.connect(self._on_attribute_edited)
        self.inspector.scriptFieldEdited.connect(self._on_script_field_edited)
        self.inspector.addScriptRequested.connect(self._on_add_script_requested)
        self.inspector.removeScriptRequested.connect(self._on_remove_script_requested)
        self.inspector_dock: QDockWidget | None = self._dock(
            "Inspector", "inspectorDock", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.log_dock = self._dock(
            "Log", "logDock", self.log_panel, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.resizeDocks(
            [self.tree_dock, self.inspector_dock], [250, 340], Qt.Orientation.Horizontal
        )
        self.resizeDocks([self.log_dock], [190], Qt.Orientation.Vertical)

    def _action(
        self,
        text: str,
        slot: Callable[[], Any],
        *,
        shortcut: QKeySequence | str | None = None,
        icon: QStyle.StandardPixmap | None = None,
        tip: str = "",
    ) -> QAction:
        a = QAction(text, self)
        if icon is not None:
            a.setIcon(self.style().standardIcon(icon))
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        a.setToolTip(f"{tip or text.replace('&', '')}" + (f"  ({keys})" if keys else ""))
        a.setStatusTip(tip)
        a.triggered.connect(lambda _=False: slot())
        return a

    def _build_actions(self) -> None:
        SP = QStyle.StandardPixmap
        self.play_action = self._action(
            "&Play", self.play, shortcut="F5", icon=SP.SP_MediaPlay, tip="Play the scene"
        )
        self.pause_action = self._action(
            "Pa&use", self.toggle_pause, shortcut="F6", icon=SP.SP_MediaPause, tip="Pause / resume"
        )
        self.pause_action.setCheckable(True)
        self.step_action = self._action(
            "S&tep", self.step, shortcut="F10", icon=SP.SP_MediaSkipForward, tip="Run one frame"
        )
        self.stop_action = self._action(
            "&Stop",
            self.stop,
            shortcut="Shift+F5",
            icon=SP.SP_MediaStop,
            tip="Stop and return to the edited scene",
        )
        self.build_action = self._action(
            "&Build",
            self.build,
            shortcut="Ctrl+B",
            icon=SP.SP_BrowserReload,
            tip="Compile the plugins and report errors",
        )
        self.new_action = self._action(
            "&New Scene",
            self.new_scene,
            shortcut=QKeySequence.StandardKey.New,
            icon=SP.SP_FileIcon,
        )
        self.open_action = self._action(
            "&Open Scene…",
            self.open_scene_dialog,
            shortcut=QKeySequence.StandardKey.Open,
            icon=SP.SP_DialogOpenButton,
        )
        self.save_action = self._action(
            "&Save Scene",
            self.save_scene,
            shortcut=QKeySequence.StandardKey.Save,
            icon=SP.SP_DialogSaveButton,
        )
        self.save_as_action = self._action(
            "Save Scene &As…", self.save_scene_as, shortcut="Ctrl+Shift+S"
        )
        self.quit_action = self._action("&Quit", self.close, shortcut="Ctrl+Q")
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.setIcon(self.style().standardIcon(SP.SP_ArrowBack))
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)
        self.redo_action.setIcon(self.style().standardIcon(SP.SP_ArrowForward))
        self.add_entity_action = self._action(
            "Add &Entity",
            self.add_entity,
            shortcut="Ctrl+Shift+N",
            icon=SP.SP_FileDialogNewFolder,
            tip="Add an entity at the top level",
        )
        self.add_child_action = self._action(
            "Add &Child",
            lambda: self.add_entity(child=True),
            shortcut="Ctrl+Shift+C",
            icon=SP.SP_FileDialogDetailedView,
            tip="Add an entity under the selected one",
        )
        self.duplicate_action = self._action(
            "&Duplicate",
            self.duplicate_selected,
            shortcut="Ctrl+D",
            icon=SP.SP_FileDialogContentsView,
            tip="Duplicate the selected entity",
        )
        self.delete_action = self._action(
            "De&lete",
            self.delete_selected,
            shortcut=QKeySequence.StandardKey.Delete,
            icon=SP.SP_TrashIcon,
            tip="Delete the selected entity",
        )
        self.frame_action = self._action(
            "&Frame All", self.scene_view.frame_all, shortcut="Home", tip="Show the whole scene"
        )
        self.grid_action = self._action("Show &Grid", self._on_grid_toggled, shortcut="Ctrl+G")
        self.grid_action.setCheckable(True)
        self.grid_action.setChecked(True)
        for a in (self.delete_action, self.duplicate_action):
            # Delete must not fire while typing in the inspector: only in tree and view.
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.scene_tree.addAction(a)
            self.scene_view.addAction(a)
        for a in (
            self.add_entity_action,
            self.add_child_action,
            self.duplicate_action,
            self.delete_action,
        ):
            self.tree_toolbar.addAction(a)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Play")
        bar.setObjectName("playToolBar")
        bar.setMovable(False)
        bar.setIconSize(QSize(20, 20))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        bar.addWidget(QLabel(" Profile "))
        self.profile_combo = QComboBox()
        self.profile_combo.setObjectName("buildProfileCombo")
        for p in BuildProfile:
            self.profile_combo.addItem(p.display_name, p.value)
        self.profile_combo.setToolTip(
            "Build profile: Debug (code changes apply at the next Play), Debug (HR) "
            "(hot reload: saved changes apply at once), Release (separate process, python -O)"
        )
        self.profile_combo.currentIndexChanged.connect(self._on_profile_changed)
        bar.addWidget(self.profile_combo)
        bar.addWidget(QLabel("  Run "))
        self._run_target_choice: str | None = None  # set while Release overrides it
        self.run_target_combo = QComboBox()
        self.run_target_combo.setObjectName("runTargetCombo")
        self.run_target_combo.addItems([RUN_IN_EDITOR, RUN_SEPARATE])
        self.run_target_combo.setToolTip("Where Play runs the game")
        last = str(self.settings.value("runTarget", RUN_IN_EDITOR))
        if last in (RUN_IN_EDITOR, RUN_SEPARATE):
            self.run_target_combo.setCurrentText(last)
        self.run_target_combo.currentTextChanged.connect(
            lambda t: self.settings.setValue("runTarget", t)
        )
        bar.addWidget(self.run_target_combo)
        bar.addSeparator()
        names = (
            (self.play_action, "playButton"),
            (self.pause_action, "pauseButton"),
            (self.step_action, "stepButton"),
            (self.stop_action, "stopButton"),
        )
        for action, name in names:
            bar.addAction(action)
            bar.widgetForAction(action).setObjectName(name)
        bar.addSeparator()
        bar.addAction(self.build_action)
        bar.widgetForAction(self.build_action).setObjectName("buildButton")
        bar.addSeparator()
        bar.addAction(self.undo_action)
        bar.addAction(self.redo_action)
        self.play_toolbar = bar

    def _build_menus(self) -> None:
        mb = self.menuBar()
        file = mb.addMenu("&File")
        file.addAction(self.new_action)
        file.addAction(self.open_action)
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.setObjectName("recentScenesMenu")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file.addMenu(self.recent_menu)
        file.addSeparator()
        file.addAction(self.save_action)
        file.addAction(self.save_as_action)
        file.addSeparator()
        file.addAction(self.quit_action)
        edit = mb.addMenu("&Edit")
        edit.addAction(self.undo_action)
        edit.addAction(self.redo_action)
        edit.addSeparator()
        for a in (
            self.add_entity_action,
            self.add_child_action,
            self.duplicate_action,
            self.delete_action,
        ):
            edit.addAction(a)
        view = mb.addMenu("&View")
        view.addAction(self.frame_action)
        view.addAction(self.grid_action)
        view.addSeparator()
        for d in (self.tree_dock, self.inspector_dock, self.log_dock):
            assert d is not None
            view.addAction(d.toggleViewAction())
        play = mb.addMenu("&Play")
        for a in (self.play_action, self.pause_action, self.step_action, self.stop_action):
            play.addAction(a)
        play.addSeparator()
        play.addAction(self.build_action)
        self.plugins_menu = mb.addMenu("Plu&gins")
        self.plugins_menu.setObjectName("pluginsMenu")
        self.plugins_menu.menuAction().setVisible(False)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.status_message = QLabel()
        self.status_message.setObjectName("statusMessage")
        self.status_message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        sb.addWidget(self.status_message, 1)
        self.mode_label = QLabel()
        self.mode_label.setObjectName("statusMode")
        self.profile_label = QLabel()
        self.profile_label.setObjectName("statusProfile")
        self.fps_label = QLabel()
        self.fps_label.setObjectName("statusFps")
        self.entities_label = QLabel()
        self.entities_label.setObjectName("statusEntities")
        for w in (self.fps_label, self.entities_label, self.profile_label, self.mode_label):
            w.setContentsMargins(8, 0, 8, 0)
            sb.addPermanentWidget(w)
        self._status_clear = QTimer(self)
        self._status_clear.setSingleShot(True)
        self._status_clear.timeout.connect(self.status_message.clear)
        self._stats_timer = QTimer(self)
        self._stats_timer.setInterval(250)
        self._stats_timer.timeout.connect(self._update_stats)

    # --- settings -----------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        geo = self.settings.value("geometry")
        if isinstance(geo, QByteArray) and not geo.isEmpty():
            self.restoreGeometry(geo)
        state = self.settings.value("windowState")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)

    def _save_settings(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("windowState", self.saveState())
        self.settings.setValue("profile", self.profile.value)
        self.settings.setValue(
            "runTarget", self._run_target_choice or self.run_target_combo.currentText()
        )
        self.settings.sync()

    def recent_scenes(self) -> list[str]:
        """Recently opened or saved scene files, newest first."""
        value = self.settings.value("recentScenes", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _remember_recent(self, path: Path) -> None:
        p = str(path.resolve())
        items = [p] + [r for r in self.recent_scenes() if r != p]
        self.settings.setValue("recentScenes", items[:MAX_RECENT])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        items = self.recent_scenes()
        if not items:
            self.recent_menu.addAction("No recent scenes").setEnabled(False)
        for p in items:
            a = self.recent_menu.addAction(self._short(Path(p)))
            a.setToolTip(p)
            a.triggered.connect(lambda _=False, path=p: self.open_scene(path))

    def _short(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.project.root))
        except ValueError:
            return str(path)

    # --- state queries ------------------------------------------------------------------------

    @property
    def profile(self) -> BuildProfile:
        """The build profile chosen in the toolbar."""
        return BuildProfile(self.profile_combo.currentData())

    @property
    def edited_scene(self) -> Scene:
        """The scene being edited (never the running copy)."""
        return self.edit_target.scene

    @property
    def play_state(self) -> PlayState:
        """Stopped, playing or paused."""
        return self.play_target.state if self.play_target is not None else PlayState.STOPPED

    @property
    def is_playing(self) -> bool:
        """Whether a game is running or paused (editing is off then)."""
        return self.play_state is not PlayState.STOPPED

    @property
    def shown_scene(self) -> Scene:
        """The scene the view, tree and inspector show: the running copy while playing."""
        if self.play_target is not None and self.play_target.scene is not None:
            return self.play_target.scene
        return self.edited_scene

    @property
    def selected_handle(self) -> Handle | None:
        """The selected entity."""
        return self._selected

    @property
    def is_modified(self) -> bool:
        """Whether the edited scene has unsaved changes."""
        return not self.undo_stack.isClean()

    # --- status -------------------------------------------------------------------------------

    def show_status(self, text: str, kind: str = "info", seconds: float = STATUS_SECONDS) -> None:
        """Show a message in the status bar for a few seconds (kind: ok/error/warning/info)."""
        self.status_message.setText(text)
        self.status_message.setToolTip(text)
        self.status_message.setProperty("kind", kind)
        self.status_message.setStyleSheet(f"color: {_STATUS_COLORS.get(kind, '#c8ccd4')}")
        self._status_clear.start(int(seconds * 1000))

    def _update_mode_labels(self) -> None:
        mode = {
            PlayState.STOPPED: "editing",
            PlayState.PLAYING: "playing",
            PlayState.PAUSED: "paused",
        }[self.play_state]
        color = {"editing": "#c8ccd4", "playing": "#4ade80", "paused": "#e9c46a"}[mode]
        self.mode_label.setText(f"● {mode}")
        self.mode_label.setStyleSheet(f"color: {color}; font-weight: bold")
        self.profile_label.setText(self.profile.display_name)
        if mode == "editing":
            self.fps_label.setText("")
            self.entities_label.setText(f"{len(self.edited_scene)} entities")

    def _update_stats(self) -> None:
        if self.play_target is None:
            return
        stats = self.play_target.stats()
        if "fps" in stats:
            self.fps_label.setText(f"{stats['fps']:.0f} FPS")
        if "entities" in stats:
            self.entities_label.setText(f"{stats['entities']} entities")

    def _update_title(self) -> None:
        name = self._short(self.scene_path) if self.scene_path else "untitled scene"
        self.setWindowTitle(f"{name}[*] — {self.project.name} — Hotplay")
        self.setWindowModified(self.is_modified)

    def _update_actions(self) -> None:
        state = self.play_state
        stopped = state is PlayState.STOPPED
        self.play_action.setEnabled(state is not PlayState.PLAYING)
        self.pause_action.setEnabled(not stopped)
        self.pause_action.setChecked(state is PlayState.PAUSED)
        self.step_action.setEnabled(not stopped)
        self.stop_action.setEnabled(not stopped)
        self.build_action.setEnabled(stopped)
        self.profile_combo.setEnabled(stopped)
        # Release needs python -O, so it always runs as a separate process.
        self.run_target_combo.setEnabled(stopped and not self.profile.separate_process_only)
        for a in (self.new_action, self.open_action, self.add_entity_action):
            a.setEnabled(stopped)
        self.recent_menu.setEnabled(stopped)
        has_sel = stopped and self._selected is not None
        for a in (self.add_child_action, self.duplicate_action, self.delete_action):
            a.setEnabled(has_sel)
        self.undo_action.setEnabled(stopped and self.undo_stack.canUndo())
        self.redo_action.setEnabled(stopped and self.undo_stack.canRedo())
        self._update_mode_labels()

    # --- the edited scene ---------------------------------------------------------------------

    def _set_edited_scene(self, scene: Scene, path: Path | None) -> None:
        old = self.edit_target.scene
        if old is not scene and old in self.game.scenes:
            self.game.remove_scene(old)
        if scene not in self.game.scenes:
            # Not running: its scripts do not update, but every reload migrates them.
            self.game.add_scene(scene, run=False)
        self.edit_target.scene = scene
        self.scene_path = path
        self.undo_stack.clear()
        self._selected = None
        self._show_scene(scene, mode="editing", fit=True)
        self._update_title()
        self._update_actions()

    def _show_scene(self, scene: Scene, *, mode: str, fit: bool = False) -> None:
        read_only = mode != "editing"
        if self._observed is not None:
            self._observed.unsubscribe(self._on_scene_event)
        self._observed = scene
        scene.subscribe(self._on_scene_event)
        self.scene_view.set_scene(scene, mode=mode, fit=fit)
        self.scene_tree.set_scene(scene, read_only=read_only)
        self.inspector.set_scene(scene, read_only=read_only)
        if self._selected is not None and self._selected not in scene:
            self._selected = None
        self._apply_selection()

    def new_scene(self) -> bool:
        """Start an empty scene (asks about unsaved changes first)."""
        if self.is_playing or not self.maybe_save():
            return False
        self._delete_recovery()  # the edits were saved or discarded
        self._set_edited_scene(Scene(name="untitled"), None)
        self._saved_stamp = None
        log.info("new scene")
        return True

    def open_scene_dialog(self) -> None:
        """Choose a scene file to open."""
        start = str(self.scene_path.parent if self.scene_path else self.project.assets_dir)
        path, _ = QFileDialog.getOpenFileName(
            self, "Open scene", start, "Hotplay scenes (*.scene.json *.json)"
        )
        if path:
            self.open_scene(path)

    def open_scene(self, path: str | os.PathLike[str], *, ask: bool = True) -> bool:
        """Open a scene file for editing; an invalid file is reported, not raised."""
        if self.is_playing:
            return False
        if ask and not self.maybe_save():
            return False
        self._delete_recovery()  # the edits were saved or discarded
        p = self.project.scene_path(path)
        recovered = self._offer_recovery(p)
        if recovered is not None:
            scene, info = recovered
            self._set_edited_scene(scene, p)
            # The edits still start from the save recorded with them, and they are
            # unsaved: the document stays modified, the recovery file stays until saved.
            self._saved_stamp = info.saved_stamp
            self._recovery_written = info.path
            self.undo_stack.resetClean()
            self._remember_recent(p)
            log.warning("recovered %s: save to keep them", info)
            self.show_status(f"recovered unsaved changes to {self._short(p)}", "warning")
            return True
        stamp = FileStamp.of(p)  # before reading: a later change then shows as a change
        try:
            scene = self.game.load_scene(p)
        except SceneFileError as exc:
            self.show_error("Cannot open scene", str(exc))
            return False
        self._set_edited_scene(scene, p)
        self._saved_stamp = stamp
        self._remember_recent(p)
        log.info("opened %s (%d entities)", self._short(p), len(scene))
        return True

    def save_scene(self, path: str | os.PathLike[str] | None = None) -> bool:
        """Save the edited scene (to `path`, or where it came from; asks when new)."""
        if path is None and self.scene_path is None:
            return self.save_scene_as()
        p = self.project.scene_path(path) if path is not None else self.scene_path
        assert p is not None
        try:
            self.game.save_scene(self.edited_scene, p)
        except SceneFileError as exc:
            self.show_error("Cannot save scene", str(exc))
            return False
        self.scene_path = p
        self._saved_stamp = FileStamp.of(p)
        self._delete_recovery()  # ours, also the previous location's after Save As
        if self.recovery.path_for(p) != self._recovery_kept:
            self.recovery.delete(p)
        self.undo_stack.setClean()
        self._remember_recent(p)
        self._update_title()
        log.info("saved %s", self._short(p))
        self.show_status(f"saved {self._short(p)}", "ok", 4)
        return True

    def save_scene_as(self) -> bool:
        """Choose a file and save the edited scene there."""
        start = self.scene_path or (self.project.assets_dir / "scenes" / "untitled.scene.json")
        path, _ = QFileDialog.getSaveFileName(
            self, "Save scene as", str(start), "Hotplay scenes (*.scene.json)"
        )
        if not path:
            return False
        if not path.endswith(".json"):
            path += ".scene.json"
        return self.save_scene(path)

    def maybe_save(self) -> bool:
        """Ask what to do with unsaved changes; ``False`` when the user cancels."""
        if not self.is_modified:
            return True
        answer = self.ask_unsaved_changes()
        if answer == "save":
            return self.save_scene()
        return answer == "discard"

    def _ask_unsaved_changes(self) -> str:
        name = self._short(self.scene_path) if self.scene_path else "the new scene"
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Unsaved changes",
            f"Save the changes to {name}?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        return {
            QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard",
        }.get(QMessageBox.StandardButton(answer), "cancel")

    def show_error(self, title: str, text: str) -> None:
        """Report an error: log, status bar and a non-blocking message box."""
        log.error("%s: %s", title, text)
        self.show_status(f"{title}: {text}", "error")
        if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
            return  # nobody could read it; the log and status bar have it
        box = QMessageBox(
            QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, self
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # --- selection ----------------------------------------------------------------------------

    def select(self, handle: Handle | None) -> None:
        """Select an entity in every panel (``None``: nothing)."""
        if handle is not None and handle not in self.shown_scene:
            handle = None
        self._selected = handle
        self._apply_selection()
        self._update_actions()

    def _apply_selection(self) -> None:
        h = self._selected
        self.scene_tree.select(h)
        self.scene_view.set_selected(h)
        self.inspector.set_entity(h)

    def _on_tree_entity_selected(self, handle: Handle | None) -> None:
        self.select(handle)

    def _on_view_entity_clicked(self, handle: Handle | None) -> None:
        self.select(handle)

    # --- model events -------------------------------------------------------------------------

    def _on_scene_event(self, event: SceneEvent) -> None:
        h = self._selected
        if isinstance(event, EntityRemoved):
            if h is not None and h not in self.shown_scene:
                self.select(None)
        elif isinstance(event, ScriptsReplaced):
            if h is not None and h in event.handles:
                self.inspector.rebuild()
        elif isinstance(event, EntityChanged) and event.handle == h:
            if event.attribute == "visual":
                self.inspector.rebuild()  # the kind decides which rows exist
            else:
                self.inspector.refresh_values()
        if not self.is_playing:
            self.entities_label.setText(f"{len(self.edited_scene)} entities")

    # --- edits -> commands --------------------------------------------------------------------

    def _push(self, command: Any) -> None:
        if self.is_playing:
            return  # the edited scene is frozen while a copy plays
        try:
            self.undo_stack.push(command)
        except Exception as exc:  # a command that cannot apply must not crash the editor
            log.error("edit failed: %s", describe_error(exc))
            self.show_status(f"edit failed: {exc}", "error")

    def _on_attribute_edited(self, handle: Handle, attribute: str, value: Any) -> None:
        e = self.edited_scene.get(handle)
        if e is None or self.is_playing:
            return
        old = getattr(e, attribute)
        if old == value and type(old) is type(value):
            return
        self._push(cmd.SetEntityAttribute(self.edit_target, handle, attribute, value, old))

    def _on_script_field_edited(
        self, handle: Handle, index: int, type_id: str, field: str, value: Any
    ) -> None:
        e = self.edited_scene.get(handle)
        if e is None or self.is_playing or index >= len(e.scripts):
            return
        old = getattr(e.scripts[index], field)
        if old == value and type(old) is type(value):
            return
        self._push(cmd.SetScriptField(self.edit_target, handle, index, type_id, field, value, old))

    def _on_add_script_requested(self, handle: Handle, type_id: str) -> None:
        self._push(cmd.AddScript(self.edit_target, handle, type_id))

    def _on_remove_script_requested(self, handle: Handle, index: int) -> None:
        self._push(cmd.RemoveScript(self.edit_target, handle, index))

    def _on_view_move_finished(self, handle: Handle, old: Any, new: Any) -> None:
        name = self.edited_scene[handle].name
        self._push(
            cmd.SetEntityAttribute(self.edit_target, handle, "position", new, old, f"Move {name}")
        )

    def _on_tree_rename_requested(self, handle: Handle, name: str) -> None:
        old = self.edited_scene[handle].name
        self._push(cmd.SetEntityAttribute(self.edit_target, handle, "name", name, old, "Rename"))

    def _on_tree_reparent_requested(
        self, handle: Handle, new_parent: Handle, index: int | None
    ) -> None:
        self._push(cmd.ReparentEntity(self.edit_target, handle, new_parent, index))
        self.select(handle)

    def add_entity(self, *, child: bool = False) -> Handle | None:
        """Add an entity (a root, or a child of the selected one) and select it."""
        if self.is_playing:
            return None
        parent = self._selected if child and self._selected is not None else Handle.NONE
        visual = Visual(VisualKind.RECT, color=_next_color(len(self.edited_scene)))
        center = self.scene_view.camera.center if not parent else None
        command = cmd.AddEntity(self.edit_target, "Entity", parent, visual, center)
        self._push(command)
        if command.handle is not None:
            self.select(command.handle)
        return command.handle

    def delete_selected(self) -> None:
        """Delete the selected entity and its children (undoable)."""
        if self._selected is not None and not self.is_playing:
            self._push(cmd.DeleteEntity(self.edit_target, self._selected))

    def duplicate_selected(self) -> Handle | None:
        """Duplicate the selected entity with its children and select the copy."""
        if self._selected is None or self.is_playing:
            return None
        command = cmd.DuplicateEntity(self.edit_target, self._selected)
        self._push(command)
        if command.handle is not None:
            self.select(command.handle)
        return command.handle

    def _on_clean_changed(self, _clean: bool) -> None:
        self._update_title()

    def _on_undo_index_changed(self, _index: int) -> None:
        self.inspector.refresh_values(force=True)
        self._update_actions()

    def _on_grid_toggled(self) -> None:
        self.scene_view.grid = self.grid_action.isChecked()
        self.scene_view.update()

    # --- profile and watching -----------------------------------------------------------------

    def _select_profile_in_combo(self, profile: BuildProfile) -> None:
        self.profile_combo.blockSignals(True)
        self.profile_combo.setCurrentIndex(self.profile_combo.findData(profile.value))
        self.profile_combo.blockSignals(False)

    def set_profile(self, profile: BuildProfile) -> bool:
        """Switch the build profile (only while stopped)."""
        if self.is_playing:
            self.show_status("stop the game to switch the build profile", "warning")
            return False
        self.profile_combo.setCurrentIndex(self.profile_combo.findData(profile.value))
        return True

    def _on_profile_changed(self, _index: int) -> None:
        if self.is_playing:  # the combo is disabled while playing; belt and braces
            self._select_profile_in_combo(self.game.profile)
            return
        self._apply_profile()
        self.settings.setValue("profile", self.profile.value)
        log.info("build profile: %s", self.profile.display_name)

    def _apply_profile(self) -> None:
        p = self.profile
        self._show_run_target_for(p)
        # Debug watches too: it only notes changes, for the "restart to apply" banner.
        self.game.set_profile(p, watch=p in (BuildProfile.DEBUG, BuildProfile.DEBUG_HR))
        self._hot = p.hot_reload
        if self._hot:
            with self._stale_lock:
                stale = sorted(self._stale_paths)
                self._stale_paths.clear()
            if stale:
                self.game.reload(stale)
        self._update_banner()
        self._update_mode_labels()

    def _show_run_target_for(self, profile: BuildProfile) -> None:
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
        self._update_actions()

    def _on_watcher_batch(self, paths: list[str]) -> None:
        """The watcher's thread: Debug (HR) already queued the reload; Debug notes the change."""
        if not self._hot:
            with self._stale_lock:
                self._stale_paths.update(paths)
        self._watcher_signals.changesDetected.emit()

    def _on_changes_detected(self) -> None:
        # GUI thread, between frames: a playing game would apply this at its next
        # frame anyway, but a paused game or the edited scene would not.
        if self._closed:
            return
        if self._hot:
            self.game.apply_pending_reloads()
        self._update_banner()

    def _update_banner(self) -> None:
        with self._stale_lock:
            stale = bool(self._stale_paths)
        self.banner.setText(
            "code changed — restart to apply: Stop, then Play (Debug (HR) reloads live)"
            if self.is_playing
            else "code changed — restart to apply (the changes load at the next Play or Build)"
        )
        self.banner.setVisible(stale and not self._hot)

    def _apply_stale_changes(self) -> None:
        with self._stale_lock:
            stale = sorted(self._stale_paths)
            self._stale_paths.clear()
        if stale:
            self.game.reload(stale)
        self._update_banner()

    def _on_reload(self, report: ReloadReport) -> None:
        """After every reload attempt (GUI thread): refresh what shows code."""
        if self._closed:
            return
        self.show_status(str(report), "ok" if report.ok else "error")
        if report.ok:
            self.inspector.set_script_types(self.game.registry.script_types())
            self.extensions.forget_missing()
            self.inspector.set_custom_editors(self.extensions.field_editors())
        self.inspector.rebuild()
        self.scene_view.update()

    # --- play ---------------------------------------------------------------------------------

    def register_play_target(self, run_target: str, factory: PlayTargetFactory) -> None:
        """Make a run target available (``"Separate process"`` is plugged in here)."""
        self._play_factories[run_target] = factory
        if self.run_target_combo.findText(run_target) < 0:
            self.run_target_combo.addItem(run_target)

    def _make_play_target(self) -> PlayTarget:
        target = self.run_target_combo.currentText()
        if self.profile.separate_process_only:
            factory = self._play_factories.get(RUN_SEPARATE)
            if factory is None:
                return UnavailablePlayTarget(
                    "Release runs the game in a separate process (it needs python -O), "
                    "which is not available yet: choose Debug or Debug (HR) to play in the editor",
                    self,
                )
            return factory(self)
        factory = self._play_factories.get(target)
        if factory is None:
            return UnavailablePlayTarget(
                f"running the game in a {target.lower()} is not available yet: "
                f"choose “{RUN_IN_EDITOR}”",
                self,
            )
        return factory(self)

    def play(self) -> None:
        """Play (or resume when paused)."""
        if self.play_state is PlayState.PAUSED:
            assert self.play_target is not None
            self.play_target.resume()
            return
        if self.is_playing:
            return
        if not self.profile.hot_reload:
            self._apply_stale_changes()  # Debug: code changes apply at the next Play
        target = self._make_play_target()
        target.stateChanged.connect(self._on_play_state_changed)
        target.frameAdvanced.connect(self._on_frame_advanced)
        target.failed.connect(self._on_play_failed)
        self.play_target = target
        target.start()
        if target.state is PlayState.STOPPED:
            self._drop_play_target()

    def toggle_pause(self) -> None:
        """Pause a playing game or resume a paused one."""
        t = self.play_target
        if t is None:
            return
        if t.state is PlayState.PLAYING:
            t.pause()
        elif t.state is PlayState.PAUSED:
            t.resume()
        self._update_actions()

    def step(self) -> None:
        """Run one frame (pausing first)."""
        if self.play_target is not None:
            self.play_target.step()

    def stop(self) -> None:
        """Stop the game and show the edited scene exactly as it was."""
        if self.play_target is not None:
            self.play_target.stop()
            self._drop_play_target()

    def _drop_play_target(self) -> None:
        t, self.play_target = self.play_target, None
        if t is not None:
            t.stateChanged.disconnect(self._on_play_state_changed)
            t.frameAdvanced.disconnect(self._on_frame_advanced)
            t.failed.disconnect(self._on_play_failed)
            t.deleteLater()
        self._update_actions()

    def _on_play_state_changed(self, state: PlayState) -> None:
        t = self.play_target
        if state is PlayState.PLAYING:
            if t is not None and t.scene is not None and self._observed is not t.scene:
                self._show_scene(t.scene, mode="playing")
            self.scene_view.set_mode("playing")
            self.scene_view.setFocus(Qt.FocusReason.OtherFocusReason)
            self._stats_timer.start()
            log.info(
                "playing (%s, %s)",
                self.profile.display_name,
                # Release always runs in a separate process, whatever the Run box says.
                RUN_SEPARATE
                if self.profile.separate_process_only
                else self.run_target_combo.currentText(),
            )
        elif state is PlayState.PAUSED:
            self.scene_view.set_mode("paused")
            self.inspector.refresh_values()
        else:
            self._stats_timer.stop()
            self._show_scene(self.edited_scene, mode="editing")
            log.info("stopped; back to the edited scene")
        self._update_banner()
        self._update_actions()
        self._update_stats()

    def _on_frame_advanced(self) -> None:
        self.scene_view.update()
        self._frames_since_refresh += 1
        if self._frames_since_refresh >= 6 or self.play_state is PlayState.PAUSED:
            self._frames_since_refresh = 0
            self.inspector.refresh_values()
            self._frames_since_decor += 1
            if self._frames_since_decor >= 5:  # icons follow colour changes, twice a second
                self._frames_since_decor = 0
                self.scene_tree.refresh_decorations()

    def _on_play_failed(self, reason: str) -> None:
        log.warning("%s", reason)
        self.show_status(reason, "warning")

    def _on_view_key_pressed(self, key: str) -> None:
        if self.play_target is not None:
            self.play_target.press_key(key)

    def _on_view_key_released(self, key: str) -> None:
        if self.play_target is None:
            return
        if key == "*":
            self.play_target.release_all_keys()
        else:
            self.play_target.release_key(key)

    # --- build --------------------------------------------------------------------------------

    def build(self) -> bool:
        """Compile every plugin source; report errors in the log and the status bar.

        In Debug, a successful build also loads code changes made since the last Play.
        """
        if self.is_playing:
            return False
        host = self.game.plugins
        errors: list[str] = []
        count = 0
        for name in host.discover():
            for mod_name, path in host.source_files(name):
                count += 1
                try:
                    host.compiler.compile(path, mod_name)
                except SyntaxError as exc:
                    errors.append(describe_error(exc))
                except OSError as exc:
                    errors.append(f"{path}: cannot read: {exc.strerror or exc}")
        if errors:
            log.error("build failed: %d error(s)\n%s", len(errors), "\n".join(errors))
            self.show_status(f"build failed: {errors[0]}", "error")
            return False
        log.info("build: %d modules compiled, no errors", count)
        self.show_status(f"build succeeded: {count} modules", "ok")
        if self.profile is BuildProfile.DEBUG:
            self._apply_stale_changes()
        return True

    # --- recovery -----------------------------------------------------------------------------

    def autosave_now(self, *, even_while_playing: bool = False) -> Path | None:
        """Write the unsaved edits to the scene's recovery file; return its path.

        Writes nothing while the scene has no unsaved changes, while playing
        (the edited scene is frozen then; the last autosave still holds it)
        unless `even_while_playing`, or after closing. The autosave timer calls
        this; failures are logged, never raised.
        """
        if self._closed or (self.is_playing and not even_while_playing):
            return None
        if not self.is_modified:
            self._delete_recovery()  # undone back to the saved state: nothing to recover
            return None
        target = self.recovery.path_for(self.scene_path)
        if target == self._recovery_kept and target.exists():
            return None  # the user keeps an older recovery for later: never overwrite it
        try:
            path = self.recovery.write(self.edited_scene, self.scene_path, self._saved_stamp)
        except (OSError, ValueError, TypeError) as exc:
            error = getattr(exc, "strerror", None) or str(exc)
            if error != self._autosave_error:  # once per problem, not every 20 seconds
                log.warning("autosave to %s failed: %s", target, error)
            self._autosave_error = error
            return None
        self._autosave_error = ""
        self._recovery_written = path
        return path

    def _delete_recovery(self) -> None:
        """Delete the recovery file of the edits being left (saved, discarded or closed)."""
        path, self._recovery_written = self._recovery_written, None
        if path is not None and path != self._recovery_kept:
            self.recovery.remove(path)

    def _offer_recovery(self, path: Path) -> tuple[Scene, RecoveryInfo] | None:
        """Ask about the recovery file of `path`; the recovered scene if the user wants it."""
        info = self.recovery.find(path)
        if info is None:
            return None
        if not info.newer_than_save():
            log.info("%s predates the last save of the scene; not offered", info)
            return None
        self._recovery_kept = None
        choice = self.ask_recover(info)
        if choice is RecoveryChoice.DISCARD:
            self.recovery.remove(info.path)
            log.info("discarded %s", info)
            return None
        if choice is not RecoveryChoice.RECOVER:
            self._recovery_kept = info.path
            log.warning("kept %s for later; until then this scene is not autosaved", info)
            return None
        try:
            scene = scene_from_data(
                info.scene_data,
                self.game.registry.resolve,
                source=info.path,
                project_root=self.project.root,
            )
        except SceneFileError as exc:
            self.recovery.set_aside(info.path, exc.problem)
            self.show_error("Cannot recover unsaved changes", str(exc))
            return None
        return scene, info

    def recovery_message_box(self, info: RecoveryInfo) -> QMessageBox:
        """The "recover unsaved changes?" question, not shown yet (`ask_recover` runs it).

        Each button's ``choice`` property holds its `RecoveryChoice` value.
        """
        name = self._short(info.scene_path) if info.scene_path else "the untitled scene"
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Recover unsaved changes")
        box.setText(f"Recover unsaved changes to {name} from {info.time_text}?")
        if info.scene_changed_on_disk():
            detail = (
                f"{name} has changed on disk since these edits were made (or it was "
                "deleted). Recovering shows the edits instead of the file's current "
                "content; saving them overwrites it."
            )
        else:
            detail = (
                "The editor ended without saving them. Recovered edits stay unsaved "
                "until you save them."
            )
        box.setInformativeText(detail + "\n\nLater keeps them and asks again next time.")
        buttons = (
            ("Recover", QMessageBox.ButtonRole.AcceptRole, RecoveryChoice.RECOVER),
            ("Discard", QMessageBox.ButtonRole.DestructiveRole, RecoveryChoice.DISCARD),
            ("Later", QMessageBox.ButtonRole.RejectRole, RecoveryChoice.LATER),
        )
        for text, role, choice in buttons:
            button = box.addButton(text, role)
            button.setProperty("choice", choice.value)
            if choice is RecoveryChoice.RECOVER:
                box.setDefaultButton(button)
            elif choice is RecoveryChoice.LATER:
                box.setEscapeButton(button)
        return box

    def _ask_recover(self, info: RecoveryInfo) -> RecoveryChoice:
        if QGuiApplication.platformName() in ("offscreen", "minimal"):
            log.warning("%s: kept (no one can answer a dialog on this platform)", info)
            return RecoveryChoice.LATER
        box = self.recovery_message_box(info)
        box.exec()
        clicked = box.clickedButton()
        value = clicked.property("choice") if clicked is not None else None
        box.deleteLater()
        return RecoveryChoice(value) if value else RecoveryChoice.LATER

    # --- closing ------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: D102 (base-class API)
        if self._closed:
            event.accept()
            return
        self.stop()
        if not self.maybe_save():
            event.ignore()
            return
        self._delete_recovery()  # a clean close: the edits were saved or discarded
        self._save_settings()
        self.shutdown()
        event.accept()

    def end_session(self) -> None:
        """The process is being ended (SIGTERM, logout): no time to ask about unsaved edits.

        They go to the recovery file, which is kept (a clean close would delete
        it), so the next start offers them back; then everything shuts down.
        """
        if self._closed:
            return
        self.autosave_now(even_while_playing=True)
        self._save_settings()
        self.shutdown()

    def shutdown(self) -> None:
        """Stop the game and the watcher threads, detach from the models and logging."""
        if self._closed:
            return
        self._closed = True
        self._stats_timer.stop()
        self._status_clear.stop()
        self._autosave_timer.stop()
        if self.play_target is not None:
            self.play_target.stop()
            self._drop_play_target()
        self.player.shutdown()  # never leave an orphan player behind
        self.extensions.close()
        if self._observed is not None:
            self._observed.unsubscribe(self._on_scene_event)
            self._observed = None
        self.scene_tree.detach()
        self.scene_view.set_scene(None)
        self.inspector.set_scene(None)
        self.game.close()  # joins the watcher threads
        root = logging.getLogger("hotplay")
        root.removeHandler(self._log_handler)
        root.setLevel(self._old_log_level)


_PALETTE = ("#8ecae6", "#ffb703", "#fb8500", "#90be6d", "#f28482", "#b5838d", "#a8dadc")


def _next_color(n: int) -> Color:
    return Color.parse(_PALETTE[n % len(_PALETTE)])
