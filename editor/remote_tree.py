"""The *Remote* panel: a read-only live view of the scene in the player process.

It shows what the player last sent (`runtime.channel.scene_tree_payload`):
the entity tree, the plugin objects, and the selected item's fields. It never
changes the game. Feed it with `set_tree`, or let `attach` connect it to an
`editor.player_process.process.PlayerProcess`, which requests the tree a few times a
second while playing::

    remote = RemoteTreePanel()
    remote.attach(player)            # player: PlayerProcess
    dock.setWidget(remote)

Selection (and which branches are open) survives refreshes: items are keyed by
entity handle, which the runtime never reuses. While a separate-process game
plays, selecting an entity here selects it in the editor, whose Inspector
shows and edits it live (`editor.player_process.install`); the fields list
here stays for the plugin objects, which are no entities.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from runtime.values import Color, Handle, Vec2

if TYPE_CHECKING:
    from editor.player_process.process import PlayerProcess

_KEY = Qt.ItemDataRole.UserRole
_DIM = QBrush(QColor(140, 140, 150))
_BAD = QBrush(QColor(255, 107, 107))


def format_value(value: Any) -> str:
    """A field value as the panel shows it (``(1.5, -2)``, ``#ff8800``, ``#12``)."""
    t = type(value)
    if t is Vec2:
        return f"({_num(value[0])}, {_num(value[1])})"
    if t is Color:
        return value.hex
    if t is Handle:
        return f"entity {int(value)}" if value else "none"
    if t is float:
        return _num(value)
    if t is str:
        return repr(value) if len(value) <= 200 else repr(value[:200]) + "…"
    if t in (list, tuple, set, frozenset):
        text = ", ".join(format_value(v) for v in list(value)[:20])
        more = ", …" if len(value) > 20 else ""
        return f"[{text}{more}]"
    if t is dict:
        text = ", ".join(f"{k}: {format_value(v)}" for k, v in list(value.items())[:20])
        return "{" + text + (", …" if len(value) > 20 else "") + "}"
    return str(value)


def _num(x: float) -> str:
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return format(x, ".6g") if isinstance(x, float) else str(x)


class RemoteTreePanel(QWidget):
    """Read-only tree of the running game's scene, with the selected item's fields.

    Signals:
        entitySelected(int): the handle of the selected entity (0: none or a plugin).
    """

    entitySelected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._payload: dict[str, Any] | None = None
        self._entities: dict[int, dict[str, Any]] = {}
        self._plugins: dict[str, dict[str, Any]] = {}
        self._items: dict[tuple[str, Any], QTreeWidgetItem] = {}
        self._structure: list[tuple[int, int]] = []
        self._plugin_names: list[str] = []

        self.header = QLabel("Remote: not running")
        self.header.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Entity", "Scripts"])
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setUniformRowHeights(True)
        self.tree.currentItemChanged.connect(self._on_current_changed)
        self.fields = QTreeWidget()
        self.fields.setHeaderLabels(["Field", "Value"])
        self.fields.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.fields.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.fields.setUniformRowHeights(True)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.tree)
        splitter.addWidget(self.fields)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(splitter)

    # --- wiring ---------------------------------------------------------------------------

    def attach(self, player: PlayerProcess) -> None:
        """Follow a `PlayerProcess`: its trees while it runs, "not running" after."""
        player.tree.connect(self.set_tree)
        player.started.connect(lambda: self.clear("Remote: starting…"))
        player.finished.connect(
            lambda code, _tail: self.clear(
                f"Remote: not running (the player exited with code {code})"
            )
        )

    # --- content --------------------------------------------------------------------------

    @property
    def payload(self) -> dict[str, Any] | None:
        """The last tree received (``None`` when cleared)."""
        return self._payload

    def clear(self, message: str = "Remote: not running") -> None:
        """Forget the remote scene and show `message`."""
        self._payload = None
        self._entities = {}
        self._plugins = {}
        self._items = {}
        self._structure = []
        self._plugin_names = []
        self.tree.clear()
        self.fields.clear()
        self.header.setText(message)

    def set_tree(self, payload: dict[str, Any]) -> None:
        """Show a tree the player sent; keeps the selection and open branches."""
        entities = [e for e in payload.get("entities", []) if isinstance(e, dict)]
        plugins = [p for p in payload.get("plugins", []) if isinstance(p, dict)]
        self._payload = payload
        self._entities = {int(e.get("handle", 0)): e for e in entities}
        self._plugins = {str(p.get("name", "?")): p for p in plugins}
        structure = [(int(e.get("handle", 0)), int(e.get("parent", 0))) for e in entities]
        names = list(self._plugins)
        if structure != self._structure or names != self._plugin_names:
            self._rebuild(entities)
            self._structure = structure
            self._plugin_names = names
        else:
            for e in entities:
                item = self._items.get(("entity", int(e["handle"])))
                if item is not None:
                    self._fill_entity_item(item, e)
        self.header.setText(
            f"Remote: {payload.get('scene', '?')} — frame {payload.get('frame', 0)}, "
            f"{len(entities)} entities"
        )
        self._show_fields()

    def selected_handle(self) -> int | None:
        """The handle of the selected entity, or ``None``."""
        key = self._current_key()
        return int(key[1]) if key is not None and key[0] == "entity" else None

    def select_handle(self, handle: int) -> None:
        """Select an entity by handle (no effect when it is not in the tree)."""
        item = self._items.get(("entity", int(handle)))
        if item is not None:
            self.tree.setCurrentItem(item)

    def entity(self, handle: int) -> dict[str, Any] | None:
        """The last data received for an entity."""
        return self._entities.get(int(handle))

    def field_rows(self) -> list[tuple[str, str]]:
        """Every row of the fields view, depth first, as (field, value) texts."""
        out: list[tuple[str, str]] = []

        def walk(item: QTreeWidgetItem, prefix: str) -> None:
            for i in range(item.childCount()):
                child = item.child(i)
                assert child is not None  # i < childCount()
                name = prefix + child.text(0)
                out.append((name, child.text(1)))
                walk(child, name + ".")

        walk(self.fields.invisibleRootItem(), "")
        return out

    # --- building -------------------------------------------------------------------------

    def _current_key(self) -> tuple[str, Any] | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        key = item.data(0, _KEY)
        return tuple(key) if isinstance(key, (list, tuple)) else None

    def _rebuild(self, entities: list[dict[str, Any]]) -> None:
        current = self._current_key()
        expanded = {k for k, it in self._items.items() if it.isExpanded()}
        first_build = not self._items
        self.tree.blockSignals(True)
        try:
            self.tree.clear()
            self._items = {}
            for e in entities:
                h, parent = int(e.get("handle", 0)), int(e.get("parent", 0))
                owner = self._items.get(("entity", parent)) if parent else None
                item = QTreeWidgetItem(owner) if owner is not None else QTreeWidgetItem(self.tree)
                item.setData(0, _KEY, ("entity", h))
                self._fill_entity_item(item, e)
                self._items[("entity", h)] = item
            if self._plugins:
                group = QTreeWidgetItem(self.tree, ["Plugins", ""])
                group.setData(0, _KEY, ("group", "plugins"))
                group.setForeground(0, _DIM)
                self._items[("group", "plugins")] = group
                for name, p in self._plugins.items():
                    item = QTreeWidgetItem(group, [name, str(p.get("type", ""))])
                    item.setData(0, _KEY, ("plugin", name))
                    self._items[("plugin", name)] = item
            for key, item in self._items.items():
                item.setExpanded(first_build or key in expanded)
            if current is not None and current in self._items:
                self.tree.setCurrentItem(self._items[current])
        finally:
            self.tree.blockSignals(False)

    def _fill_entity_item(self, item: QTreeWidgetItem, e: dict[str, Any]) -> None:
        name = str(e.get("name", ""))
        if item.text(0) != name:
            item.setText(0, name)
        scripts = ", ".join(
            str(s.get("type", "?")).rsplit(":", 1)[-1] for s in e.get("scripts", [])
        )
        if item.text(1) != scripts:
            item.setText(1, scripts)
        faulted = any(s.get("faulted") for s in e.get("scripts", []))
        enabled = bool(e.get("enabled", True))
        item.setForeground(0, _BAD if faulted else (QBrush() if enabled else _DIM))
        item.setToolTip(0, f"entity {e.get('handle')}")

    def _on_current_changed(self, item: QTreeWidgetItem | None, _previous: object) -> None:
        self._show_fields()
        handle = self.selected_handle()
        self.entitySelected.emit(handle or 0)

    def _show_fields(self) -> None:
        key = self._current_key()
        self.fields.clear()
        if key is None:
            return
        kind, ident = key
        root = self.fields.invisibleRootItem()
        if kind == "entity" and ident in self._entities:
            e = self._entities[ident]
            for name in ("name", "handle", "enabled", "position", "rotation", "scale"):
                if name in e:
                    QTreeWidgetItem(root, [name, format_value(e[name])])
            visual = e.get("visual")
            if isinstance(visual, dict):
                v = QTreeWidgetItem(root, ["visual", str(visual.get("kind", ""))])
                for k, val in visual.items():
                    if k != "kind" and val not in ("", None):
                        QTreeWidgetItem(v, [k, format_value(val)])
            for s in e.get("scripts", []):
                label = str(s.get("type", "?"))
                row = QTreeWidgetItem(
                    root, [label, "paused: it raised" if s.get("faulted") else ""]
                )
                if s.get("faulted"):
                    row.setForeground(1, _BAD)
                for fname, fval in dict(s.get("fields", {})).items():
                    QTreeWidgetItem(row, [fname, format_value(fval)])
        elif kind == "plugin" and ident in self._plugins:
            p = self._plugins[ident]
            row = QTreeWidgetItem(root, [str(p.get("type", ident)), ""])
            for fname, fval in dict(p.get("fields", {})).items():
                QTreeWidgetItem(row, [fname, format_value(fval)])
        self.fields.expandAll()
        self.fields.resizeColumnToContents(0)
