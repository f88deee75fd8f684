"""The main window's actions: texts, shortcuts, icons, their menus and toolbar, when enabled."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoStack
from PySide6.QtWidgets import QDockWidget, QLabel, QMenu, QMenuBar, QToolBar, QWidget

from editor.gizmos import GizmoMode
from editor.play import PlayState
from editor.theme import ICON_ACCENTS, themed_icon

Key = QKeySequence.StandardKey


class WindowActions:
    """Every action of the menus and toolbars, not connected to anything yet.

    The window connects each action's ``triggered`` to what it does, has them
    placed (`fill_menu_bar`, `play_toolbar`) and calls `enable_for` when the
    play state or the selection changes.

    Args:
        window: the main window (the parent of every action, and their style).
        undo_stack: the edited scene's history (undo and redo follow it).
    """

    def __init__(self, window: QWidget, undo_stack: QUndoStack) -> None:
        self._window = window
        self.play = self._action("&Play", "F5", "play", "Play the scene", ICON_ACCENTS["play"])
        self.pause = self._action("Pa&use", "F6", "pause", "Pause / resume", ICON_ACCENTS["pause"])
        self.pause.setCheckable(True)
        self.step = self._action("S&tep", "F10", "skip-next", "Run one frame")
        self.stop = self._action(
            "&Stop",
            "Shift+F5",
            "stop",
            "Stop and return to the edited scene",
            ICON_ACCENTS["stop"],
        )
        self.build = self._action(
            "&Build", "Ctrl+B", "hammer-wrench", "Compile the plugins and report errors"
        )
        self.new_project = self._action(
            "New &Project…", None, "folder-plus-outline", "Make a new project and open it"
        )
        self.new_project.setObjectName("newProjectAction")
        self.open_project = self._action(
            "Open P&roject…", "Ctrl+Shift+O", "folder-open", "Open another project"
        )
        self.open_project.setObjectName("openProjectAction")
        self.new_script = self._action(
            "New Scrip&t…",
            None,
            "script-text-outline",
            "Write a new script class from a template and attach it to the selected entity",
        )
        self.new_script.setObjectName("newScriptAction")
        self.text_editor_command = self._action(
            "Text &Editor Command…",
            None,
            "cog-outline",
            "The command Open Script starts, for example: code --goto {file}:{line}",
        )
        self.text_editor_command.setObjectName("textEditorCommandAction")
        self.new_scene = self._action("&New Scene", Key.New, "file-outline")
        self.open_scene = self._action("&Open Scene…", Key.Open, "folder-open-outline")
        self.save_scene = self._action("&Save Scene", Key.Save, "content-save-outline")
        self.save_scene_as = self._action(
            "Save Scene &As…", "Ctrl+Shift+S", "content-save-edit-outline"
        )
        self.quit = self._action("&Quit", "Ctrl+Q", "exit-to-app")
        self.undo = undo_stack.createUndoAction(window, "&Undo")
        self.undo.setShortcut(Key.Undo)
        self.undo.setIcon(themed_icon("undo"))
        self.redo = undo_stack.createRedoAction(window, "&Redo")
        # Ctrl+Y is Redo on Windows and in most editors, Ctrl+Shift+Z elsewhere: both work.
        self.redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo.setIcon(themed_icon("redo"))
        self.add_entity = self._action(
            "Add &Entity", "Ctrl+Shift+N", "plus-box-outline", "Add an entity at the top level"
        )
        self.add_child = self._action(
            "Add &Child", "Ctrl+Shift+C", "file-tree", "Add an entity under the selected one"
        )
        self.duplicate = self._action(
            "&Duplicate", "Ctrl+D", "content-duplicate", "Duplicate the selected entities"
        )
        self.delete = self._action(
            "De&lete", Key.Delete, "delete-outline", "Delete the selected entities"
        )
        self.copy = self._action(
            "&Copy", Key.Copy, "content-copy", "Copy the selected entities with their scripts"
        )
        self.paste = self._action(
            "&Paste", Key.Paste, "content-paste", "Paste entities next to the selection"
        )
        self.rename = self._action("&Rename", "F2", "rename-box", "Rename the selected entity")
        self.frame_all = self._action(
            "&Frame All", "Home", "fit-to-screen-outline", "Show the whole scene"
        )
        self.keep_changes = self._action(
            "&Keep Play-Mode Changes",
            "Ctrl+K",
            "check-all",
            "Keep every change made in the live inspector: they apply to the edited scene "
            "as one undoable step when Play stops",
        )
        self.keep_changes.setObjectName("keepChangesAction")
        self.grid = self._action("Show &Grid", "Ctrl+G", "grid")
        self.grid.setCheckable(True)
        self.grid.setChecked(True)
        self.gizmo_move = self._action(
            "&Move Tool", "W", "cursor-move", "Move handles on the selection"
        )
        self.gizmo_rotate = self._action(
            "R&otate Tool", "E", "rotate-right", "Rotate handle on the selection"
        )
        self.gizmo_scale = self._action(
            "Sc&ale Tool", "R", "arrow-expand-all", "Scale handles on the selection"
        )
        self.gizmo_group = QActionGroup(window)
        for action, name, mode in (
            (self.gizmo_move, "gizmoMoveAction", GizmoMode.MOVE),
            (self.gizmo_rotate, "gizmoRotateAction", GizmoMode.ROTATE),
            (self.gizmo_scale, "gizmoScaleAction", GizmoMode.SCALE),
        ):
            action.setObjectName(name)
            action.setCheckable(True)
            action.setData(mode.value)
            self.gizmo_group.addAction(action)
        self.gizmo_move.setChecked(True)
        self.snap = self._action(
            "S&nap", "Ctrl+Shift+G", "magnet", "Snap moves to the grid and turns to the angle step"
        )
        self.snap.setObjectName("snapAction")
        self.snap.setCheckable(True)
        self.snap_settings = self._action(
            "Snap &Settings…", None, "cog-outline", "Set the grid and angle steps of snapping"
        )
        # Timeline keys as in video players (mpv, YouTube: "," and "." step a frame).
        # Home alone is Frame All; it moves the timeline where the timeline has the focus.
        self.timeline_back = self._action(
            "Previous Frame", ",", "step-backward", "Show the frame before (on the timeline)"
        )
        self.timeline_forward = self._action(
            "Next Frame", ".", "step-forward", "Show the frame after (on the timeline)"
        )
        self.timeline_start = self._action(
            "Oldest Kept Frame", "Ctrl+Home", "skip-backward", "Show the oldest frame kept"
        )
        self.timeline_live = self._action(
            "Live Frame", "Ctrl+End", "skip-forward", "Show the live frame again (paused)"
        )
        for a, name in (
            (self.timeline_back, "timelineBackAction"),
            (self.timeline_forward, "timelineForwardAction"),
            (self.timeline_start, "timelineStartAction"),
            (self.timeline_live, "timelineLiveAction"),
        ):
            a.setObjectName(name)
        self._undo_stack = undo_stack
        for a in (self.delete, self.duplicate, self.copy, self.paste, self.rename):
            # Delete, Ctrl+C and the like must not fire while typing in the inspector:
            # only in the widgets the window adds these actions to (the tree and the view).
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        for a in self.gizmo_actions:
            # Plain letters: only where the focus is on the scene, never in a text field.
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    @property
    def entity_actions(self) -> tuple[QAction, ...]:
        """Add, add child, duplicate and delete: the tree's toolbar and the Edit menu."""
        return (self.add_entity, self.add_child, self.duplicate, self.delete)

    @property
    def gizmo_actions(self) -> tuple[QAction, ...]:
        """Move, rotate and scale tools (one checked at a time)."""
        return (self.gizmo_move, self.gizmo_rotate, self.gizmo_scale)

    @property
    def scene_widget_actions(self) -> tuple[QAction, ...]:
        """The actions whose shortcuts work only in the scene tree and the scene view."""
        return (
            self.delete,
            self.duplicate,
            self.copy,
            self.paste,
            self.rename,
            *self.gizmo_actions,
        )

    def entity_menu(
        self, parent: QWidget, script_types: Iterable[str], add_script: Callable[[str], object]
    ) -> QMenu:
        """The context menu of the scene tree and the scene view.

        Args:
            parent: the widget the menu opens over.
            script_types: the type ids "Add Script" offers.
            add_script: called with the type id picked in "Add Script".
        """
        menu = QMenu(parent)
        menu.setObjectName("entityContextMenu")
        menu.addActions([self.add_entity, self.add_child])
        scripts = menu.addMenu(themed_icon("script-text-outline"), "Add &Script")
        scripts.setObjectName("addScriptMenu")
        for type_id in script_types:
            a = scripts.addAction(type_id.rpartition(":")[2])
            a.setToolTip(type_id)
            a.setData(type_id)
            a.triggered.connect(lambda _=False, t=type_id: add_script(t))
        scripts.setEnabled(self.add_child.isEnabled() and not scripts.isEmpty())
        menu.addSeparator()
        menu.addActions([self.rename, self.duplicate, self.delete])
        menu.addSeparator()
        menu.addActions([self.copy, self.paste])
        return menu

    @property
    def timeline_actions(self) -> tuple[QAction, ...]:
        """Frame back and forward, oldest and live frame: the Play menu's timeline part."""
        return (self.timeline_back, self.timeline_forward, self.timeline_start, self.timeline_live)

    @property
    def play_actions(self) -> tuple[QAction, ...]:
        """Play, pause, step and stop: the play toolbar and the Play menu."""
        return (self.play, self.pause, self.step, self.stop)

    def fill_menu_bar(
        self,
        bar: QMenuBar,
        recent: QMenu,
        docks: Iterable[QDockWidget],
        recent_projects: QMenu,
        look_ahead: QMenu,
    ) -> QMenu:
        """Fill the menu bar; return its Plugins menu (hidden until a plugin adds to it).

        Args:
            bar: the window's menu bar.
            recent: the Open Recent menu (scenes).
            docks: the docks the View menu shows and hides.
            recent_projects: the Recent Projects menu.
            look_ahead: the Look Ahead Before Reloads menu (Play menu).
        """
        file = bar.addMenu("&File")
        file.addActions([self.new_project, self.open_project])
        file.addMenu(recent_projects)
        file.addSeparator()
        file.addActions([self.new_scene, self.open_scene])
        file.addMenu(recent)
        file.addSeparator()
        file.addActions([self.save_scene, self.save_scene_as])
        file.addSeparator()
        file.addActions([self.new_script, self.text_editor_command])
        file.addSeparator()
        file.addAction(self.quit)
        edit = bar.addMenu("&Edit")
        edit.addActions([self.undo, self.redo])
        edit.addSeparator()
        edit.addActions(list(self.entity_actions))
        edit.addSeparator()
        edit.addActions([self.copy, self.paste, self.rename])
        view = bar.addMenu("&View")
        view.addActions([self.frame_all, self.grid])
        view.addSeparator()
        view.addActions([*self.gizmo_actions, self.snap, self.snap_settings])
        view.addSeparator()
        view.addActions([d.toggleViewAction() for d in docks])
        play = bar.addMenu("&Play")
        play.addActions(list(self.play_actions))
        play.addAction(self.keep_changes)
        play.addSeparator()
        play.addActions(list(self.timeline_actions))
        play.addSeparator()
        play.addMenu(look_ahead)
        play.addAction(self.build)
        plugins = bar.addMenu("Plu&gins")
        plugins.setObjectName("pluginsMenu")
        plugins.menuAction().setVisible(False)
        return plugins

    def play_toolbar(self, profile_box: QWidget, run_target_box: QWidget) -> QToolBar:
        """The toolbar: profile and run target boxes, play buttons, Build, undo and redo."""
        bar = QToolBar("Play")
        bar.setObjectName("playToolBar")
        bar.setMovable(False)
        bar.setIconSize(QSize(20, 20))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.addWidget(QLabel(" Profile "))
        bar.addWidget(profile_box)
        bar.addWidget(QLabel("  Run "))
        bar.addWidget(run_target_box)
        bar.addSeparator()
        names = ("playButton", "pauseButton", "stepButton", "stopButton")
        for action, name in zip(self.play_actions, names, strict=True):
            bar.addAction(action)
            bar.widgetForAction(action).setObjectName(name)
        bar.addAction(self.keep_changes)
        bar.widgetForAction(self.keep_changes).setObjectName("keepChangesButton")
        bar.addSeparator()
        bar.addAction(self.build)
        bar.widgetForAction(self.build).setObjectName("buildButton")
        bar.addSeparator()
        bar.addActions([self.undo, self.redo])
        return bar

    def gizmo_toolbar(self) -> QToolBar:
        """The tools toolbar: move, rotate, scale and snap."""
        bar = QToolBar("Tools")
        bar.setObjectName("gizmoToolBar")
        bar.setIconSize(QSize(20, 20))
        bar.addActions(list(self.gizmo_actions))
        bar.addSeparator()
        bar.addActions([self.snap, self.snap_settings])
        return bar

    def enable_for(self, state: PlayState, *, has_selection: bool) -> None:
        """Enable what makes sense in `state`: while a game runs, nothing edits the scene.

        A disabled action says why in its tooltip.
        """
        stopped = state is PlayState.STOPPED
        running = "the game is running: Stop it first"
        self._enable(self.play, state is not PlayState.PLAYING, "the game is playing already")
        self._enable(self.pause, not stopped, "nothing is playing")
        self.pause.setChecked(state is PlayState.PAUSED)
        self._enable(self.step, not stopped, "nothing is playing: Play first")
        self._enable(self.stop, not stopped, "nothing is playing")
        self._enable(self.keep_changes, not stopped, "only while playing: changes made then")
        self._enable(self.build, stopped, f"{running} (Build compiles for the next Play)")
        for a in (
            self.new_project,
            self.open_project,
            self.new_script,
            self.new_scene,
            self.open_scene,
            self.add_entity,
        ):
            self._enable(a, stopped, f"{running} (the edited scene is frozen while it plays)")
        for a in (self.add_child, self.duplicate, self.delete, self.rename):
            why = f"{running} (the edited scene is frozen while it plays)"
            self._enable(a, stopped and has_selection, why if not stopped else "select an entity")
        self._enable(self.copy, has_selection, "select an entity")  # from the running game too
        self._enable(self.paste, stopped, f"{running} (the edited scene is frozen while it plays)")
        for a in self.gizmo_actions:
            # Disabled while playing, so their letters reach the game as keys.
            self._enable(a, stopped, f"{running} (its key goes to the game while it plays)")
        undo_why = "nothing to undo" if stopped else running
        self._enable(self.undo, stopped and self._undo_stack.canUndo(), undo_why)
        redo_why = "nothing to redo" if stopped else running
        self._enable(self.redo, stopped and self._undo_stack.canRedo(), redo_why)

    def enable_timeline(self, state: PlayState, unavailable: str | None) -> None:
        """Enable the timeline's keys while there is a timeline (`unavailable`: why not).

        Stepping a frame waits for a pause: while the game plays, "," and "." are its keys.
        """
        why = unavailable or ""
        paused = state is PlayState.PAUSED
        for a in (self.timeline_back, self.timeline_forward):
            self._enable(a, unavailable is None and paused, why or "pause the game first")
        for a in (self.timeline_start, self.timeline_live):
            self._enable(a, unavailable is None, why)

    def _enable(self, action: QAction, enabled: bool, why: str) -> None:
        """Enable `action`, or disable it with `why` in its tooltip."""
        base = action.property("baseToolTip")
        if base is None:
            base = action.toolTip()
            action.setProperty("baseToolTip", base)
        action.setEnabled(enabled)
        action.setToolTip(base if enabled else f"{base} — unavailable: {why}")

    def _action(
        self,
        text: str,
        shortcut: QKeySequence.StandardKey | str | None = None,
        icon: str | None = None,
        tip: str = "",
        accent: str | None = None,
    ) -> QAction:
        a = QAction(text, self._window)
        if icon is not None:
            a.setIcon(themed_icon(icon, accent))
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        a.setToolTip(f"{tip or text.replace('&', '')}" + (f"  ({keys})" if keys else ""))
        a.setStatusTip(tip)
        return a
