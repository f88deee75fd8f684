"""The timeline under the scene view: the recorded seconds of a game playing in the editor.

`TimelineBar` only shows what the timeline controller
(`editor.controllers.timeline`) tells it (`show_range`, `show_scrub`,
`set_unavailable`) and reports what the user asks for as signals ("attributes
down, messages up"): a frame to look at, Replay from here, Continue live.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from editor.theme import ICON_ACCENTS, themed_icon

_KEPT_COLOR = QColor(56, 105, 170)
_TICK_COLOR = QColor(200, 210, 225, 150)
_LIVE_COLOR = QColor(74, 222, 128)
_SCRUB_COLOR = QColor(233, 196, 106)
_TRACK_BACKGROUND = QColor(30, 33, 40)


@dataclass(frozen=True)
class TimelineRange:
    """What the game keeps: frames `first` to `live` (the live frame), a keyframe at each tick.

    Attributes:
        first: the oldest frame kept.
        live: the frame the live game is at (the newest one kept).
        dt: seconds per frame.
        keyframes: the frames a full snapshot was kept at (the ticks).
    """

    first: int
    live: int
    dt: float
    keyframes: tuple[int, ...] = ()

    def clamp(self, frame: int) -> int:
        """`frame`, moved into the kept range."""
        return max(self.first, min(self.live, frame))

    def seconds_ago(self, frame: int) -> float:
        """How long before the live frame `frame` was."""
        return (self.live - frame) * self.dt


class TimelineTrack(QWidget):
    """The strip itself: the kept range, keyframe ticks, the live frame and the scrub handle.

    A press or a drag asks for the frame under the mouse (`frameRequested`);
    with the focus, Left and Right ask for the frame before or after the one
    shown, Home and End for the ends of the range, as in a video player.

    Signals:
        frameRequested(int): show this frame (already inside the kept range).
    """

    frameRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timelineTrack")
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMinimumWidth(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.range: TimelineRange | None = None
        #: The past frame shown (``None``: the live one).
        self.scrub: int | None = None

    def sizeHint(self) -> QSize:  # noqa: D102 (base-class API)
        return QSize(400, 18)

    @property
    def shown_frame(self) -> int | None:
        """The frame the scene view shows: the scrubbed one, else the live one."""
        if self.range is None:
            return None
        return self.scrub if self.scrub is not None else self.range.live

    def x_of(self, frame: int) -> float:
        """The x coordinate of `frame` on the strip."""
        r = self.range
        left, width = 6.0, max(1.0, self.width() - 12.0)
        if r is None or r.live <= r.first:
            return left + width
        return left + width * (frame - r.first) / (r.live - r.first)

    def frame_at(self, x: float) -> int | None:
        """The kept frame nearest to x (``None`` with nothing kept)."""
        r = self.range
        if r is None:
            return None
        left, width = 6.0, max(1.0, self.width() - 12.0)
        return r.clamp(r.first + round((x - left) / width * (r.live - r.first)))

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: D102 (base-class API)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        h = float(self.height())
        p.fillRect(self.rect(), _TRACK_BACKGROUND)
        r = self.range
        if r is None or not self.isEnabled():
            p.setPen(QPen(QColor(70, 76, 88), 2))
            p.drawLine(QPointF(6, h / 2), QPointF(self.width() - 6, h / 2))
            return
        x0, x1 = self.x_of(r.first), self.x_of(r.live)
        p.fillRect(QRectF(x0, h / 2 - 3, max(2.0, x1 - x0), 6), _KEPT_COLOR)
        p.setPen(QPen(_TICK_COLOR, 1))
        for k in r.keyframes:
            x = self.x_of(k)
            p.drawLine(QPointF(x, h / 2 - 7), QPointF(x, h / 2 + 7))
        p.setPen(QPen(_LIVE_COLOR, 2))
        p.drawLine(QPointF(x1, 2), QPointF(x1, h - 2))
        shown = self.shown_frame
        if shown is not None:
            x = self.x_of(shown)
            p.setPen(QPen(QColor(20, 22, 26), 1))
            p.setBrush(_SCRUB_COLOR if self.scrub is not None else _LIVE_COLOR)
            p.drawRoundedRect(QRectF(x - 4, 2, 8, h - 4), 2, 2)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: D102 (base-class API)
        if event.button() == Qt.MouseButton.LeftButton:
            self._request_at(event.position().x())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: D102 (base-class API)
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._request_at(event.position().x())

    def event(self, event: QEvent) -> bool:  # noqa: D102 (base-class API)
        # Home is also the window's Frame All: with the focus here, it moves the handle.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and self._frame_for_key(event) is not None
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: D102 (base-class API)
        frame = self._frame_for_key(event)
        if frame is None:
            super().keyPressEvent(event)
            return
        self.frameRequested.emit(frame)

    def _frame_for_key(self, event: QKeyEvent) -> int | None:
        r, shown = self.range, self.shown_frame
        if r is None or shown is None or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return None
        key = event.key()
        moves = {
            Qt.Key.Key_Left: r.clamp(shown - 1),
            Qt.Key.Key_Right: r.clamp(shown + 1),
            Qt.Key.Key_Home: r.first,
            Qt.Key.Key_End: r.live,
        }
        return moves.get(Qt.Key(key))

    def _request_at(self, x: float) -> None:
        frame = self.frame_at(x)
        if frame is not None and frame != self.shown_frame:
            self.frameRequested.emit(frame)


class TimelineBar(QWidget):
    """The slim bar under the scene view: the track, and under it a readout and two buttons.

    Signals:
        frameRequested(int): show this past frame (the live one: back to live, paused).
        replayRequested(): replay from the frame shown under the current code, then go on live.
        continueRequested(): go on live from the frame shown.
    """

    frameRequested = Signal(int)
    replayRequested = Signal()
    continueRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timelineBar")
        self.setAutoFillBackground(True)
        # The track over the whole width (as in a video player), the controls under it.
        column = QVBoxLayout(self)
        column.setContentsMargins(6, 3, 6, 3)
        column.setSpacing(2)
        self.track = TimelineTrack(self)
        self.track.frameRequested.connect(self.frameRequested)
        column.addWidget(self.track)
        row = QHBoxLayout()
        row.setSpacing(6)
        column.addLayout(row)
        icon = QLabel()
        icon.setPixmap(themed_icon("history").pixmap(16, 16))
        row.addWidget(icon)
        self.readout = QLabel()
        self.readout.setObjectName("timelineReadout")
        self.readout.setStyleSheet("color: #aab1bd")
        row.addWidget(self.readout, 1)
        self.replay_button = _button(
            "timelineReplayButton", "Replay from here with the current code", "replay"
        )
        self.replay_button.clicked.connect(self.replayRequested)
        row.addWidget(self.replay_button)
        self.continue_button = _button("timelineContinueButton", "Continue live", "play")
        self.continue_button.clicked.connect(self.continueRequested)
        row.addWidget(self.continue_button)
        # Narrower than the buttons' texts need, the buttons show their icons alone: the
        # bar must not make the window's minimum width larger (an explicit minimum width
        # stops the layout from imposing its own on the bar).
        self._text_width = row.sizeHint().width() + 12
        self.setMinimumWidth(320)
        self._unavailable: str | None = None
        self._buttons_enabled: bool | None = None  # what the buttons show (None: nothing yet)
        self.set_unavailable("nothing is playing: Play to record the game")

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: D102 (base-class API)
        super().resizeEvent(event)
        style = (
            Qt.ToolButtonStyle.ToolButtonTextBesideIcon
            if event.size().width() >= self._text_width
            else Qt.ToolButtonStyle.ToolButtonIconOnly
        )
        for button in (self.replay_button, self.continue_button):
            button.setToolButtonStyle(style)

    @property
    def unavailable_reason(self) -> str | None:
        """Why the timeline is disabled (``None``: it is not)."""
        return self._unavailable

    def set_unavailable(self, reason: str) -> None:
        """Disable the whole bar and say why in its tooltip."""
        self._unavailable = reason
        self.track.range = None
        self.track.scrub = None
        self.setEnabled(False)
        self.setToolTip(f"Timeline — unavailable: {reason}")
        self.track.setToolTip(self.toolTip())
        self.readout.setText("no history")
        self._enable_buttons()
        self.track.update()

    def show_range(self, kept: TimelineRange) -> None:
        """Show what the game keeps now (enables the bar); called once a frame while playing."""
        if self.track.range is None:  # it was disabled: enable it and say what it does
            self._unavailable = None
            self.setEnabled(True)
            self.setToolTip("")
            self.track.setToolTip(
                "The last seconds of the game: click or drag to look at a past frame (the game "
                "pauses); with the focus here, Left/Right step a frame, Home/End go to the ends"
            )
        self.track.range = kept
        if self.track.scrub is not None:
            self.track.scrub = kept.clamp(self.track.scrub)
        self._show_readout()
        self._enable_buttons()
        self.track.update()

    def show_scrub(self, frame: int | None) -> None:
        """Show the handle at a past frame (``None``: at the live frame)."""
        self.track.scrub = frame
        self._show_readout()
        self._enable_buttons()
        self.track.update()

    def _show_readout(self) -> None:
        r, scrub = self.track.range, self.track.scrub
        if r is None:
            return
        kept = (r.live - r.first) * r.dt
        if scrub is None:
            self.readout.setText(f"live · frame {r.live} · {kept:.1f} s kept")
        else:
            self.readout.setText(f"frame {scrub} · {r.seconds_ago(scrub):.2f} s ago")

    def _enable_buttons(self) -> None:
        past = self.track.range is not None and self.track.scrub is not None
        if past is self._buttons_enabled:
            return
        self._buttons_enabled = past
        for button, tip in (
            (
                self.replay_button,
                "Put the game back at the frame shown and play the recorded input up to now "
                "under the code as it is now (a fix you saved shows on the same seconds), "
                "then go on live",
            ),
            (
                self.continue_button,
                "Go on live from the frame shown: the game takes that frame's state "
                "(what was recorded after it is dropped once it plays)",
            ),
        ):
            button.setEnabled(past)
            button.setToolTip(
                tip if past else f"{tip} — unavailable: pick a past frame on the timeline first"
            )


def _button(name: str, text: str, icon: str) -> QToolButton:
    """A tool button of the bar: its icon in the play colour, its text beside it."""
    button = QToolButton()
    button.setObjectName(name)
    button.setText(text)
    button.setIcon(themed_icon(icon, ICON_ACCENTS["play"]))
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    return button
