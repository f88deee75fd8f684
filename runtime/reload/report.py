"""Step 10, report: the `runtime.reports.ReloadReport` of a reload, and the step timings."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from runtime.plugins import LoadedPlugin, describe_error, plugin_traceback
from runtime.reload.state import Notes, ReloadFailed, Scope
from runtime.reports import ReloadReport, UnappliedChange
from runtime.scripting import module_path


class StepClock:
    """Milliseconds per step, keyed by step name (the report's ``timings``).

    Args:
        detected_at: ``time.perf_counter()`` of the file event, if the watcher saw one.
    """

    def __init__(self, detected_at: float | None) -> None:
        self.started_at = self._last = time.perf_counter()
        self.detected_at = detected_at
        self._laps: dict[str, float] = {}

    def lap(self, step: str) -> None:
        """Record the time since the previous lap as the time of `step`."""
        now = time.perf_counter()
        self._laps[step] = (now - self._last) * 1000.0
        self._last = now

    def lap_stopped(self, steps: Sequence[str]) -> None:
        """Time the step a failure stopped: the one after the last lapped, in `steps` order.

        A refused reload's report then says how long the step that refused it
        ran (a look-ahead that met an error 12 frames on, a load that timed out).
        """
        if not self._laps:
            return
        following = steps.index(next(reversed(self._laps))) + 1
        if following < len(steps):
            self.lap(steps[following])

    def timings(self) -> dict[str, float]:
        """Every step timed so far, ``detect`` (from the file event to the start) first."""
        if self.detected_at is None:
            return dict(self._laps)
        detect = max(0.0, (self.started_at - self.detected_at) * 1000.0)
        return {"detect": detect, **self._laps}


def make_report(
    scope: Scope,
    paths: list[str] | None,
    clock: StepClock,
    *,
    fresh: Mapping[str, LoadedPlugin] | None = None,
    notes: Notes | None = None,
    objects: int = 0,
    errors: tuple[str, ...] = (),
    tb: str = "",
    unapplied: tuple[UnappliedChange, ...] = (),
) -> ReloadReport:
    """The report: a success when there are no `errors` (then with modules, objects, notes)."""
    ok = not errors
    modules = tuple(module_path(m) for p in (fresh or {}).values() for m in sorted(p.modules))
    return ReloadReport(
        ok=ok,
        plugins=scope.names,
        modules=modules if ok else (),
        objects=objects if ok else 0,
        notes=notes.as_tuple() if ok and notes is not None else (),
        error=errors[0] if errors else "",
        errors=errors,
        traceback=tb,
        changed=tuple(paths or ()),
        timings=clock.timings(),
        unapplied=unapplied if ok else (),
    )


def failure_report(
    exc: BaseException, scope: Scope, paths: list[str] | None, clock: StepClock
) -> ReloadReport:
    """The report of a reload that `exc` stopped: its error lines and the plugin traceback."""
    if isinstance(exc, ReloadFailed):
        errors, cause = tuple(exc.args), exc.__cause__
    else:
        errors, cause = (describe_error(exc),), exc
    tb = plugin_traceback(cause) if cause is not None else ""
    return make_report(scope, paths, clock, errors=errors, tb=tb)
