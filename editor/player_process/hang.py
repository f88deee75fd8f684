"""Hang detection: a running player child that has sent nothing for too long."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

log = logging.getLogger("hotplay.editor.player")

#: Silence allowed between the hello and the first message after it: the child says
#: hello before it loads the game (plugins, scene), which a big project takes a while to do.
STARTUP_GRACE_MS = 10_000


class SilenceWatch(QObject):
    """Notices when the child stops answering, and when it answers again.

    The child sends statistics once a second, paused or not, so a long silence
    means its frame never ends. The watch looks at the time of the last bytes
    read from the channel; until the first message after the hello it allows
    at least `STARTUP_GRACE_MS`.

    Args:
        after_ms: how long the child may stay silent before `unresponsive`.
        parent: the owning player process.

    Signals:
        unresponsive(float): silent for that many seconds; emitted once, until it answers.
        responsive(): a child that was unresponsive answers again.
    """

    unresponsive = Signal(float)
    responsive = Signal()

    def __init__(self, after_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._on_timer)
        self._last_received: Callable[[], float] = lambda: 0.0
        self._watching: Callable[[], bool] = lambda: False
        self._timer_ran = 0.0
        self._quiet_since = 0.0
        self._unresponsive = False
        self._heard = False  # a message came after the hello
        self.after_ms = after_ms

    @property
    def after_ms(self) -> int:
        """How long a running child may stay silent before `unresponsive`."""
        return self._after_ms

    @after_ms.setter
    def after_ms(self, ms: int) -> None:
        self._after_ms = max(1, int(ms))
        # Look often enough to notice within about a quarter of the limit.
        self._timer.setInterval(max(20, min(500, self._after_ms // 4)))

    @property
    def is_unresponsive(self) -> bool:
        """Whether the child has stopped answering."""
        return self._unresponsive

    def start(self, last_received: Callable[[], float], watching: Callable[[], bool]) -> None:
        """Start watching once the child said hello.

        Args:
            last_received: `time.monotonic` of the last bytes read from the child.
            watching: whether silence still matters (a child asked to stop is not watched).
        """
        self._last_received = last_received
        self._watching = watching
        self._timer_ran = self._quiet_since = time.monotonic()
        self._timer.start()

    def heard(self) -> None:
        """A message came from the child (the start-up grace is over)."""
        self._heard = True

    def stop(self) -> None:
        """Stop looking (the child is stopping or gone)."""
        self._timer.stop()

    def reset(self) -> None:
        """Forget the last child: answering, nothing heard yet."""
        self._unresponsive = False
        self._heard = False

    def _on_timer(self) -> None:
        if not self._watching():
            return
        now = time.monotonic()
        if now - self._timer_ran > max(1.0, 4 * self._timer.interval() / 1000):
            # This timer ran late: the editor itself was busy, and the child's messages
            # may be waiting unread. Count the silence from now, not from before.
            self._quiet_since = now
        self._timer_ran = now
        silent = now - max(self._last_received(), self._quiet_since)
        limit = self._after_ms
        if not self._heard:
            limit = max(limit, STARTUP_GRACE_MS)
        if silent * 1000 >= limit:
            if not self._unresponsive:
                self._unresponsive = True
                log.warning("the player has sent nothing for %.1f s", silent)
                self.unresponsive.emit(silent)
        elif self._unresponsive:
            self._unresponsive = False
            log.info("the player answers again")
            self.responsive.emit()
