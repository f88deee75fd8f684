"""The scene view: draws a scene with `runtime.qt.render`, pans, zooms, picks and drags.

While editing it shows the edited scene and repaints on model events; while
playing it shows the running copy and is repainted on every game frame. The
selection carries the handles of `editor.gizmos` (move, rotate or scale); a
drag of a handle or of the selected entities is applied live and reported once,
on release, so the editing controller records a single undoable command. A
drag on empty space draws a selection box; Shift adds to the selection.
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
    QPainterPath,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QSizePolicy,
    QWidget,
)

from editor.gizmos import (
    KNOB,
    RING_RADIUS,
    GizmoDrag,
    GizmoLayout,
    GizmoMode,
    GizmoPart,
    Snap,
    apply_transforms,
)
from runtime import Handle, Scene, Vec2
from runtime.qt.keys import key_name
from runtime.qt.render import Camera, SceneRenderer
from runtime.scene import SceneEvent

#: The drag payload of an image for the scene view: its path relative to ``assets/``
#: (UTF-8); the asset browser's drags carry it.
ASSET_MIME = "application/x-hotplay-asset"

#: The colours of the gizmo's x and y handles, its free part, and the part being dragged.
_X_COLOR, _Y_COLOR = QColor(230, 90, 90), QColor(110, 200, 110)
_FREE_COLOR, _ACTIVE_COLOR = QColor(120, 170, 245), QColor(255, 214, 102)
#: Pixels the mouse must travel before a press becomes a drag.
_DRAG_START = 3.0
_VERBS = {GizmoPart.ROTATE: "Rotate", GizmoPart.SCALE_X: "Scale", GizmoPart.SCALE_Y: "Scale"}


class SceneView(QWidget):
    """Shows one scene; the main window decides which (edited or playing).

    Signals:
        entityClicked(object): a plain click picked an entity (`Handle`) or nothing (``None``).
        selectionRequested(object): a selection box or a Shift+click asks for this
            selection (a tuple of `Handle`, the first one primary).
        transformFinished(str, object, object): (verb, transforms before, after) once
            a drag ends: dicts of `Handle` to `editor.gizmos.Transform`.
        contextMenuRequested(object, object): a right click without a drag, at this
            global `QPoint`, on this entity (or ``None``).
        keyPressed(str), keyReleased(str): game keys, while playing and focused.
        assetDropped(str, object): an image of ``assets/`` (its relative path) was
            dropped at a scene position (`Vec2`), while editing.
    """

    entityClicked = Signal(object)
    selectionRequested = Signal(object)
    transformFinished = Signal(str, object, object)
    contextMenuRequested = Signal(object, object)
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
        #: Which handles the selection shows.
        self.gizmo_mode = GizmoMode.MOVE
        #: Snapping of drags (Ctrl, at the press or held, inverts `Snap.enabled`).
        self.snap = Snap()
        self._scene: Scene | None = None
        self._selection: tuple[Handle, ...] = ()
        self._fitted = False
        self._pan_from: QPointF | None = None
        self._pan_moved = False
        self._press: QPointF | None = None  # where a left drag began, in view pixels
        self._drag: GizmoDrag | None = None
        self._dragged = False
        self._band: QRectF | None = None  # the selection box, in view pixels
        self._band_adds = False  # Shift held: the box adds to the selection
        self._ctrl_at_press = False  # Ctrl at the press inverts snapping for the drag
        self._click_selects: Handle | None = None  # a click on one of several selected

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
        self._band = None
        if scene is not None and mode == "editing":
            # A running scene changes every frame without events: the frame signal repaints.
            scene.subscribe(self._on_scene_event)
            # The edited scene changes only by commands, which announce every change:
            # the renderer redraws what it kept and updates what they name.
            self.renderer.announce_changes(scene)
        if fit:
            self._fitted = False
            self.frame_all()
        self.update()

    def set_mode(self, mode: str) -> None:
        """Editing, playing or paused (the border colour)."""
        self.mode = mode
        self.update()

    def set_selected(self, handle: Handle | None) -> None:
        """Outline this entity alone (``None``: nothing)."""
        self.set_selection(() if handle is None else (handle,))

    def set_selection(self, handles: tuple[Handle, ...]) -> None:
        """Outline these entities; the first carries the gizmo."""
        self._selection = tuple(handles)
        self.update()

    @property
    def selected(self) -> Handle | None:
        """The primary selected entity (the gizmo's)."""
        return self._selection[0] if self._selection else None

    @property
    def selection(self) -> tuple[Handle, ...]:
        """Every outlined entity, the primary one first."""
        return self._selection

    def set_gizmo_mode(self, mode: GizmoMode) -> None:
        """Show move, rotate or scale handles."""
        self.gizmo_mode = mode
        self.update()

    def gizmo_layout(self) -> GizmoLayout | None:
        """Where the handles are now, or ``None`` (nothing selected, or playing)."""
        scene = self._scene
        if not self.editable or scene is None or not self._selection:
            return None
        first = self._selection[0]
        if first not in scene:
            return None
        pos, rot, _ = scene.world_transform(first)
        p = self.scene_to_view(pos)
        angle = rot if self.gizmo_mode is GizmoMode.SCALE else 0.0
        return GizmoLayout(self.gizmo_mode, Vec2(p.x(), p.y()), angle)

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
            self.renderer.paint(
                p, self._scene, size, self.camera, selected=self._selection, grid=self.grid
            )
            self._paint_gizmo(p)
            self._paint_band(p)
            self._paint_overlay(p)
        finally:
            p.end()

    def _paint_gizmo(self, p: QPainter) -> None:
        layout = self.gizmo_layout()
        if layout is None:
            return
        active = self._drag.part if self._drag is not None and self._dragged else None
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        c = QPointF(*layout.pivot)

        def pen(color: QColor, part: GizmoPart, width: float = 2.0) -> QPen:
            return QPen(_ACTIVE_COLOR if part is active else color, width)

        if layout.mode is GizmoMode.ROTATE:
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(pen(_FREE_COLOR, GizmoPart.ROTATE, 3.0))
            p.drawEllipse(c, RING_RADIUS, RING_RADIUS)
            p.setPen(QPen(_FREE_COLOR, 1.0))
            p.drawEllipse(c, 3.0, 3.0)
            return
        if layout.mode is GizmoMode.MOVE:
            axes = ((GizmoPart.MOVE_X, _X_COLOR), (GizmoPart.MOVE_Y, _Y_COLOR))
            centre = GizmoPart.MOVE_FREE
        else:
            axes = ((GizmoPart.SCALE_X, _X_COLOR), (GizmoPart.SCALE_Y, _Y_COLOR))
            centre = GizmoPart.SCALE_UNIFORM
        for part, color in axes:
            tip = QPointF(*layout.axis_end(part))
            p.setPen(pen(color, part))
            p.drawLine(c, tip)
            p.setBrush(_ACTIVE_COLOR if part is active else color)
            if layout.mode is GizmoMode.MOVE:
                p.drawPath(_arrow_head(c, tip))
            else:
                p.drawRect(QRectF(tip.x() - KNOB, tip.y() - KNOB, 2 * KNOB, 2 * KNOB))
        p.setPen(pen(_FREE_COLOR, centre))
        fill = QColor(_ACTIVE_COLOR if centre is active else _FREE_COLOR)
        fill.setAlpha(120)
        p.setBrush(fill)
        p.drawRect(QRectF(c.x() - KNOB, c.y() - KNOB, 2 * KNOB, 2 * KNOB))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    def _paint_band(self, p: QPainter) -> None:
        if self._band is None:
            return
        fill = QColor(_FREE_COLOR)
        fill.setAlpha(40)
        p.setBrush(fill)
        p.setPen(QPen(_FREE_COLOR, 1, Qt.PenStyle.DashLine))
        p.drawRect(self._band)

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
        snap = f"snap {self.snap.grid:g} px, {self.snap.angle:g}°   " if self.snap.enabled else ""
        p.drawText(
            QRectF(8, self.height() - 22, self.width() - 16, 18),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            f"{snap}{self.camera.zoom * 100:.0f}%",
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
            self._pan_moved = False
            return
        if event.button() != Qt.MouseButton.LeftButton or self._scene is None:
            return
        scene = self._scene
        point = self.view_to_scene(pos)
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        self._ctrl_at_press = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        hit = self.renderer.hit_test(scene, point)
        if not self.editable:
            self.entityClicked.emit(hit)
            return
        if hit is not None and shift:
            # Shift+click toggles one entity in the selection (even under the gizmo).
            if hit in self._selection:
                self.selectionRequested.emit(tuple(h for h in self._selection if h != hit))
            else:
                self.selectionRequested.emit((*self._selection, hit))
            return
        layout = self.gizmo_layout()
        part = layout.hit(Vec2(pos.x(), pos.y())) if layout is not None else None
        if part is not None:
            self._begin_drag(part, self._selection, point, pos)
            if hit is not None and len(self._selection) > 1:
                self._click_selects = hit  # unless the press becomes a drag
            return
        if hit is None:
            self._press = pos
            self._band = QRectF(pos, pos)
            self._band_adds = shift
            return
        if hit not in self._selection:
            self.entityClicked.emit(hit)
        elif len(self._selection) > 1:
            self._click_selects = hit  # unless the press becomes a drag of them all
        # Dragging a selected entity's body moves the whole selection, it leading.
        others = tuple(h for h in self._selection if h != hit)
        self._begin_drag(GizmoPart.MOVE_FREE, (hit, *others), point, pos)

    def _begin_drag(
        self, part: GizmoPart, handles: tuple[Handle, ...], point: Vec2, pos: QPointF
    ) -> None:
        assert self._scene is not None
        handles = tuple(h for h in handles if h in self._scene)
        if not handles or not self.editable:
            return
        self._drag = GizmoDrag(self._scene, part, self._scene.outermost(handles), point)
        self._press = pos
        self._dragged = False

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: D102 (base-class API)
        pos = event.position()
        if self._pan_from is not None:
            d = pos - self._pan_from
            if not self._pan_moved and abs(d.x()) + abs(d.y()) < _DRAG_START:
                return  # a right click may still open the context menu
            if not self._pan_moved:
                self._pan_moved = True
                self.setCursor(Qt.CursorShape.ClosedHandCursor)
            self._pan_from = pos
            z = self.camera.zoom
            self.camera.center = Vec2(
                self.camera.center[0] - d.x() / z, self.camera.center[1] - d.y() / z
            )
            self.update()
            return
        if self._band is not None and self._press is not None:
            self._band = QRectF(self._press, pos).normalized()
            self.update()
            return
        drag, scene = self._drag, self._scene
        if drag is None or scene is None or self._press is None:
            return
        if any(h not in scene for h in drag.before):
            self._drag = None
            return
        moved = pos - self._press
        if not self._dragged and abs(moved.x()) + abs(moved.y()) < _DRAG_START:
            return  # a click, not a drag, until the mouse really moves
        self._dragged = True
        snap = self.snap
        if self._ctrl_at_press or event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            snap = Snap(not snap.enabled, snap.grid, snap.angle, snap.scale)
        # Live feedback without an event per mouse move; one command on release.
        transforms = drag.transforms_at(self.view_to_scene(pos), snap)
        apply_transforms(scene, transforms)
        self.renderer.changed_without_events(scene, transforms)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: D102 (base-class API)
        if self._pan_from is not None:
            clicked = not self._pan_moved and event.button() == Qt.MouseButton.RightButton
            self._pan_from = None
            self.unsetCursor()
            if clicked and self._scene is not None:
                pos = event.position()
                hit = self.renderer.hit_test(self._scene, self.view_to_scene(pos))
                self.contextMenuRequested.emit(self.mapToGlobal(pos.toPoint()), hit)
            return
        band, self._band = self._band, None
        if band is not None:
            self._press = None
            self._finish_band(band)
            return
        drag, self._drag = self._drag, None
        click_on, self._click_selects = self._click_selects, None
        self._press = None
        if click_on is not None and not self._dragged:
            self.entityClicked.emit(click_on)
            return
        if drag is None or not self._dragged or self._scene is None:
            return
        after = drag.current()
        if after != drag.before:
            self.transformFinished.emit(_VERBS.get(drag.part, "Move"), drag.before, after)
        self.update()

    def _finish_band(self, band: QRectF) -> None:
        self.update()
        if band.width() < _DRAG_START and band.height() < _DRAG_START:
            if not self._band_adds:
                self.entityClicked.emit(None)  # a click on empty space
            return
        scene = self._scene
        if scene is None:
            return
        inside = tuple(
            e.handle
            for e in scene
            if band.contains(self.scene_to_view(scene.world_transform(e.handle)[0]))
        )
        if self._band_adds:
            inside = (*self._selection, *(h for h in inside if h not in self._selection))
        self.selectionRequested.emit(inside)

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


def _arrow_head(base: QPointF, tip: QPointF) -> QPainterPath:
    d = tip - base
    length = math.hypot(d.x(), d.y()) or 1.0
    ux, uy = d.x() / length, d.y() / length
    back = QPointF(tip.x() - ux * 2 * KNOB, tip.y() - uy * 2 * KNOB)
    side = QPointF(-uy * KNOB, ux * KNOB)
    path = QPainterPath(QPointF(tip.x() + ux * 4, tip.y() + uy * 4))
    path.lineTo(back + side)
    path.lineTo(back - side)
    path.closeSubpath()
    return path


def edit_snap_settings(parent: QWidget, snap: Snap) -> Snap | None:
    """Ask for the grid and angle steps in a small dialog; ``None`` if cancelled."""
    dialog = QDialog(parent)
    dialog.setObjectName("snapSettingsDialog")
    dialog.setWindowTitle("Snap Settings")
    form = QFormLayout(dialog)
    grid = QDoubleSpinBox(dialog)
    grid.setObjectName("snapGridStep")
    grid.setRange(0.5, 4096.0)
    grid.setSuffix(" px")
    grid.setValue(snap.grid)
    angle = QDoubleSpinBox(dialog)
    angle.setObjectName("snapAngleStep")
    angle.setRange(0.5, 180.0)
    angle.setSuffix(" °")
    angle.setValue(snap.angle)
    form.addRow("Grid step", grid)
    form.addRow("Angle step", angle)
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog
    )
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return Snap(snap.enabled, grid.value(), angle.value(), snap.scale)
