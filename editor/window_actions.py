"""The main window's actions: texts, shortcuts, icons, their menus and toolbar, when enabled."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QDockWidget, QLabel, QMenu, QMenuBar, QStyle, QToolBar, QWidget

from editor.play import PlayState

SP = QStyle.StandardPixmap
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
        self.play = self._action("&Play", "F5", SP.SP_MediaPlay, "Play the scene")
        self.pause = self._action("Pa&use", "F6", SP.SP_MediaPause, "Pause / resume")
        self.pause.setCheckable(True)
        self.step = self._action("S&tep", "F10", SP.SP_MediaSkipForward, "Run one frame")
        self.stop = self._action(
            "&Stop", "Shift+F5", SP.SP_MediaStop, "Stop and return to the edited scene"
        )
        self.build = self._action(
            "&Build", "Ctrl+B", SP.SP_BrowserReload, "Compile the plugins and report errors"
        )
        self.new_project = self._action(
            "New &Project…", None, SP.SP_FileDialogNewFolder, "Make a new project and open it"
        )
        self.new_project.setObjectName("newProjectAction")
        self.open_project = self._action(
            "Open P&roject…", "Ctrl+Shift+O", SP.SP_DirOpenIcon, "Open another project"
        )
        self.open_project.setObjectName("openProjectAction")
        self.new_script = self._action(
            "New Scrip&t…",
            None,
            SP.SP_FileIcon,
            "Write a new script class from a template and attach it to the selected entity",
        )
        self.new_script.setObjectName("newScriptAction")
        self.text_editor_command = self._action(
            "Text &Editor Command…",
            tip="The command Open Script starts, for example: code --goto {file}:{line}",
        )
        self.text_editor_command.setObjectName("textEditorCommandAction")
        self.new_scene = self._action("&New Scene", Key.New, SP.SP_FileIcon)
        self.open_scene = self._action("&Open Scene…", Key.Open, SP.SP_DialogOpenButton)
        self.save_scene = self._action("&Save Scene", Key.Save, SP.SP_DialogSaveButton)
        self.save_scene_as = self._action("Save Scene &As…", "Ctrl+Shift+S")
        self.quit = self._action("&Quit", "Ctrl+Q")
        self.undo = undo_stack.createUndoAction(window, "&Undo")
        self.undo.setShortcut(Key.Undo)
        self.undo.setIcon(window.style().standardIcon(SP.SP_ArrowBack))
        self.redo = undo_stack.createRedoAction(window, "&Redo")
        self.redo.setShortcut(Key.Redo)
        self.redo.setIcon(window.style().standardIcon(SP.SP_ArrowForward))
        self.add_entity = self._action(
            "Add &Entity",
            "Ctrl+Shift+N",
            SP.SP_FileDialogNewFolder,
            "Add an entity at the top level",
        )
        self.add_child = self._action(
            "Add &Child",
            "Ctrl+Shift+C",
            SP.SP_FileDialogDetailedView,
            "Add an entity under the selected one",
        )
        self.duplicate = self._action(
            "&Duplicate", "Ctrl+D", SP.SP_FileDialogContentsView, "Duplicate the selected entity"
        )
        self.delete = self._action(
            "De&lete", Key.Delete, SP.SP_TrashIcon, "Delete the selected entity"
        )
        self.frame_all = self._action("&Frame All", "Home", tip="Show the whole scene")
        self.keep_changes = self._action(
            "&Keep Play-Mode Changes",
            "Ctrl+K",
            SP.SP_DialogApplyButton,
            "Keep every change made in the live inspector: they apply to the edited scene "
            "as one undoable step when Play stops",
        )
        self.keep_changes.setObjectName("keepChangesAction")
        self.grid = self._action("Show &Grid", "Ctrl+G")
        self.grid.setCheckable(True)
        self.grid.setChecked(True)
        self._undo_stack = undo_stack
        for a in (self.delete, self.duplicate):
            # Delete must not fire while typing in the inspector: only in the widgets
            # the window adds these actions to (the tree and the view).
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    @property
    def entity_actions(self) -> tuple[QAction, ...]:
        """Add, add child, duplicate and delete: the tree's toolbar and the Edit menu."""
        return (self.add_entity, self.add_child, self.duplicate, self.delete)

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
    ) -> QMenu:
        """Fill the menu bar; return its Plugins menu (hidden until a plugin adds to it).

        Args:
            bar: the window's menu bar.
            recent: the Open Recent menu (scenes).
            docks: the docks the View menu shows and hides.
            recent_projects: the Recent Projects menu.
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
        view = bar.addMenu("&View")
        view.addActions([self.frame_all, self.grid])
        view.addSeparator()
        view.addActions([d.toggleViewAction() for d in docks])
        play = bar.addMenu("&Play")
        play.addActions(list(self.play_actions))
        play.addAction(self.keep_changes)
        play.addSeparator()
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
        for a in (self.add_child, self.duplicate, self.delete):
            why = f"{running} (the edited scene is frozen while it plays)"
            self._enable(a, stopped and has_selection, why if not stopped else "select an entity")
        undo_why = "nothing to undo" if stopped else running
        self._enable(self.undo, stopped and self._undo_stack.canUndo(), undo_why)
        redo_why = "nothing to redo" if stopped else running
        self._enable(self.redo, stopped and self._undo_stack.canRedo(), redo_why)

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
        icon: QStyle.StandardPixmap | None = None,
        tip: str = "",
    ) -> QAction:
        a = QAction(text, self._window)
        if icon is not None:
            a.setIcon(self._window.style().standardIcon(icon))
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        a.setToolTip(f"{tip or text.replace('&', '')}" + (f"  ({keys})" if keys else ""))
        a.setStatusTip(tip)
        return a
