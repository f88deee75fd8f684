"""The scene view: draws a scene with `runtime.qt.render`, pans, zooms, picks and drags.

While editing it shows the edited scene and repaints on model events; while
playing it shows the running copy and is repainted on every game frame. Moves
made by dragging are applied live to the entity and reported once, on release,
so the editing controller can record a single undoable command.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFocusEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from runtime import Handle, Scene, Vec2
from runtime.qt.keys import key_name
from runtime.qt.render import Camera, SceneRenderer
from runtime.scene import SceneEvent

#: The drag payload of an image for the scene view: its path relative to ``assets/``
#: (UTF-8); the asset browser's drags carry it.
ASSET_MIME = "application/x-hotplay-asset"


class SceneView(QWidget):
    """Shows one scene; the main window decides which (edited or playing).

    Signals:
        entityClicked(object): a click picked an entity (`Handle`) or nothing (``None``).
        moveFinished(object, object, object): (entity, old position, new position)
            after a drag.
        keyPressed(str), keyReleased(str): game keys, while playing and focused.
        assetDropped(str, object): an image of ``assets/`` (its relative path) was
            dropped at a scene position (`Vec2`), while editing.
    """

    entityClicked = Signal(object)
    moveFinished = Signal(object, object, object)
    keyPressed = Signal(str)
    keyReleased = Signal(str)
    assetDropped = Signal(str, object)

    def __init__(self, assets_dir: str | Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sceneView")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(False)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAcceptDrops(True)
        self.renderer = SceneRenderer(assets_dir)
        self.camera = Camera()
        self.grid = True
        self.mode = "editing"  # "editing", "playing" or "paused": the frame colour says which
        self._scene: Scene | None = None
        self._selected: Handle | None = None
        self._fitted = False
        self._pan_from: QPointF | None = None
        self._drag: tuple[Handle, Vec2, Vec2] | None = None  # entity, press point, old position
        self._dragged = False

    # --- what is shown ----------------------------------------------------------------

    @property
    def scene(self) -> Scene | None:
        """The scene shown now: the edited one, or the running copy while playing."""
        return self._scene

    @property
    def editable(self) -> bool:
        """Whether clicks and drags edit the scene (not while playing)."""
        return self.mode == "editing"

    def set_scene(self, scene: Scene | None, *, mode: str = "editing", fit: bool = False) -> None:
        """Show another scene; `fit` frames its content."""
        if self._scene is not None:
            self._scene.unsubscribe(self._on_scene_event)
        self._scene = scene
        self.mode = mode
        self._drag = None
        if scene is not None and mode == "editing":
            # A running scene changes every frame without events: the frame signal repaints.
            scene.subscribe(self._on_scene_event)
        if fit:
            self._fitted = False
            self.frame_all()
        self.update()

    def set_mode(self, mode: str) -> None:
        """Editing, playing or paused (the border colour)."""
        self.mode = mode
        self.update()

    def set_selected(self, handle: Handle | None) -> None:
        """Outline this entity."""
        self._selected = handle
        self.update()

    @property
    def selected(self) -> Handle | None:
        """The outlined entity."""
        return self._selected

    def frame_all(self) -> None:
        """Zoom and centre so the whole scene is visible."""
        if self._scene is None or self.width() < 2:
            return
        rect = self.renderer.bounds(self._scene)
        if rect.isEmpty():
            rect = QRectF(-200, -150, 400, 300)
        self.camera.fit(rect, self._size())
        self._fitted = True
        self.update()

    def scene_to_view(self, p: tuple[float, float]) -> QPointF:
        """A scene point in this widget's pixels."""
        return self.camera.scene_to_view(p, self._size())

    def view_to_scene(self, p: QPointF) -> Vec2:
        """A pixel of this widget in scene coordinates."""
        return self.camera.view_to_scene(p, self._size())

    def _size(self) -> QSizeF:
        return QSizeF(self.width(), self.height())

    # --- model events --------------------------------------------------------------------

    def _on_scene_event(self, _event: SceneEvent) -> None:
        self.update()

    # --- painting -------------------------------------------------------------------------

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: D102 (base-class API)
        p = QPainter(self)
        try:
            size = self._size()
            if self._scene is None:
                p.fillRect(self.rect(), QColor(24, 26, 33))
                p.setPen(QColor("#7d8590"))
                p.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter), "No scene")
                return
            selected = (self._selected,) if self._selected is not None else ()
            self.renderer.paint(
                p, self._scene, size, self.camera, selected=selected, grid=self.grid
            )
            self._paint_overlay(p)
        finally:
            p.end()

    def _paint_overlay(self, p: QPainter) -> None:
        color = {"playing": QColor(42, 157, 143), "paused": QColor(233, 196, 106)}.get(self.mode)
        if color is not None:
            pen = QPen(color, 3)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(1.5, 1.5, self.width() - 3, self.height() - 3))
        p.setPen(QColor(255, 255, 255, 110))
        f = p.font()
        f.setPixelSize(11)
        p.setFont(f)
        p.drawText(
            QRectF(8, self.height() - 22, self.width() - 16, 18),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            f"{self.camera.zoom * 100:.0f}%",
        )

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: D102 (base-class API)
        super().resizeEvent(event)
        if not self._fitted:
            self.frame_all()

    # --- mouse -------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: D102 (base-class API)
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        pos = event.position()
        if event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton) or (
            event.button() == Qt.MouseButton.LeftButton
            and event.modifiers() & Qt.KeyboardModifier.AltModifier
        ):
            self._pan_from = pos
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if event.button() != Qt.MouseButton.LeftButton or self._scene is None:
            return
        point = self.view_to_scene(pos)
        hit = self.renderer.hit_test(self._scene, point)
        self.entityClicked.emit(hit)
        if hit is not None and self.editable:
            self._drag = (hit, point, self._scene[hit].position)
            self._dragged = False

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: D102 (base-class API)
        pos = event.position()
        if self._pan_from is not None:
            d = pos - self._pan_from
            self._pan_from = pos
            z = self.camera.zoom
            self.camera.center = Vec2(
                self.camera.center[0] - d.x() / z, self.camera.center[1] - d.y() / z
            )
            self.update()
            return
        if self._drag is None or self._scene is None:
            return
        h, start, old = self._drag
        e = self._scene.get(h)
        if e is None:
            self._drag = None
            return
        delta = self.view_to_scene(pos) - start
        if not self._dragged and abs(delta) * self.camera.zoom < 3:
            return  # a click, not a drag, until the mouse really moves
        self._dragged = True
        local = self._to_parent_space(h, delta)
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            local = Vec2(
                round((old[0] + local[0]) / 16) * 16 - old[0],
                round((old[1] + local[1]) / 16) * 16 - old[1],
            )
        # Live feedback without an event per mouse move; one command on release.
        e.position = old + local
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: D102 (base-class API)
        if self._pan_from is not None:
            self._pan_from = None
            self.unsetCursor()
            return
        drag, self._drag = self._drag, None
        if drag is None or not self._dragged or self._scene is None:
            return
        h, _, old = drag
        e = self._scene.get(h)
        if e is not None and e.position != old:
            self.moveFinished.emit(h, old, e.position)

    def _to_parent_space(self, h: Handle, delta: Vec2) -> Vec2:
        """A scene-space offset in the coordinates of the entity's parent."""
        assert self._scene is not None
        parent = self._scene[h].parent
        if not parent:
            return delta
        _, rot, scale = self._scene.world_transform(parent)
        d = delta.rotated(-rot)
        sx = scale[0] if scale[0] else 1.0
        sy = scale[1] if scale[1] else 1.0
        return Vec2(d[0] / sx, d[1] / sy)

    def _dropped_asset(self, event: QDropEvent | QDragMoveEvent | QDragEnterEvent) -> str:
        data = event.mimeData()
        if not self.editable or not data.hasFormat(ASSET_MIME):
            return ""
        return bytes(data.data(ASSET_MIME).data()).decode("utf-8", "replace")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: D102 (base-class API)
        if self._dropped_asset(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: D102 (base-class API)
        if self._dropped_asset(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: D102 (base-class API)
        rel = self._dropped_asset(event)
        if not rel:
            event.ignore()
            return
        event.acceptProposedAction()
        self.assetDropped.emit(rel, self.view_to_scene(event.position()))

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: D102 (base-class API)
        steps = event.angleDelta().y() / 120.0
        if not steps:
            return
        pos = event.position()
        before = self.view_to_scene(pos)
        self.camera.zoom = max(0.05, min(20.0, self.camera.zoom * math.pow(1.15, steps)))
        after = self.view_to_scene(pos)
        # Zoom about the cursor: the scene point under it stays under it.
        self.camera.center = self.camera.center + (before - after)
        self.update()

    # --- keyboard -----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: D102 (base-class API)
        if self.mode != "editing":
            name = key_name(event.key())
            if name is not None:
                if not event.isAutoRepeat():
                    self.keyPressed.emit(name)
                return
        if event.key() in (Qt.Key.Key_Home, Qt.Key.Key_F) and self.mode == "editing":
            self.frame_all()
            return
        if event.key() == Qt.Key.Key_G and self.mode == "editing":
            self.grid = not self.grid
            self.update()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: D102 (base-class API)
        if self.mode != "editing":
            name = key_name(event.key())
            if name is not None:
                if not event.isAutoRepeat():
                    self.keyReleased.emit(name)
                return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: D102 (base-class API)
        # Keys released while another widget has focus never reach us: let go of all.
        self.keyReleased.emit("*")
        super().focusOutEvent(event)
