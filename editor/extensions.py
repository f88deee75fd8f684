"""Editor-side code that plugins provide: menu commands, dock panels, field editors.

A plugin declares it with a module-level function in any of its modules::

    def register_editor(editor):
        editor.add_menu_command("Reset balls", lambda: ...)
        editor.add_dock("Bounce stats", make_stats_widget)      # a QWidget factory
        editor.add_field_editor(lambda ann: ann is Speed, make_speed_editor)

Import Qt inside the function, so the game (which never calls it) does not
need Qt. A hot reload of the plugin calls the new generation's
`register_editor` inside the reload transaction and swaps everything it
registered at commit; if the new code raises, the whole reload rolls back and
the previous code keeps running, in the game and in the editor.

Everything a plugin registers is game code, and so untrusted: ``register_editor``,
menu commands, dock factories and field editors are all called through the
editor game's `runtime.guard.CallGuard`, under the project's budget. One that
raises, loops past the budget or calls ``sys.exit`` is logged with its file and
line, and the editor goes on: a command does nothing, a dock is not added, a
field editor is switched off (until the plugin's next reload) and the
inspector's own editor takes its place.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QWidget

from editor.field_editor import FieldEditor
from editor.field_editors import CustomEditor
from runtime import Game, Handle, Scene
from runtime.guard import CallGuard
from runtime.plugins import describe_error

if TYPE_CHECKING:
    from editor.main_window import MainWindow

log = logging.getLogger("hotplay.editor")

#: The name of the function a plugin module defines to extend the editor.
HOOK = "register_editor"


@dataclass
class Contributions:
    """What one plugin generation registered."""

    commands: list[tuple[str, Callable[[], Any], str]] = field(default_factory=list)
    docks: list[tuple[str, Callable[[], QWidget]]] = field(default_factory=list)
    field_editors: list[CustomEditor] = field(default_factory=list)


class EditorExtensionApi:
    """What a plugin's ``register_editor(editor)`` receives.

    Only records what the plugin asks for; the editor installs it afterwards,
    so a plugin that raises half-way installs nothing.
    """

    def __init__(self, window: MainWindow, plugin: str) -> None:
        self._window = window
        self.plugin = plugin
        self.contributions = Contributions()

    @property
    def log(self) -> logging.Logger:
        """The plugin's logger (``hotplay.plugin.<name>``), shown in the log panel."""
        return logging.getLogger(f"hotplay.plugin.{self.plugin}")

    @property
    def game(self) -> Game:
        """The editor's game (its edited scene is `scene`)."""
        return self._window.game

    @property
    def scene(self) -> Scene:
        """The edited scene."""
        return self._window.edited_scene

    def selected_entity(self) -> Handle | None:
        """The entity selected in the editor."""
        return self._window.selected_handle

    def add_menu_command(
        self, text: str, callback: Callable[[], Any], *, shortcut: str = ""
    ) -> None:
        """Add a command to the editor's Plugins menu."""
        self.contributions.commands.append((text, callback, shortcut))

    def add_dock(self, title: str, factory: Callable[[], QWidget]) -> None:
        """Add a dock panel; `factory` builds its widget (again after each reload)."""
        self.contributions.docks.append((title, factory))

    def add_field_editor(
        self,
        accepts: Callable[[Any], bool],
        factory: Callable[[Any, Scene], FieldEditor],
    ) -> None:
        """Edit fields whose annotation `accepts` with widgets from `factory(annotation, scene)`."""
        self.contributions.field_editors.append((accepts, factory))


@dataclass
class _Installed:
    actions: list[QAction] = field(default_factory=list)
    docks: list[QDockWidget] = field(default_factory=list)
    field_editors: list[CustomEditor] = field(default_factory=list)


class ExtensionFailed(Exception):
    """A plugin's editor extension raised, ran past its budget or tried to exit.

    `str()` is one line: the plugin, the extension and `describe_error` of what
    it raised (``file:line: Type: message``); ``__cause__`` is the game code's error.
    """


def call_extension(guard: CallGuard, what: str, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` through `guard` (under its budget); what it returns.

    Args:
        guard: the editor game's guard.
        what: names the extension in the error (``plugin bouncy: command 'Reset'``).
        fn: the plugin's callable.
        *args: its arguments.

    Raises:
        ExtensionFailed: `fn` raised, ran past the budget or raised an exit.
        KeyboardInterrupt: the user's Ctrl+C.
    """
    result: list[Any] = []
    error = guard.call(lambda: result.append(fn(*args)))
    if error is not None:
        raise ExtensionFailed(f"{what} raised {describe_error(error)}") from error
    return result[0]


class _GuardedFieldEditor:
    """A plugin's field editor (predicate and factory), called through the guard.

    After its first failure it accepts nothing more, so that a broken editor is
    reported once rather than at every refresh of the inspector; the plugin's
    next reload registers a fresh one.
    """

    def __init__(self, host: ExtensionHost, plugin: str, editor: CustomEditor) -> None:
        self._host = host
        self._plugin = plugin
        self._accepts, self._factory = editor
        self.failed = False

    def accepts(self, annotation: Any) -> bool:
        if self.failed:
            return False
        return bool(self._call("accepts", self._accepts, annotation))

    def build(self, annotation: Any, scene: Scene) -> FieldEditor:
        editor: FieldEditor = self._call("factory", self._factory, annotation, scene)
        return editor

    def _call(self, part: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return self._host.call(f"plugin {self._plugin}: field editor ({part})", fn, *args)
        except ExtensionFailed:
            self.failed = True
            raise  # logged; the inspector falls back to its own editor for the field


class ExtensionHost:
    """Installs and replaces the editor contributions of the loaded plugins."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self._installed: dict[str, _Installed] = {}

    def call(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """`call_extension` with the editor game's guard; a failure is logged, then raised.

        Raises:
            ExtensionFailed: `fn` failed (the log has the line, with its traceback).
        """
        try:
            return call_extension(self.window.game.guard, what, fn, *args)
        except ExtensionFailed as exc:
            log.error("%s", exc, exc_info=exc.__cause__)
            raise

    @property
    def plugins(self) -> list[str]:
        """Plugins that contributed something."""
        return sorted(self._installed)

    def field_editors(self) -> list[CustomEditor]:
        """Every plugin's field editors."""
        return [ed for inst in self._installed.values() for ed in inst.field_editors]

    def actions(self, plugin: str | None = None) -> list[QAction]:
        """The menu commands installed (of one plugin, or all)."""
        return [
            a
            for name, inst in self._installed.items()
            if plugin is None or name == plugin
            for a in inst.actions
        ]

    def docks(self, plugin: str | None = None) -> list[QDockWidget]:
        """The dock panels installed."""
        return [
            d
            for name, inst in self._installed.items()
            if plugin is None or name == plugin
            for d in inst.docks
        ]

    def _collect(self, name: str, modules: Iterable[Any]) -> Contributions | None:
        """Run a plugin generation's ``register_editor`` hooks; ``None`` when it has none."""
        hooks = _hooks(modules)
        if not hooks:
            return None
        api = EditorExtensionApi(self.window, name)
        for hook in hooks:
            call_extension(self.window.game.guard, f"plugin {name}: {HOOK}", hook, api)
        return api.contributions

    def _swap(self, found: dict[str, Contributions | None]) -> None:
        for name, contributions in found.items():
            self._uninstall(name)
            if contributions is not None:
                self._install(name, contributions)

    def prepare(self, fresh: dict[str, Any]) -> Callable[[], None]:
        """Reload participant (`runtime.Game.add_reload_participant`).

        Collects what the new generation of the reloaded plugins contributes;
        if its ``register_editor`` raises, the whole reload rolls back and the
        previous code keeps running, in the game and in the editor alike.
        Returns the swap to run at commit.
        """
        found = {name: self._collect(name, p.modules.values()) for name, p in fresh.items()}
        return lambda: self._swap(found)

    def refresh(self, plugins: Iterable[str] | None = None) -> list[str]:
        """Ask the running code of `plugins` (all loaded when ``None``) for its contributions.

        Used at start-up and for plugins that went away; reloads go through `prepare`.

        Returns:
            Errors, one line per plugin whose ``register_editor`` failed (its
            previous contributions stay installed).
        """
        loaded = self.window.game.plugins.plugins
        names = set(loaded) if plugins is None else set(plugins)
        errors: list[str] = []
        for name in sorted(names):
            if name not in loaded:
                self._uninstall(name)  # the plugin is gone
                continue
            try:
                self._swap({name: self._collect(name, loaded[name].modules.values())})
            except ExtensionFailed as exc:
                log.error("%s; keeping its previous editor extensions", exc, exc_info=exc.__cause__)
                errors.append(str(exc))
        return errors

    def forget_missing(self) -> None:
        """Remove the contributions of plugins that are no longer loaded."""
        loaded = self.window.game.plugins.plugins
        for name in [n for n in self._installed if n not in loaded]:
            self._uninstall(name)

    def close(self) -> None:
        """Remove every contribution (the window is closing)."""
        for name in list(self._installed):
            self._uninstall(name)

    def _install(self, name: str, c: Contributions) -> None:
        w = self.window
        guarded = [_GuardedFieldEditor(self, name, ed) for ed in c.field_editors]
        inst = _Installed(field_editors=[(g.accepts, g.build) for g in guarded])
        menu = w.plugins_menu
        for text, callback, shortcut in c.commands:
            action = QAction(text, w)
            action.setData(name)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.setToolTip(f"{text} (from plugin {name})")
            action.triggered.connect(lambda _=False, cb=callback, t=text: self._run(name, t, cb))
            menu.addAction(action)
            inst.actions.append(action)
        for title, factory in c.docks:
            try:
                widget = self.call(f"plugin {name}: dock {title!r}", factory)
            except ExtensionFailed:
                continue  # logged; the other docks and commands are still installed
            dock = QDockWidget(title, w)
            dock.setObjectName(f"pluginDock:{name}:{title}")
            dock.setWidget(widget)
            w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
            w.tabifyDockWidget(w.inspector_dock, dock)
            inst.docks.append(dock)
        self._installed[name] = inst
        menu.menuAction().setVisible(bool(self.actions()))

    def _uninstall(self, name: str) -> None:
        inst = self._installed.pop(name, None)
        if inst is None:
            return
        w = self.window
        for a in inst.actions:
            w.plugins_menu.removeAction(a)
            a.deleteLater()
        for d in inst.docks:
            w.removeDockWidget(d)
            d.deleteLater()
        w.plugins_menu.menuAction().setVisible(bool(self.actions()))

    def _run(self, plugin: str, text: str, callback: Callable[[], Any]) -> None:
        with contextlib.suppress(ExtensionFailed):  # logged: the editor goes on
            self.call(f"plugin {plugin}: command {text!r}", callback)


def _hooks(modules: Iterable[Any]) -> list[Callable[[EditorExtensionApi], Any]]:
    out: list[Callable[[EditorExtensionApi], Any]] = []
    for mod in modules:
        fn = getattr(mod, HOOK, None)
        # Only the module that defines it: a re-export must not register twice.
        if callable(fn) and getattr(fn, "__module__", None) == mod.__name__ and fn not in out:
            out.append(fn)
    return out
