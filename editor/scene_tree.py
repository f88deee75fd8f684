"""The scene tree: the entity hierarchy, with rename and reparent by drag.

Shift- and Ctrl-clicks select several entities; a right click asks for the
entity context menu (the window builds it from its actions).

The view observes the scene it shows (`Scene.subscribe`) and rebuilds on
structural events. Replaced scripts (a hot reload's commit step, adding or
removing a script) only mark rows stale: their icons are redrawn once, on the
next turn of the event loop. Edits are reported as signals; the editing
controller turns them into undoable commands, and the resulting model events
update the view.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QDropEvent, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem, QWidget

from runtime import Entity, Handle, PlaceholderScript, Scene, VisualKind
from runtime.scene import EntityChanged, SceneEvent, ScriptsReplaced
from runtime.scripting import script_type_id

_HANDLE = Qt.ItemDataRole.UserRole


def entity_icon(e: Entity) -> QIcon:
    """A small swatch of the entity's visual: its shape and colour."""
    pm = QPixmap(14, 14)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    v = e.visual
    if v is None:
        p.setPen(QColor("#7d8590"))
        p.drawEllipse(4, 4, 6, 6)
    else:
        c = QColor(v.color[0], v.color[1], v.color[2])
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(c)
        if v.kind is VisualKind.ELLIPSE:
            p.drawEllipse(1, 1, 12, 12)
        elif v.kind is VisualKind.TEXT:
            p.setPen(c)
            f = p.font()
            f.setPixelSize(12)
            f.setBold(True)
            p.setFont(f)
            p.drawText(pm.rect(), int(Qt.AlignmentFlag.AlignCenter), "T")
        elif v.kind is VisualKind.IMAGE:
            p.setPen(c)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(1, 2, 11, 9)
            p.drawLine(2, 10, 6, 6)
            p.drawLine(6, 6, 11, 10)
        else:
            p.drawRect(1, 1, 12, 12)
    p.end()
    return QIcon(pm)


class SceneTreeView(QTreeWidget):
    """The entities of one scene as a tree.

    Signals:
        selectionRequested(object): the user selected these rows (a tuple of `Handle`,
            the current row first).
        contextMenuRequested(object, object): a right click at this global `QPoint`
            on this entity (or ``None``: empty space).
        renameRequested(object, str): the user renamed an entity.
        reparentRequested(object, object, object): (entity, new parent, index or ``None``).
    """

    selectionRequested = Signal(object)
    contextMenuRequested = Signal(object, object)
    renameRequested = Signal(object, str)
    reparentRequested = Signal(object, object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sceneTree")
        self.setHeaderHidden(True)
        self.setColumnCount(1)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_context_menu_requested)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.setAnimated(True)
        self._scene: Scene | None = None
        self._items: dict[Handle, QTreeWidgetItem] = {}
        self._read_only = False
        self._filling = False
        self._stale: set[Handle] = set()  # rows whose scripts were replaced
        self._redecorate_timer = QTimer(self)
        self._redecorate_timer.setSingleShot(True)
        self._redecorate_timer.setInterval(0)
        self._redecorate_timer.timeout.connect(self._on_redecorate_timer)
        self.itemSelectionChanged.connect(self._on_item_selection_changed)
        self.itemChanged.connect(self._on_item_changed)

    # --- model ----------------------------------------------------------------------

    @property
    def scene(self) -> Scene | None:
        """The scene shown."""
        return self._scene

    def set_scene(self, scene: Scene | None, *, read_only: bool = False) -> None:
        """Show another scene (observing it from now on)."""
        if self._scene is not None:
            self._scene.unsubscribe(self._on_scene_event)
        self._scene = scene
        self._read_only = read_only
        self.setDragEnabled(not read_only)
        self.setAcceptDrops(not read_only)
        if scene is not None:
            scene.subscribe(self._on_scene_event)
        self.rebuild()

    def detach(self) -> None:
        """Stop observing the scene (the window is closing)."""
        self.set_scene(None)

    def item_of(self, handle: Handle) -> QTreeWidgetItem | None:
        """The row of an entity."""
        return self._items.get(handle)

    def current_handle(self) -> Handle | None:
        """The selected entity, or ``None``."""
        item = self.currentItem()
        return None if item is None else Handle(item.data(0, _HANDLE))

    def select(self, handle: Handle | None) -> None:
        """Make `handle` the only selected row without emitting a signal."""
        self.select_many(() if handle is None else (handle,))

    def select_many(self, handles: tuple[Handle, ...]) -> None:
        """Select these rows (the first one current) without emitting a signal."""
        items = [self._items[h] for h in handles if h in self._items]
        self.blockSignals(True)
        try:
            self.clearSelection()
            # Qt takes None (no current row); the stubs do not say so.
            self.setCurrentItem(items[0] if items else None)  # type: ignore[arg-type]
            for item in items:
                item.setSelected(True)
            if items:
                self.scrollToItem(items[0])
        finally:
            self.blockSignals(False)

    def selected_handles(self) -> tuple[Handle, ...]:
        """The selected rows' entities, the current row first."""
        current = self.current_handle()
        chosen = [Handle(it.data(0, _HANDLE)) for it in self.selectedItems()]
        if current in chosen:
            chosen.remove(current)
            chosen.insert(0, current)
        return tuple(chosen)

    def edit_name(self, handle: Handle) -> None:
        """Start renaming an entity in place."""
        item = self._items.get(handle)
        if item is not None and not self._read_only:
            self.scrollToItem(item)
            self.editItem(item, 0)

    def rebuild(self) -> None:
        """Build every row again, keeping the selection and collapsed rows."""
        current = self.current_handle()
        collapsed = {h for h, it in self._items.items() if not it.isExpanded() and it.childCount()}
        self._stale.clear()  # every row is drawn afresh
        self._filling = True
        self.blockSignals(True)
        try:
            self.clear()
            self._items = {}
            scene = self._scene
            if scene is None:
                return
            for h in scene.roots:
                self._add_item(scene, h, None)
            for h, it in self._items.items():
                it.setExpanded(h not in collapsed)
            if current is not None and current in self._items:
                self.setCurrentItem(self._items[current])
        finally:
            self.blockSignals(False)
            self._filling = False

    def _add_item(self, scene: Scene, h: Handle, parent: QTreeWidgetItem | None) -> None:
        e = scene.entities[h]
        item = QTreeWidgetItem([e.name])
        item.setData(0, _HANDLE, int(h))
        flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
        if not self._read_only:
            flags |= (
                Qt.ItemFlag.ItemIsEditable
                | Qt.ItemFlag.ItemIsDragEnabled
                | Qt.ItemFlag.ItemIsDropEnabled
            )
        item.setFlags(flags)
        self._decorate(item, e)
        if parent is None:
            self.addTopLevelItem(item)
        else:
            parent.addChild(item)
        self._items[h] = item
        for c in e.children:
            self._add_item(scene, c, item)

    def _decorate(self, item: QTreeWidgetItem, e: Entity) -> None:
        item.setIcon(0, entity_icon(e))
        scripts = ", ".join(script_type_id(s).rpartition(":")[2] for s in e.scripts)
        missing = any(type(s) is PlaceholderScript for s in e.scripts)
        tip = f"{e.name}  #{int(e.handle)}" + (f"\nscripts: {scripts}" if scripts else "")
        if missing:
            tip += "\n⚠ a script class is missing"
            item.setForeground(0, QColor("#e9c46a"))
        elif not e.enabled:
            item.setForeground(0, QColor("#6b7280"))
        else:
            item.setData(0, Qt.ItemDataRole.ForegroundRole, None)
        item.setToolTip(0, tip)

    def refresh_decorations(self) -> None:
        """Update icons and names from the model (a running scene changes without events)."""
        scene = self._scene
        if scene is None:
            return
        self._filling = True
        try:
            for h, item in self._items.items():
                e = scene.get(h)
                if e is not None:
                    if item.text(0) != e.name:
                        item.setText(0, e.name)
                    self._decorate(item, e)
        finally:
            self._filling = False

    # --- events from the model ---------------------------------------------------------

    def _on_scene_event(self, event: SceneEvent) -> None:
        scene = self._scene
        if scene is None:
            return
        if isinstance(event, ScriptsReplaced):
            # May run inside a reload's commit step: mark the rows, redraw them later.
            self._stale.update(event.handles)
            if not self._redecorate_timer.isActive():
                self._redecorate_timer.start()
            return
        if isinstance(event, EntityChanged):
            self._update_rows(scene, (event.handle,))
            return
        self.rebuild()

    def _on_redecorate_timer(self) -> None:
        stale, self._stale = self._stale, set()
        if self._scene is not None:
            self._update_rows(self._scene, stale)

    def _update_rows(self, scene: Scene, handles: Iterable[Handle]) -> None:
        for h in handles:
            item = self._items.get(h)
            e = scene.get(h)
            if item is None or e is None:
                continue
            self._filling = True
            try:
                if item.text(0) != e.name:
                    item.setText(0, e.name)
                self._decorate(item, e)
            finally:
                self._filling = False

    # --- events from the user ------------------------------------------------------------

    def _on_item_selection_changed(self) -> None:
        self.selectionRequested.emit(self.selected_handles())

    def _on_context_menu_requested(self, pos: QPoint) -> None:
        item = self.itemAt(pos)
        handle = None if item is None else Handle(item.data(0, _HANDLE))
        if item is not None and handle is not None and not item.isSelected():
            self.selectionRequested.emit((handle,))  # a right click selects what it hits
        self.contextMenuRequested.emit(self.viewport().mapToGlobal(pos), handle)

    def _on_item_changed(self, item: QTreeWidgetItem, _column: int) -> None:
        if self._filling or self._scene is None:
            return
        h = Handle(item.data(0, _HANDLE))
        e = self._scene.get(h)
        text = item.text(0).strip()
        if e is None:
            return
        if not text or text == e.name:
            self._filling = True
            item.setText(0, e.name)
            self._filling = False
            return
        self.renameRequested.emit(h, text)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: D102 (base-class API)
        # The model, not Qt, moves rows: compute where the drop means, ask for an
        # undoable reparent, and let the model's EntityMoved event rebuild the tree.
        dragged = self.current_handle()
        target_item = self.itemAt(event.position().toPoint())
        where = self.dropIndicatorPosition()
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        if dragged is None:
            return
        target = None if target_item is None else Handle(target_item.data(0, _HANDLE))
        self.request_drop(dragged, target, where)

    def request_drop(
        self,
        handle: Handle,
        target: Handle | None,
        where: QAbstractItemView.DropIndicatorPosition,
    ) -> None:
        """Turn a drop of `handle` on/above/below `target` into a reparent request."""
        scene = self._scene
        if scene is None or self._read_only:
            return
        P = QAbstractItemView.DropIndicatorPosition
        if target is None or where is P.OnViewport:
            new_parent, index = Handle.NONE, None
        elif where is P.OnItem:
            new_parent, index = target, None
        else:
            new_parent = scene[target].parent
            siblings = scene.entities[new_parent].children if new_parent else scene.roots
            index = siblings.index(target) + (1 if where is P.BelowItem else 0)
        if new_parent and scene.is_ancestor(handle, new_parent):
            return  # onto itself or its own subtree
        if index is not None and scene[handle].parent == new_parent:
            old = scene.siblings_of(handle).index(handle)
            if old < index:
                index -= 1  # the entity leaves its old place before it is inserted
            if old == index:
                return
        elif index is None and scene[handle].parent == new_parent:
            return
        self.reparentRequested.emit(handle, new_parent, index)
