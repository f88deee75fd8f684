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
"""

from __future__ import annotations

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


class ExtensionHost:
    """Installs and replaces the editor contributions of the loaded plugins."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self._installed: dict[str, _Installed] = {}

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
            hook(api)
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
        found: dict[str, Contributions | None] = {}
        for name, plugin in fresh.items():
            try:
                found[name] = self._collect(name, plugin.modules.values())
            except Exception as exc:
                raise RuntimeError(f"plugin {name}: {HOOK} raised {describe_error(exc)}") from exc
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
            except Exception as exc:
                msg = f"plugin {name}: {HOOK} raised {describe_error(exc)}"
                log.error("%s; keeping its previous editor extensions", msg, exc_info=exc)
                errors.append(msg)
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
        inst = _Installed(field_editors=list(c.field_editors))
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
                widget = factory()
            except Exception as exc:
                log.error(
                    "plugin %s: dock %r failed to build: %s", name, title, describe_error(exc)
                )
                continue
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

    @staticmethod
    def _run(plugin: str, text: str, callback: Callable[[], Any]) -> None:
        try:
            callback()
        except Exception as exc:
            log.error("plugin %s: command %r raised %s", plugin, text, describe_error(exc))


def _hooks(modules: Iterable[Any]) -> list[Callable[[EditorExtensionApi], Any]]:
    out: list[Callable[[EditorExtensionApi], Any]] = []
    for mod in modules:
        fn = getattr(mod, HOOK, None)
        # Only the module that defines it: a re-export must not register twice.
        if callable(fn) and getattr(fn, "__module__", None) == mod.__name__ and fn not in out:
            out.append(fn)
    return out
