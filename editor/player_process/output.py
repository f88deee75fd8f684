"""What a player child writes besides the channel: stdout and stderr lines, and flood limits."""

from __future__ import annotations

import collections
import contextlib
import logging
import signal
import time
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

#: Lines of the player's stderr kept for the crash report.
STDERR_LINES = 200
#: Longest unfinished line of the player's stdout or stderr kept (a print without newline).
PARTIAL_LINE_MAX = 64 * 1024


class StreamLines:
    """Cuts a stream of bytes into lines, holding back the unfinished last one."""

    def __init__(self) -> None:
        #: The bytes after the last newline so far.
        self.partial = b""

    def feed(self, data: bytes) -> tuple[list[bytes], bytes | None]:
        """Add `data`; return the lines it completed and an over-long unfinished line cut off.

        An unfinished line longer than `PARTIAL_LINE_MAX` (a flood without a
        newline) is handed back whole as the second item instead of growing on.
        """
        *lines, self.partial = (self.partial + data).split(b"\n")
        if len(self.partial) > PARTIAL_LINE_MAX:
            cut, self.partial = self.partial, b""
            return lines, cut
        return lines, None


class StderrTail:
    """The last `STDERR_LINES` lines of a child's stderr, for the crash report."""

    def __init__(self) -> None:
        self._lines: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._stream = StreamLines()

    def feed(self, data: bytes) -> None:
        """Add what the child wrote to stderr."""
        lines, cut = self._stream.feed(data)
        # Only the last lines are kept: a flood of output is not decoded line by line.
        self._lines.extend(
            line.decode("utf-8", "replace").rstrip("\r") for line in lines[-STDERR_LINES:]
        )
        if cut is not None:
            self._lines.append(cut.decode("utf-8", "replace"))

    def clear(self) -> None:
        """Forget everything (a new child starts)."""
        self._lines.clear()
        self._stream.partial = b""

    def text(self, lines: int = 20) -> str:
        """The last `lines` lines, the unfinished one included."""
        tail = list(self._lines)[-lines:]
        if self._stream.partial:
            tail.append(self._stream.partial.decode("utf-8", "replace"))
        return "\n".join(tail)


class RateLimit:
    """Admits at most `per_second` events in each one-second window, and counts the rest.

    Args:
        per_second: events admitted per window.
        clock: monotonic seconds.
    """

    def __init__(self, per_second: int, clock: Any = time.monotonic) -> None:
        self.per_second = per_second
        self.clock = clock
        self.dropped = 0
        self._window_start = -1e9
        self._admitted = 0

    def admit(self) -> bool:
        """Whether one more event fits in the current window (if not, it is counted)."""
        now = self.clock()
        if now - self._window_start >= 1.0:
            self._window_start = now
            self._admitted = 0
        if self._admitted < self.per_second:
            self._admitted += 1
            return True
        self.dropped += 1
        return False

    def remaining_ms(self) -> int:
        """Milliseconds until the current window ends."""
        return max(0, int((self._window_start + 1.0 - self.clock()) * 1000))

    def take_dropped(self) -> int:
        """The events turned away since the last call."""
        n, self.dropped = self.dropped, 0
        return n


class RecordFloodGate(QObject):
    """Passes on at most `per_second` log records and a tenth as many errors a second.

    What is turned away is counted and reported in one warning record
    (`dropped`) when the second is over, so a child that floods the channel
    cannot flood the log panel.

    Args:
        per_second: log records admitted a second.
        logger: the name the warning record is logged under.
        parent: the owning player process.

    Signals:
        dropped(dict): a warning record (``level``, ``logger``, ``message``,
            ``created``) saying how many records and errors were dropped.
    """

    dropped = Signal(dict)

    def __init__(self, per_second: int, logger: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._logger = logger
        self._logs = RateLimit(per_second)
        # An `error` is rare and matters (a traceback): its own, smaller allowance.
        self._errors = RateLimit(max(10, per_second // 10))
        self._report = QTimer(self)
        self._report.setSingleShot(True)
        self._report.timeout.connect(self.report_dropped)
        #: Log records and errors turned away, in all.
        self.dropped_records = 0

    @property
    def per_second(self) -> int:
        """Log records admitted a second."""
        return self._logs.per_second

    @per_second.setter
    def per_second(self, n: int) -> None:
        self._logs.per_second = max(1, int(n))
        self._errors.per_second = max(10, self._logs.per_second // 10)

    def admit_log(self) -> bool:
        """Whether one more log record may be passed on."""
        return self._admit(self._logs)

    def admit_error(self) -> bool:
        """Whether one more error may be passed on."""
        return self._admit(self._errors)

    def report_dropped(self) -> None:
        """Emit `dropped` now if anything was turned away since the last report."""
        self._report.stop()
        logs, errors = self._logs.take_dropped(), self._errors.take_dropped()
        if not logs and not errors:
            return
        what = " and ".join(
            text
            for n, text in ((logs, f"{logs:,} log messages"), (errors, f"{errors:,} errors"))
            if n
        )
        self.dropped.emit(
            {
                "level": logging.WARNING,
                "logger": self._logger,
                "message": f"{what} from the player dropped "
                f"(more than {self._logs.per_second} a second)",
                "created": time.time(),
            }
        )

    def _admit(self, limit: RateLimit) -> bool:
        if limit.admit():
            return True
        self.dropped_records += 1
        if not self._report.isActive():
            self._report.start(limit.remaining_ms())
        return False


def describe_exit(code: int, tail: str) -> str:
    """What to tell the user about a player that ended with `code` and this stderr tail.

    A negative code is a signal; a native crash prints a "Fatal Python error"
    block (the player turns faulthandler on) whose first frames are the ones
    that matter (most recent first), so that part is shown, not the last lines.
    """
    what = f"the player exited with code {code}"
    if code < 0:
        with contextlib.suppress(ValueError):  # not a signal number
            what += f" ({signal.Signals(-code).name})"
    lines = tail.splitlines()
    fatal = next((i for i, ln in enumerate(lines) if "Fatal Python error" in ln), None)
    shown = lines[fatal : fatal + 12] if fatal is not None else lines[-8:]
    return what + (":\n" + "\n".join(shown) if shown else "")
