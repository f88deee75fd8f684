"""Drawing a `Scene` with QPainter: the one drawing module of Hotplay.

The editor's scene view and the player window (`runtime.qt.player_window`)
both draw through `SceneRenderer`, so a scene looks the same in both.

Scene coordinates have their origin at the scene centre, y pointing down and
rotations in degrees clockwise; `Camera` maps them to a widget's pixels.

A frame is drawn in one of two ways that give the same pixels:

- *batched* (the default): the drawing order is a `DrawList` kept between
  frames, shapes and images are copied onto the pages of a `SpriteAtlas`, and
  each run of consecutive items on one page is drawn by one
  `QPainter.drawPixmapFragments` call over a `FragmentArray`. The runs are
  kept too, and drawn again (moved, or patched for a few entities) while no
  more than that changed;
- *one by one*: every item is drawn by its own QPainter call, in the order
  `draw_items` gives. It draws what a fragment cannot (text, missing or
  mirrored images, shapes too large to cache) in its place in the z order of a
  batched frame, and whole frames where PySide6 cannot take an array of
  fragments (`fragment_arrays_work`) or with ``SceneRenderer(batched=False)``.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import operator
import time
import typing
import weakref
from array import array
from collections.abc import Collection, Iterable
from pathlib import Path

import shiboken6
from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPen, QPixmap, QTransform

from runtime.scene import (
    Entity,
    EntityAdded,
    EntityChanged,
    EntityMoved,
    EntityRemoved,
    Scene,
    SceneEvent,
    Visual,
    VisualKind,
)
from runtime.values import Color, Handle, Vec2

#: Shapes larger than this (in pixels on screen) are drawn directly, not cached.
_MAX_SPRITE_PIXELS = 1024 * 1024
#: How many distinct sprites are kept before the cache starts over.
_MAX_SPRITES = 4096
#: Width and height of an atlas page in pixels: 16 MB of ARGB, a few thousand sprites of
#: game size. Narrow, so that the rows of a sprite lie close together in memory: drawing
#: a frame of sprites from 512-pixel-wide pages measured faster than from square ones.
_ATLAS_WIDTH, _ATLAS_HEIGHT = 512, 8192
#: Atlas pages kept before the atlas starts over (as the sprite cache does).
_ATLAS_PAGES = 4
#: Transparent pixels left between neighbours on a page, so that no sampling at
#: the edge of one sprite can read its neighbour.
_ATLAS_GAP = 2
#: Images up to this side are copied into the atlas; larger ones are their own texture.
_ATLAS_MAX_IMAGE = 512
#: How much Qt's Bezier curves of an ellipse may bulge out of it (a factor, with room).
_CURVE_BULGE = 1.001
#: Pixels kept beyond a turned shape's reach on each side of its sprite, against the
#: rounding of its corners to the rasteriser's fixed-point coordinates.
_EDGE_MARGIN = 0.125

# Painter transform modes in SceneRenderer._paint_items.
_OTHER, _PIXELS, _SCENE = 0, 1, 2
#: Entity attributes that do not change how it is drawn.
_UNDRAWN = frozenset({"name", "scripts"})
#: Announced changes beyond which a frame is collected anew rather than patched.
_MAX_PATCHED = 256
#: The most frames collected without reading the entities first, after frames whose
#: reading found that only collecting would do (see `SceneRenderer._reused_runs`).
_MAX_UNREAD = 16

#: (x, y, rotation in degrees, scale x, scale y) of an entity in scene coordinates.
WorldTransform = tuple[float, float, float, float, float]
#: An item to draw: the entity and its world transform (x, y, rotation, scale x, scale y).
PlacedEntity = tuple[Entity, float, float, float, float, float]
#: The fields of a `QPainter.PixmapFragment` after x and y: source left, top, width and
#: height in the texture, scale x, scale y, rotation in degrees and opacity.
FragmentFields = tuple[float, float, float, float, float, float, float, float]


class Camera:
    """What part of the scene a view shows: a centre in scene units and a zoom factor."""

    def __init__(self, center: Vec2 = Vec2.ZERO, zoom: float = 1.0) -> None:
        self.center = center
        self.zoom = zoom

    def scene_to_view(self, p: tuple[float, float], size: QSizeF) -> QPointF:
        """A scene point in widget pixels."""
        return QPointF(
            (p[0] - self.center[0]) * self.zoom + size.width() / 2,
            (p[1] - self.center[1]) * self.zoom + size.height() / 2,
        )

    def view_to_scene(self, p: QPointF, size: QSizeF) -> Vec2:
        """A widget pixel in scene coordinates."""
        return Vec2(
            (p.x() - size.width() / 2) / self.zoom + self.center[0],
            (p.y() - size.height() / 2) / self.zoom + self.center[1],
        )

    def transform(self, size: QSizeF) -> QTransform:
        """The scene-to-view transform."""
        return self.item_transform(size, 0.0, 0.0, 0.0)

    def item_transform(
        self, size: QSizeF, x: float, y: float, rotation: float, zoomed: bool = True
    ) -> QTransform:
        """The transform drawing an item centred at scene point (x, y), rotated.

        With `zoomed` false the item is drawn in view pixels (used for text).
        """
        z = self.zoom
        k = z if zoomed else 1.0
        c, s = (
            (math.cos(math.radians(rotation)), math.sin(math.radians(rotation)))
            if rotation
            else (1.0, 0.0)
        )
        # Built as one matrix: chaining QTransform.translate()/rotate() is slower, and
        # PySide6 6.12 corrupts reference counts when their returned self is dropped.
        return QTransform(
            c * k,
            s * k,
            -s * k,
            c * k,
            (x - self.center[0]) * z + size.width() / 2,
            (y - self.center[1]) * z + size.height() / 2,
        )

    def fit(self, rect: QRectF, size: QSizeF, margin: float = 0.05) -> None:
        """Centre on `rect` (scene units) and zoom so it fills the view."""
        if rect.isEmpty() or size.isEmpty():
            return
        self.center = Vec2(rect.center().x(), rect.center().y())
        z = min(size.width() / rect.width(), size.height() / rect.height())
        self.zoom = max(0.05, min(20.0, z * (1.0 - 2 * margin)))


def _z(e: Entity) -> int:
    return e.visual.z if e.visual is not None else 0


def draw_items(scene: Scene) -> list[tuple[int, int, Entity, float, float, float, float, float]]:
    """Every visible entity with its world transform, in drawing order.

    Items are (z, tree index, entity, x, y, rotation, scale x, scale y), computed
    in one walk of the tree. Root entities without children (most of a game's
    entities) take a fast path.
    """
    items: list[tuple[int, int, Entity, float, float, float, float, float]] = []
    append = items.append
    ents = scene.entities
    i = 0
    for root in scene.roots:
        e = ents[root]
        if not e.children:
            v = e.visual
            if v is not None and e.enabled:
                p, sc = e.position, e.scale
                append((v.z, i, e, p[0], p[1], e.rotation, sc[0], sc[1]))
            i += 1
            continue
        stack: list[tuple[Entity, WorldTransform]] = [(e, (0.0, 0.0, 0.0, 1.0, 1.0))]
        while stack:
            e, (px, py, pr, psx, psy) = stack.pop()
            lx, ly = e.position[0] * psx, e.position[1] * psy
            if pr:
                r = math.radians(pr)
                c, s = math.cos(r), math.sin(r)
                lx, ly = lx * c - ly * s, lx * s + ly * c
            wt = (px + lx, py + ly, pr + e.rotation, psx * e.scale[0], psy * e.scale[1])
            v = e.visual
            if v is not None and e.enabled:
                append((v.z, i, e, *wt))
            i += 1
            stack.extend((ents[c], wt) for c in reversed(e.children))
    items.sort(key=_first_two)
    return items


def _first_two(item: tuple[int, int, Entity, float, float, float, float, float]) -> tuple[int, int]:
    return item[0], item[1]


class _Node:
    """One entity in a `DrawList`: its place in the order and what drew it last frame.

    Entities of trees (`in_tree`) carry their world transform, recomputed every
    frame. `fragment` is the texture and fragment fields it was last drawn
    with (``None``: drawn on its own) and `key` what they were made for (see
    `SceneRenderer._collect_runs`), so an entity that only moved reuses them.
    `run` and `slot` say where in the last frame's runs it was drawn (``None``:
    not in a batch), so that an announced change updates that one entry.
    `index` is its place in the tree, and in the draw list's `DrawList.tree`.
    """

    __slots__ = (
        "entity",
        "fragment",
        "in_tree",
        "index",
        "key",
        "parent",
        "rot",
        "run",
        "scale",
        "slot",
        "x",
        "y",
        "z",
    )

    def __init__(self, entity: Entity, index: int, parent: _Node | None, in_tree: bool) -> None:
        self.entity = entity
        self.index = index
        self.parent = parent
        self.in_tree = in_tree
        self.z = _z(entity)
        self.x = self.y = self.rot = 0.0
        self.scale: tuple[float, float] = (1.0, 1.0)
        self.key: tuple[object, ...] = ()  # nothing remembered yet
        self.fragment: tuple[QPixmap, FragmentFields] | None = None
        self.run: _Batch | None = None
        self.slot = 0


class _Absent:
    """What `DrawList.tree` reads in the place of a removed entity: one that is not drawn."""

    __slots__ = ()
    visual = None
    enabled = False
    rotation = 0.0
    scale = (1.0, 1.0)
    position = (0.0, 0.0)
    children = ()


#: The node in the place of a removed entity in `DrawList.tree`.
_HOLE = _Node(typing.cast(Entity, _Absent()), -1, None, False)

#: The sort key of a `DrawList`'s order: (z, place in the tree), as `draw_items` sorts.
_NODE_ORDER = operator.attrgetter("z", "index")


class DrawList:
    """The drawing order of one scene, kept from frame to frame.

    Walking the tree and sorting by z cost more than Qt's own drawing in a frame
    of many sprites, and neither changes while a game only moves things. So the
    order is rebuilt only when the scene announces a change to its tree (an
    entity added, removed or moved) or when an entity is found with another z
    than the one it was sorted by (see `SceneRenderer`). The commonest changes
    are followed in place instead (`follow_tree`): an entity without children
    removed, a new one added at the end of the top level. Everything else
    (positions, rotations, scales, visuals, ``enabled``) is read from the
    entities at every frame, because running scripts change those without
    announcing it. They are read in bulk: a frame in which no entity changed
    how it looks (`seen`) draws the last frame's runs again, moved if need be
    (see `SceneRenderer._reused_runs`).

    A scene that announces every change (`announced`: the editor's edited
    scene, where every change is a command) keeps even the last frame's runs:
    a frame with nothing announced draws them again, and an entity whose
    change was announced updates its own entry (`changed`).

    Args:
        scene: the scene to follow; the list subscribes to its events.
    """

    def __init__(self, scene: Scene) -> None:
        #: Every entity (drawn or not), sorted by (z, place in the tree) as `draw_items` sorts.
        self.order: list[_Node] = []
        #: The same nodes in tree order, each at its `_Node.index`; a removed one leaves
        #: `_HOLE` in its place until the next rebuild.
        self.tree: list[_Node] = []
        self._holes = 0
        #: The node of every entity, by handle.
        self.nodes: dict[Handle, _Node] = {}
        # Entities of trees of more than one entity, parents first, whose world
        # transforms are computed from their parents' before each frame.
        self._in_trees: list[_Node] = []
        self._entity_count = -1
        # Tree changes announced since the order was made, in order.
        self._added: list[Handle] = []
        self._removed: list[Handle] = []
        self.stale = True
        #: Whether every change of the scene comes with an event (see the class docstring).
        self.announced = False
        #: The last frame's runs and what they were made for (camera, view size, atlas).
        self.runs: list[_Batch | _Items] | None = None
        self.runs_key: tuple[object, ...] = ()
        #: What the runs were collected from, or ``None`` once they were patched since.
        self.seen: _Seen | None = None
        #: Frames still to be collected without reading the entities first, and how
        #: many the next frame that reads for nothing sets (doubling up to `_MAX_UNREAD`).
        self.unread = 0
        self.unread_next = 1
        #: Entities whose attributes changed since the runs were made.
        self.changed: set[Handle] = set()
        scene.subscribe(self._on_scene_event)

    def _on_scene_event(self, event: SceneEvent) -> None:
        # Attribute changes and new scripts leave the tree as it is (a new z is
        # found when the order is read).
        if isinstance(event, EntityAdded):
            self._added.append(event.handle)
        elif isinstance(event, EntityRemoved):
            self._removed.append(event.handle)
        elif isinstance(event, EntityMoved):
            self.stale = True
        elif isinstance(event, EntityChanged) and event.attribute not in _UNDRAWN:
            self.changed.add(event.handle)

    def update(self, scene: Scene) -> bool:
        """Rebuild the order if the tree changed, then compute this frame's world transforms.

        Returns:
            Whether the order changed (rebuilt, or followed in place).
        """
        followed = self.follow_tree(scene)
        changed = followed is None or bool(followed[0] or followed[1])
        # The entity count also catches a tree changed without events, which no
        # `Scene` method does but code filling a scene by hand could.
        if followed is None or len(scene.entities) != self._entity_count:
            self._rebuild(scene)
            changed = True
        for n in self._in_trees:
            e = n.entity
            p = n.parent
            if p is None:
                px, py, pr, psx, psy = 0.0, 0.0, 0.0, 1.0, 1.0
            else:
                px, py, pr = p.x, p.y, p.rot
                psx, psy = p.scale
            # The arithmetic of `draw_items`, so both paths put an item on the same pixels.
            lx, ly = e.position[0] * psx, e.position[1] * psy
            if pr:
                r = math.radians(pr)
                c, s = math.cos(r), math.sin(r)
                lx, ly = lx * c - ly * s, lx * s + ly * c
            n.x, n.y, n.rot = px + lx, py + ly, pr + e.rotation
            n.scale = (psx * e.scale[0], psy * e.scale[1])
        return changed

    def follow_tree(self, scene: Scene) -> tuple[list[_Node], list[_Node]] | None:
        """Follow the tree changes announced since the order was made, in place if simple.

        In place: entities without children removed, and new entities without
        children at the end of the top level (where adding one puts it).

        Returns:
            The nodes added and removed, or ``None`` when the order must be rebuilt.
        """
        added, removed = self._added, self._removed
        self._added, self._removed = [], []
        if self.stale or 2 * (self._holes + len(removed)) > len(self.tree):
            # Mostly holes (a game that removes as many entities as it adds): made
            # again, which is the sort that following the tree saves.
            self.stale = True
            return None
        ents, nodes = scene.entities, self.nodes
        gone = [nodes.get(h) for h in removed]
        tail = scene.roots[len(scene.roots) - len(added) :] if added else []
        simple = (
            all(_leaf_gone(n, h, ents) for n, h in zip(gone, removed, strict=True))
            and tail == added
            and all(h not in nodes and h in ents and not ents[h].children for h in added)
            and len(ents) == self._entity_count - len(gone) + len(added)
        )
        if not simple:
            # The changes are taken: a second call must not find the order up to date.
            self.stale = True
            return None
        order, tree = self.order, self.tree
        for n in gone:
            assert n is not None
            del order[bisect.bisect_left(order, (n.z, n.index), key=_NODE_ORDER)]
            del nodes[n.entity.handle]
            tree[n.index] = _HOLE
        self._holes += len(gone)
        made = []
        for h in added:
            n = _Node(ents[h], len(tree), None, False)
            tree.append(n)
            order.insert(bisect.bisect_right(order, (n.z, n.index), key=_NODE_ORDER), n)
            nodes[h] = n
            made.append(n)
        self._entity_count = len(ents)
        return made, [n for n in gone if n is not None]

    def _rebuild(self, scene: Scene) -> None:
        # The nodes of entities still there are kept: with them the fragment each
        # was last drawn with, which a new node would have to look up again.
        old = self.nodes
        nodes: list[_Node] = []
        in_trees: list[_Node] = []
        ents = scene.entities
        for root in scene.roots:
            e = ents[root]
            if not e.children:  # most of a game's entities: drawn from their own transform
                nodes.append(_placed(old.get(root), e, len(nodes), None, False))
                continue
            stack: list[tuple[Entity, _Node | None]] = [(e, None)]
            while stack:
                e, parent = stack.pop()
                n = _placed(old.get(e.handle), e, len(nodes), parent, True)
                nodes.append(n)
                in_trees.append(n)
                stack.extend((ents[c], n) for c in reversed(e.children))
        self.tree = list(nodes)
        self._holes = 0
        nodes.sort(key=_NODE_ORDER)
        self.order = nodes
        self.nodes = {n.entity.handle: n for n in nodes}
        self._in_trees = in_trees
        self._entity_count = len(ents)
        self._added, self._removed = [], []
        self.stale = False


def _leaf_gone(n: _Node | None, handle: Handle, ents: dict[Handle, Entity]) -> bool:
    """Whether a removed entity was a top-level entity without children, and is gone."""
    return n is not None and not n.in_tree and not n.entity.children and handle not in ents


def _placed(n: _Node | None, e: Entity, index: int, parent: _Node | None, in_tree: bool) -> _Node:
    """`n` moved to its new place in the order, or a new node when there is none for `e`."""
    if n is None or n.entity is not e:
        return _Node(e, index, parent, in_tree)
    n.index, n.parent, n.in_tree, n.z = index, parent, in_tree, _z(e)
    return n


def sprite_box(kind: VisualKind, pw: float, ph: float, degrees: int) -> tuple[int, int]:
    """The width and height in pixels of the sprite of a `pw` x `ph` shape turned by `degrees`.

    An unturned shape fills its box. A turned one is drawn in the square of its
    diagonal (wide enough at any angle), which is then cut to this box: as many
    columns off each side, and rows off the top and the bottom, as the shape
    leaves transparent at this angle. Cutting as much off both sides moves the
    centre by whole pixels, so the sprite keeps the square's very pixels and lands
    on the same pixels of a frame (its top left is its centre less half its size);
    only transparent pixels, which every frame would blend for nothing, are gone:
    about a third of a sprite at 15 to 45 degrees.
    """
    if not degrees:
        return max(1, math.ceil(pw)), max(1, math.ceil(ph))
    diagonal = max(1, math.ceil(math.hypot(pw, ph)))
    r = math.radians(degrees)
    c, s = abs(math.cos(r)), abs(math.sin(r))
    hw, hh = pw / 2, ph / 2
    if kind is VisualKind.ELLIPSE:
        # Qt draws an ellipse as Bezier curves, which bulge out of it by 0.03 % at most.
        reach_x = math.hypot(hw * c, hh * s) * _CURVE_BULGE
        reach_y = math.hypot(hw * s, hh * c) * _CURVE_BULGE
    else:
        reach_x, reach_y = hw * c + hh * s, hw * s + hh * c
    return _narrowed(diagonal, reach_x), _narrowed(diagonal, reach_y)


def _narrowed(full: int, reach: float) -> int:
    """`full` less the largest even number of pixels that keeps a margin beyond +-`reach`."""
    spare = full - 2 * (reach + _EDGE_MARGIN)
    return full - 2 * max(0, math.floor(spare / 2))


class SpriteAtlas:
    """Pixmaps copied onto a few large pages, so that one draw call can blit many of them.

    Pixmaps are packed in shelves: left to right along the current shelf of the
    newest page, then on a new shelf below it, then on a new page. Nothing is
    freed one by one: when the pages are full, `clear` starts over.

    Args:
        width: the width of a page in pixels.
        height: the height of a page in pixels.
        max_pages: how many pages `place` may fill before it gives up.
    """

    def __init__(
        self, width: int = _ATLAS_WIDTH, height: int = _ATLAS_HEIGHT, max_pages: int = _ATLAS_PAGES
    ) -> None:
        self.width, self.height = width, height
        self.max_pages = max_pages
        self.pages: list[QPixmap] = []
        self._x = self._y = self._shelf_height = 0

    def clear(self) -> None:
        """Forget every page (a pixmap already placed keeps its page alive, not its place)."""
        self.pages = []
        self._x = self._y = self._shelf_height = 0

    def can_hold(self, pixmap: QPixmap) -> bool:
        """Whether `pixmap` fits on a page."""
        gap = _ATLAS_GAP
        return pixmap.width() <= self.width - gap and pixmap.height() <= self.height - gap

    def place(self, pixmap: QPixmap) -> tuple[QPixmap, int, int] | None:
        """Copy `pixmap` onto a page: the page and the copy's top-left corner.

        Returns:
            ``None`` when the pixmap is larger than a page, or every page is full.
        """
        if not self.can_hold(pixmap):
            return None
        w, h = pixmap.width(), pixmap.height()
        gap = _ATLAS_GAP
        if self.pages and self._x + w + gap > self.width:  # the shelf is full: start one below
            self._x, self._y = 0, self._y + self._shelf_height
            self._shelf_height = 0
        if not self.pages or self._y + h + gap > self.height:  # the page is full: start a page
            if len(self.pages) == self.max_pages:
                return None
            page = QPixmap(self.width, self.height)
            page.fill(Qt.GlobalColor.transparent)
            self.pages.append(page)
            self._x = self._y = self._shelf_height = 0
        page = self.pages[-1]
        x, y = self._x, self._y
        p = QPainter(page)
        # Source, not SourceOver: the copy must hold the pixmap's exact pixels.
        p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        p.drawPixmap(x, y, pixmap)
        p.end()
        self._x += w + gap
        self._shelf_height = max(self._shelf_height, h + gap)
        return page, x, y


class FragmentArray:
    """A contiguous array of `QPainter.PixmapFragment` structs, reused from frame to frame.

    PySide6 binds ``drawPixmapFragments(const PixmapFragment *, int count, ...)``
    as taking one fragment object and a count, so an array is passed as a
    wrapper around the address of its first struct (`shiboken6.wrapInstance`).
    The struct is ten doubles: x, y (the centre of the target) then the
    `FragmentFields`.
    """

    _DOUBLES = 10

    def __init__(self) -> None:
        self._doubles = array("d")
        self._fields: list[FragmentFields] = []
        # The batch and version last filled from, and the wrapper made then.
        self._batch: _Batch | None = None
        self._version = -1
        self._first: QPainter.PixmapFragment | None = None

    def fill_batch(self, batch: _Batch) -> QPainter.PixmapFragment:
        """`fill` from a batch; the same batch, unchanged since, is not copied again."""
        if self._first is None or self._batch is not batch or self._version != batch.version:
            self._first = self.fill(batch.xs, batch.ys, batch.fields)
            self._batch, self._version = batch, batch.version
        return self._first

    def fill(
        self, xs: list[float], ys: list[float], fields: list[FragmentFields]
    ) -> QPainter.PixmapFragment:
        """Write the fragments centred at (xs[i], ys[i]); a wrapper of the first, to draw with.

        The wrapper points into this array: draw before the next `fill`.
        """
        d, old = self._doubles, self._fields
        # Mostly the same sprites as last time, as the very same tuples: compared
        # by identity in C, and only those that differ are written again.
        differ = (
            list(itertools.compress(itertools.count(), map(operator.is_not, fields, old)))
            if len(fields) == len(old)
            else None
        )
        if differ is not None and len(differ) <= len(fields) // 4:
            step = self._DOUBLES
            for i in differ:
                d[i * step + 2 : i * step + step] = array("d", fields[i])
                old[i] = fields[i]
            d[0::step] = array("d", xs)
            d[1::step] = array("d", ys)
        else:
            flat: list[float] = []
            extend = flat.extend
            for x, y, f in zip(xs, ys, fields, strict=True):
                extend((x, y))
                extend(f)
            self._doubles = d = array("d", flat)
            # A copy: a kept run's list is patched in place (`SceneRenderer._patch`).
            self._fields = list(fields)
        first = shiboken6.wrapInstance(d.buffer_info()[0], QPainter.PixmapFragment)
        assert isinstance(first, QPainter.PixmapFragment)
        self._first = None  # filled from lists: no batch to recognise
        return first


@functools.cache
def fragment_arrays_work() -> bool:
    """Whether this PySide6 draws a whole array of fragments in one call (checked once).

    A binding that takes the fragments as a sequence, or reads only the first
    one, leaves the renderer drawing item by item. Needs a `QGuiApplication`.
    """
    texture = QPixmap(1, 1)
    texture.fill(QColor(255, 0, 0))
    image = QImage(4, 1, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    fragments = FragmentArray()
    one = (0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0)
    painter = QPainter(image)
    try:
        painter.drawPixmapFragments(fragments.fill([0.5, 2.5], [0.5, 0.5], [one, one]), 2, texture)
    except (TypeError, ValueError, AttributeError):
        return False
    finally:
        painter.end()
    return [image.pixelColor(i, 0).red() for i in range(4)] == [255, 0, 255, 0]


class _Batch:
    """A run of fragments drawn from one texture by one `QPainter.drawPixmapFragments` call."""

    __slots__ = ("fields", "texture", "tree_at", "version", "xs", "ys")

    def __init__(self, texture: QPixmap | None) -> None:
        self.texture = texture
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.fields: list[FragmentFields] = []
        #: The place in the tree (`_Node.index`) of each entry's entity.
        self.tree_at: list[int] = []
        #: Counts the changes of its entries (`SceneRenderer._patch`, `_move_runs`).
        self.version = 0


class _Items:
    """A run of items drawn one by one (`SceneRenderer._paint_items`)."""

    __slots__ = ("items", "tree_at")

    def __init__(self) -> None:
        self.items: list[PlacedEntity] = []
        #: The place in the tree (`_Node.index`) of each item's entity.
        self.tree_at: list[int] = []


#: How many values `_looks` lists for each entity.
_LOOK_WIDTH = 8


def _looks(entities: list[Entity]) -> list[object]:
    """All that decides how each entity is drawn but its position, as one flat list.

    The values are the entities' own objects, so a frame's list is built without
    making an object per entity (which would also feed the garbage collector),
    and two lists of the same objects compare in C, by identity. A visual is
    compared by its values, which may be changed in place. Entity ``i``'s values
    are at ``i * _LOOK_WIDTH`` onwards.
    """
    looks: list[object] = []
    add = looks.extend
    none = (None,) * (_LOOK_WIDTH - 3)
    for e in entities:
        v = e.visual
        if v is None:
            add((e.enabled, e.rotation, e.scale, *none))
        else:
            # Text and font size are read when a text is drawn, not collected.
            add((e.enabled, e.rotation, e.scale, v.kind, v.size, v.color, v.z, v.image))
    return looks


class _Seen:
    """What a draw list's runs were collected from: its entities, their looks and positions.

    A frame whose entities look the same (`_looks`) and whose tree is the same
    has the same runs; if the entities' positions are the same too, the same
    pixels. Local transforms are compared: the world transforms of trees follow
    from them.

    The entities are read in tree order (`DrawList.tree`), not in the drawing
    order: that is about the order they were made in, so that an entity and its
    values lie close in memory. Read in the drawing order (sorted by z), the
    same 10,000 entities took 5.2 ms a frame, in tree order 1.1 ms.
    """

    __slots__ = ("entities", "looks", "places", "trees")

    def __init__(self, dl: DrawList) -> None:
        self.entities = [n.entity for n in dl.tree]
        self.looks = _looks(self.entities)
        self.places = [e.position for e in self.entities]
        #: Each entity of a tree, drawn at its world position, and its place in the tree.
        self.trees = [(n.index, n) for n in dl._in_trees]


#: What a cached sprite is: kind, size on screen in quarter pixels, colour, whole degrees.
SpriteKey = tuple[VisualKind, int, int, Color, int]


class SceneRenderer:
    """Paints scenes; caches colours, fonts, images, sprites and drawing orders between frames.

    Args:
        assets_dir: the project's ``assets/`` folder, where image paths point.
        batched: draw sprites and images in batches from an atlas (see the module
            docstring); false draws every item by its own call. Both give the same
            pixels (within antialiasing rounding); batching is used only where
            `fragment_arrays_work`.
    """

    SELECTION = QColor(80, 170, 255)

    def __init__(self, assets_dir: str | Path, *, batched: bool = True) -> None:
        self.assets_dir = Path(assets_dir)
        self.batched = batched
        self._brushes: dict[Color, QBrush] = {}
        self._colors: dict[Color, QColor] = {}
        self._fonts: dict[int, QFont] = {}
        self._no_pen = QPen(Qt.PenStyle.NoPen)
        self._pixmaps: dict[str, QPixmap | None] = {}
        self._sprites: dict[SpriteKey, QPixmap] = {}
        self._draw_lists: weakref.WeakKeyDictionary[Scene, DrawList] = weakref.WeakKeyDictionary()
        self._atlas = SpriteAtlas()
        # Where sprites are in the atlas (texture and fragment fields), and images
        # (texture and top-left corner: their other fields depend on the item).
        self._atlas_sprites: dict[SpriteKey, tuple[QPixmap, FragmentFields]] = {}
        self._atlas_images: dict[str, tuple[QPixmap, int, int] | None] = {}
        self._fragment_arrays: list[FragmentArray] = []
        # Fragments remembered by the nodes of draw lists hold for one zoom and one
        # atlas: a new token (compared by identity) makes every node compute its own again.
        self._token = object()
        self._token_zoom = 0.0
        # The background and grid of the last frame painted with a grid, and what they
        # were painted for (`_backdrop`).
        self._backdrop_key: tuple[object, ...] | None = None
        self._backdrop_pixmap: QPixmap | None = None

    # --- caches ----------------------------------------------------------------------

    def _brush(self, c: Color) -> QBrush:
        b = self._brushes.get(c)
        if b is None:
            b = self._brushes[c] = QBrush(QColor(c[0], c[1], c[2], c[3]))
        return b

    def _qcolor(self, c: Color) -> QColor:
        q = self._colors.get(c)
        if q is None:
            q = self._colors[c] = QColor(c[0], c[1], c[2], c[3])
        return q

    def _font(self, pixel_size: float) -> QFont:
        px = max(1, round(pixel_size))
        f = self._fonts.get(px)
        if f is None:
            f = QFont()
            f.setPixelSize(px)
            self._fonts[px] = f
        return f

    def pixmap(self, rel: str) -> QPixmap | None:
        """An image from ``assets/`` (cached), or ``None`` when it cannot be read."""
        if rel not in self._pixmaps:
            path = self.assets_dir / rel
            img = QImage(str(path)) if path.is_file() else QImage()  # see `reload_image`
            self._pixmaps[rel] = None if img.isNull() else QPixmap.fromImage(img)
        return self._pixmaps[rel]

    def reload_image(self, rel: str) -> str | None:
        """Read an image of ``assets/`` again after it changed on disk.

        Only this image and its place in the atlas are dropped (the atlas keeps
        its other images and sprites); draw lists compute their fragments again.
        A file that cannot be read keeps the image shown so far, as a failed code
        reload keeps the old code; a deleted file shows as missing.

        Returns:
            Why the new file was not taken (the old image is kept), or ``None``.
        """
        path = self.assets_dir / rel
        if not path.exists():
            fresh: QPixmap | None = None
        else:
            # Through QImage: QPixmap(path) answers from QPixmapCache, keyed by the
            # file's modification time in whole seconds and its size, so a second
            # save within the same second (same size) would give the old pixels.
            img = QImage(str(path)) if path.is_file() else QImage()
            if img.isNull():
                return "Qt cannot read it as an image"
            fresh = QPixmap.fromImage(img)
        self._pixmaps[rel] = fresh
        # Its old atlas slot becomes unused space, reclaimed when the atlas starts over.
        self._atlas_images.pop(rel, None)
        self._token = object()
        return None

    def _sprite(
        self, kind: VisualKind, pw: float, ph: float, color: Color, degrees: int = 0
    ) -> QPixmap | None:
        """A shape pre-rendered at its size on screen and rotation, or ``None`` when too large.

        Blitting a cached sprite is several times faster than rasterising an
        antialiased shape for every item of every frame; rotations are cached
        in whole degrees, which cannot be told apart at sprite sizes.
        """
        key = (kind, round(pw * 4), round(ph * 4), color, degrees)
        pm = self._sprites.get(key)
        if pm is None:
            pm = self._render_sprite(kind, pw, ph, color, degrees)
            if pm is None:
                return None
            if len(self._sprites) > _MAX_SPRITES:
                self._sprites.clear()  # zooming through many sizes: start over
            self._sprites[key] = pm
        return pm

    def _render_sprite(
        self, kind: VisualKind, pw: float, ph: float, color: Color, degrees: int
    ) -> QPixmap | None:
        if pw * ph > _MAX_SPRITE_PIXELS or pw < 0.25 or ph < 0.25:
            return None
        if not degrees:
            return self._paint_shape(kind, pw, ph, color, 0, sprite_box(kind, pw, ph, 0))
        # A turned shape is drawn in the square of its diagonal, then cut (see `sprite_box`).
        side = max(1, math.ceil(math.hypot(pw, ph)))
        pm = self._paint_shape(kind, pw, ph, color, degrees, (side, side))
        w, h = sprite_box(kind, pw, ph, degrees)
        return pm if (w, h) == (side, side) else pm.copy((side - w) // 2, (side - h) // 2, w, h)

    def _paint_shape(
        self,
        kind: VisualKind,
        pw: float,
        ph: float,
        color: Color,
        degrees: int,
        box: tuple[int, int],
    ) -> QPixmap:
        """A transparent pixmap of size `box` with the shape drawn at its centre, antialiased."""
        bw, bh = box
        pm = QPixmap(bw, bh)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(self._no_pen)
        p.setBrush(self._brush(color))
        c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
        p.setTransform(QTransform(c, s, -s, c, bw / 2, bh / 2))
        rect = QRectF(-pw / 2, -ph / 2, pw, ph)
        if kind is VisualKind.ELLIPSE:
            p.drawEllipse(rect)
        else:
            p.drawRect(rect)
        p.end()
        return pm

    def _clear_atlas(self) -> None:
        self._atlas.clear()
        self._atlas_sprites.clear()
        self._atlas_images.clear()
        self._token = object()

    def _place(self, pixmap: QPixmap) -> tuple[QPixmap, int, int] | None:
        """`SpriteAtlas.place`, starting the atlas over when it is full."""
        if not self._atlas.can_hold(pixmap):
            return None
        placed = self._atlas.place(pixmap)
        if placed is None:
            self._clear_atlas()  # zooming or spinning through many sprites: start over
            placed = self._atlas.place(pixmap)
        return placed

    def _fragment(
        self, v: Visual, sx: float, sy: float, rot: float, zoom: float
    ) -> tuple[QPixmap, FragmentFields] | None:
        """The texture and fragment fields that draw `v`, or ``None``.

        ``None`` means the item is drawn on its own (`_paint_items`): a text, a
        missing or mirrored image, a shape too large for the sprite cache or an
        atlas page. Sizes and rotations are those `_paint_items` uses, so a fragment
        covers the pixels that drawing the item on its own would.
        """
        w, h = v.size[0] * sx, v.size[1] * sy
        kind = v.kind
        if kind is VisualKind.RECT or kind is VisualKind.ELLIPSE:
            pw, ph = abs(w * zoom), abs(h * zoom)
            deg = 0 if not rot or (kind is VisualKind.ELLIPSE and pw == ph) else round(rot) % 360
            key = (kind, round(pw * 4), round(ph * 4), v.color, deg)
            found = self._atlas_sprites.get(key)
            if found is None:
                sprite = self._render_sprite(kind, pw, ph, v.color, deg)
                placed = self._place(sprite) if sprite is not None else None
                if sprite is None or placed is None:
                    return None
                page, left, top = placed
                # Drawn unscaled and unrotated (the sprite is rendered rotated), centred
                # where `_paint_items` puts the sprite's centre.
                fields = (left, top, sprite.width(), sprite.height(), 1.0, 1.0, 0.0, 1.0)
                found = self._atlas_sprites[key] = (page, fields)
            return found
        # A mirrored image (negative size or scale) is drawn on its own: Qt draws a
        # target rectangle of negative size differently from a negative fragment scale.
        if kind is VisualKind.IMAGE and v.image and w > 0 and h > 0:
            if v.image not in self._atlas_images:
                pm = self.pixmap(v.image)
                if pm is None:
                    self._atlas_images[v.image] = None
                elif pm.width() <= _ATLAS_MAX_IMAGE and pm.height() <= _ATLAS_MAX_IMAGE:
                    self._atlas_images[v.image] = self._place(pm) or (pm, 0, 0)
                else:
                    self._atlas_images[v.image] = (pm, 0, 0)  # its own texture
            image_place = self._atlas_images[v.image]
            pm = self.pixmap(v.image)
            if image_place is None or pm is None:
                return None
            page, left, top = image_place
            iw, ih = pm.width(), pm.height()
            return page, (left, top, iw, ih, w * zoom / iw, h * zoom / ih, rot, 1.0)
        return None

    # --- painting ----------------------------------------------------------------------

    def paint(
        self,
        painter: QPainter,
        scene: Scene,
        size: QSizeF,
        camera: Camera,
        *,
        selected: Collection[Handle] = (),
        grid: bool = False,
    ) -> None:
        """Draw the scene's background, optional grid, visuals in z order and selection."""
        bg = scene.background
        backdrop = self._backdrop(painter, size, camera, bg) if grid else None
        if backdrop is not None:
            painter.drawPixmap(QPointF(0, 0), backdrop)
        else:
            painter.fillRect(QRectF(0, 0, size.width(), size.height()), self._qcolor(bg))
            if grid:
                self._paint_grid(painter, size, camera)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(self._no_pen)
        if self.batched and fragment_arrays_work():
            self._paint_batched(painter, scene, size, camera)
        else:
            self._paint_items(painter, (item[2:] for item in draw_items(scene)), size, camera)
        if selected:
            self._paint_selection(painter, scene, size, camera, selected)

    def announce_changes(self, scene: Scene, announced: bool = True) -> None:
        """Say whether every change of `scene` comes with a scene event.

        An announced scene is drawn from the runs of its last frame, patched for
        the entities its events name (see `DrawList`), so a frame in which
        nothing changed costs no Python work per entity. Code that changes such
        a scene without events must say so with `changed_without_events`.
        """
        self._draw_list(scene).announced = announced

    def changed_without_events(self, scene: Scene, handles: Iterable[Handle]) -> None:
        """These entities of an announced scene were changed without events (a live drag)."""
        self._draw_list(scene).changed.update(handles)

    def _draw_list(self, scene: Scene) -> DrawList:
        dl = self._draw_lists.get(scene)
        if dl is None:
            dl = self._draw_lists[scene] = DrawList(scene)
        return dl

    def _paint_batched(self, painter: QPainter, scene: Scene, size: QSizeF, camera: Camera) -> None:
        dl = self._draw_list(scene)
        runs = self._kept_runs(dl, scene, size, camera)
        if runs is None:
            if dl.update(scene):
                dl.seen = None
            if dl.unread:
                dl.unread -= 1
                dl.seen = None
            else:
                runs = self._reused_runs(dl, size, camera)
        if runs is None:
            runs = self._collect_runs(dl, size, camera)
            if runs is None:  # an entity changed its z since the order was sorted
                dl.stale = True
                dl.update(scene)
                dl.seen = None
                runs = self._collect_runs(dl, size, camera)
                assert runs is not None, "a freshly sorted order has every z right"
            dl.changed.clear()
            dl.runs, dl.runs_key = runs, self._runs_key(size, camera)
            if dl.seen is None and not dl.unread:  # else read this frame, or not needed
                dl.seen = _Seen(dl)
        arrays = self._fragment_arrays
        while len(arrays) < len(runs):
            arrays.append(FragmentArray())
        identity = QTransform()
        painter.setTransform(identity)
        for run, fragments in zip(runs, arrays, strict=False):
            if isinstance(run, _Batch):
                assert run.texture is not None
                first = fragments.fill_batch(run)
                painter.drawPixmapFragments(first, len(run.xs), run.texture)
            else:
                self._paint_items(painter, run.items, size, camera)

    def _runs_key(self, size: QSizeF, camera: Camera) -> tuple[object, ...]:
        # The token last: `_collect_runs` renews it when the zoom changes.
        return (camera.zoom, camera.center, size.width(), size.height(), self._token)

    def _kept_runs(
        self, dl: DrawList, scene: Scene, size: QSizeF, camera: Camera
    ) -> list[_Batch | _Items] | None:
        """The last frame's runs of an announced scene, patched; ``None``: collect anew."""
        runs = dl.runs
        if runs is None or not dl.announced:
            return None
        dl.seen = None  # whatever happens next, the runs are no longer what was seen
        tree = dl.follow_tree(scene)
        if (
            tree is None
            or len(scene.entities) != dl._entity_count
            or dl.runs_key != self._runs_key(size, camera)
            or len(dl.changed) > _MAX_PATCHED
            or not self._follow_runs(dl, runs, *tree, camera, size)
        ):
            dl.runs = None
            return None
        for h in dl.changed:
            if not self._patch(dl.nodes.get(h), camera, size):
                return None
        dl.changed.clear()
        return runs

    def _reused_runs(
        self, dl: DrawList, size: QSizeF, camera: Camera
    ) -> list[_Batch | _Items] | None:
        """The last frame's runs, patched where entities look different, moved where they moved.

        Running game code changes entities without events, so every entity is
        read again; reading the values into lists and comparing them with the
        lists the runs were collected from costs a fraction of collecting.

        Returns:
            ``None`` when many entities look different (or one `_patch` cannot
            patch), the order or the zoom changed or the atlas started over:
            collect anew.
        """
        seen, runs, key = dl.seen, dl.runs, dl.runs_key
        if seen is None:
            return None
        if runs is None or key[0] != camera.zoom or key[-1] is not self._token:
            dl.seen = None
            return None
        looks = _looks(seen.entities)
        places = [e.position for e in seen.entities]
        if looks != seen.looks:
            patched = self._patch_looks(dl, looks, seen.looks, camera, size)
            seen.looks = looks
            if not patched:
                # The same entities in the same order, as the collection that follows sees them.
                seen.places = places
                # Everything turning or changing colour every frame: reading first is
                # wasted, so the next frames are collected without it, ever more of them.
                dl.unread, dl.unread_next = dl.unread_next, min(2 * dl.unread_next, _MAX_UNREAD)
                return None
        dl.unread_next = 1
        new_key = self._runs_key(size, camera)
        if places != seen.places or new_key != key:
            seen.places, dl.runs_key = places, new_key
            self._move_runs(runs, seen, size, camera)
        dl.changed.clear()  # every entity was read
        return runs

    def _patch_looks(
        self, dl: DrawList, looks: list[object], seen: list[object], camera: Camera, size: QSizeF
    ) -> bool:
        """Patch the runs' entries of the few entities whose looks differ from `seen`.

        Compared by value, in C: a script that sets an equal new value every frame
        changes nothing.

        Returns:
            Whether the runs hold the frame; false when only collecting anew will do
            (too many entities changed, or one that `_patch` cannot).
        """
        flat = itertools.islice(
            itertools.compress(itertools.count(), map(operator.ne, looks, seen)),
            _MAX_PATCHED * _LOOK_WIDTH + 1,
        )
        changed = {i // _LOOK_WIDTH for i in flat}
        if len(changed) > _MAX_PATCHED:
            return False
        tree = dl.tree
        return all(self._patch(tree[at], camera, size) for at in changed)

    def _move_runs(
        self, runs: list[_Batch | _Items], seen: _Seen, size: QSizeF, camera: Camera
    ) -> None:
        """Put every entry of the runs at its entity's place in `seen` (through `camera`)."""
        world: list[tuple[float, float]] = list(seen.places)
        for at, n in seen.trees:  # computed by `DrawList.update` this frame
            world[at] = (n.x, n.y)
        zoom = camera.zoom
        cx, cy = camera.center
        half_w, half_h = size.width() / 2, size.height() / 2
        for run in runs:
            where = list(map(world.__getitem__, run.tree_at))
            if isinstance(run, _Batch):
                # `_collect_runs`'s arithmetic: a moved sprite lands where a collected one would.
                run.xs = [(p[0] - cx) * zoom + half_w for p in where]
                run.ys = [(p[1] - cy) * zoom + half_h for p in where]
                run.version += 1
            else:
                run.items = [(i[0], *p, *i[3:]) for i, p in zip(run.items, where, strict=True)]

    def _follow_runs(
        self,
        dl: DrawList,
        runs: list[_Batch | _Items],
        added: list[_Node],
        removed: list[_Node],
        camera: Camera,
        size: QSizeF,
    ) -> bool:
        """Take added and removed entities out of or into the kept runs, where that is simple.

        A removed entity must be the last of its batch (undoing an add), an added
        one drawn last, in the texture of the last batch (adding one).

        Returns:
            Whether the runs now hold the frame; false when only collecting anew will do.
        """
        for n in removed:
            e, run = n.entity, n.run
            if run is None:
                if e.visual is not None and e.enabled:
                    return False  # drawn one by one
                continue  # it was not drawn
            if n.slot != len(run.xs) - 1 or len(run.xs) == 1:
                return False
            del run.xs[-1], run.ys[-1], run.fields[-1], run.tree_at[-1]
            run.version += 1
        for n in added:
            e, v = n.entity, n.entity.visual
            if v is None or not e.enabled:
                continue  # not drawn
            last = runs[-1] if runs else None
            if dl.order[-1] is not n or not isinstance(last, _Batch):
                return False
            n.run, n.slot = last, len(last.xs)
            last.xs.append(0.0)
            last.ys.append(0.0)
            last.fields.append(last.fields[-1])
            last.tree_at.append(n.index)
            if not self._patch(n, camera, size):
                return False
        return True

    def _patch(self, n: _Node | None, camera: Camera, size: QSizeF) -> bool:
        """Update the batch entry of one changed entity; false when only a new frame will do.

        Only an entity drawn in a batch that is still drawn in the same batch
        (same z, same texture) is patched: anything else moves it among the runs.
        """
        if n is None or n.in_tree or n.run is None:
            return False  # not drawn in a batch, or moving it moves its descendants
        e = n.entity
        v = e.visual
        if v is None or v.z != n.z or not e.enabled:
            return False
        (x, y), rot, sc = e.position, e.rotation, e.scale
        zoom = camera.zoom
        key = (self._token, rot, sc, v.size, v.color, v.kind, v.image)
        if n.key != key:
            n.key, n.fragment = key, self._fragment(v, sc[0], sc[1], rot, zoom)
        fragment = n.fragment
        run = n.run
        if fragment is None or fragment[0] is not run.texture:
            return False
        cx, cy = camera.center
        run.xs[n.slot] = (x - cx) * zoom + size.width() / 2
        run.ys[n.slot] = (y - cy) * zoom + size.height() / 2
        run.fields[n.slot] = fragment[1]
        run.version += 1
        return True

    def _collect_runs(
        self, dl: DrawList, size: QSizeF, camera: Camera
    ) -> list[_Batch | _Items] | None:
        """The frame as runs: batches of fragments on one texture, and items drawn one by one.

        Returns:
            ``None`` when an entity's z is no longer the z the order was sorted by.
        """
        zoom = camera.zoom
        if zoom != self._token_zoom:
            self._token, self._token_zoom = object(), zoom
        token = self._token
        cx, cy = camera.center
        half_w, half_h = size.width() / 2, size.height() / 2
        runs: list[_Batch | _Items] = []
        batch = _Batch(None)  # the open batch (the last run) or a placeholder
        add_x, add_y, add_fields = batch.xs.append, batch.ys.append, batch.fields.append
        add_at = batch.tree_at.append
        alone: _Items | None = None  # the open run of items drawn one by one
        # This loop runs for every item of every frame: locals only, and no call
        # for an item drawn the same way as last frame, which is when the key of
        # everything its fragment depends on is the same. The token stands for
        # the zoom and the atlas; the other members are immutable values, mostly
        # the very objects of last frame, which makes the comparison cheap.
        for n in dl.order:
            e = n.entity
            v = e.visual
            n.run = None
            if v is None:
                continue
            if v.z != n.z:
                return None
            if not e.enabled:
                continue
            if n.in_tree:
                x, y, rot, sc = n.x, n.y, n.rot, n.scale
            else:
                x, y = e.position
                rot, sc = e.rotation, e.scale
            key = (token, rot, sc, v.size, v.color, v.kind, v.image)
            if n.key != key:
                n.key, n.fragment = key, self._fragment(v, sc[0], sc[1], rot, zoom)
            fragment = n.fragment
            if fragment is None:
                if alone is None:
                    alone = _Items()
                    runs.append(alone)
                    batch = _Batch(None)
                alone.items.append((e, x, y, rot, sc[0], sc[1]))
                alone.tree_at.append(n.index)
                continue
            if batch.texture is not fragment[0]:
                batch = _Batch(fragment[0])
                add_x, add_y, add_fields = batch.xs.append, batch.ys.append, batch.fields.append
                add_at = batch.tree_at.append
                runs.append(batch)
                alone = None
            n.run, n.slot = batch, len(batch.xs)
            add_x((x - cx) * zoom + half_w)
            add_y((y - cy) * zoom + half_h)
            add_fields(fragment[1])
            add_at(n.index)
        return runs

    def _paint_items(
        self, painter: QPainter, items: Iterable[PlacedEntity], size: QSizeF, camera: Camera
    ) -> None:
        """Draw each item by its own call (antialiasing on, no pen); leaves no transform."""
        sprites = self._sprites
        zoom = camera.zoom
        current_brush: Color | None = None
        view = camera.transform(size)
        identity = QTransform()
        cx, cy = camera.center
        half_w, half_h = size.width() / 2, size.height() / 2
        # Which transform the painter holds, so it is only set when it changes.
        mode = _OTHER
        for e, x, y, rot, sx, sy in items:
            v = e.visual
            assert v is not None
            w, h = v.size[0] * sx, v.size[1] * sy
            kind = v.kind
            if kind is VisualKind.TEXT:
                # Text is laid out in view pixels so it stays crisp at any zoom.
                painter.setTransform(camera.item_transform(size, x, y, rot, zoomed=False))
                painter.setFont(self._font(v.font_size * max(sx, sy) * zoom))
                painter.setPen(self._qcolor(v.color))
                painter.drawText(
                    QRectF(-w * zoom / 2, -h * zoom / 2, w * zoom, h * zoom),
                    int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextDontClip),
                    v.text,
                )
                painter.setPen(self._no_pen)
                mode = _OTHER
                continue
            if kind is VisualKind.RECT or kind is VisualKind.ELLIPSE:
                pw, ph = abs(w * zoom), abs(h * zoom)
                # A circle looks the same at any rotation.
                deg = (
                    0 if not rot or (kind is VisualKind.ELLIPSE and pw == ph) else round(rot) % 360
                )
                sprite = sprites.get((kind, round(pw * 4), round(ph * 4), v.color, deg))
                if sprite is None:
                    sprite = self._sprite(kind, pw, ph, v.color, deg)
                if sprite is not None:
                    if mode != _PIXELS:
                        painter.setTransform(identity)
                        mode = _PIXELS
                    painter.drawPixmap(
                        QPointF(
                            (x - cx) * zoom + half_w - sprite.width() / 2,
                            (y - cy) * zoom + half_h - sprite.height() / 2,
                        ),
                        sprite,
                    )
                    continue
            if rot:
                painter.setTransform(camera.item_transform(size, x, y, rot))
                mode = _OTHER
                rect = QRectF(-w / 2, -h / 2, w, h)
            else:
                if mode != _SCENE:
                    painter.setTransform(view)
                    mode = _SCENE
                rect = QRectF(x - w / 2, y - h / 2, w, h)
            if kind is VisualKind.RECT or kind is VisualKind.ELLIPSE:
                if v.color != current_brush:
                    painter.setBrush(self._brush(v.color))
                    current_brush = v.color
                if kind is VisualKind.RECT:
                    painter.drawRect(rect)
                else:
                    painter.drawEllipse(rect)
            else:
                pm = self.pixmap(v.image) if v.image else None
                if pm is not None:
                    painter.drawPixmap(rect, pm, QRectF(pm.rect()))
                else:
                    self._paint_missing(painter, rect)
                    current_brush = None
        painter.setTransform(identity)

    def _paint_missing(self, painter: QPainter, rect: QRectF) -> None:
        painter.setBrush(QBrush(QColor(255, 0, 255, 90)))
        painter.setPen(QPen(QColor(255, 0, 255), 0))
        painter.drawRect(rect)
        painter.drawLine(rect.topLeft(), rect.bottomRight())
        painter.drawLine(rect.topRight(), rect.bottomLeft())
        painter.setPen(Qt.PenStyle.NoPen)

    def _paint_selection(
        self,
        painter: QPainter,
        scene: Scene,
        size: QSizeF,
        camera: Camera,
        selected: Collection[Handle],
    ) -> None:
        pen = QPen(self.SELECTION, 2)
        pen.setCosmetic(True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for h in selected:
            e = scene.get(h)
            if e is None:
                continue
            (x, y), rot, (sx, sy) = scene.world_transform(e.handle)
            box = e.visual.size if e.visual is not None else Vec2(16, 16)
            w, hh = box[0] * sx, box[1] * sy
            painter.setTransform(camera.item_transform(size, x, y, rot))
            painter.setPen(pen)
            painter.drawRect(QRectF(-w / 2 - 3, -hh / 2 - 3, w + 6, hh + 6))
        painter.setTransform(QTransform())
        painter.setPen(Qt.PenStyle.NoPen)

    def _backdrop(
        self, painter: QPainter, size: QSizeF, camera: Camera, bg: Color
    ) -> QPixmap | None:
        """The background with the grid on it, painted once per view size, camera and colour.

        The grid's lines are blended across the whole view: 5-19 ms a frame at
        1280x720, depending on the zoom, for a picture that changes only when the
        view pans, zooms or resizes. A copy of an opaque pixmap costs a fraction
        of that and gives the same pixels. ``None`` when the background is not
        opaque (it blends with what is under it) or the size is empty: drawn as is.
        """
        device = painter.device()
        ratio = device.devicePixelRatioF() if device is not None else 1.0
        w, h = size.width(), size.height()
        if bg[3] != 255 or w < 1 or h < 1:
            return None
        key = (w, h, ratio, camera.zoom, camera.center, bg)
        if key != self._backdrop_key or self._backdrop_pixmap is None:
            pm = QPixmap(round(w * ratio), round(h * ratio))
            pm.setDevicePixelRatio(ratio)
            p = QPainter(pm)
            try:
                p.fillRect(QRectF(0, 0, w, h), self._qcolor(bg))
                self._paint_grid(p, size, camera)
            finally:
                p.end()
            self._backdrop_key, self._backdrop_pixmap = key, pm
        return self._backdrop_pixmap

    def _paint_grid(self, painter: QPainter, size: QSizeF, camera: Camera) -> None:
        step = 32.0
        while step * camera.zoom < 12:
            step *= 4
        top_left = camera.view_to_scene(QPointF(0, 0), size)
        bottom_right = camera.view_to_scene(QPointF(size.width(), size.height()), size)
        minor = QPen(QColor(255, 255, 255, 18), 1)
        axis = QPen(QColor(255, 255, 255, 55), 1)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        x = math.floor(top_left[0] / step) * step
        while x <= bottom_right[0]:
            painter.setPen(axis if abs(x) < 1e-9 else minor)
            vx = camera.scene_to_view((x, 0), size).x()
            painter.drawLine(QPointF(vx, 0), QPointF(vx, size.height()))
            x += step
        y = math.floor(top_left[1] / step) * step
        while y <= bottom_right[1]:
            painter.setPen(axis if abs(y) < 1e-9 else minor)
            vy = camera.scene_to_view((0, y), size).y()
            painter.drawLine(QPointF(0, vy), QPointF(size.width(), vy))
            y += step
        painter.setPen(Qt.PenStyle.NoPen)

    # --- picking -----------------------------------------------------------------------------

    def hit_test(self, scene: Scene, point: tuple[float, float]) -> Handle | None:
        """The topmost entity whose visual contains the scene point, or ``None``."""
        for _, _, e, x, y, rot, sx, sy in reversed(draw_items(scene)):
            v = e.visual
            assert v is not None
            dx, dy = point[0] - x, point[1] - y
            if rot:
                r = math.radians(-rot)
                c, s = math.cos(r), math.sin(r)
                dx, dy = dx * c - dy * s, dx * s + dy * c
            hw, hh = abs(v.size[0] * sx) / 2, abs(v.size[1] * sy) / 2
            if hw == 0 or hh == 0:
                continue
            if v.kind is VisualKind.ELLIPSE:
                if (dx / hw) ** 2 + (dy / hh) ** 2 <= 1.0:
                    return e.handle
            elif abs(dx) <= hw and abs(dy) <= hh:
                return e.handle
        return None

    def bounds(self, scene: Scene) -> QRectF:
        """The scene-space rectangle around every visual (for "frame all")."""
        rect = QRectF()
        for _, _, e, x, y, _, sx, sy in draw_items(scene):
            v = e.visual
            assert v is not None
            w, h = abs(v.size[0] * sx), abs(v.size[1] * sy)
            rect = rect.united(QRectF(x - w / 2, y - h / 2, w, h))
        return rect


def time_paint(
    scene: Scene, frames: int, width: int, height: int, *, warmup: int = 2, moving: bool = False
) -> list[float]:
    """Seconds each of `frames` paints of `scene` takes on an offscreen image (the benchmark).

    The first `warmup` paints (which fill the sprite cache, the atlas and the draw
    list) are not counted. With `moving`, every entity moves before each paint,
    as a game's do every frame (the moves are not timed; they go one pixel right
    and down, then back, so the picture stays the same size).
    """
    from PySide6.QtGui import QGuiApplication, QImage

    app = QGuiApplication.instance() or QGuiApplication([])
    renderer = SceneRenderer(Path.cwd())
    camera = Camera()
    size = QSizeF(width, height)
    image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    times = []
    entities = list(scene) if moving else []
    for i in range(frames + warmup):
        step = 1.0 if i % 2 == 0 else -1.0
        for e in entities:
            x, y = e.position
            e.position = Vec2(x + step, y + step)
        t0 = time.perf_counter()
        painter = QPainter(image)
        renderer.paint(painter, scene, size, camera)
        painter.end()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    del app
    return times
