"""Play-mode changes: what the user changed in the live inspector, and what to keep.

Unity throws away what was changed while playing; here every live edit is
noted as a `PlayModeChange`, the inspector marks its field, and the user can
*Keep* a field, an entity or everything. When Play stops, the kept changes are
applied to the edited scene as one undoable step (`editor.commands.KeepPlayChanges`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QObject, Signal

from runtime import Handle

#: Identifies one changed value: (handle, attribute, script index, type id, field).
ChangeKey = tuple[Handle, str, int, str, str]


@dataclass(frozen=True, slots=True)
class PlayModeChange:
    """One value the user set in the running game.

    Attributes:
        handle: the entity.
        attribute: ``name``, ``enabled``, ``position``, ``rotation``, ``scale``,
            ``visual`` (the whole visual: its kind changed, or it was added or
            removed), ``visual.<member>`` (one member of the visual) or
            ``scripts`` (a script field: see `script`, `type_id`, `field`).
        value: the value set (an engine value, or a field value of plugin code).
        script: the script's index on the entity (``scripts`` only).
        type_id: the script's type id (``scripts`` only).
        field: the field's name (``scripts`` only).
        kept: whether the user chose to keep it after Play.
    """

    handle: Handle
    attribute: str
    value: Any
    script: int = -1
    type_id: str = ""
    field: str = ""
    kept: bool = False

    @property
    def key(self) -> ChangeKey:
        """What was changed, whatever the value."""
        return (self.handle, self.attribute, self.script, self.type_id, self.field)

    def __str__(self) -> str:
        what = f"{self.type_id.rpartition(':')[2]}.{self.field}" if self.field else self.attribute
        return f"entity {int(self.handle)}: {what} = {self.value!r}{' (kept)' if self.kept else ''}"


def attribute_key(handle: Handle, attribute: str) -> ChangeKey:
    """The key of an entity attribute (``position``, ``visual.color``...)."""
    return (handle, attribute, -1, "", "")


def field_key(handle: Handle, index: int, type_id: str, field: str) -> ChangeKey:
    """The key of a script field."""
    return (handle, "scripts", index, type_id, field)


class PlayModeChanges(QObject):
    """The changes made in the live inspector during one Play, in the order made.

    Signals:
        changed(): a change was noted, kept or forgotten.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._changes: dict[ChangeKey, PlayModeChange] = {}

    def __len__(self) -> int:
        return len(self._changes)

    def __iter__(self) -> Any:
        return iter(list(self._changes.values()))

    def note(self, change: PlayModeChange) -> None:
        """Note a live edit; a value changed again stays kept if it was."""
        old = self._changes.pop(change.key, None)  # re-inserted: the order is the last edit's
        self._changes[change.key] = replace(change, kept=old is not None and old.kept)
        self.changed.emit()

    def get(self, key: ChangeKey) -> PlayModeChange | None:
        """The change of a value, or ``None`` when it was not changed."""
        return self._changes.get(key)

    def of_entity(self, handle: Handle) -> list[PlayModeChange]:
        """The changes of one entity."""
        return [c for c in self._changes.values() if c.handle == handle]

    def keep(self, *, handle: Handle | None = None, key: ChangeKey | None = None) -> int:
        """Keep one change (`key`), those of an entity (`handle`) or all; return how many.

        Returns:
            How many changes are newly kept.
        """
        count = 0
        for k, c in self._changes.items():
            if c.kept or (key is not None and k != key):
                continue
            if handle is not None and c.handle != handle:
                continue
            self._changes[k] = replace(c, kept=True)
            count += 1
        if count:
            self.changed.emit()
        return count

    def kept(self) -> list[PlayModeChange]:
        """The changes to apply to the edited scene when Play stops."""
        return [c for c in self._changes.values() if c.kept]

    def clear(self) -> None:
        """Forget every change (a new Play starts, or the last one was applied)."""
        if self._changes:
            self._changes = {}
            self.changed.emit()
