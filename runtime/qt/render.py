"""Drawing a `Scene` with QPainter: the one drawing module of Hotplay.

The editor's scene view and the player window (`runtime.qt.player_window`)
both draw through `SceneRenderer`, so a scene looks the same in both.

Scene coordinates have their origin at the scene centre, y pointing down and
rotations in degrees clockwise; `Camera` maps them to a widget's pixels.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QPixmap, QTransform

from runtime.scene import Entity, Scene, VisualKind
from runtime.values import Color, Handle, Vec2

#: Shapes larger than this (in pixels on screen) are drawn directly, not cached.
_MAX_SPRITE_PIXELS = 1024 * 1024
#: How many distinct sprites are kept before the cache starts over.
_MAX_SPRITES = 4096

# Painter transform modes in SceneRenderer.paint.
_OTHER, _PIXELS, _SCENE = 0, 1, 2

#: (x, y, rotation in degrees, scale x, scale y) of an entity in scene coordinates.
WorldTransform = tuple[float, float, float, float, float]


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


class SceneRenderer:
    """Paints scenes; caches colours, fonts and images between frames.

    Args:
        assets_dir: the project's ``assets/`` folder, where image paths point.
    """

    SELECTION = QColor(80, 170, 255)

    def __init__(self, assets_dir: str | Path) -> None:
        self.assets_dir = Path(assets_dir)
        self._brushes: dict[Color, QBrush] = {}
        self._colors: dict[Color, QColor] = {}
        self._fonts: dict[int, QFont] = {}
        self._no_pen = QPen(Qt.PenStyle.NoPen)
        self._pixmaps: dict[str, QPixmap | None] = {}
        self._sprites: dict[tuple[VisualKind, int, int, Color, int], QPixmap] = {}

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
            pm = QPixmap(str(path)) if path.is_file() else QPixmap()
            self._pixmaps[rel] = None if pm.isNull() else pm
        return self._pixmaps[rel]

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
            if pw * ph > _MAX_SPRITE_PIXELS or pw < 0.25 or ph < 0.25:
                return None
            if len(self._sprites) > _MAX_SPRITES:
                self._sprites.clear()  # zooming through many sizes: start over
            side = math.hypot(pw, ph) if degrees else 0.0
            bw, bh = (side, side) if degrees else (pw, ph)
            pm = QPixmap(max(1, math.ceil(bw)), max(1, math.ceil(bh)))
            pm.fill(Qt.GlobalColor.transparent)
            p = QPainter(pm)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setPen(self._no_pen)
            p.setBrush(self._brush(color))
            c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
            p.setTransform(QTransform(c, s, -s, c, pm.width() / 2, pm.height() / 2))
            rect = QRectF(-pw / 2, -ph / 2, pw, ph)
            if kind is VisualKind.ELLIPSE:
                p.drawEllipse(rect)
            else:
                p.drawRect(rect)
            p.end()
            self._sprites[key] = pm
        return pm

    def forget_images(self) -> None:
        """Drop cached images (after files in ``assets/`` changed)."""
        self._pixmaps.clear()

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
        painter.fillRect(QRectF(0, 0, size.width(), size.height()), self._qcolor(bg))
        if grid:
            self._paint_grid(painter, size, camera)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(self._no_pen)
        items = draw_items(scene)
        sprites = self._sprites
        zoom = camera.zoom
        current_brush: Color | None = None
        view = camera.transform(size)
        identity = QTransform()
        cx, cy = camera.center
        half_w, half_h = size.width() / 2, size.height() / 2
        # Which transform the painter holds, so it is only set when it changes.
        mode = _OTHER
        for _, _, e, x, y, rot, sx, sy in items:
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
        if selected:
            self._paint_selection(painter, scene, size, camera, selected)

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
    scene: Scene, frames: int, width: int, height: int, *, warmup: int = 2
) -> list[float]:
    """Seconds each of `frames` paints of `scene` takes on an offscreen image (the benchmark).

    The first `warmup` paints (which fill the sprite cache) are not counted.
    """
    from PySide6.QtGui import QGuiApplication, QImage

    app = QGuiApplication.instance() or QGuiApplication([])
    renderer = SceneRenderer(Path.cwd())
    camera = Camera()
    size = QSizeF(width, height)
    image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    times = []
    for i in range(frames + warmup):
        t0 = time.perf_counter()
        painter = QPainter(image)
        renderer.paint(painter, scene, size, camera)
        painter.end()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    del app
    return times
