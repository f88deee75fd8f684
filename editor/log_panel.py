"""The log panel: runtime and editor messages with level, time and source.

Records arrive through `QtLogHandler`, a `logging.Handler` that may be called
from any thread (the watcher's, the game's); it only emits a Qt signal, and Qt
queues the delivery to the GUI thread because the emitter lives there.
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTextBrowser,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from editor.theme import themed_icon

#: Levels of the filter combo: (label, minimum level shown).
LEVEL_FILTERS = (
    ("All levels", logging.DEBUG),
    ("Info and above", logging.INFO),
    ("Warnings and errors", logging.WARNING),
    ("Errors only", logging.ERROR),
)

_LEVEL_COLORS = {
    logging.DEBUG: "#8a8f98",
    logging.INFO: "#c8ccd4",
    logging.WARNING: "#e9c46a",
    logging.ERROR: "#ff6b6b",
    logging.CRITICAL: "#ff6b6b",
}

#: ``File "x.py", line 12`` (tracebacks) or ``/path/x.py:12`` / ``x.py:12:9`` (describe_error).
_LOCATION = re.compile(
    r'File "(?P<tb_path>[^"]+\.py)", line (?P<tb_line>\d+)'
    r"|(?P<path>(?:[A-Za-z]:)?[\w./\\~-]+\.py):(?P<line>\d+)"
)

#: Messages kept (and rows shown); older ones go, so a flood cannot use up memory.
MAX_RECORDS = 5000


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One message shown in the panel."""

    created: float
    level: int
    source: str
    message: str

    @property
    def level_name(self) -> str:
        """``INFO``, ``WARNING``..."""
        return logging.getLevelName(self.level)

    @property
    def first_line(self) -> str:
        """The message's first line (the row text)."""
        return self.message.split("\n", 1)[0]


def clock_text(created: float) -> str:
    """`created` (seconds since the epoch) as local ``HH:MM:SS.mmm``.

    A child sends any float it likes: a time the C library cannot convert
    (NaN, infinities, 1e308, far before 1970 on some platforms) is shown as
    ``?`` rather than raising in the middle of a refill of the panel.
    """
    try:
        t = time.strftime("%H:%M:%S", time.localtime(created))
        ms = int((created % 1) * 1000)
    except (OverflowError, OSError, ValueError):
        return "?"
    return f"{t}.{ms:03d}"


def find_locations(text: str) -> list[tuple[str, int]]:
    """Every ``(path, line)`` a message mentions, in order, without repeats."""
    out: list[tuple[str, int]] = []
    for m in _LOCATION.finditer(text):
        path = m.group("tb_path") or m.group("path")
        line = int(m.group("tb_line") or m.group("line"))
        if (path, line) not in out:
            out.append((path, line))
    return out


def open_location_externally(path: str, line: int) -> None:
    """Open a file with the system's editor and copy ``path:line`` to the clipboard."""
    QGuiApplication.clipboard().setText(f"{path}:{line}")
    if Path(path).is_file():
        QDesktopServices.openUrl(QUrl.fromLocalFile(path))


class _RecordEmitter(QObject):
    record = Signal(object)


class QtLogHandler(logging.Handler):
    """Forwards log records to the GUI thread as `LogEntry` objects (thread-safe)."""

    def __init__(self, level: int = logging.DEBUG) -> None:
        super().__init__(level)
        self.emitter = _RecordEmitter()

    def emit(self, record: logging.LogRecord) -> None:  # noqa: D102 (base-class API)
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            self.emitter.record.emit(LogEntry(record.created, record.levelno, record.name, message))
        except RuntimeError:
            pass  # the emitter was deleted with the window: nothing left to show it
        except Exception:
            self.handleError(record)


class HotplayLogCapture:
    """Shows the ``hotplay`` loggers' records (INFO and up, at least) in a `LogPanel`.

    Args:
        panel: where the records go (on the GUI thread, whichever thread logged them).
    """

    def __init__(self, panel: LogPanel) -> None:
        self._handler = QtLogHandler()
        self._handler.emitter.record.connect(panel.add_entry)
        root = logging.getLogger("hotplay")
        self._old_level = root.level
        if root.level == logging.NOTSET or root.level > logging.INFO:
            root.setLevel(logging.INFO)
        root.addHandler(self._handler)

    def close(self) -> None:
        """Stop capturing and give the logger its level back."""
        root = logging.getLogger("hotplay")
        root.removeHandler(self._handler)
        root.setLevel(self._old_level)


class LogPanel(QWidget):
    """The messages of the runtime and the editor, filterable by level.

    Selecting a row shows the whole message below; a ``file:line`` in it is a
    link that opens the file (see `location_opener`) and copies the location.

    Signals:
        locationActivated(str, int): a file location was clicked.
    """

    locationActivated = Signal(str, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("logPanel")
        #: Called with (path, line) when a location is clicked; tests replace it.
        self.location_opener: Callable[[str, int], None] = open_location_externally
        self._entries: deque[LogEntry] = deque(maxlen=MAX_RECORDS)
        self._min_level = logging.INFO
        self._scroll_pending = False

        self.level_combo = QComboBox()
        self.level_combo.setObjectName("logLevelFilter")
        for label, level in LEVEL_FILTERS:
            self.level_combo.addItem(label, level)
        self.level_combo.setCurrentIndex(1)
        self.level_combo.currentIndexChanged.connect(self._on_filter_changed)
        self.count_label = QLabel()
        self.count_label.setStyleSheet("color: #8a8f98")
        clear = QToolButton()
        clear.setIcon(themed_icon("notification-clear-all"))
        clear.setToolTip("Clear the log")
        clear.setAutoRaise(True)
        clear.clicked.connect(self.clear)

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(QLabel("Show:"))
        bar.addWidget(self.level_combo)
        bar.addStretch(1)
        bar.addWidget(self.count_label)
        bar.addWidget(clear)

        self.table = QTreeWidget()
        self.table.setObjectName("logTable")
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setAlternatingRowColors(True)
        self.table.setHeaderLabels(["Time", "Level", "Source", "Message"])
        self.table.setColumnWidth(0, 90)
        self.table.setColumnWidth(1, 70)
        self.table.setColumnWidth(2, 150)
        self.table.currentItemChanged.connect(self._on_current_changed)
        self.table.itemDoubleClicked.connect(self._on_item_double_clicked)

        self.details = QTextBrowser()
        self.details.setObjectName("logDetails")
        self.details.setOpenLinks(False)
        self.details.anchorClicked.connect(self._on_anchor_clicked)
        self.details.setPlaceholderText("Select a message to see all of it.")

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(bar)
        lay.addWidget(split, 1)
        self._update_count()

    # --- adding -------------------------------------------------------------------

    def add_entry(self, entry: LogEntry) -> None:
        """Append a message (shown if it passes the level filter)."""
        self._entries.append(entry)  # the oldest goes beyond MAX_RECORDS
        if entry.level >= self._min_level:
            self._append_item(entry)
            if self.table.topLevelItemCount() > MAX_RECORDS:
                self.table.takeTopLevelItem(0)
            self._scroll_to_bottom_soon()
        self._update_count()

    def log(self, level: int, message: str, source: str = "hotplay.editor") -> None:
        """Add an editor message directly (without going through `logging`)."""
        self.add_entry(LogEntry(time.time(), level, source, message))

    @property
    def entries(self) -> list[LogEntry]:
        """Every message kept, oldest first (filtered or not)."""
        return list(self._entries)

    def visible_entries(self) -> list[LogEntry]:
        """The messages shown with the current filter."""
        items = (self.table.topLevelItem(i) for i in range(self.table.topLevelItemCount()))
        return [item.data(0, Qt.ItemDataRole.UserRole) for item in items if item is not None]

    def clear(self) -> None:
        """Forget every message."""
        self._entries.clear()
        self.table.clear()
        self.details.clear()
        self._update_count()

    def set_minimum_level(self, level: int) -> None:
        """Show only messages at `level` or above."""
        for i in range(self.level_combo.count()):
            if self.level_combo.itemData(i) == level:
                self.level_combo.setCurrentIndex(i)
                return
        self._min_level = level
        self._refill()

    def activate_location(self, path: str, line: int) -> None:
        """Open a location (as clicking its link does)."""
        self.locationActivated.emit(path, line)
        self.location_opener(path, line)

    # --- internals -------------------------------------------------------------------

    def _scroll_to_bottom_soon(self) -> None:
        # Once per turn of the event loop: scrollToBottom lays the rows out (a few hundred
        # microseconds with thousands of rows), which a burst of messages would pay per message.
        if not self._scroll_pending:
            self._scroll_pending = True
            QTimer.singleShot(0, self, self._scroll_to_bottom)

    def _scroll_to_bottom(self) -> None:
        self._scroll_pending = False
        self.table.scrollToBottom()

    def _append_item(self, entry: LogEntry) -> None:
        item = QTreeWidgetItem(
            [clock_text(entry.created), entry.level_name, entry.source, entry.first_line]
        )
        item.setData(0, Qt.ItemDataRole.UserRole, entry)
        brush = QBrush(QColor(_LEVEL_COLORS.get(entry.level, "#c8ccd4")))
        for col in range(4):
            item.setForeground(col, brush)
        if "\n" in entry.message or len(entry.first_line) > 120:
            item.setToolTip(3, entry.message[:2000])
        self.table.addTopLevelItem(item)

    def _refill(self) -> None:
        self.table.clear()
        self.details.clear()
        for e in self._entries:
            if e.level >= self._min_level:
                self._append_item(e)
        self.table.scrollToBottom()
        self._update_count()

    def _update_count(self) -> None:
        shown = self.table.topLevelItemCount()
        self.count_label.setText(f"{shown} of {len(self._entries)} messages")

    def _on_filter_changed(self, index: int) -> None:
        self._min_level = int(self.level_combo.itemData(index))
        self._refill()

    def _on_current_changed(self, item: QTreeWidgetItem | None, _prev: object) -> None:
        if item is None:
            self.details.clear()
            return
        entry: LogEntry = item.data(0, Qt.ItemDataRole.UserRole)
        self.details.setHtml(self._details_html(entry))

    def _on_item_double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        entry: LogEntry = item.data(0, Qt.ItemDataRole.UserRole)
        locations = find_locations(entry.message)
        if locations:
            # The innermost frame is the last one a traceback names.
            self.activate_location(*locations[-1])

    def _on_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() != "location":
            return
        path, _, line = url.path().rpartition(":")
        self.activate_location(path, int(line))

    @staticmethod
    def _details_html(entry: LogEntry) -> str:
        color = _LEVEL_COLORS.get(entry.level, "#c8ccd4")
        out: list[str] = []
        pos = 0
        text = entry.message
        for m in _LOCATION.finditer(text):
            path = m.group("tb_path") or m.group("path")
            line = m.group("tb_line") or m.group("line")
            out.append(escape(text[pos : m.start()]))
            url = QUrl()
            url.setScheme("location")
            url.setPath(f"{path}:{line}")
            out.append(
                f'<a style="color:#7aa2f7" href="{escape(url.toString())}">{escape(m.group(0))}</a>'
            )
            pos = m.end()
        out.append(escape(text[pos:]))
        head = (
            f'<div style="color:{color}"><b>{escape(entry.level_name)}</b> '
            f"{escape(entry.source)}</div>"
        )
        return f'{head}<pre style="white-space:pre-wrap">{"".join(out)}</pre>'
