"""The scene tree: the entity hierarchy, with rename and reparent by drag.

`SceneTreeModel` is a Qt item model over one `Scene`. It observes the scene
(`Scene.subscribe`) and turns each structural event into the matching row
change (``beginInsertRows`` for an added subtree, ``beginRemoveRows``,
``beginMoveRows``, ``dataChanged`` for a rename), so an edit of a scene of
100,000 entities touches one row, never the whole tree, and the view keeps its
selection and expanded rows by itself. Names, icons and tooltips are read from
the scene when a row is drawn, so only the rows on screen cost anything.
Qt lays out every shown top-level row again after a change among them, so the
model shows the roots in batches as the view scrolls (`ROOTS_PER_FETCH`), and a
root added at the end of a long list (a game spawning hundreds a frame) waits
there until the end of the list is on screen: the rows Qt lays out on each turn
of the event loop stay as many as the user has scrolled through, however many
entities the game spawns.

Replaced scripts (a hot reload's commit step, adding or removing a script) only
mark rows stale: they are redrawn once, on the next turn of the event loop.
Edits are reported as signals of `SceneTreeView`; the editing controller turns
them into undoable commands, and the resulting scene events update the model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, overload

from PySide6.QtCore import (
    QAbstractItemModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QDropEvent, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QTreeView, QWidget

from runtime import Entity, Handle, PlaceholderScript, Scene, VisualKind
from runtime.scene import (
    EntityAdded,
    EntityChanged,
    EntityMoved,
    EntityRemoved,
    SceneEvent,
    ScriptsReplaced,
)
from runtime.scripting import script_type_id

#: The item data role that holds an entity's handle (an ``int``).
HANDLE_ROLE = Qt.ItemDataRole.UserRole

#: The entity attributes a row shows (name, icon, colour, tooltip); others change no row.
_SHOWN_ATTRIBUTES = frozenset({"name", "visual", "enabled", "scripts"})

#: Distinct swatches kept; a game that animates colours would otherwise grow the cache forever.
_ICON_CACHE_SIZE = 512

#: Top-level rows the model shows at first and adds per `fetchMore`. Qt lays out
#: every shown top-level row again after an insert or removal among them (a
#: Python call or three per row), so a scene of 100,000 roots shows them as the
#: user scrolls down instead of all at once. A root added at the end is shown at
#: once only while fewer rows than this are shown; past that it is fetched like
#: the others.
ROOTS_PER_FETCH = 256

#: Stale rows redrawn one span per sibling list, found row by row; past this many,
#: each sibling list that holds one is redrawn whole (a reload of every script).
_FEW_ROWS = 256

# Qt flag arithmetic costs a Python enum operation each time; flags() runs per row laid out.
_EDITABLE_ROW = (
    Qt.ItemFlag.ItemIsSelectable
    | Qt.ItemFlag.ItemIsEnabled
    | Qt.ItemFlag.ItemIsEditable
    | Qt.ItemFlag.ItemIsDragEnabled
    | Qt.ItemFlag.ItemIsDropEnabled
)
_READ_ONLY_ROW = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled

_MISSING_SCRIPT_COLOR = QColor("#e9c46a")
_DISABLED_COLOR = QColor("#6b7280")

AnyIndex = QModelIndex | QPersistentModelIndex
#: The invisible root's index, the default parent of Qt's model API.
_ROOT = QModelIndex()


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


def entity_tooltip(e: Entity) -> str:
    """The row's tooltip: name, handle, script classes, and a warning for missing ones."""
    scripts = ", ".join(script_type_id(s).rpartition(":")[2] for s in e.scripts)
    tip = f"{e.name}  #{int(e.handle)}" + (f"\nscripts: {scripts}" if scripts else "")
    if any(type(s) is PlaceholderScript for s in e.scripts):
        tip += "\n⚠ a script class is missing"
    return tip


class SceneTreeModel(QAbstractItemModel):
    """The entities of one scene as rows: one column, the entity's name.

    The model keeps its own copy of the tree's shape (each entity's parent and
    child list), updated inside the ``begin…``/``end…`` brackets Qt asks for:
    the scene's events arrive after the scene changed, and Qt must be told the
    old rows (a removed row's place) as well as the new ones.

    Top-level rows are fetched in batches (`ROOTS_PER_FETCH`, Qt's
    ``canFetchMore``/``fetchMore``): an entity below the fetched rows has no
    index until `expose` (or the user scrolling down) fetches it. A root added
    at the end of the list is shown at once while fewer than a batch are shown;
    past that it joins the unfetched ones and `rootsWaiting` is emitted.

    Args:
        parent: the owning Qt object.
        roots_per_fetch: top-level rows shown at first and added per fetch.

    Signals:
        renameRequested(object, str): a row's name was edited (the `Handle`, the new name).
        rootsWaiting(): top-level rows were added past the fetched ones (the view
            fetches them when the end of the list is on screen).
    """

    renameRequested = Signal(object, str)
    rootsWaiting = Signal()

    def __init__(
        self, parent: QObject | None = None, *, roots_per_fetch: int = ROOTS_PER_FETCH
    ) -> None:
        super().__init__(parent)
        self._roots_per_fetch = max(1, roots_per_fetch)
        self._roots_shown = 0  # the first this many roots have rows
        self._scene: Scene | None = None
        self._read_only = False
        # The tree's shape as the rows show it; key 0 (Handle.NONE) holds the roots.
        self._children: dict[int, list[int]] = {0: []}
        self._parent_of: dict[int, int] = {}
        # Where each handle was last seen in its sibling list; checked before use
        # and refreshed for the whole list when wrong (an insert shifts its rows).
        self._row_hint: dict[int, int] = {}
        self._icons: dict[tuple[str, int, int, int] | None, QIcon] = {}
        self._stale: set[int] = set()  # rows whose scripts were replaced
        self._fetching_held = False
        self._in_event = False
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(0)
        self._redraw_timer.timeout.connect(self._on_redraw_timer)

    # --- the scene ------------------------------------------------------------------

    @property
    def scene(self) -> Scene | None:
        """The scene shown."""
        return self._scene

    @property
    def read_only(self) -> bool:
        """Whether rows can be renamed and dragged."""
        return self._read_only

    def set_scene(self, scene: Scene | None, *, read_only: bool = False) -> None:
        """Show another scene (observing it from now on); every row is made afresh."""
        self.beginResetModel()
        try:
            if self._scene is not None:
                self._scene.unsubscribe(self._on_scene_event)
            self._scene = scene
            self._read_only = read_only
            self._stale.clear()
            self._children = {0: []}
            self._parent_of = {}
            self._row_hint = {}
            self._roots_shown = 0
            if scene is not None:
                self._children[0] = [int(h) for h in scene.roots]
                self._roots_shown = min(len(scene.roots), self._roots_per_fetch)
                for e in scene.entities.values():
                    self._parent_of[int(e.handle)] = int(e.parent)
                    if e.children:
                        self._children[int(e.handle)] = [int(c) for c in e.children]
                scene.subscribe(self._on_scene_event)
        finally:
            self.endResetModel()

    @property
    def in_event(self) -> bool:
        """Whether the model is following a scene event (rows may be moving under the view)."""
        return self._in_event

    def index_of(self, handle: int) -> QModelIndex:
        """The row of an entity (invalid when the model does not show it, or not yet)."""
        if not self._is_shown(int(handle)):
            return QModelIndex()
        return self.createIndex(self._row_of(int(handle)), 0, int(handle))

    def expose(self, handle: int) -> QModelIndex:
        """The row of an entity, fetching the top-level rows down to it first if needed."""
        h = int(handle)
        if h not in self._parent_of:
            return QModelIndex()
        while self._parent_of[h]:
            h = self._parent_of[h]
        row = self._row_of(h)
        if row >= self._roots_shown:
            self._fetch_roots(row + 1)
        return self.index_of(handle)

    def handle_of(self, index: AnyIndex) -> Handle | None:
        """The entity of a row (``None`` for an invalid index)."""
        return Handle(index.internalId()) if index.isValid() else None

    def parents_in(self, parent: AnyIndex, first: int, last: int) -> list[QModelIndex]:
        """The rows with children among rows `first`…`last` of `parent` and their subtrees."""
        kids = self._children.get(parent.internalId() if parent.isValid() else 0, [])
        out: list[QModelIndex] = []
        children = self._children
        for row in range(first, min(last + 1, len(kids))):
            if kids[row] not in children:  # most rows: a dict lookup, no Qt call
                continue
            stack = [(row, kids[row])]
            while stack:
                r, h = stack.pop()
                grandchildren = children.get(h)
                if grandchildren:
                    out.append(self.createIndex(r, 0, h))
                    stack.extend(enumerate(grandchildren))
        return out

    def parents(self) -> list[Handle]:
        """Every entity shown with children (the rows that can be expanded)."""
        return [Handle(h) for h, kids in self._children.items() if h and kids and self._is_shown(h)]

    # --- QAbstractItemModel ------------------------------------------------------------

    def index(  # noqa: D102 (base-class API)
        self, row: int, column: int, parent: AnyIndex = _ROOT
    ) -> QModelIndex:
        p = parent.internalId() if parent.isValid() else 0
        kids = self._children.get(p)
        if column != 0 or kids is None or not 0 <= row < self._shown_in(p, kids):
            return QModelIndex()
        return self.createIndex(row, 0, kids[row])

    @overload
    def parent(self) -> QObject | None: ...
    @overload
    def parent(self, child: AnyIndex) -> QModelIndex: ...
    def parent(self, child: AnyIndex | None = None) -> QObject | QModelIndex | None:  # noqa: D102
        if child is None:  # QObject.parent(), which this name hides
            return super().parent()
        if not child.isValid():
            return QModelIndex()
        p = self._parent_of.get(child.internalId(), 0)
        if not p:
            return QModelIndex()
        return self.createIndex(self._row_of(p), 0, p)

    def rowCount(self, parent: AnyIndex = _ROOT) -> int:  # noqa: D102
        if parent.column() > 0:
            return 0
        p = parent.internalId() if parent.isValid() else 0
        kids = self._children.get(p)
        return 0 if kids is None else self._shown_in(p, kids)

    def hasChildren(self, parent: AnyIndex = _ROOT) -> bool:  # noqa: D102
        # Called for each row Qt lays out: no detour through rowCount. A valid
        # index is a shown row, whose children are all shown.
        if not parent.isValid():
            return self._roots_shown > 0
        return parent.column() == 0 and bool(self._children.get(parent.internalId()))

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:  # noqa: D102
        return 1

    def canFetchMore(self, parent: AnyIndex) -> bool:  # noqa: D102 (base-class API)
        if self._fetching_held:
            return False
        return not parent.isValid() and self._roots_shown < len(self._children[0])

    @contextlib.contextmanager
    def fetching_held(self) -> Iterator[None]:
        """Within this block nothing more can be fetched (while rows are fetched, or laid out)."""
        held, self._fetching_held = self._fetching_held, True
        try:
            yield
        finally:
            self._fetching_held = held

    def fetchMore(self, parent: AnyIndex) -> None:  # noqa: D102 (base-class API)
        if self.canFetchMore(parent):
            self._fetch_roots(self._roots_shown + self._roots_per_fetch)

    def _fetch_roots(self, count: int) -> None:
        count = min(count, len(self._children[0]))
        if count > self._roots_shown:
            # Whoever hears of these rows (Qt's model tester does) must not fetch more in between.
            with self.fetching_held():
                self.beginInsertRows(QModelIndex(), self._roots_shown, count - 1)
                self._roots_shown = count
                self.endInsertRows()

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: D102
        scene = self._scene
        if scene is None or not index.isValid():
            return None
        e = scene.get(index.internalId())
        if e is None:  # between a removal and the model's end of it
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return e.name
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icon(e)
        if role == Qt.ItemDataRole.ForegroundRole:
            if any(type(s) is PlaceholderScript for s in e.scripts):
                return _MISSING_SCRIPT_COLOR
            return None if e.enabled else _DISABLED_COLOR
        if role == Qt.ItemDataRole.ToolTipRole:
            return entity_tooltip(e)
        if role == HANDLE_ROLE:
            return int(e.handle)
        return None

    def setData(  # noqa: D102 (base-class API)
        self, index: AnyIndex, value: Any, role: int = Qt.ItemDataRole.EditRole
    ) -> bool:
        # The scene changes through an undoable command, whose event redraws the row.
        scene = self._scene
        if role != Qt.ItemDataRole.EditRole or scene is None or self._read_only:
            return False
        e = scene.get(index.internalId()) if index.isValid() else None
        text = str(value).strip()
        if e is None or not text or text == e.name:
            return False
        self.renameRequested.emit(Handle(e.handle), text)
        return True

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:  # noqa: D102 (base-class API)
        if not index.isValid():  # the empty space below the rows: a drop there makes a root
            return Qt.ItemFlag.NoItemFlags if self._read_only else Qt.ItemFlag.ItemIsDropEnabled
        return _READ_ONLY_ROW if self._read_only else _EDITABLE_ROW

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: D102 (base-class API)
        return Qt.DropAction.MoveAction

    # --- decorations ------------------------------------------------------------------

    def _icon(self, e: Entity) -> QIcon:
        v = e.visual
        key = None if v is None else (v.kind.value, v.color[0], v.color[1], v.color[2])
        icon = self._icons.get(key)
        if icon is None:
            if len(self._icons) >= _ICON_CACHE_SIZE:
                self._icons.clear()
            icon = self._icons[key] = entity_icon(e)
        return icon

    def _rows_changed(self, parent: int, first: int, last: int) -> None:
        self.dataChanged.emit(
            self.createIndex(first, 0, self._children[parent][first]),
            self.createIndex(last, 0, self._children[parent][last]),
        )

    # --- the tree's shape -------------------------------------------------------------

    def _shown_in(self, parent: int, kids: list[int]) -> int:
        """How many rows of the list `kids` (the children of `parent`) the model shows."""
        if not parent:
            return self._roots_shown
        return len(kids) if self._is_shown(parent) else 0

    def _is_shown(self, handle: int) -> bool:
        """Whether the entity has a row: its top-level ancestor is among the fetched roots."""
        parent_of = self._parent_of
        if handle not in parent_of:
            return False
        while parent_of[handle]:
            handle = parent_of[handle]
        return self._row_of(handle) < self._roots_shown

    def _row_of(self, handle: int) -> int:
        kids = self._children[self._parent_of[handle]]
        row = self._row_hint.get(handle, -1)
        if 0 <= row < len(kids) and kids[row] == handle:
            return row
        hint = self._row_hint
        for i, h in enumerate(kids):
            hint[h] = i
        return hint[handle]

    def _parent_index(self, parent: int) -> QModelIndex:
        return self.createIndex(self._row_of(parent), 0, parent) if parent else QModelIndex()

    def _on_scene_event(self, event: SceneEvent) -> None:
        scene = self._scene
        if scene is None:
            return
        self._in_event = True
        try:
            self._follow(scene, event)
        finally:
            self._in_event = False

    def _follow(self, scene: Scene, event: SceneEvent) -> None:
        if isinstance(event, ScriptsReplaced):
            # May run inside a reload's commit step: mark the rows, redraw them later.
            self._stale.update(map(int, event.handles))
            if not self._redraw_timer.isActive():
                self._redraw_timer.start()
        elif isinstance(event, EntityChanged):
            if event.attribute in _SHOWN_ATTRIBUTES:
                index = self.index_of(event.handle)
                if index.isValid():
                    self.dataChanged.emit(index, index)
        elif isinstance(event, EntityAdded):
            self._on_entity_added(scene, int(event.handle))
        elif isinstance(event, EntityRemoved):
            self._on_entity_removed(int(event.handle))
        elif isinstance(event, EntityMoved):
            self._on_entity_moved(scene, int(event.handle), int(event.new_parent))

    def _on_entity_added(self, scene: Scene, handle: int) -> None:
        e = scene[handle]
        for d in scene.subtree(e.handle):  # an undone delete brings a whole subtree back
            if d.handle != e.handle:
                self._parent_of[int(d.handle)] = int(d.parent)
            if d.children:
                self._children[int(d.handle)] = [int(c) for c in d.children]
        siblings = scene.siblings_of(e.handle)
        # A spawned entity comes last: finding it from the end keeps a game that spawns
        # hundreds a frame from making each spawn cost a scan of every root.
        last = len(siblings) - 1
        row = last if siblings and siblings[last] == e.handle else siblings.index(e.handle)
        self._insert_row(handle, int(e.parent), row)

    def _insert_row(self, handle: int, parent: int, row: int) -> None:
        """Put `handle` (its subtree already in the shape) at `row` of `parent`'s list."""
        kids = self._children.setdefault(parent, [])
        shown = self._shown_in(parent, kids)
        visible = self._is_shown(parent) if parent else self._root_row_shown(row, shown, len(kids))
        if visible:
            self.beginInsertRows(self._parent_index(parent), row, row)
        kids.insert(row, handle)
        self._parent_of[handle] = parent
        self._row_hint[handle] = row  # a removal soon after (a spawned bullet's) needs no scan
        if visible:
            if not parent:
                self._roots_shown += 1
            self.endInsertRows()
        elif not parent:
            self.rootsWaiting.emit()

    def _root_row_shown(self, row: int, shown: int, roots: int) -> bool:
        """Whether a root inserted at `row` gets a row at once, `shown` of `roots` having one.

        Inside the fetched rows it does. At the end of a fully fetched list it
        does while fewer than a batch are shown (a new entity of a small scene
        shows at once); past that it waits for a fetch, so that a game spawning
        hundreds of roots a frame does not make Qt lay out ever more rows.
        """
        return row < shown or (shown == roots and shown < self._roots_per_fetch)

    def _remove_row(self, handle: int) -> None:
        """Take `handle` out of its parent's list (its subtree stays in the shape)."""
        parent = self._parent_of[handle]
        kids = self._children[parent]
        row = self._row_of(handle)
        visible = row < self._shown_in(parent, kids)
        if visible:
            self.beginRemoveRows(self._parent_index(parent), row, row)
        kids.pop(row)
        if visible:
            if not parent:
                self._roots_shown -= 1
            self.endRemoveRows()

    def _on_entity_removed(self, handle: int) -> None:
        if handle not in self._parent_of:
            return
        self._remove_row(handle)
        stack = [handle]
        while stack:
            h = stack.pop()
            del self._parent_of[h]
            self._row_hint.pop(h, None)
            self._stale.discard(h)
            stack.extend(self._children.pop(h, ()))

    def _on_entity_moved(self, scene: Scene, handle: int, new_parent: int) -> None:
        old_parent = self._parent_of[handle]
        old_row = self._row_of(handle)
        new_row = scene.siblings_of(Handle(handle)).index(Handle(handle))
        if old_parent == new_parent and old_row == new_row:
            return
        # Qt counts the destination among the rows before the move: moving down
        # within one parent lands before the row that is then one further.
        before = new_row + 1 if old_parent == new_parent and new_row > old_row else new_row
        old_kids = self._children[old_parent]
        new_kids = self._children.setdefault(new_parent, [])
        src_shown = old_row < self._shown_in(old_parent, old_kids)
        if new_parent:
            dst_shown = self._is_shown(new_parent)
        else:  # as _insert_row would decide once the row left its old place
            shown = self._roots_shown - (1 if src_shown and not old_parent else 0)
            roots = len(new_kids) - (0 if old_parent else 1)
            dst_shown = self._root_row_shown(new_row, shown, roots)
        if not (src_shown and dst_shown):
            # A row moving from or to the unfetched roots appears or disappears.
            self._remove_row(handle)
            self._insert_row(handle, new_parent, new_row)
            return
        src, dst = self._parent_index(old_parent), self._parent_index(new_parent)
        if not self.beginMoveRows(src, old_row, old_row, dst, before):
            raise AssertionError(f"Qt refused to move row {old_row} to {before}")
        old_kids.pop(old_row)
        new_kids.insert(new_row, handle)
        self._parent_of[handle] = new_parent
        if not old_parent:
            self._roots_shown -= 1
        if not new_parent:
            self._roots_shown += 1
        self.endMoveRows()

    def _on_redraw_timer(self) -> None:
        stale, self._stale = self._stale, set()
        if len(stale) > _FEW_ROWS:
            # A reload replaced the scripts of thousands of entities: every shown row of
            # each sibling list that holds one, without finding each row (its place in
            # its list, whether its top-level ancestor is fetched). The view repaints
            # the rows on screen either way.
            children = self._children
            for parent in set(map(self._parent_of.get, stale)) - {None}:
                assert parent is not None
                kids = children.get(parent)
                shown = self._shown_in(parent, kids) if kids else 0
                if shown:
                    self._rows_changed(parent, 0, shown - 1)
            return
        # One dataChanged per sibling list that holds a stale row, over the rows
        # between the first and the last of them: a reload replaces the scripts
        # of thousands of entities, and the view repaints only what is on screen.
        spans: dict[int, tuple[int, int]] = {}
        for h in stale:
            if not self._is_shown(h):
                continue
            parent, row = self._parent_of[h], self._row_of(h)
            first, last = spans.get(parent, (row, row))
            spans[parent] = (min(first, row), max(last, row))
        for parent, (first, last) in spans.items():
            self._rows_changed(parent, first, last)


class SceneTreeView(QTreeView):
    """The entities of one scene as a tree, over a `SceneTreeModel`.

    Shift- and Ctrl-clicks select several entities; a right click asks for the
    entity context menu (the window builds it from its actions).

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
        self.setUniformRowHeights(True)  # lets Qt lay out 100,000 rows without asking each
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
        self._model = SceneTreeModel(self)
        self.setModel(self._model)
        self._selecting = False  # `select_many` sets the rows: no selectionRequested echo
        self._model.renameRequested.connect(self.renameRequested)
        self._model.rowsInserted.connect(self._on_rows_inserted)
        self._model.rowsMoved.connect(self._on_rows_moved)
        self._model.rootsWaiting.connect(self._on_roots_waiting)
        self.selectionModel().selectionChanged.connect(self._on_selection_changed)
        # Once per turn of the event loop, however many roots a frame of the game spawned.
        self._fetch_timer = QTimer(self)
        self._fetch_timer.setSingleShot(True)
        self._fetch_timer.setInterval(0)
        self._fetch_timer.timeout.connect(self._fetch_if_end_on_screen)

    # --- the scene ----------------------------------------------------------------------

    @property
    def scene(self) -> Scene | None:
        """The scene shown."""
        return self._model.scene

    def scene_model(self) -> SceneTreeModel:
        """The model of the rows."""
        return self._model

    def set_scene(self, scene: Scene | None, *, read_only: bool = False) -> None:
        """Show another scene, keeping the selection and the rows the user collapsed.

        Rows are expanded unless collapsed before (by handle: Play shows a copy
        of the edited scene with the same handles, and Stop brings it back).
        """
        model = self._model
        collapsed = {h for h in model.parents() if not self.isExpanded(model.index_of(h))}
        current = self.current_handle()
        self._selecting = True
        try:
            model.set_scene(scene, read_only=read_only)
            self.setDragEnabled(not read_only)
            self.setAcceptDrops(not read_only)
            for h in model.parents():
                if h not in collapsed:
                    self.setExpanded(model.index_of(h), True)
            if current is not None:
                self._set_current(model.expose(current))
        finally:
            self._selecting = False

    def detach(self) -> None:
        """Stop observing the scene (the window is closing)."""
        self.set_scene(None)

    def index_of(self, handle: Handle) -> QModelIndex:
        """The row of an entity (invalid when not shown)."""
        return self._model.index_of(handle)

    def current_handle(self) -> Handle | None:
        """The selected entity, or ``None``."""
        return self._model.handle_of(self.currentIndex())

    def select(self, handle: Handle | None) -> None:
        """Make `handle` the only selected row without emitting `selectionRequested`."""
        self.select_many(() if handle is None else (handle,))

    def select_many(self, handles: tuple[Handle, ...]) -> None:
        """Select these rows (the first one current) without emitting `selectionRequested`."""
        indexes = [i for i in (self._model.expose(h) for h in handles) if i.isValid()]
        flags = QItemSelectionModel.SelectionFlag
        model = self.selectionModel()
        self._selecting = True
        try:
            if not indexes:
                model.clear()
                return
            model.setCurrentIndex(indexes[0], flags.ClearAndSelect)
            for index in indexes[1:]:
                model.select(index, flags.Select)
            self.scrollTo(indexes[0])
        finally:
            self._selecting = False

    def selected_handles(self) -> tuple[Handle, ...]:
        """The selected rows' entities, the current row first."""
        current = self.current_handle()
        chosen = [
            h
            for h in (self._model.handle_of(i) for i in self.selectionModel().selectedIndexes())
            if h is not None
        ]
        if current in chosen:
            chosen.remove(current)
            chosen.insert(0, current)
        return tuple(chosen)

    def edit_name(self, handle: Handle) -> None:
        """Start renaming an entity in place."""
        index = self._model.expose(handle)
        if index.isValid() and not self._model.read_only:
            self.scrollTo(index)
            self.edit(index)

    def _set_current(self, index: QModelIndex) -> None:
        if index.isValid():
            self.setCurrentIndex(index)
        else:
            self.selectionModel().clear()

    def refresh_decorations(self) -> None:
        """Redraw names and icons from the scene (a running scene changes without events)."""
        # The model reads every row from the scene when it is drawn: repainting
        # the rows on screen is the whole refresh, whatever the scene's size.
        self.viewport().update()

    def doItemsLayout(self) -> None:  # noqa: D102 (base-class API)
        # Qt's layout of the top-level rows fetches another batch first whenever more
        # can be fetched, and a game that spawns or destroys roots every frame has the
        # view lay them out every turn: all of its rows would soon be shown, and laid
        # out again on each turn. Rows are fetched when the user scrolls to the end
        # instead (Qt's own fetch on scrolling, and `_fetch_if_end_on_screen`).
        with self._model.fetching_held():
            super().doItemsLayout()

    def _on_roots_waiting(self) -> None:
        if not self._fetch_timer.isActive():
            self._fetch_timer.start()

    def _fetch_if_end_on_screen(self) -> None:
        """Fetch the next batch of roots when the last fetched one is on screen (as Qt does)."""
        model = self._model
        if not model.canFetchMore(_ROOT):
            return
        last = model.rowCount() - 1
        if last < 0 or self.visualRect(model.index(last, 0)).intersects(self.viewport().rect()):
            model.fetchMore(_ROOT)

    # --- events from the model ------------------------------------------------------------

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        # New rows open like the rest of the tree: an added or restored subtree
        # shows its children, and a row that just got its first child shows it.
        if parent.isValid():
            self.setExpanded(parent, True)
        for index in self._model.parents_in(parent, first, last):
            self.setExpanded(index, True)

    def _on_rows_moved(
        self, _source: QModelIndex, _first: int, _last: int, destination: QModelIndex, _row: int
    ) -> None:
        if destination.isValid():  # it may have just got its first child
            self.setExpanded(destination, True)

    # --- events from the user -------------------------------------------------------------

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        # While the model follows a removal Qt moves the selection to a
        # neighbour; the shown-scene controller decides the selection then, not Qt.
        if not self._selecting and not self._model.in_event:
            self.selectionRequested.emit(self.selected_handles())

    def _on_context_menu_requested(self, pos: QPoint) -> None:
        index = self.indexAt(pos)
        handle = self._model.handle_of(index)
        if handle is not None and not self.selectionModel().isSelected(index):
            self.selectionRequested.emit((handle,))  # a right click selects what it hits
        self.contextMenuRequested.emit(self.viewport().mapToGlobal(pos), handle)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: D102 (base-class API)
        # The model, not Qt, moves rows: compute where the drop means, ask for an
        # undoable reparent, and let the scene's EntityMoved event move the row.
        dragged = self.current_handle()
        target = self._model.handle_of(self.indexAt(event.position().toPoint()))
        where = self.dropIndicatorPosition()
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        if dragged is not None:
            self.request_drop(dragged, target, where)

    def request_drop(
        self,
        handle: Handle,
        target: Handle | None,
        where: QAbstractItemView.DropIndicatorPosition,
    ) -> None:
        """Turn a drop of `handle` on/above/below `target` into a reparent request."""
        scene = self._model.scene
        if scene is None or self._model.read_only:
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
