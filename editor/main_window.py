"""The editor's main window: the shell that builds the widgets and wires the controllers.

The window owns one `runtime.Game` (no running scene at first) and the
widgets: scene view, tree, inspector, log, toolbar, menus, status bar. What
they do lives in `editor.controllers`, one QObject per concern; the window
connects their signals to each other and to the status bar, and keeps the
small public API that tools and tests drive the editor with (`open_scene`,
`play`, `select`, `set_profile`, `autosave_now`, ...).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QPoint, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QInputDialog,
    QMainWindow,
    QMenu,
    QMessageBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from editor import projects
from editor.asset_browser import install_asset_browser
from editor.commands import AddScript
from editor.controllers import STATUS_SECONDS
from editor.controllers.build import BuildController
from editor.controllers.code_reload import CodeReloadController
from editor.controllers.document import DocumentController
from editor.controllers.editing import EditingController
from editor.controllers.look_ahead import LookAheadController
from editor.controllers.play import RUN_SEPARATE, PlayController, PlayTargetFactory
from editor.controllers.shown_scene import ShownSceneController
from editor.controllers.timeline import TimelineController
from editor.extensions import ExtensionHost
from editor.gizmos import GizmoMode, Snap
from editor.inspector import InspectorPanel
from editor.log_panel import HotplayLogCapture, LogPanel
from editor.new_script import NewScriptDialog, NewScriptRequest
from editor.open_script import ScriptOpener, script_location
from editor.play import PlayState
from editor.player_process.install import install_separate_process
from editor.projects import OpenWindows, RecentProjects
from editor.recovery import RecoveryChoice, RecoveryInfo
from editor.scene_tree import SceneTreeView
from editor.scene_view import SceneView, edit_snap_settings
from editor.status_bar import EditorStatusBar
from editor.timeline import TimelineBar
from editor.window_actions import WindowActions
from runtime import BuildProfile, Game, Handle, Project, ProjectError, Scene
from runtime.build import BuildResult
from runtime.import_check import DEFAULT_BUDGET as DEFAULT_CHECK_BUDGET
from runtime.import_check import ImportChecker, ImportCheckError
from runtime.project import shell_command
from runtime.template import create_script

log = logging.getLogger("hotplay.editor")


class MainWindow(QMainWindow):
    """The Hotplay editor window for one project.

    Args:
        project_dir: the project folder (default: `editor.projects.default_project`).
        settings: the app-wide settings: recent projects, window geometry, the
            text editor command (default: `editor.projects.app_settings`).
        project_settings: the project's own settings: profile, run target, dock
            layout, recent scenes (default: the project's ``.hotplay/settings.ini``).
        windows: where another project's window opens (default: a new
            `editor.projects.OpenWindows` with this window's options).
        scene: a scene file to open instead of the project's main scene.
        profile: the build profile to start with (default: the last one used).
        recovery_policy: answers "recover unsaved changes?" instead of a dialog
            (tests, benchmarks).
        autosave_interval_ms: the period of the autosave that retries a failed
            recovery write (default `editor.controllers.recovery.AUTOSAVE_INTERVAL_MS`;
            0: none). Each change reaches the recovery journal within a second
            whatever this is.
        headless_player: run separate-process players without a window (tests).

    Raises:
        runtime.ProjectError: `project_dir` is not a Hotplay project.
    """

    def __init__(
        self,
        project_dir: str | os.PathLike[str] | None = None,
        *,
        settings: QSettings | None = None,
        project_settings: QSettings | None = None,
        windows: OpenWindows | None = None,
        scene: str | os.PathLike[str] | None = None,
        profile: BuildProfile | None = None,
        recovery_policy: Callable[[RecoveryInfo], RecoveryChoice] | None = None,
        autosave_interval_ms: int | None = None,
        headless_player: bool = False,
    ) -> None:
        super().__init__()
        if project_dir is None:
            project_dir = projects.default_project()
            if project_dir is None:
                raise ProjectError(
                    f"no project here: pass a project folder, or make one with: "
                    f"{shell_command('hotplay', 'runtime')} new DIR"
                )
        self.project = Project.open(project_dir)
        #: The app-wide settings (recent projects, geometry, text editor command).
        self.settings = settings if settings is not None else projects.app_settings()
        #: This project's settings (profile, run target, dock layout, recent scenes).
        self.project_settings = (
            project_settings
            if project_settings is not None
            else projects.project_settings(self.project)
        )
        self.windows = (
            windows
            if windows is not None
            else OpenWindows(
                self.settings, recovery_policy=recovery_policy, headless_player=headless_player
            )
        )
        RecentProjects(self.settings).add(self.project.root)
        if profile is None:
            try:
                profile = BuildProfile.parse(str(self.project_settings.value("profile", "debug")))
            except ValueError:
                profile = BuildProfile.DEBUG
        self._closed = False
        self.setObjectName("hotplayMainWindow")
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
        )
        self.log_panel = LogPanel()
        self._log_capture = HotplayLogCapture(self.log_panel)
        #: Imports new plugin code in a disposable process before the game does
        #: (``None`` when that process cannot be started: then imports are direct).
        self.import_checker = _start_import_checker(self.project.budget_seconds)
        check = self.import_checker.check if self.import_checker is not None else None
        try:
            self.game = Game(
                self.project, profile=profile, scene=False, watch=False, import_check=check
            )
        except BaseException:
            self._close_import_checker()
            raise
        self.scene_view = SceneView(self.project.assets_dir)
        self.scene_tree = SceneTreeView()
        self.inspector = InspectorPanel()
        self.extensions = ExtensionHost(self)
        self._build_status_bar()
        self._build_controllers(recovery_policy, autosave_interval_ms)
        self._build_central()
        self._build_docks()
        self._build_actions()
        self._build_toolbar()
        self._build_menus()
        self.resize(QSize(1360, 860))
        # Separate-process play (and Release) with its Remote dock; before the
        # settings restore the dock layout. `headless_player` is for tests.
        self.player = install_separate_process(self, headless=headless_player)
        #: The Assets dock: the project's files, and asset hot reload.
        self.asset_dock = install_asset_browser(self)
        self._restore_settings()

        self.code_reload.show_profile(profile)
        self.document.set_scene(self.document.scene, None)
        path = Path(scene) if scene is not None else self.project.scene_path(None)
        if scene is not None or path.is_file() or self.recovery.path_for(path).is_file():
            self.open_scene(path, ask=False)
        self.inspector.set_script_types(self.game.registry.script_types())
        self.extensions.refresh()
        self.inspector.set_custom_editors(self.extensions.field_editors())
        self._on_profile_changed(profile)
        self.code_reload.apply_profile()
        for name, error in self.game.plugins.errors.items():
            self.show_status(f"plugin {name} failed to load: {error}", "error")

    # --- building -----------------------------------------------------------------------------

    def _build_controllers(
        self,
        recovery_policy: Callable[[RecoveryInfo], RecoveryChoice] | None,
        autosave_interval_ms: int | None,
    ) -> None:
        game, view, tree, inspector = self.game, self.scene_view, self.scene_tree, self.inspector

        def is_playing() -> bool:
            return self.is_playing

        #: The scene the panels show, and the selection.
        self.shown = ShownSceneController(view, tree, inspector, self)
        self.shown.selectionChanged.connect(self._on_selection_changed)
        self.shown.sceneChanged.connect(self._on_shown_scene_changed)
        self.document = DocumentController(
            game,
            self.project,
            self.project_settings,
            self,
            is_playing,
            recovery_policy=recovery_policy,
            autosave_interval_ms=autosave_interval_ms,
        )
        self.document.sceneReplaced.connect(self._on_scene_replaced)
        self.document.titleChanged.connect(self._update_title)
        #: The undo history of the edited scene.
        self.undo_stack: QUndoStack = self.document.undo_stack
        self.undo_stack.indexChanged.connect(self._on_undo_index_changed)
        #: Autosaved copies of unsaved edits, offered again after the editor was killed.
        self.recovery = self.document.recovery.store
        self.editing = EditingController(
            self.document, self.shown, is_playing, view, tree, inspector, self
        )
        self.code_reload = CodeReloadController(
            game,
            self.extensions,
            inspector,
            view,
            self.project_settings,
            is_playing,
            self,
            frames_coming=lambda: self.play_state is PlayState.PLAYING,
            run_new_code_frame=lambda: self.play_controller.run_new_code_frame(),
        )
        self.code_reload.profileChanged.connect(self._on_profile_changed)
        self.play_controller = PlayController(
            game,
            lambda: self.edited_scene,
            lambda: self.profile,
            self.shown,
            self.project_settings,
            self,
        )
        self.play_controller.aboutToStart.connect(self._on_about_to_play)
        self.play_controller.stateChanged.connect(self._on_play_state_changed)
        self.play_controller.statsUpdated.connect(self.status.show_stats)
        self.code_reload.hotReloadSwitched.connect(self.play_controller.set_hot_reload)
        self.code_reload.restartRequested.connect(self._restart_play)
        self.play_controller.changesKept.connect(self.editing.keep_play_changes)
        #: The timeline under the scene view: rewind and replay of the in-editor game.
        self.timeline = TimelineController(game, self.play_controller, self.shown, TimelineBar())
        self.timeline.setParent(self)
        #: How many frames a hot reload tries the new code ahead before it commits.
        self.look_ahead = LookAheadController(game, self.project_settings, self)
        self.build_controller = BuildController(self.project, lambda: self.profile, self)
        self.build_controller.built.connect(self._on_built)
        reporters = (
            self.document,
            self.editing,
            self.code_reload,
            self.play_controller,
            self.timeline,
            self.look_ahead,
        )
        for c in (*reporters, self.build_controller):
            c.statusReported.connect(self.show_status)
        #: Opens a script or a file:line in the user's text editor (tests replace its launcher).
        self.script_opener = ScriptOpener(self.settings)
        self.script_opener.statusReported.connect(self.show_status)
        self.log_panel.location_opener = self.open_location
        inspector.openScriptRequested.connect(self.open_script)

    def _build_central(self) -> None:
        #: The "code changed — restart to apply" banner above the scene view.
        self.banner = self.code_reload.banner
        self.setCentralWidget(_column(self.banner, self.scene_view, self.timeline.bar))

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        self.tree_toolbar = QToolBar()
        self.tree_toolbar.setIconSize(QSize(16, 16))
        tree_box = _column(self.tree_toolbar, self.scene_tree)
        self.tree_dock = self._dock(
            "Scene", "sceneTreeDock", tree_box, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.inspector_dock = self._dock(
            "Inspector", "inspectorDock", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.log_dock = self._dock(
            "Log", "logDock", self.log_panel, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.resizeDocks(
            [self.tree_dock, self.inspector_dock], [250, 340], Qt.Orientation.Horizontal
        )
        self.resizeDocks([self.log_dock], [190], Qt.Orientation.Vertical)

    def _build_actions(self) -> None:
        #: Every action of the menus and toolbars.
        self.window_actions = WindowActions(self, self.undo_stack)
        a, doc, editing = self.window_actions, self.document, self.editing
        slots: tuple[tuple[QAction, Callable[[], Any]], ...] = (
            (a.play, self.play),
            (a.pause, self.toggle_pause),
            (a.step, self.step),
            (a.stop, self.stop),
            (a.build, self.build),
            (a.new_project, self.new_project_dialog),
            (a.open_project, self.open_project_dialog),
            (a.new_script, self.new_script_dialog),
            (a.text_editor_command, self.text_editor_command_dialog),
            (a.new_scene, doc.new_scene),
            (a.open_scene, doc.open_scene_dialog),
            (a.save_scene, self.save_scene),
            (a.save_scene_as, doc.save_scene_as),
            (a.quit, self.close),
            (a.add_entity, editing.add_entity),
            (a.add_child, lambda: editing.add_entity(child=True)),
            (a.duplicate, editing.duplicate_selected),
            (a.delete, editing.delete_selected),
            (a.frame_all, self.scene_view.frame_all),
            (a.grid, self._on_grid_toggled),
            (a.keep_changes, self.play_controller.keep_changes),
            (a.copy, editing.copy_selected),
            (a.paste, editing.paste),
            (a.rename, self._on_rename_triggered),
            (a.snap, self._on_snap_toggled),
            (a.snap_settings, self._on_snap_settings_triggered),
            (a.timeline_back, lambda: self.timeline.step_by(-1)),
            (a.timeline_forward, lambda: self.timeline.step_by(1)),
            (a.timeline_start, self.timeline.go_to_start),
            (a.timeline_live, self.timeline.go_to_live),
        )
        for action, slot in slots:
            action.triggered.connect(lambda _=False, slot=slot: slot())
        a.gizmo_group.triggered.connect(self._on_gizmo_tool_triggered)
        self.scene_view.contextMenuRequested.connect(self._on_entity_context_menu_requested)
        self.scene_tree.contextMenuRequested.connect(self._on_entity_context_menu_requested)
        for action in a.scene_widget_actions:
            self.scene_tree.addAction(action)
            self.scene_view.addAction(action)
        for action in a.entity_actions:
            self.tree_toolbar.addAction(action)

    def _build_toolbar(self) -> None:
        self.profile_combo = self.code_reload.profile_combo
        self.run_target_combo = self.play_controller.run_target_combo
        self.play_toolbar = self.window_actions.play_toolbar(
            self.profile_combo, self.run_target_combo
        )
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.play_toolbar)
        self.gizmo_toolbar = self.window_actions.gizmo_toolbar()
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.gizmo_toolbar)

    def _build_menus(self) -> None:
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.setObjectName("recentScenesMenu")
        self.recent_menu.aboutToShow.connect(self._on_recent_menu_about_to_show)
        self.recent_projects_menu = QMenu("Recent &Projects", self)
        self.recent_projects_menu.setObjectName("recentProjectsMenu")
        self.recent_projects_menu.aboutToShow.connect(self._on_recent_projects_about_to_show)
        docks = (self.tree_dock, self.inspector_dock, self.log_dock)
        self.plugins_menu = self.window_actions.fill_menu_bar(
            self.menuBar(), self.recent_menu, docks, self.recent_projects_menu, self.look_ahead.menu
        )
        self.inspector.set_new_script_action(self.window_actions.new_script)

    def _build_status_bar(self) -> None:
        #: The status bar: a passing message, the mode, the profile, FPS and entities.
        self.status = EditorStatusBar(self)
        self.setStatusBar(self.status)

    # --- settings -----------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        geo = self.settings.value("geometry")
        if isinstance(geo, QByteArray) and not geo.isEmpty():
            self.restoreGeometry(geo)
        state = self.project_settings.value("windowState")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)

    def _save_settings(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.sync()
        self.project_settings.setValue("windowState", self.saveState())
        self.project_settings.setValue("profile", self.profile.value)
        self.project_settings.setValue("runTarget", self.play_controller.chosen_run_target)
        self.project_settings.sync()

    # --- the public API: state ----------------------------------------------------------------

    @property
    def profile(self) -> BuildProfile:
        """The build profile chosen in the toolbar."""
        return self.code_reload.profile

    @property
    def edited_scene(self) -> Scene:
        """The scene being edited (never the running copy)."""
        return self.document.scene

    @property
    def scene_path(self) -> Path | None:
        """The file the edited scene was opened from or saved to (``None``: never saved)."""
        return self.document.scene_path

    @property
    def is_modified(self) -> bool:
        """Whether the edited scene has unsaved changes."""
        return self.document.is_modified

    @property
    def play_state(self) -> PlayState:
        """Stopped, playing or paused."""
        return self.play_controller.state

    @property
    def is_playing(self) -> bool:
        """Whether a game is running or paused (editing is off then)."""
        return self.play_state is not PlayState.STOPPED

    @property
    def selected_handle(self) -> Handle | None:
        """The selected entity."""
        return self.shown.selected

    @property
    def closed(self) -> bool:
        """Whether the window has shut down (`shutdown`)."""
        return self._closed

    @property
    def ask_unsaved_changes(self) -> Callable[[], str]:
        """Answers the unsaved-changes question: "save", "discard" or "cancel" (tests set it)."""
        return self.document.ask_unsaved_changes

    @ask_unsaved_changes.setter
    def ask_unsaved_changes(self, ask: Callable[[], str]) -> None:
        self.document.ask_unsaved_changes = ask

    # --- the public API: commands -------------------------------------------------------------

    def open_scene(self, path: str | os.PathLike[str], *, ask: bool = True) -> bool:
        """Open a scene file for editing; an invalid file is reported, not raised."""
        return self.document.open_scene(path, ask=ask)

    def new_scene(self) -> bool:
        """Start an empty scene (asks about unsaved changes first)."""
        return self.document.new_scene()

    def save_scene(self, path: str | os.PathLike[str] | None = None) -> bool:
        """Save the edited scene (to `path`, or where it came from; asks when new)."""
        return self.document.save_scene(path)

    def autosave_now(self, *, even_while_playing: bool = False) -> Path | None:
        """Write unsaved edits to the recovery file now (see `RecoveryController.autosave_now`)."""
        return self.document.recovery.autosave_now(even_while_playing=even_while_playing)

    def select(self, handle: Handle | None) -> None:
        """Select an entity in every panel (``None``: nothing)."""
        self.shown.select(handle)

    def add_entity(self, *, child: bool = False) -> Handle | None:
        """Add an entity (a root, or a child of the selected one) and select it."""
        return self.editing.add_entity(child=child)

    def set_profile(self, profile: BuildProfile) -> bool:
        """Switch the build profile (while playing: live, or by restarting Play)."""
        return self.code_reload.set_profile(profile)

    def register_play_target(self, run_target: str, factory: PlayTargetFactory) -> None:
        """Make a run target available (``"Separate process"`` is plugged in here)."""
        self.play_controller.register_target(run_target, factory)

    def play(self) -> None:
        """Play (or resume when paused; from the past frame the timeline shows, if any)."""
        if self.timeline.scrubbed_frame is None or not self.timeline.continue_live():
            self.play_controller.play()

    def toggle_pause(self) -> None:
        """Pause a playing game or resume a paused one (from the timeline's past frame, if any)."""
        if self.timeline.scrubbed_frame is None or not self.timeline.continue_live():
            self.play_controller.toggle_pause()

    def step(self) -> None:
        """Run one frame (pausing first); on a past frame of the timeline, show the next one."""
        if self.timeline.scrubbed_frame is None or not self.timeline.step_by(1):
            self.play_controller.step()

    def stop(self) -> None:
        """Stop the game and show the edited scene exactly as it was."""
        self.play_controller.stop()

    def build(self) -> bool:
        """Compile every plugin source; report errors in the log and the status bar.

        In Debug, a successful build also loads code changes made since the last Play.
        """
        if self.is_playing:
            return False
        result = self.build_controller.build()
        return result is not None and result.ok

    def show_status(self, text: str, kind: str = "info", seconds: float = STATUS_SECONDS) -> None:
        """Show a message in the status bar for a few seconds (kind: ok/error/warning/info)."""
        self.status.show_message(text, kind, seconds)

    # --- the public API: projects and scripts -------------------------------------------------

    def open_project(self, root: str | os.PathLike[str]) -> MainWindow | None:
        """Close this project (asking about unsaved changes) and open the one at `root`.

        The other project opens in a new window (see `editor.projects`), so
        nothing of this one stays loaded. Returns that window; ``None`` when
        `root` is not a project or the user cancelled. Opening this same
        project again does nothing and returns this window.
        """
        if self._closed:
            return None
        try:
            target = Project.open(root)
        except ProjectError as exc:
            self.show_status(str(exc), "error")
            QMessageBox.warning(self, "Not a Hotplay project", str(exc))
            return None
        if target.root == self.project.root:
            return self
        self.stop()
        if not self.document.maybe_save():
            return None
        # Everything of this project stops before the other one loads; the window
        # itself closes after the new one shows, or Qt would quit on its last window.
        self._close_cleanly()
        try:
            window: MainWindow | None = self.windows.open_project(target.root)
        except ProjectError as exc:  # the folder changed since it was checked
            QMessageBox.warning(self, "Not a Hotplay project", str(exc))
            self.windows.show_welcome()
            window = None
        self.close()
        return window

    def new_project_dialog(self) -> MainWindow | None:
        """Ask for an empty folder, make a project there and open it."""
        root = projects.ask_new_project(self, self.project.root.parent)
        return self.open_project(root) if root is not None else None

    def open_project_dialog(self) -> MainWindow | None:
        """Ask for a project folder and open it."""
        root = projects.ask_open_project(self, self.project.root.parent)
        return self.open_project(root) if root is not None else None

    def new_script(self, request: NewScriptRequest) -> str | None:
        """Write a script from the template, load it, attach it to the selected entity.

        The file is written into ``plugins/<plugin>/`` and its plugin reloaded
        at once, whatever the profile: the user asked for the class. Attaching
        is one undoable step (undo removes the script from the entity; the file
        stays). Returns the new type id, or ``None`` when it failed to load.
        """
        if self.is_playing:
            self.show_status("stop the game to add a script", "warning")
            return None
        try:
            path = create_script(self.project.plugins_dir, request.plugin, request.class_name)
        except (ValueError, OSError) as exc:
            self.show_status(f"cannot create the script: {exc}", "error")
            return None
        report = self.game.reload([path])
        type_id = f"{request.plugin}.{path.stem}:{request.class_name}"
        if not report.ok or self.game.registry.resolve(type_id) is None:
            self.show_status(f"{path.name} was written but did not load: {report}", "error")
            return None
        self.inspector.set_script_types(self.game.registry.script_types())
        selected = self.selected_handle
        if selected is not None and selected in self.edited_scene:
            self.undo_stack.push(AddScript(self.document.edit_target, selected, type_id))
        self.show_status(f"created {request.class_name} in {path.name}", "ok")
        return type_id

    def new_script_dialog(self) -> str | None:
        """Ask for a plugin and a class name (`NewScriptDialog`), then `new_script`."""
        taken = {cls.__qualname__ for _tid, cls in self.game.registry.script_types()}
        dialog = NewScriptDialog(self.project.plugins_dir, taken, self)
        if dialog.exec() != NewScriptDialog.DialogCode.Accepted:
            return None
        return self.new_script(dialog.request())

    def text_editor_command_dialog(self) -> None:
        """Ask for the command Open Script starts (see `editor.open_script`)."""
        command, ok = QInputDialog.getText(
            self,
            "Text editor command",
            "The command that opens a script; {file} and {line} are filled in.\n"
            "Empty: $VISUAL or $EDITOR (when not a terminal editor), else the system's choice.",
            text=self.script_opener.configured_command,
        )
        if ok:
            self.script_opener.configured_command = command.strip()

    def open_location(self, path: str, line: int) -> None:
        """Open a file at a line in the user's text editor (the log's traceback links).

        The location is also copied, to paste into a terminal or a bug report.
        """
        QGuiApplication.clipboard().setText(f"{path}:{line}")
        self.script_opener.open(path, line)

    def open_script(self, type_id: str) -> bool:
        """Open the source of a script class in the user's text editor, at the class."""
        cls = self.game.registry.resolve(type_id)
        where = script_location(cls) if cls is not None else None
        if where is None:
            self.show_status(f"the source of {type_id} is not loaded", "warning")
            return False
        self.script_opener.open(*where)
        return True

    # --- wiring: what one controller's news means for the others ------------------------------

    def _on_scene_replaced(self, scene: Scene) -> None:
        self.shown.clear_selection()
        self.shown.show(scene, mode="editing", fit=True)
        self._update_actions()

    def _on_recent_menu_about_to_show(self) -> None:
        self.document.fill_recent_menu(self.recent_menu)

    def _on_recent_projects_about_to_show(self) -> None:
        menu = self.recent_projects_menu
        menu.clear()
        roots = [r for r in RecentProjects(self.settings).paths() if r != self.project.root]
        for root in roots:
            a = menu.addAction(f"{root.name}   ({root})")
            a.triggered.connect(lambda _=False, r=root: self.open_project(r))
        if not roots:
            menu.addAction("No other recent projects").setEnabled(False)

    def _on_selection_changed(self, _handle: Handle | None) -> None:
        self._update_actions()

    def _on_shown_scene_changed(self) -> None:
        if not self.is_playing:
            self.status.show_entity_count(len(self.edited_scene))

    def _on_undo_index_changed(self, _index: int) -> None:
        # An edit, undo or redo is the user's own change: show it before the next event.
        self.inspector.rebuild_if_dirty()
        self.inspector.refresh_values(force=True)
        self._update_actions()

    def _on_about_to_play(self) -> None:
        if self.play_controller.run_target == RUN_SEPARATE:
            # The child player loads the code from disk itself: it must not wait for
            # the editor's own reload (and its import check), which follows just after.
            QTimer.singleShot(0, self._apply_code_changes_after_start)
        else:
            self.code_reload.before_play()  # the in-editor game plays the new code

    def _apply_code_changes_after_start(self) -> None:
        if not self._closed:
            self.code_reload.before_play()

    def _on_profile_changed(self, profile: BuildProfile) -> None:
        self.play_controller.show_run_target_for(profile)
        self._update_actions()

    def _on_play_state_changed(self, _state: PlayState) -> None:
        self.code_reload.update_banner()
        self._update_actions()

    def _restart_play(self) -> None:
        self.stop()
        self.code_reload.commit_profile()
        self.play()

    def _on_built(self, result: BuildResult) -> None:
        if result.ok and self.profile is BuildProfile.DEBUG:
            self.code_reload.apply_stale_changes()

    def _on_grid_toggled(self) -> None:
        self.scene_view.grid = self.window_actions.grid.isChecked()
        self.scene_view.update()

    def _on_gizmo_tool_triggered(self, action: QAction) -> None:
        self.scene_view.set_gizmo_mode(GizmoMode(action.data()))

    def _on_snap_toggled(self) -> None:
        snap = self.scene_view.snap
        enabled = self.window_actions.snap.isChecked()
        self.scene_view.snap = Snap(enabled, snap.grid, snap.angle, snap.scale)
        self.scene_view.update()

    def _on_snap_settings_triggered(self) -> None:
        snap = edit_snap_settings(self, self.scene_view.snap)
        if snap is not None:
            self.scene_view.snap = snap
            self.scene_view.update()

    def _on_rename_triggered(self) -> None:
        if self.selected_handle is not None:
            self.scene_tree.edit_name(self.selected_handle)

    def _on_entity_context_menu_requested(self, pos: QPoint, handle: Handle | None) -> None:
        if handle is not None and handle not in self.shown.selection:
            self.shown.select(handle)  # a right click acts on what it hits
        types = [tid for tid, _ in self.game.registry.script_types()]
        #: The last context menu (tests reach into it).
        self.entity_menu = self.window_actions.entity_menu(
            self, types, self.editing.add_script_to_selected
        )
        self.entity_menu.popup(pos)

    def _update_title(self) -> None:
        self.setWindowTitle(self.document.title())
        self.setWindowModified(self.is_modified)

    def _update_actions(self) -> None:
        state = self.play_state
        stopped = state is PlayState.STOPPED
        self.window_actions.enable_for(state, has_selection=self.selected_handle is not None)
        self.window_actions.enable_timeline(state, self.timeline.unavailable_reason)
        self.play_controller.update_run_target_box()
        self.recent_menu.setEnabled(stopped)
        self.recent_projects_menu.setEnabled(stopped)
        self.status.show_mode(state, self.profile, len(self.edited_scene))

    # --- closing ------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: D102 (base-class API)
        if self._closed:
            event.accept()
            return
        self.stop()
        if not self.document.maybe_save():
            event.ignore()
            return
        self._close_cleanly()
        event.accept()

    def _close_cleanly(self) -> None:
        """Shut down after the unsaved changes were saved or discarded."""
        self.document.recovery.delete()  # the edits were saved or discarded
        self._save_settings()
        self.shutdown()

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
        self.code_reload.close()
        self.status.stop()
        self.document.recovery.stop()
        self.play_controller.shutdown()
        self.player.shutdown()  # never leave an orphan player behind
        self.extensions.close()
        self.shown.detach()
        self.game.close()  # joins the watcher threads
        self._close_import_checker()
        self._log_capture.close()

    def _close_import_checker(self) -> None:
        checker, self.import_checker = self.import_checker, None
        if checker is not None:
            checker.close()


def _start_import_checker(budget: float | None) -> ImportChecker | None:
    # The project's budget bounds the check too (with budgets off, the check's own
    # default still does: an import that never ends must not hold the editor).
    try:
        return ImportChecker(budget=budget or DEFAULT_CHECK_BUDGET)
    except ImportCheckError as exc:
        log.error("plugin code will be imported without a check first: %s", exc)
        return None


def _column(top: QWidget, main: QWidget, bottom: QWidget | None = None) -> QWidget:
    """`top` above `main`, which takes the rest of the height, above `bottom`; no margins."""
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(0)
    lay.addWidget(top)
    lay.addWidget(main, 1)
    if bottom is not None:
        lay.addWidget(bottom)
    return box
