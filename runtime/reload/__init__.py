"""The hot reload transaction: one function naming its steps, one module per step.

`reload_plugins` runs between frames on the game thread; docs/hot-reload.md
("What happens on a save") describes the same steps under the same names, and
a report's ``timings`` are keyed by them:

1. *detect* (the watcher, before the transaction): the time from the save to here.
2. *scope* (`runtime.reload.scope`): the plugins owning the changed paths, plus
   every plugin that imports one.
3. *build* (`runtime.reload.build`): compile their sources; a syntax error stops here.
4. *snapshot* (`runtime.reload.snapshot`): ``on_before_reload``, then every object
   of those plugins and every engine-owned callback into one msgpack blob.
5. *load* (`runtime.reload.load`): a fresh generation of their modules, imported aside.
6. *restore* (`runtime.reload.restore`): new objects from the new classes, filled
   from the blob by the migration rules (`runtime.reload.migrate`, what they set
   aside in `runtime.reload.stash`); ``on_after_reload``; then what cannot apply
   to existing objects ("changed but did not run", `runtime.reload.unapplied`).
7. *look_ahead* (`runtime.reload.lookahead`): with ``game.look_ahead_frames`` on,
   the new code runs that many frames on a copy of the game; a failure refuses it.
8. *prepare* (`runtime.reload.prepare`): reload participants (the editor) get ready
   for the new generation; one that refuses rolls the reload back.
9. *commit* (`runtime.reload.commit`): every swap, in one step.
10. *notify* (`runtime.reload.notify`): scene observers, participants' commit
    functions, new plugins' ``on_init``; a failure here is logged, the reload stands.
11. *report* (`runtime.reload.report`): the report is logged, recorded and sent
    to the ``on_reload`` listeners.

A failure in 3-8 drops the new side (`runtime.reload.rollback`): the old modules
and the very same old objects run on, and the report says why.
"""

from __future__ import annotations

import logging
import traceback
from functools import partial
from typing import TYPE_CHECKING

from runtime.collector import collector_paused, keep_young
from runtime.reload.build import build_sources
from runtime.reload.commit import commit_generation
from runtime.reload.load import load_generation
from runtime.reload.lookahead import look_ahead
from runtime.reload.notify import notify_all
from runtime.reload.prepare import prepare_participants
from runtime.reload.report import StepClock, failure_report, make_report
from runtime.reload.restore import restore_objects
from runtime.reload.rollback import roll_back
from runtime.reload.scope import find_scope
from runtime.reload.snapshot import take_snapshot
from runtime.reload.state import Notes, Target
from runtime.reload.unapplied import find_unapplied
from runtime.reports import ReloadReport

if TYPE_CHECKING:
    from runtime.game import Game

log = logging.getLogger("hotplay.reload")

#: The timed steps, in order: the keys a report's ``timings`` can have.
STEPS = (
    "detect",
    "scope",
    "build",
    "snapshot",
    "load",
    "restore",
    "look_ahead",
    "prepare",
    "commit",
    "notify",
)


def reload_plugins(
    game: Game, paths: list[str] | None, detected_at: float | None = None
) -> ReloadReport:
    """Run one reload transaction (see the module docstring); never raises for plugin errors.

    Args:
        game: the game to reload, between two frames, on its own thread.
        paths: the changed files or folders; ``None`` reloads every plugin.
        detected_at: ``time.perf_counter()`` of the file event, for the ``detect`` timing.
    """
    # A reload allocates a few containers per object; with the collector on, that
    # sets off many collections, each walking the whole scene (measured: over
    # half the time of a 10,000-entity reload). The only cycles it leaves behind
    # are the replaced generation's modules and classes, collected later.
    with collector_paused() as collecting:
        report = _transaction(game, paths, StepClock(detected_at), collecting)
    if report.plugins:
        _log(report)
        game.record_reload(report)  # 11: the history and the on_reload listeners
    return report


def _transaction(
    game: Game, paths: list[str] | None, clock: StepClock, collecting: bool
) -> ReloadReport:
    # `collecting`: the collector was on before the reload (a game may turn it off).
    scope = find_scope(game.plugins, paths)  # 2
    if not scope.names:
        return make_report(scope, paths, clock)
    clock.lap("scope")
    notes = Notes()
    told: tuple[Target, ...] = ()
    watch = game.guard.watch()  # 3-8 run under the game code budget (runtime.guard)
    try:
        build_sources(game.plugins, scope)  # 3
        clock.lap("build")
        snap = take_snapshot(game, scope, notes)  # 4
        told = snap.told
        clock.lap("snapshot")
        fresh = load_generation(game.plugins, scope)  # 5
        clock.lap("load")
        objects = len(snap.targets)
        draft = partial(make_report, scope, paths, clock, fresh=fresh, notes=notes, objects=objects)
        restored = restore_objects(game, scope, snap, fresh, notes, draft, collecting)  # 6
        running = {n: game.plugins.plugins[n] for n in scope.names if n in game.plugins.plugins}
        unapplied = find_unapplied(
            snap, restored.objects, running, fresh, game.started, restored.retyped
        )
        clock.lap("restore")
        looked_ahead = look_ahead(game, scope, snap, fresh, restored, clock.started_at)  # 7
        clock.lap("look_ahead")
        game.migrating_in_place = frozenset(restored.patches)
        try:
            participant_commits = prepare_participants(game.reload_participants, fresh)  # 8
        finally:
            game.migrating_in_place = frozenset()
        clock.lap("prepare")
        watch.end()  # never interrupt the engine's own commit and notify steps
    except BaseException as raised:
        exc = watch.failure(raised)  # a budget overrun or an exit is an error; Ctrl+C is not
        clock.lap_stopped(STEPS)
        report = failure_report(exc, scope, paths, clock)
        _let_go_of_frames(exc)
        del exc  # this frame is in its traceback: held here, it would hold itself
        # The old objects' on_after_reload is game code too: under the budget as well.
        if (late := game.guard.call(roll_back, game, told, report)) is not None:
            log.error("rolling back %s: %s", ", ".join(scope.names), late)
        return report
    committed = commit_generation(game, scope, snap, fresh, restored)  # 9
    if restored.young_collected and not looked_ahead:
        # What the restore step made lives on: the collections of the next frames need
        # not walk it as young (a look-ahead's world, thrown away, would move with it).
        keep_young()
    clock.lap("commit")
    notify_all(game, committed, participant_commits)  # 10
    clock.lap("notify")
    return make_report(
        scope, paths, clock, fresh=fresh, notes=notes, objects=objects, unapplied=unapplied
    )


def _let_go_of_frames(exc: BaseException) -> None:
    """Clear the locals of the finished frames `exc` and its causes went through.

    The report has what it needs of them (its error lines and traceback text).
    Their locals hold the refused generation, the world the look-ahead ran and,
    often, the very exception whose traceback holds the frame: cycles that only
    the cyclic collector frees, a world's worth of objects walked in some later
    frame. Frames still running (this transaction's callers) are left alone.
    """
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        traceback.clear_frames(e.__traceback__)
        e = e.__cause__ or e.__context__


def _log(report: ReloadReport) -> None:
    if report.ok:
        log.info("%s", report)
        for n in report.warnings:
            log.warning("reload: %s", n)
        for u in report.unapplied:
            log.warning("reload: did not run: %s", u)
    else:
        log.error("%s", report.details())
