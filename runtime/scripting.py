"""The API game code is written against: `Script`, `Plugin` and type ids.

A plugin (a package in the project's ``plugins/``) defines one `Plugin`
subclass and any number of `Script` subclasses. Their persistent state is their
declared fields::

    class Spinner(Script):
        speed: float = 90.0          # degrees per second

        def on_update(self, ctx, dt):
            ctx.entity.rotation += self.speed * dt

The engine owns every reference into plugin code, so that a hot reload can
rebuild these objects from new classes: do not keep plugin objects in places
the engine does not know about (see the guide's "reload-safe code").
"""

from __future__ import annotations

import inspect
import itertools
import operator
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from runtime.fields import declared_fields, to_plain

if TYPE_CHECKING:
    from runtime.context import PluginContext, ScriptContext
    from runtime.reports import ReloadReport

#: Where an object keeps its stash (`stash_of`), in its ``__dict__`` beside engine state.
STASH_KEY = "_hp_stash"

#: Attributes the engine keeps on scripts and plugins, beside their own state: the
#: lifecycle state, the entity, the paused mark and the stash.
ENGINE_KEYS = frozenset({"_hp_state", "_hp_entity", "_hp_faulted", STASH_KEY})

#: Prefix of the module namespace plugins are imported under (see `runtime.plugins`).
NAMESPACE_PREFIX = "hotplay_plugins"


def module_path(module_name: str) -> str:
    """The module name as the project sees it: without the runtime's plugin namespace."""
    if module_name.startswith(NAMESPACE_PREFIX):
        head, _, rest = module_name.partition(".")
        return rest or head
    return module_name


def type_id_of(cls: type) -> str:
    """The stable type id of a plugin class.

    An explicit ``type_id = "..."`` class attribute wins, so a class can be
    renamed or moved and keep its saved data; otherwise ``module:QualName``
    with the module named as in the project (``bouncy.ball:Ball``).
    """
    cached = cls.__dict__.get("__hotplay_type_id__")
    if cached is not None:
        return cached
    explicit = cls.__dict__.get("type_id")
    tid = (
        explicit
        if isinstance(explicit, str) and explicit
        else (f"{module_path(cls.__module__)}:{cls.__qualname__}")
    )
    type.__setattr__(cls, "__hotplay_type_id__", tid)
    return tid


def plugin_name_of(cls: type) -> str:
    """The plugin package a class was defined in (``bouncy``), or ``""`` for engine classes."""
    if not cls.__module__.startswith(NAMESPACE_PREFIX):
        return ""
    return module_path(cls.__module__).partition(".")[0]


class _Fielded:
    """Shared construction from declared fields for scripts and plugins."""

    type_id: ClassVar[str | None] = None

    def __init__(self, **values: Any) -> None:
        fields = declared_fields(type(self))
        for name, spec in fields.items():
            object.__setattr__(
                self, name, values.pop(name) if name in values else spec.new_default()
            )
        if values:
            unknown = ", ".join(sorted(values))
            raise TypeError(f"{type(self).__qualname__} has no field {unknown}")

    def field_values(self) -> dict[str, Any]:
        """The current value of every declared field, by name."""
        return {name: getattr(self, name) for name in declared_fields(type(self))}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.field_values().items())
        return f"{type(self).__qualname__}({inner})"


class Script(_Fielded):
    """Behaviour attached to an entity. Subclass it in a plugin.

    Declare persistent state as annotated class attributes with defaults.
    Construct with keyword arguments for fields (``Ball(speed=3.0)``); do not
    override ``__init__``: a reload rebuilds scripts without calling it, so put
    start-up logic in `on_init`.
    """

    def on_init(self, ctx: ScriptContext) -> None:
        """Called once when the script starts living in a running scene (not on reload)."""

    def on_start(self, ctx: ScriptContext) -> None:
        """Called once before the script's first `on_update`, after that frame's `on_init` calls."""

    def on_update(self, ctx: ScriptContext, dt: float) -> None:
        """Called every frame with the fixed time step `dt` in seconds."""

    def on_message(self, ctx: ScriptContext, message: Any) -> None:
        """Called for each message sent to this script's entity (`ScriptContext.send`)."""

    def on_deinit(self, ctx: ScriptContext) -> None:
        """Called when the entity is destroyed, the script removed, or the scene stopped."""

    def on_before_reload(self, ctx: ScriptContext) -> None:
        """Called on the old object before its state is saved for a hot reload.

        If the reload is rolled back, `on_after_reload` is called on this same
        object with a failed report, so it can undo what it did here.
        """

    def on_after_reload(self, ctx: ScriptContext, report: ReloadReport) -> None:
        """Called on the new object after its fields were restored; rebuild caches here.

        An exception here rolls the whole reload back.
        """


class Plugin(_Fielded):
    """Global game logic of a plugin package; one instance per plugin. Subclass it once."""

    def on_init(self, ctx: PluginContext) -> None:
        """Called when the game starts."""

    def on_update(self, ctx: PluginContext, dt: float) -> None:
        """Called every frame, before the scripts' updates."""

    def on_scene_loaded(self, ctx: PluginContext, scene: Any) -> None:
        """Called when a scene starts running."""

    def on_deinit(self, ctx: PluginContext) -> None:
        """Called when the game stops."""

    def on_before_reload(self, ctx: PluginContext) -> None:
        """Called on the old plugin object before a hot reload saves its state."""

    def on_after_reload(self, ctx: PluginContext, report: ReloadReport) -> None:
        """Called on the new plugin object after a hot reload restored its state."""


#: A class's own namespace, read without running any descriptor or metaclass code.
_own_namespace = type.__dict__["__dict__"].__get__
#: A class's method resolution order as `type` keeps it, past any metaclass.
_mro_of = type.__dict__["__mro__"].__get__

#: The engine's own empty hooks, by name: `Script`'s and `Plugin`'s as defined here
#: (plugin code may patch either class).
_EMPTY_HOOKS: dict[str, tuple[object, ...]] = {}
for _base in (Script, Plugin):
    for _name, _hook in vars(_base).items():
        if _name.startswith("on_"):
            _EMPTY_HOOKS[_name] = (*_EMPTY_HOOKS.get(_name, ()), _hook)


def overrides_hook(cls: type, hook: str) -> bool:
    """Whether a class of `cls`'s method resolution order defines `hook` as its own.

    True when one defines it other than `Script` and `Plugin` do (as defined
    here: plugin code may patch either), or when nothing defines it (a call
    says so). Read statically, from each class's own namespace and its MRO as
    `type` keeps it: no descriptor or metaclass of plugin code runs, so asking
    is never game code (a descriptor whose ``__get__`` raised for a class used
    to stop the frame it was asked in). An attribute lookup a class changes
    (`changes_lookup`) is not looked at: whether a script updates is its
    class's to say.
    """
    empty = _EMPTY_HOOKS.get(hook, ())
    for k in _mro_of(cls):
        namespace = _own_namespace(k)
        if hook in namespace:
            found = namespace[hook]
            return not any(found is e for e in empty)
    return True


def changes_lookup(cls: type) -> bool:
    """Whether a class of `cls`'s MRO (but `object`) defines ``__getattribute__``, statically."""
    return any("__getattribute__" in _own_namespace(k) for k in _mro_of(cls)[:-1])


class PlaceholderScript(Script):
    """Stands in for a script whose class cannot be found.

    It keeps the stored field data untouched, is saved back unchanged, does
    nothing while the game runs, and turns back into the real script when a
    reload brings the class back.
    """

    missing_type_id: str
    data: dict[str, Any]
    reason: str

    def __init__(self, missing_type_id: str, data: dict[str, Any], reason: str) -> None:
        object.__setattr__(self, "missing_type_id", missing_type_id)
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "reason", reason)

    def field_values(self) -> dict[str, Any]:
        """The kept data, as stored."""
        return dict(self.data)

    def __repr__(self) -> str:
        return f"PlaceholderScript({self.missing_type_id!r}, {self.reason})"


def stash_of(obj: Script | Plugin) -> dict[str, Any]:
    """The values hot reloads set aside from `obj`, by field name, as scene-file data.

    A field removed from the code, or whose value no longer fits its new type,
    leaves its value here; a reload that brings the field back with a type the
    value fits puts it back (see `runtime.reload.stash`). Saved with the scene.
    The dict is the object's own: change it with `set_stash`.
    """
    stash: dict[str, Any] = obj.__dict__.get(STASH_KEY) or {}
    return stash


def set_stash(obj: Script | Plugin, stash: dict[str, Any]) -> None:
    """Replace `obj`'s stash (an empty one removes it): how the editor discards stale data."""
    if stash:
        obj.__dict__[STASH_KEY] = dict(stash)
    else:
        obj.__dict__.pop(STASH_KEY, None)


def script_type_id(script: Script) -> str:
    """The type id a script is saved under (a placeholder keeps its missing type's id)."""
    if type(script) is PlaceholderScript:
        return script.missing_type_id
    return type_id_of(type(script))


def script_plain_fields(script: Script) -> dict[str, Any]:
    """A script's fields as JSON-ready data, as stored in scene files."""
    if type(script) is PlaceholderScript:
        return dict(script.data)
    return {name: to_plain(value) for name, value in script.field_values().items()}


def instantiate(cls: type[Any], values: dict[str, Any] | None = None) -> Any:
    """Build a script or plugin without running ``__init__``.

    Declared fields come from `values`, the rest get their declared default.
    This is how loading and hot reload make objects.
    """
    obj = object.__new__(cls)
    values = values or {}
    for name, spec in declared_fields(cls).items():
        object.__setattr__(obj, name, values[name] if name in values else spec.new_default())
    return obj


_dict_of = operator.attrgetter("__dict__")


def instantiate_columns(cls: type[Any], columns: Mapping[str, Sequence[Any]], n: int) -> list[Any]:
    """`n` objects of `cls` built as `instantiate` builds them, from one column per field.

    ``columns[name][i]`` is object ``i``'s value of field ``name``; a declared
    field without a column takes its default. Every object is made first, then
    every ``__dict__``, then the values go in: as a hot reload's rebuild makes
    objects, so that the objects a frame walks one after the other lie side by
    side in memory (see `runtime.scenefile`'s loader).
    """
    objs: list[Any] = list(map(object.__new__, itertools.repeat(cls, n)))
    dicts = list(map(_dict_of, objs))
    fields = declared_fields(cls)
    names = list(fields)
    cols = [
        columns[name] if name in columns else [spec.new_default() for _ in range(n)]
        for name, spec in fields.items()
    ]
    if not names:
        return objs
    rows = zip(*cols, strict=True)
    if any(is_data_descriptor(cls, name) for name in names):
        # A property or a slot goes through its setter, which may read the fields
        # before it: object by object, in declaration order, as `instantiate` does.
        for obj, row in zip(objs, rows, strict=True):
            for name, value in zip(names, row, strict=True):
                object.__setattr__(obj, name, value)
    else:
        for d, row in zip(dicts, rows, strict=True):
            d.update(zip(names, row, strict=True))
    return objs


def is_data_descriptor(cls: type, name: str) -> bool:
    """Whether `cls` has a data descriptor (a property with a setter, a slot) called `name`."""
    attr = inspect.getattr_static(cls, name, None)
    return hasattr(type(attr), "__set__")
