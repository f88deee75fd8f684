"""What a reload attempt reports: `ReloadReport`, its `MigrationNote` and `UnappliedChange` entries.

Kept apart from the transaction (`runtime.reload`) so that code which only
names a report (the `Script` hooks, the editor, the channel) does not import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: Kinds of `MigrationNote` that mean data was lost or changed against the user's will.
WARNING_KINDS = frozenset(
    {
        "dropped",
        "reset",
        "stashed",
        "unencodable",
        "placeholder",
        "callback-dropped",
        "hook-failed",
    }
)


@dataclass(frozen=True, slots=True)
class MigrationNote:
    """What happened to one field (or object) of one type, and on how many objects."""

    type_id: str
    field: str
    kind: str
    detail: str
    count: int = 1

    @property
    def is_warning(self) -> bool:
        """Whether state was lost or reset (as opposed to an informational note)."""
        return self.kind in WARNING_KINDS

    def __str__(self) -> str:
        where = f"{self.type_id}.{self.field}" if self.field else self.type_id
        times = f" ({self.count:,} objects)" if self.count > 1 else ""
        return f"{where}: {self.detail}{times}"


@dataclass(frozen=True, slots=True)
class UnappliedChange:
    """A change a reload loaded but that cannot take effect on objects that already exist.

    Attributes:
        plugin: the plugin whose code changed.
        type_id: the class concerned (a script's, or the plugin class's).
        what: the changed thing: ``on_init``, ``on_start``, or a module-level name.
        kind: ``"hook"`` (the hook already ran on the objects: `runtime.game.Game.rerun`
            can run it again) or ``"module-value"`` (objects keep a copy of the old value).
        entities: the entities whose scripts are concerned (none for a plugin object).
        plugin_object: whether the plugin object is concerned.
        detail: for a module value, where the objects keep it (``Mover.palette``).
    """

    plugin: str
    type_id: str
    what: str
    kind: str
    entities: tuple[int, ...] = ()
    plugin_object: bool = False
    detail: str = ""

    @property
    def count(self) -> int:
        """How many objects the change does not reach."""
        return len(self.entities) + int(self.plugin_object)

    def __str__(self) -> str:
        objects = f"{self.count:,} object{'s' if self.count != 1 else ''}"
        if self.kind == "hook":
            return (
                f"{self.type_id}.{self.what} changed but already ran on {objects}; "
                f"it runs on new objects only (re-run it to apply)"
            )
        return (
            f"{self.plugin}: module-level {self.what} changed, but {objects} keep the old "
            f"value in {self.detail}"
        )


@dataclass(frozen=True)
class ReloadReport:
    """The outcome of one reload attempt; `str()` is the one-line summary."""

    ok: bool
    plugins: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    objects: int = 0
    notes: tuple[MigrationNote, ...] = ()
    error: str = ""
    errors: tuple[str, ...] = ()
    traceback: str = ""
    changed: tuple[str, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)
    #: "Changed but did not run": what this reload cannot apply to existing objects.
    unapplied: tuple[UnappliedChange, ...] = ()

    @property
    def warnings(self) -> tuple[MigrationNote, ...]:
        """The notes that mean state was dropped or reset."""
        return tuple(n for n in self.notes if n.is_warning)

    @property
    def total_ms(self) -> float:
        """Milliseconds from build to commit (detection excluded)."""
        return sum(v for k, v in self.timings.items() if k != "detect")

    def __str__(self) -> str:
        names = ", ".join(self.plugins) or "nothing"
        if not self.ok:
            return f"reload of {names} failed, kept previous code: {self.error}"
        warn = len(self.warnings)
        extra = f", {warn} warning{'s' if warn != 1 else ''}" if warn else ""
        return (
            f"reloaded {names}: {len(self.modules)} module{'s' if len(self.modules) != 1 else ''}, "
            f"{self.objects:,} object{'s' if self.objects != 1 else ''} in {self.total_ms:.1f} ms"
            f"{extra}"
        )

    def details(self) -> str:
        """A multi-line account: summary, timings, every note, the traceback."""
        lines = [str(self)]
        if self.timings and self.ok:
            lines.append(
                "  timings: " + ", ".join(f"{k} {v:.2f} ms" for k, v in self.timings.items())
            )
        lines += [f"  {'warning' if n.is_warning else 'note'}: {n}" for n in self.notes]
        lines += [f"  did not run: {u}" for u in self.unapplied]
        lines += [f"  error: {e}" for e in self.errors[1:]]
        if self.traceback:
            lines.append(self.traceback.rstrip())
        return "\n".join(lines)
