"""What a player child writes besides the channel: stdout and stderr lines, and flood limits."""

from __future__ import annotations

import collections
import time
from typing import Any

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
