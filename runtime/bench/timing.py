"""Clocks and statistics shared by the measurements: milliseconds, percentiles, GC time."""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from typing import Any


def ms(seconds: float) -> float:
    """`seconds` in milliseconds."""
    return seconds * 1000.0


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0-100) with linear interpolation between samples.

    Raises:
        ValueError: `values` is empty.
    """
    if not values:
        raise ValueError("no samples")
    s = sorted(values)
    pos = (len(s) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


class GcClock:
    """Time the cyclic garbage collector spends, through `gc.callbacks` (all threads)."""

    def __init__(self) -> None:
        self._start = 0.0
        self.seconds = 0.0
        self.counts = [0, 0, 0]
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.counts[info["generation"]] += 1

    def reset(self) -> None:
        """Start counting from zero."""
        self.seconds = 0.0
        self.counts = [0, 0, 0]

    def read(self) -> tuple[float, tuple[int, int, int]]:
        """Milliseconds in collections since `reset`, and collections per generation."""
        c = self.counts
        return ms(self.seconds), (c[0], c[1], c[2])


#: The one clock of the process: the reload and the floor figures both read it.
GC_CLOCK = GcClock()
