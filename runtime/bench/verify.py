"""Verification of a reload: every entity's state kept exactly, and the new code running.

The benchmark's numbers are only results when the reload they time did its
job; these checks raise `BenchError` on the first difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runtime.bench.errors import BenchError
from runtime.bench.project import MOVER_FIELDS, PLUGIN, FieldChange
from runtime.game import Game
from runtime.reports import ReloadReport
from runtime.scene import Scene
from runtime.scripting import ENGINE_KEYS, NAMESPACE_PREFIX, type_id_of
from runtime.values import Vec2


def _copy(position: Any) -> tuple[str, float, float]:
    """A position as values, with its type's name (a reload must keep it a ``Vec2``)."""
    return (type(position).__name__, position[0], position[1])


def _norm(v: Any) -> Any:
    """A comparable form of a field value that keeps its type (Vec2 is not a tuple)."""
    t = type(v)
    if t is list:
        return ("list", tuple(_norm(x) for x in v))
    if t.__module__.startswith(NAMESPACE_PREFIX):  # enum member or dataclass of the plugin
        if hasattr(v, "name") and hasattr(type(v), "__members__"):
            return (t.__qualname__, v.name)
        return (t.__qualname__, tuple(sorted(vars(v).items())))
    return (t.__name__, v)


@dataclass
class SceneState:
    """Everything a reload must keep: per entity, its position, rotation and script fields.

    Attributes:
        fields: the script fields captured, in the order of each row's values.
        entities: per script, (handle, position, rotation, type id, field values);
            a position is (its type's name, x, y).
        plugin: the plugin object's fields.
        ticks: each entity's counter.
        positions: each entity's position, as in `entities`.
        motion: each entity's velocity and speed.
        undeclared: names of script attributes that are neither declared fields
            nor engine attributes (a removed field that was carried over shows here).
    """

    fields: tuple[str, ...]
    entities: list[tuple[int, Any, float, str, tuple[Any, ...]]]
    plugin: tuple[Any, ...]
    ticks: dict[int, int]
    positions: dict[int, Any]
    motion: dict[int, tuple[Any, float]]
    undeclared: frozenset[str]

    @classmethod
    def capture(
        cls, game: Game, scene: Scene, fields: tuple[str, ...] = MOVER_FIELDS
    ) -> SceneState:
        """Record the state of every entity of `scene` and of the plugin object.

        Args:
            game: the game running `scene`.
            scene: the benchmark's scene.
            fields: the declared fields of the scripts' class now.
        """
        rows = []
        ticks = {}
        positions = {}
        motion = {}
        known = set(fields) | ENGINE_KEYS
        undeclared: set[str] = set()
        for e in scene:
            h = int(e.handle)
            # A copy, not the game's object: held past the next frame, the old positions
            # would outlive it, as they never do in a game, and the collections their
            # allocations then ask for would be counted in that frame.
            position = _copy(e.position)
            for s in e.scripts:
                d = s.__dict__
                values = tuple(_norm(d[n]) for n in fields)
                rows.append((h, position, e.rotation, type_id_of(type(s)), values))
                ticks[h] = d["ticks"]
                motion[h] = (d["velocity"], d["speed"])
                if len(d) > len(fields):
                    undeclared.update(d.keys() - known)
            positions[h] = position
        p = game.plugin(PLUGIN)
        plugin = tuple(_norm(getattr(p, n)) for n in ("frames", "mode", "tuning"))
        return cls(fields, rows, plugin, ticks, positions, motion, frozenset(undeclared))


def check_report(report: ReloadReport | None, n: int) -> ReloadReport:
    """The report of a clean reload of `n` scripts and the plugin object.

    Raises:
        BenchError: no reload happened, it failed, or it migrated another number of objects.
    """
    if report is None:
        raise BenchError("no reload happened within the timeout (the watcher saw no save?)")
    if not report.ok:
        raise BenchError(f"reload failed: {report.details()}")
    if report.objects != n + 1:
        raise BenchError(f"reload migrated {report.objects} objects, expected {n + 1}")
    return report


def _check_same_entities(before: SceneState, after: SceneState) -> None:
    if len(after.entities) != len(before.entities):
        raise BenchError(
            f"{len(before.entities)} scripts before the reload, {len(after.entities)} after"
        )
    if after.undeclared:
        raise BenchError(f"scripts carry attributes nobody declared: {sorted(after.undeclared)}")
    if before.plugin != after.plugin:
        raise BenchError(
            f"plugin state changed across the reload: {before.plugin} -> {after.plugin}"
        )


def verify_reload(
    report: ReloadReport | None, before: SceneState, after: SceneState, n: int
) -> None:
    """Fail loudly unless the reload succeeded and every entity's state survived exactly.

    Args:
        report: the reload's report (``None``: no reload happened).
        before: the state captured just before the save.
        after: the state captured just after the reload.
        n: the number of scripted entities (the plugin object makes ``n + 1`` objects).

    Raises:
        BenchError: the report is not a clean success or any value differs.
    """
    report = check_report(report, n)
    if report.warnings:
        raise BenchError(f"reload lost state: {'; '.join(map(str, report.warnings))}")
    _check_same_entities(before, after)
    if before.entities != after.entities:
        for a, b in zip(before.entities, after.entities, strict=True):
            if a != b:
                raise BenchError(f"entity {a[0]} changed across the reload: {a} -> {b}")


def verify_field_change(
    report: ReloadReport | None,
    before: SceneState,
    after: SceneState,
    change: FieldChange,
    n: int,
    stashed_at: SceneState | None = None,
) -> None:
    """Fail loudly unless a field-changing reload did exactly what the migration rules say.

    Every kept field holds its old value, every added or reset field its new
    default, every field back from the stash the value it had at `stashed_at`,
    removed fields are gone, positions and rotations are unchanged, and the
    report notes exactly the expected (field, kind) pairs.

    Args:
        report: the reload's report (``None``: no reload happened).
        before: the state captured just before the save, with the old layout's fields.
        after: the state captured just after the reload, with the new layout's fields.
        change: what the migration rules make of this layout change.
        n: the number of scripted entities.
        stashed_at: the state captured before the change that put `change.restored`
            into the stash (required when there are such fields).

    Raises:
        BenchError: the report or any value is not what the rules say.
    """
    report = check_report(report, n)
    noted = {(note.field, note.kind) for note in report.notes}
    if noted != change.notes:
        raise BenchError(
            f"the reload noted {sorted(noted)}, the migration rules say {sorted(change.notes)}"
        )
    _check_same_entities(before, after)
    if any(name in after.fields for name in change.removed):
        raise BenchError(f"removed fields {change.removed} are still declared")
    defaults = {name: _norm(v) for name, v in change.defaults.items()}
    for b, a in zip(before.entities, after.entities, strict=True):
        if a[:4] != b[:4]:
            raise BenchError(f"entity {b[0]} changed across the reload: {b[:4]} -> {a[:4]}")
        old = dict(zip(before.fields, b[4], strict=True))
        new = dict(zip(after.fields, a[4], strict=True))
        for name in change.kept:
            if new[name] != old[name]:
                raise BenchError(
                    f"entity {b[0]}: field {name} was not kept: {old[name]} -> {new[name]}"
                )
        for name, default in defaults.items():
            if new[name] != default:
                raise BenchError(
                    f"entity {b[0]}: field {name} is {new[name]}, not its default {default}"
                )
    if not change.restored:
        return
    if stashed_at is None:
        raise BenchError(f"fields {change.restored} come back, but from no known stash")
    for s, a in zip(stashed_at.entities, after.entities, strict=True):
        then = dict(zip(stashed_at.fields, s[4], strict=True))
        new = dict(zip(after.fields, a[4], strict=True))
        for name in change.restored:
            if new[name] != then[name]:
                raise BenchError(
                    f"entity {s[0]}: field {name} is {new[name]}, not its stashed {then[name]}"
                )


def verify_new_code(game: Game, before: SceneState, step: int) -> None:
    """After one frame, every counter moved by the new `step` and every entity moved as coded.

    Raises:
        BenchError: some entity still runs the old code (or none).
    """
    dt = game.fixed_dt
    scene = game.scene
    checked = 0
    for e in scene:
        h = int(e.handle)
        for s in e.scripts:
            ticks = s.__dict__["ticks"]
            if ticks != before.ticks[h] + step:
                raise BenchError(
                    f"entity {h} did not run the new code: ticks {before.ticks[h]} -> {ticks}, "
                    f"expected +{step}"
                )
            _, x, y = before.positions[h]
            v, speed = before.motion[h]
            k = dt * speed
            if e.position != Vec2(x + v[0] * k, y + v[1] * k):
                raise BenchError(f"entity {h} moved to {e.position}, not as the code says")
            checked += 1
    if checked != len(before.ticks):
        raise BenchError(f"{checked} scripts ran after the reload, expected {len(before.ticks)}")
