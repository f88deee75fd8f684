"""Scene files: JSON with a format version, validated on load, saved atomically.

A scene file is a flat list of entities in depth-first order, each naming its
parent by handle, so a diff of a moved or edited entity stays small::

    {
      "format": 1,
      "name": "demo",
      "background": "#181a21",
      "next_handle": 4,
      "entities": [
        {"handle": 1, "name": "Ball", "parent": 0, "enabled": true,
         "position": [0, 0], "rotation": 0, "scale": [1, 1],
         "visual": {"kind": "ellipse", "size": [32, 32], "color": "#e63946", "z": 0},
         "scripts": [{"type": "bouncy.ball:Ball", "fields": {"bounces": 0}}]}
      ]
    }

A script may also have a ``"stash"``: values hot reloads set aside because the
code no longer declares their field, or their field's type changed (see
`runtime.reload.stash`); they come back when the field does. Loading a field the
class no longer declares keeps it there too.

Every problem in a file is reported as one `SceneFileError` naming the file and
the entity, never as a traceback, and loading never writes anything.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import math
import operator
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any, get_args, get_origin

from runtime.collector import collector_paused
from runtime.fields import (
    FieldSpec,
    PlainDataError,
    color_from_plain,
    declared_fields,
    from_plain,
    from_plain_column,
    in_order,
    int_fits,
    to_plain,
    vec2_from_plain,
)
from runtime.scene import Entity, Scene, ScriptColumns, Visual, VisualKind
from runtime.scripting import (
    STASH_KEY,
    PlaceholderScript,
    Script,
    instantiate_columns,
    is_data_descriptor,
    script_plain_fields,
    script_type_id,
    set_stash,
    stash_of,
)
from runtime.values import Color, Handle, Vec2

FORMAT_VERSION = 1
#: Largest handle a file may use (keeps handles exact in any JSON reader).
MAX_HANDLE = 2**53
#: Scene files larger than this are refused before parsing.
MAX_FILE_BYTES = 64 * 1024 * 1024

log = logging.getLogger("hotplay.scene")

# The process umask, read once at import (reading it means setting it, which is
# not thread-safe, and imports happen before the editor starts threads).
_UMASK = os.umask(0o022)
os.umask(_UMASK)

#: Finds the class for a script type id, or ``None`` when no plugin defines it.
TypeResolver = Callable[[str], type[Script] | None]


class SceneFileError(ValueError):
    """A scene file cannot be read; `str()` names the file and the problem."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class _Invalid(Exception):
    """Internal: a problem at some place in the data, turned into a SceneFileError."""


def _no_constants(name: str) -> float:
    raise _Invalid(f"{name} is not a number a scene file may hold")


def _finite_float(text: str) -> float:
    # json parses 1e999 to inf without calling parse_constant: refuse it here, so
    # a file that loads can always be saved again (saving refuses inf and NaN).
    value = float(text)
    if not math.isfinite(value):
        raise _Invalid(f"{_short(text)} is too large a number for a scene file")
    return value


def _bounded_int(text: str) -> int:
    # Checked on the digits first: int() of a very long literal raises ValueError
    # (CPython's int_max_str_digits limit), which json would let escape. The range
    # is the fields' own (`int_fits`): loading and saving follow one rule.
    if len(text.lstrip("-")) > 20 or not int_fits(int(text)):
        raise _Invalid(f"{_short(text)} is too large an integer for a scene file")
    return int(text)


def load_scene(
    path: str | os.PathLike[str],
    resolve: TypeResolver,
    *,
    project_root: str | os.PathLike[str] | None = None,
) -> Scene:
    """Read and validate a scene file.

    Args:
        path: the ``.scene.json`` file.
        resolve: finds script classes by type id; unknown ones become placeholders.
        project_root: where ``assets/`` lives; image paths are checked against it.

    Raises:
        SceneFileError: the file is missing, not JSON, or its content is invalid.
    """
    p = Path(path)
    text = read_scene_text(p)
    # The parsed data and the scene: millions of objects, no cycles; the scene lives on.
    with collector_paused(keep=True):
        try:
            data = json.loads(
                text,
                parse_constant=_no_constants,
                parse_float=_finite_float,
                parse_int=_bounded_int,
            )
        except json.JSONDecodeError as exc:
            raise SceneFileError(
                p, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from None
        except _Invalid as exc:
            raise SceneFileError(p, str(exc)) from None
        except RecursionError:
            raise SceneFileError(p, "not valid JSON: nested too deeply") from None
        return scene_from_data(data, resolve, source=p, project_root=project_root)


def read_scene_text(p: Path) -> str:
    """The text of a scene file, or a `SceneFileError` saying why it cannot be read.

    Only a regular file is read, and never more than `MAX_FILE_BYTES`: a FIFO
    would block the reader forever and ``/dev/zero`` fill its memory. The
    ``stat`` names the problem before anything is opened; the file is then
    opened without blocking and checked again, in case it was swapped since.
    """
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise SceneFileError(p, "file not found") from None
    except OSError as exc:  # a symlink loop, a name too long, no permission...
        raise SceneFileError(p, f"cannot read: {exc.strerror or exc}") from None
    _check_regular(p, st)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        raise SceneFileError(p, f"cannot read: {exc.strerror or exc}") from None
    try:
        _check_regular(p, os.fstat(fd))
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SceneFileError(p, f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise SceneFileError(p, f"file is larger than scenes may be ({MAX_FILE_BYTES:,} bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SceneFileError(p, "not a text file (not UTF-8)") from None


def _check_regular(p: Path, st: os.stat_result) -> None:
    if stat.S_ISREG(st.st_mode):
        if st.st_size > MAX_FILE_BYTES:
            raise SceneFileError(p, f"file is {st.st_size:,} bytes, larger than scenes may be")
        return
    if stat.S_ISDIR(st.st_mode):
        kind = "a folder"
    elif stat.S_ISFIFO(st.st_mode):
        kind = "a named pipe (FIFO)"
    elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        kind = "a device"
    elif stat.S_ISSOCK(st.st_mode):
        kind = "a socket"
    else:
        kind = "something other than a file"
    raise SceneFileError(p, f"cannot read: it is {kind}, not a scene file")


def scene_from_data(
    data: Any,
    resolve: TypeResolver,
    *,
    source: str | os.PathLike[str] = "<scene>",
    project_root: str | os.PathLike[str] | None = None,
) -> Scene:
    """Build a scene from parsed JSON data (see `load_scene`)."""
    try:
        return _SceneReader(resolve, project_root).read(data)
    except _Invalid as exc:
        raise SceneFileError(source, str(exc)) from None


class _SceneReader:
    def __init__(self, resolve: TypeResolver, project_root: str | os.PathLike[str] | None):
        self.resolve = resolve
        self.root = Path(project_root) if project_root is not None else None
        self.handle_fields: list[tuple[Entity, str, str, Handle]] = []
        #: Say each warning once per script type (and field), not once per script.
        self.warn_once = False
        self._warned: set[tuple[str, str]] = set()

    def _warn(self, key: tuple[str, str], msg: str, *args: Any) -> None:
        if self.warn_once:
            if key in self._warned:
                return
            self._warned.add(key)
        log.warning(msg, *args)

    def read(self, data: Any) -> Scene:
        if type(data) is not dict:
            raise _Invalid("expected a JSON object at the top level")
        fmt = data.get("format")
        if fmt is None:
            raise _Invalid('no "format" field: this is not a Hotplay scene file')
        if type(fmt) is not int:
            raise _Invalid(f'"format" must be an integer, not {fmt!r}')
        if fmt > FORMAT_VERSION or fmt < 1:
            raise _Invalid(
                f"format version {fmt} is not supported (this Hotplay reads version "
                f"{FORMAT_VERSION}{'; a newer Hotplay wrote it' if fmt > FORMAT_VERSION else ''})"
            )
        name = data.get("name", "untitled")
        if type(name) is not str:
            raise _Invalid(f'"name" must be a string, not {name!r}')
        scene = Scene(name=name)
        if "background" in data:
            scene.background = self._plain(data["background"], color_from_plain, '"background"')
        entities = data.get("entities", [])
        if type(entities) is not list:
            raise _Invalid('"entities" must be a list')
        parents: list[tuple[Entity, int]] = []
        scripts: list[tuple[Entity, list[Any], str]] = []
        for i, raw in enumerate(entities):
            e, parent = self._entity(raw, i, scripts)
            if e.handle in scene.entities:
                raise _Invalid(f"entity #{i} ({e.name!r}): handle {int(e.handle)} is used twice")
            scene.entities[e.handle] = e
            parents.append((e, parent))
        self._scripts(scripts)
        for e, parent in parents:
            if parent:
                if parent not in scene.entities:
                    raise _Invalid(
                        f"entity {int(e.handle)} ({e.name!r}): parent {parent} does not exist"
                    )
                scene.entities[Handle(parent)].children.append(e.handle)
                e.parent = Handle(parent)
            else:
                scene.roots.append(e.handle)
        self._check_cycles(scene)
        for e, script_name, field_name, h in self.handle_fields:
            if h and h not in scene.entities:
                raise _Invalid(
                    f"entity {int(e.handle)} ({e.name!r}): {script_name}.{field_name} refers to "
                    f"entity {int(h)}, which does not exist"
                )
        top = max((int(h) for h in scene.entities), default=0)
        nh = data.get("next_handle", top + 1)
        if type(nh) is not int or nh > MAX_HANDLE + 1:
            raise _Invalid(f'"next_handle" must be an integer, not {nh!r}')
        scene.next_handle = max(nh, top + 1)
        return scene

    def _check_cycles(self, scene: Scene) -> None:
        # Every entity must reach a root by following parents; anything else is a cycle.
        reachable = {h for h, e in scene.entities.items() if not e.parent}
        stack = list(reachable)
        while stack:
            for c in scene.entities[stack.pop()].children:
                if c not in reachable:
                    reachable.add(c)
                    stack.append(c)
        if len(reachable) != len(scene.entities):
            bad = min(h for h in scene.entities if h not in reachable)
            raise _Invalid(
                f"entity {int(bad)} ({scene.entities[bad].name!r}): its parents form a cycle"
            )

    def _plain(self, value: Any, convert: Callable[[Any], Any], where: str) -> Any:
        try:
            return convert(value)
        except PlainDataError as exc:
            raise _Invalid(f"{where}: {exc}") from None

    def _entity(
        self, raw: Any, i: int, scripts: list[tuple[Entity, list[Any], str]]
    ) -> tuple[Entity, int]:
        """The entity of `raw` and its parent's handle; its scripts' data goes to `scripts`."""
        if type(raw) is not dict:
            raise _Invalid(f"entity #{i}: expected an object, got {_short(raw)}")
        h = raw.get("handle")
        if type(h) is not int or not 0 < h <= MAX_HANDLE:
            raise _Invalid(f'entity #{i}: "handle" must be a positive integer, not {_short(h)}')
        name = raw.get("name", "Entity")
        where = f"entity {h}"
        if type(name) is not str:
            raise _Invalid(f'{where}: "name" must be a string, not {_short(name)}')
        where = f"entity {h} ({name!r})"
        parent = raw.get("parent", 0)
        if parent is None:
            parent = 0
        if type(parent) is not int or parent < 0:
            raise _Invalid(f'{where}: "parent" must be an entity handle, not {_short(parent)}')
        if parent == h:
            raise _Invalid(f"{where}: its parents form a cycle (it is its own parent)")
        enabled = raw.get("enabled", True)
        if type(enabled) is not bool:
            raise _Invalid(f'{where}: "enabled" must be true or false')
        e = Entity(Handle(h), name, enabled=enabled)
        e.position = self._plain(
            raw.get("position", [0, 0]), vec2_from_plain, f'{where}: "position"'
        )
        e.scale = self._plain(raw.get("scale", [1, 1]), vec2_from_plain, f'{where}: "scale"')
        rot = raw.get("rotation", 0)
        if type(rot) not in (int, float) or not math.isfinite(rot):
            raise _Invalid(f'{where}: "rotation" must be a finite number, not {_short(rot)}')
        e.rotation = float(rot)
        if raw.get("visual") is not None:
            e.visual = self._visual(raw["visual"], where)
        raws = raw.get("scripts", [])
        if type(raws) is not list:
            raise _Invalid(f'{where}: "scripts" must be a list')
        if raws:
            scripts.append((e, raws, where))
        return e, parent

    def _visual(self, raw: Any, where: str) -> Visual:
        if type(raw) is not dict:
            raise _Invalid(f'{where}: "visual" must be an object')
        v = Visual()
        kind = raw.get("kind", "rect")
        try:
            v.kind = VisualKind(kind)
        except ValueError:
            kinds = ", ".join(k.value for k in VisualKind)
            raise _Invalid(f"{where}: visual kind {_short(kind)} is not one of {kinds}") from None
        if "size" in raw:
            v.size = self._plain(raw["size"], vec2_from_plain, f"{where}: visual size")
        if "color" in raw:
            v.color = self._plain(raw["color"], color_from_plain, f"{where}: visual color")
        z = raw.get("z", 0)
        if type(z) is not int or abs(z) > 2**31:
            raise _Invalid(f"{where}: visual z must be an integer, not {_short(z)}")
        v.z = z
        for key in ("image", "text"):
            val = raw.get(key, "")
            if type(val) is not str:
                raise _Invalid(f"{where}: visual {key} must be a string")
            setattr(v, key, val)
        fs = raw.get("font_size", 16.0)
        if type(fs) not in (int, float) or not 0 < fs < 10_000:
            raise _Invalid(f"{where}: visual font_size must be a positive number")
        v.font_size = float(fs)
        if v.kind is VisualKind.IMAGE or v.image:
            problem = check_asset_path(v.image, self.root)
            if problem:
                raise _Invalid(f"{where}: image {v.image!r} {problem}")
        return v

    def _scripts(self, pending: list[tuple[Entity, list[Any], str]]) -> None:
        """Make the scripts of every entity, after every entity, class by class.

        Every script's data is checked in scene order; then each class's field
        values are converted a field at a time and its objects made together
        (`instantiate_columns`), as a hot reload's rebuild makes them.
        """
        by_class: dict[type, list[_ScriptRow]] = {}
        for e, raws, where in pending:
            made: list[Any] = [self._script_row(raw, e, where) for raw in raws]
            for slot, row in enumerate(made):
                if isinstance(row, _ScriptRow):
                    row.slot = slot
                    by_class.setdefault(row.cls, []).append(row)
            e.scripts = made  # each row is replaced by its script below
        for script, row in self._make_scripts(by_class):
            row.entity.scripts[row.slot] = script

    def _make_scripts(
        self, by_class: dict[type, list[_ScriptRow]]
    ) -> Iterator[tuple[Script, _ScriptRow]]:
        """The script of each row, made class by class (`instantiate_columns`), with its stash."""
        for cls, rows in by_class.items():
            datas = [r.data for r in rows]
            stored = set(itertools.chain.from_iterable(map(dict.keys, datas)))
            columns: dict[str, list[Any]] = {}
            for fname, spec in declared_fields(cls).items():
                if fname in stored:  # else every object takes the default
                    columns[fname] = self._column(rows, datas, fname, spec)
            made_objs = instantiate_columns(cls, columns, len(rows))
            for r, script in zip(rows, made_objs, strict=True):
                set_stash(script, r.stash)
            yield from zip(made_objs, rows, strict=True)

    def _column(
        self, rows: list[_ScriptRow], datas: list[dict[str, Any]], fname: str, spec: FieldSpec
    ) -> list[Any]:
        """Every row's value of a field, converted, its numbers made in order (`in_order`).

        A column of the common simple types every row stores is converted in a
        few passes in C (`from_plain_column`); any other, a value at a time.
        """
        raw = list(map(dict.get, datas, itertools.repeat(fname), itertools.repeat(_MISSING)))
        column = None if _MISSING in raw else from_plain_column(raw, spec.annotation)
        if column is None:
            column = in_order([self._field(r, fname, spec) for r in rows])
        if not set(map(type, column)) <= _NO_HANDLES:
            for row, value in zip(rows, column, strict=True):
                if fname not in row.data:
                    continue  # a default: what the file holds is checked, as ever
                for h in _handles_in(value):
                    self.handle_fields.append((row.entity, row.type_id, fname, h))
        return column

    def _field(self, row: _ScriptRow, fname: str, spec: FieldSpec) -> Any:
        """One stored field value of a script, converted to its declared type."""
        if fname not in row.data:
            return spec.new_default()
        try:
            return from_plain(row.data[fname], spec.annotation)
        except PlainDataError as exc:
            raise _Invalid(f"{row.where}: {row.type_id}.{fname}: {exc}") from None

    def _script(self, raw: Any, e: Entity, where: str) -> Script:
        """One script of `raw`, made on its own (`_scripts` makes a scene's)."""
        row = self._script_row(raw, e, where)
        if not isinstance(row, _ScriptRow):
            return row
        fields = declared_fields(row.cls)
        columns = {
            f: self._column([row], [row.data], f, spec)
            for f, spec in fields.items()
            if f in row.data
        }
        script: Script = instantiate_columns(row.cls, columns, 1)[0]
        set_stash(script, row.stash)
        return script

    def _script_row(self, raw: Any, e: Entity, where: str) -> Script | _ScriptRow:
        """A placeholder, or the checked data of a script whose class exists."""
        if type(raw) is not dict or type(raw.get("type")) is not str:
            raise _Invalid(f'{where}: each script needs a "type" string')
        tid = raw["type"]
        data = raw.get("fields", {})
        if type(data) is not dict:
            raise _Invalid(f'{where}: {tid}: "fields" must be an object')
        stash = raw.get("stash", {})
        if type(stash) is not dict:
            raise _Invalid(f'{where}: {tid}: "stash" must be an object')
        # The stash is kept as it is, so it must be data a scene file can hold
        # (saving checks the same), as must the data of a missing class.
        stash = self._kept_as_is(stash, f"{where}: {tid} stash")
        cls = self.resolve(tid)
        if cls is None:
            self._warn((tid, ""), "%s: script type %s not found; kept as a placeholder", where, tid)
            kept = self._kept_as_is(data, f"{where}: {tid}")
            placeholder = PlaceholderScript(tid, kept, f"no plugin defines {tid}")
            set_stash(placeholder, stash)
            return placeholder
        fields = declared_fields(cls)
        for fname, val in data.items():
            if fname not in fields:
                # Like a reload, loading keeps what the code no longer declares.
                self._warn(
                    (tid, fname),
                    "%s: %s has no field %r any more; its value is kept in the stash",
                    where,
                    tid,
                    fname,
                )
                stash[fname] = self._kept_as_is(val, f"{where}: {tid}.{fname}")
        return _ScriptRow(cls, tid, data, stash, e, where)

    def _kept_as_is(self, data: Any, where: str) -> Any:
        try:
            return self._plain(data, to_plain, where)
        except RecursionError:
            raise _Invalid(f"{where}: a value is nested too deeply") from None


_MISSING = object()

#: Types of field values that hold no entity handle.
_NO_HANDLES = frozenset({float, int, bool, str, Vec2, Color, type(None)})


@dataclasses.dataclass(slots=True)
class _ScriptRow:
    """A script's checked data, before its object is made (`_SceneReader._scripts`)."""

    cls: type
    type_id: str
    #: The stored fields, as the file has them (undeclared ones went to `stash`).
    data: dict[str, Any]
    stash: dict[str, Any]
    entity: Entity
    where: str
    #: Its place among the entity's scripts.
    slot: int = 0


def _handles_in(value: Any) -> Iterator[Handle]:
    """Every `Handle` in a field value, containers and dataclasses included."""
    if type(value) is Handle:
        yield value
    elif type(value) in (list, tuple):
        for v in value:
            yield from _handles_in(v)
    elif type(value) is dict:
        for v in value.values():
            yield from _handles_in(v)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _handles_in(getattr(value, f.name))


def check_asset_path(rel: str, project_root: Path | None) -> str | None:
    """Why an asset path is unusable, or ``None`` when it is fine.

    Asset paths are relative to the project's ``assets/`` folder, written with
    ``/``, and may not leave it.
    """
    if not rel:
        return "is empty"
    pp = PurePosixPath(rel)
    if pp.is_absolute() or re.match(r"^[A-Za-z]:", rel) or "\\" in rel:
        return "must be a path relative to assets/, not an absolute path"
    if ".." in pp.parts:
        return "leaves the assets/ folder (uses ..)"
    if project_root is not None and not (project_root / "assets" / pp).is_file():
        return f"does not exist in {project_root / 'assets'}"
    return None


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."


# --- saving -----------------------------------------------------------------------


def scene_to_data(scene: Scene) -> dict[str, Any]:
    """The scene as JSON-ready data, keys in a fixed order."""
    return {
        "format": FORMAT_VERSION,
        "name": scene.name,
        "background": scene.background.hex,
        "next_handle": scene.next_handle,
        "entities": [entity_to_data(e) for e in scene],
    }


def entity_to_data(e: Entity) -> dict[str, Any]:
    """One entity as `scene_to_data` writes it (its place in the tree as its parent only)."""
    d: dict[str, Any] = {
        "handle": int(e.handle),
        "name": e.name,
        "parent": int(e.parent),
    }
    if not e.enabled:
        d["enabled"] = False
    # float() everywhere: a script may have stored ints (``rotation = 0``), and
    # the loader reads floats, so writing ints would make load+save change the file.
    d["position"] = [float(e.position[0]), float(e.position[1])]
    d["rotation"] = float(e.rotation)
    d["scale"] = [float(e.scale[0]), float(e.scale[1])]
    if e.visual is not None:
        v = e.visual
        vd: dict[str, Any] = {
            "kind": v.kind.value,
            "size": [float(v.size[0]), float(v.size[1])],
            "color": v.color.hex,
            "z": v.z,
        }
        if v.image:
            vd["image"] = v.image
        if v.text:
            vd["text"] = v.text
        if v.kind is VisualKind.TEXT:
            vd["font_size"] = float(v.font_size)
        d["visual"] = vd
    if e.scripts:
        d["scripts"] = [_script_data(s) for s in e.scripts]
    return d


def _script_data(s: Script) -> dict[str, Any]:
    d = {"type": script_type_id(s), "fields": script_plain_fields(s)}
    stash = stash_of(s)
    if stash:
        d["stash"] = dict(stash)  # the values reloads set aside, saved for when they come back
    return d


def dumps_scene(scene: Scene) -> str:
    """The scene file text: deterministic, two-space indented, number pairs on one line.

    Raises:
        ValueError: the scene holds NaN or an infinite number.
        TypeError: the scene holds a value JSON cannot represent.
    """
    return dumps_scene_data(scene_to_data(scene))


def dumps_scene_data(data: dict[str, Any]) -> str:
    """JSON text in the layout of scene files (for data shaped like `scene_to_data`'s).

    As ``json.dumps(indent=2)`` except that a list of exactly two numbers
    (positions, sizes, vector fields) stays on one line, so a moved entity is a
    one-line diff. Written by hand rather than by rewriting ``json.dumps``
    output, which could not tell a pair from the same characters inside a string.

    Raises:
        ValueError: the data holds NaN or an infinite number.
        TypeError: the data holds a value JSON cannot represent.
    """
    out: list[str] = []
    _write_json(data, 0, out)
    out.append("\n")
    return "".join(out)


def _is_number(v: Any) -> bool:
    return type(v) in (int, float)


def _write_json(value: Any, depth: int, out: list[str]) -> None:
    t = type(value)
    if t is dict and value:
        inner = "  " * (depth + 1)
        sep = "{\n" + inner
        for k, v in value.items():
            if type(k) is not str:
                raise TypeError(f"key {k!r} is not a string")
            out.append(sep + _encode_str(k) + ": ")
            sep = ",\n" + inner
            if type(v) in _SCALAR_TYPES:  # most values: no call per level
                out.append(_scalar(v))
            else:
                _write_json(v, depth + 1, out)
        out.append("\n" + "  " * depth + "}")
    elif (t is list or t is tuple) and value:
        if len(value) == 2 and _is_number(value[0]) and _is_number(value[1]):
            out.append(f"[{_scalar(value[0])}, {_scalar(value[1])}]")
            return
        inner = "  " * (depth + 1)
        sep = "[\n" + inner
        for v in value:
            out.append(sep)
            sep = ",\n" + inner
            _write_json(v, depth + 1, out)
        out.append("\n" + "  " * depth + "]")
    else:
        out.append(_scalar(value))


#: Values written by `_scalar` alone (an empty dict or list is written there too).
_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def _scalar(value: Any) -> str:
    # What json.dumps(value, ensure_ascii=False, allow_nan=False) returns, without
    # building an encoder per value: a 100,000-entity scene has millions of them,
    # and that set-up was most of the time of a save. The exact builtin types take
    # the encoder's own conversions; anything else (subclasses, NaN, infinities,
    # values JSON cannot hold) goes to json.dumps, which also raises its errors.
    t = type(value)
    if t is str:
        return _encode_str(value)
    if t is int:
        return int.__repr__(value)
    if t is float and math.isfinite(value):
        return float.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


#: The string encoder json.dumps uses with ensure_ascii=False (the C one where built).
_encode_str: Callable[[str], str] = json.encoder.encode_basestring


def save_scene(scene: Scene, path: str | os.PathLike[str]) -> None:
    """Write the scene atomically: a crash mid-save leaves the old file intact.

    Raises:
        SceneFileError: the scene holds a value a file cannot store, or the disk refused.
    """
    p = Path(path)
    try:
        text = dumps_scene(scene)
    except (PlainDataError, ValueError, TypeError) as exc:
        raise SceneFileError(p, f"cannot save: {exc}") from None
    except RecursionError:
        # Placeholder data is kept as loaded, and json reads nesting up to the
        # interpreter's limit: a file that loaded may be too deep to write back
        # from a deeper call stack (the editor's).
        raise SceneFileError(p, "cannot save: a value is nested too deeply") from None
    try:
        write_atomic(p, encode_scene_text(text))
    except OSError as exc:
        raise SceneFileError(p, f"cannot save: {exc.strerror or exc}") from None


#: A lone UTF-16 surrogate: a valid Python string character that UTF-8 cannot encode.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def unencodable_text(value: Any) -> str | None:
    """The first string in `value` (nested lists, tuples, sets, maps) UTF-8 cannot encode.

    The editor refuses such a value where the user enters it, with a message,
    rather than letting the document hold what other tools cannot read.

    Returns:
        The offending string, or ``None`` when every string encodes.
    """
    stack = [value]
    seen: set[int] = set()  # a container holding itself is walked once
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if _LONE_SURROGATE.search(v):
                return v
            continue
        if id(v) in seen:
            continue
        if isinstance(v, dict):
            seen.add(id(v))
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, (list, tuple, set, frozenset)):
            seen.add(id(v))
            stack.extend(v)
    return None


def encode_scene_text(text: str) -> bytes:
    r"""The UTF-8 bytes of a scene file's JSON `text`, whatever strings it holds.

    A lone surrogate (``"\ud800"``: JSON allows it, so a loaded file may hold
    one) cannot be encoded, and a document holding one could never be saved
    again. In scene JSON every character is inside a string, so it is written
    as its ``\uXXXX`` escape, which reads back as the very same string.
    """
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        escaped = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
        return escaped.encode("utf-8")


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, fsync it, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0600; without this chmod every save would make the
    # scene unreadable to the other users of a shared checkout. Keep the mode of
    # the file being replaced, or give a new file the mode open() would.
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = 0o666 & ~_UMASK
    # The writer's pid in the name: the next start deletes the files of dead
    # writers (`remove_interrupted_saves`) and never one another editor writes now.
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}-", suffix=_TMP_SUFFIX, dir=path.parent
    )
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dfd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return  # directories cannot be opened on some systems (Windows): rename is enough
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


_TMP_SUFFIX = ".tmp"
#: ``.<file name>.<pid>-<random>.tmp``: the temporary file of `write_atomic`.
_TMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-[A-Za-z0-9_]+\.tmp$")
#: ``.<file name>.<random>.tmp``: the same, written before the pid was in the name.
_OLD_TMP_NAME = re.compile(r"^\..+\.json\.[a-z0-9_]{8}\.tmp$")
#: Seconds after which a temporary file without a pid is taken as left behind.
STALE_TMP_SECONDS = 600.0


def writer_alive(pid: int) -> bool:
    """Whether process `pid` may still be running (this process counts as running).

    Errs on the side of "alive": a file of a live writer must never be deleted.
    """
    if pid == os.getpid():
        return True
    if pid <= 0 or os.name != "posix":
        # Windows' os.kill would terminate the process: there, only age tells.
        return pid > 0
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return True


def remove_interrupted_saves(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files that interrupted `write_atomic` calls left in `folder`.

    A save killed between writing its temporary file and renaming it leaves
    the file behind (megabytes for a big scene). Searched recursively; a file
    is deleted when the process named in it is gone, or, for a name without
    a pid, when it is older than `STALE_TMP_SECONDS`. Never raises.

    Returns:
        The files deleted.
    """
    removed: list[Path] = []
    try:
        candidates = list(Path(folder).rglob(f".*{_TMP_SUFFIX}"))
    except OSError:
        return removed
    now = time.time()
    for tmp in candidates:
        m = _TMP_NAME.match(tmp.name)
        try:
            if m is not None:
                stale = not writer_alive(int(m["pid"])) or (
                    os.name != "posix" and now - tmp.stat().st_mtime > STALE_TMP_SECONDS
                )
            elif _OLD_TMP_NAME.match(tmp.name):
                stale = now - tmp.stat().st_mtime > STALE_TMP_SECONDS
            else:
                continue
            if stale and tmp.is_file():
                tmp.unlink()
                removed.append(tmp)
        except OSError as exc:
            log.warning("cannot delete %s: %s", tmp, exc.strerror or exc)
    return removed


def copy_scene(scene: Scene, resolve: TypeResolver) -> Scene:
    """An independent copy, as saving and loading the scene would make it (what Play runs).

    Without the plain data in between where it would change nothing: an
    entity's attributes are copied as the file would carry them, and a field
    value of its declared type that is immutable (a finite float, a `Vec2`...)
    is shared. Every other value, and a script whose type id no longer
    resolves to its own class (a placeholder, a class replaced since), goes
    through its plain data as a scene file would.

    Raises:
        SceneFileError: a value cannot be stored in a scene file.
    """
    source = f"<copy of {scene.name}>"
    copy = Scene(name=scene.name)
    copy.background = scene.background
    copy.next_handle = scene.next_handle
    ents = copy.entities
    try:
        # Hundreds of thousands of new objects, none garbage, all of them kept.
        with collector_paused(keep=True):
            pairs: list[tuple[Entity, Entity]] = []
            for e in scene:
                c = Entity(
                    e.handle,
                    e.name,
                    position=_float_vec(e.position),
                    rotation=float(e.rotation),
                    scale=_float_vec(e.scale),
                    visual=e.visual.copy() if e.visual is not None else None,
                    enabled=e.enabled,
                )
                c.parent = e.parent
                c.children = list(e.children)
                ents[c.handle] = c
                if e.scripts:
                    pairs.append((e, c))
            _copy_scripts(pairs, resolve)
    except _Invalid as exc:
        raise SceneFileError(source, str(exc)) from None
    except PlainDataError as exc:
        raise SceneFileError(source, f"cannot copy: {exc}") from None
    copy.roots = list(scene.roots)
    return copy


def _float_vec(v: Vec2) -> Vec2:
    # As the file stores it: floats (a script may have stored ints).
    return v if type(v[0]) is float and type(v[1]) is float else Vec2(float(v[0]), float(v[1]))


#: Per declared field: its name, its annotation, and the one type whose values are kept
#: as they are (``None``: always through plain data); and whether it is a list of them.
_ScriptCopier = tuple[tuple[str, Any, type | None, bool], ...]
#: Immutable field types a value of exactly that type keeps through a copy.
_SHARED_TYPES = frozenset({bool, int, float, str, Handle, Color, Vec2})


def _script_copier(cls: type) -> _ScriptCopier:
    out = []
    for name, spec in declared_fields(cls).items():
        ann = spec.annotation
        if ann in _SHARED_TYPES:
            out.append((name, ann, ann, False))
        elif (
            get_origin(ann) is list and len(args := get_args(ann)) == 1 and args[0] in _SHARED_TYPES
        ):
            out.append((name, ann, args[0], True))
        else:
            out.append((name, ann, None, False))
    return tuple(out)


def _copy_scripts(pairs: list[tuple[Entity, Entity]], resolve: TypeResolver) -> None:
    """Give each copied entity copies of its original's scripts, made class by class.

    As loading makes them (`instantiate_columns`): every value of a field, then
    every object of the class. A class whose type id no longer resolves to it
    (a placeholder, a class replaced since) goes through its plain data.
    """
    by_class: dict[type, list[tuple[Script, Entity, int]]] = {}
    for e, c in pairs:
        c.scripts = list(e.scripts)  # each replaced by its copy below
        for slot, s in enumerate(e.scripts):
            by_class.setdefault(type(s), []).append((s, c, slot))
    reader = _SceneReader(resolve, None)
    for cls, rows in by_class.items():
        if cls is PlaceholderScript or resolve(script_type_id(rows[0][0])) is not cls:
            for s, c, slot in rows:
                where = f"entity {int(c.handle)} ({c.name!r})"
                c.scripts[slot] = reader._script(_script_data(s), c, where)
            continue
        olds = [s for s, _, _ in rows]
        columns = {
            name: in_order(_copied_column(list(map(getattr, olds, itertools.repeat(name))), *how))
            for name, *how in _script_copier(cls)
        }
        made = instantiate_columns(cls, columns, len(rows))
        for (s, c, slot), copied in zip(rows, made, strict=True):
            stash = stash_of(s)
            if stash:
                set_stash(copied, to_plain(dict(stash)))
            c.scripts[slot] = copied


def refresh_scripts(scene: Scene, resolve: TypeResolver) -> tuple[Handle, ...]:
    """Give a scene's scripts the classes their type ids resolve to now, as saving and reopening do.

    For a scene that sat out hot reloads (the editor's edited scene while its
    copy plays): a script whose type id resolves to another class than its own
    (one replaced since), a placeholder whose class is back and a script whose
    class is gone (it becomes a placeholder with its data) are made again from
    their plain data, class by class, as loading makes them, with one warning
    per script type and field rather than one per script. The objects of a
    class whose new version declares the same fields, all of types a file
    stores as they are, and which hold exactly those fields with such values
    stay themselves: they take the new class, as a hot reload keeps them.

    A stored value its field's new type refuses is set aside in the stash and the
    field takes its default, as a hot reload does (one warning per type and
    field). The scripts of a class the code loaded now still cannot make (a
    property's setter raises, say) stay as they are, with one warning naming
    the problem; they are no worse off than before the call. Nothing changes
    before every class is made.

    Returns:
        The entities whose scripts changed, in scene order.
    """
    columns = scene.script_columns()
    scripts = columns.scripts
    types = list(map(type, scripts))
    stale: dict[type, type | None] = {}  # old class -> the class now (None: gone)
    for cls in dict.fromkeys(types):
        if cls is PlaceholderScript:
            stale[cls] = None
            continue
        now = resolve(script_type_id(scripts[types.index(cls)]))
        if now is not cls:
            stale[cls] = now
    if not stale:
        return ()
    reader = _SceneReader(resolve, None)
    reader.warn_once = True
    # One group per class; the placeholders by their missing type, those whose class is back.
    groups: list[tuple[str, type | None, list[int]]] = []
    for cls, now in stale.items():
        positions = [k for k, t in enumerate(types) if t is cls]
        if cls is not PlaceholderScript:
            groups.append((script_type_id(scripts[positions[0]]), now, positions))
            continue
        by_type: dict[str, list[int]] = {}
        for k in positions:
            by_type.setdefault(script_type_id(scripts[k]), []).append(k)
        groups += [(tid, None, ks) for tid, ks in by_type.items() if resolve(tid) is not None]
    changed: list[int] = []
    retypes: list[tuple[list[Any], type]] = []
    swaps: list[tuple[Entity, int, Script]] = []
    for type_id, now, positions in groups:
        olds = list(map(scripts.__getitem__, positions))
        if now is not None and _keeps_objects(type(olds[0]), now, olds):
            retypes.append((olds, now))
            changed += positions
            continue
        try:
            swaps += _remade(reader, columns, positions)
        except Exception as exc:  # refused data, or game code (a setter that raises)
            problem = str(exc) if isinstance(exc, (_Invalid, PlainDataError)) else repr(exc)
            log.warning(
                "%s: %d %s script%s the code from before: %s",
                scene.name,
                len(positions),
                type_id,
                " keeps" if len(positions) == 1 else "s keep",
                problem,
            )
            continue
        changed += positions
    # Nothing changed until every class is made.
    for olds, now in retypes:
        for obj in olds:
            _set_attr(obj, "__class__", now)
    for e, slot, script in swaps:
        e.scripts[slot] = script
    changed.sort()
    return tuple(dict.fromkeys(columns.entities[k].handle for k in changed))


_set_attr = object.__setattr__  # past any __setattr__ of the class: no game code runs


def _remade(
    reader: _SceneReader, columns: ScriptColumns, positions: list[int]
) -> list[tuple[Entity, int, Script]]:
    """The scripts at `positions` made again from their plain data (nothing is changed yet)."""
    out: list[tuple[Entity, int, Script]] = []
    by_class: dict[type, list[_ScriptRow]] = {}
    for k in positions:
        e, slot = columns.entities[k], columns.indices[k]
        where = f"entity {int(e.handle)} ({e.name!r})"
        row = reader._script_row(_script_data(columns.scripts[k]), e, where)
        if isinstance(row, _ScriptRow):
            row.slot = slot
            _stash_refused(reader, row)
            by_class.setdefault(row.cls, []).append(row)
        else:
            out.append((e, slot, row))
    out += [(row.entity, row.slot, script) for script, row in reader._make_scripts(by_class)]
    return out


def _stash_refused(reader: _SceneReader, row: _ScriptRow) -> None:
    """Move the stored values the new field types refuse into the stash, as a reload does.

    The field then takes its default; the value comes back when its type does.
    """
    for fname, spec in declared_fields(row.cls).items():
        if fname not in row.data:
            continue
        try:
            from_plain(row.data[fname], spec.annotation)
        except PlainDataError as exc:
            reader._warn(
                (row.type_id, f"refused {fname}"),
                "%s: %s.%s: %s; the field takes its default, the value is kept in the stash",
                row.where,
                row.type_id,
                fname,
                exc,
            )
            row.stash[fname] = row.data.pop(fname)


def _keeps_objects(old: type, new: type, objs: list[Any]) -> bool:
    """Whether the objects of `old` can take class `new` as they are.

    That is, saved and reopened they would hold the same values: the same declared
    fields, of types a file stores as they are, every object holding exactly those
    and values the file keeps.
    """
    how = _script_copier(old)
    if how != _script_copier(new) or any(shared is None for _, _, shared, _ in how):
        return False
    names = {name for name, *_ in how}
    if any(is_data_descriptor(c, name) for c in (old, new) for name in names):
        return False
    dicts = list(map(_dict_of, objs))
    allowed = names | {STASH_KEY}
    if not all(map(names.issubset, dicts)) or not all(map(allowed.issuperset, dicts)):
        return False
    for stash in (d[STASH_KEY] for d in dicts if STASH_KEY in d):
        if names & stash.keys():
            return False  # a value set aside would come back into its field
    return all(
        _column_kept(list(map(operator.itemgetter(name), dicts)), shared, is_list)
        for name, _, shared, is_list in how
        if shared is not None  # every one: checked above
    )


_dict_of = operator.attrgetter("__dict__")


def _copied_column(column: list[Any], ann: Any, shared: type | None, is_list: bool) -> list[Any]:
    """`_copied_value` of every value of a field: in C when the column keeps every value."""
    if shared is not None and _column_kept(column, shared, is_list):
        return list(map(list.copy, column)) if is_list else column
    return [_copied_value(v, ann, shared, is_list) for v in column]


def _column_kept(column: list[Any], shared: type, is_list: bool) -> bool:
    """Whether a file keeps every value of a column as it is (each a list of them: `is_list`)."""
    if not is_list:
        return _all_kept(column, shared)
    return set(map(type, column)) <= {list} and _all_kept(
        list(itertools.chain.from_iterable(column)), shared
    )


def _all_kept(values: list[Any], shared: type) -> bool:
    """Whether every value is of type `shared` and `_keeps` it (a pass or two in C)."""
    if not set(map(type, values)) <= {shared}:
        return False
    if not values:
        return True
    if shared is float:
        return all(map(math.isfinite, values))
    if shared is Vec2:
        return all(map(math.isfinite, itertools.chain.from_iterable(values)))
    if shared is int:
        return int_fits(min(values)) and int_fits(max(values))
    return True  # str, bool, Handle, Color: any value is stored as it is


def _copied_value(v: Any, ann: Any, shared: type | None, is_list: bool) -> Any:
    """A field value as a scene file would carry it: kept when immutable and stored as is."""
    if is_list:
        if type(v) is list and all(type(x) is shared and _keeps(x) for x in v):
            return v.copy()
    elif type(v) is shared and _keeps(v):
        return v
    return from_plain(to_plain(v), ann)


def _keeps(v: Any) -> bool:
    """Whether an immutable value is one a scene file stores as it is (finite, in range)."""
    t = type(v)
    if t is float:
        return math.isfinite(v)
    if t is int:
        return int_fits(v)
    if t is Vec2:
        return math.isfinite(v[0]) and math.isfinite(v[1])
    return True
