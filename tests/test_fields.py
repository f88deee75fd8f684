"""Declared fields: reading them from classes, checking and converting values."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Optional

import pytest

from runtime.fields import (
    FieldTypeError,
    PlainDataError,
    conforms,
    declared_fields,
    from_plain,
    to_plain,
    type_name,
    zero_value,
)
from runtime.scripting import Plugin, Script, instantiate, type_id_of
from runtime.values import Color, Handle, Vec2


class Mood(enum.Enum):
    CALM = 1
    ANGRY = 2


@dataclass
class Stats:
    hp: int = 10
    speed: float = 1.5
    where: Vec2 = Vec2(1, 2)  # noqa: RUF009 - immutable


class Everything(Script):
    flag: bool = True
    count: int = 3
    speed: float = 2.5
    label: str = "hi"
    pos: Vec2 = Vec2(1, 2)
    tint: Color = Color.parse("#ff0000")
    target: Handle = Handle(0)
    mood: Mood = Mood.ANGRY
    path: list[Vec2] = [Vec2(0, 0), Vec2(1, 1)]
    scores: dict[str, int] = {"a": 1}
    pair: tuple[int, str] = (1, "x")
    many: tuple[float, ...] = (1.0, 2.0)
    maybe: Optional[int] = None  # noqa: UP045 - Optional is what is being tested
    maybe_vec: Vec2 | None = None
    stats: Stats = Stats()  # copied for each object


class Zeros(Script):
    flag: bool
    count: int
    speed: float
    label: str
    pos: Vec2
    tint: Color
    target: Handle
    mood: Mood
    items: list[int]
    table: dict[str, float]
    maybe: int | None


class WithExtras(Script):
    kept: int = 1
    shared: ClassVar[int] = 5
    _private: int = 7
    plain_attr = 3  # not annotated: not a field

    def method(self) -> int:
        return 1

    @property
    def prop(self) -> int:
        return 2


class Base(Script):
    a: int = 1
    b: int = 2


class Derived(Base):
    b: int = 20
    c: int = 3


class Mutable(Script):
    items: list[int] = []
    table: dict[str, list[int]] = {"k": [1]}


class Renamed(Script):
    type_id = "my-stable-id"
    x: int = 0


class SettingsPlugin(Plugin):
    volume: float = 0.5


# --- declared_fields ------------------------------------------------------------------


def test_fields_in_declaration_order_with_defaults() -> None:
    f = declared_fields(Everything)
    assert list(f)[:5] == ["flag", "count", "speed", "label", "pos"]
    assert f["count"].default == 3
    assert f["tint"].default == Color(255, 0, 0)
    assert f["mood"].default is Mood.ANGRY
    assert f["pos"].annotation is Vec2
    assert f["path"].annotation == list[Vec2]


def test_zero_values_for_fields_without_default() -> None:
    z = Zeros()
    assert z.flag is False
    assert z.count == 0 and type(z.count) is int
    assert z.speed == 0.0 and type(z.speed) is float
    assert z.label == ""
    assert z.pos == Vec2.ZERO
    assert z.tint == Color.WHITE
    assert z.target == Handle.NONE and type(z.target) is Handle
    assert z.mood is Mood.CALM
    assert z.items == [] and z.table == {}
    assert z.maybe is None


def test_a_field_without_default_or_zero_is_an_error() -> None:
    class NoZero(Script):
        pair: tuple[int, int]

    with pytest.raises(FieldTypeError, match=r"NoZero\.pair.*needs a default"):
        declared_fields(NoZero)


def test_an_unresolvable_annotation_is_an_error() -> None:
    class Bad(Script):
        x: NoSuchType = 1  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(FieldTypeError, match=r"Bad\.x: cannot resolve annotation 'NoSuchType'"):
        declared_fields(Bad)


def test_classvar_private_methods_and_unannotated_are_not_fields() -> None:
    assert list(declared_fields(WithExtras)) == ["kept"]


def test_fields_of_base_classes_come_first_and_overrides_win() -> None:
    f = declared_fields(Derived)
    assert list(f) == ["a", "b", "c"]
    assert f["b"].default == 20
    assert Derived().b == 20 and Base().b == 2


def test_mutable_defaults_are_not_shared() -> None:
    one, two = Mutable(), Mutable()
    one.items.append(1)
    one.table["k"].append(2)
    assert two.items == []
    assert two.table == {"k": [1]}
    assert declared_fields(Mutable)["table"].default == {"k": [1]}
    three = instantiate(Mutable)
    assert three.items == [] and three.items is not one.items


def test_construction_with_keywords_and_unknown_field() -> None:
    e = Everything(count=9, label="x")
    assert e.stats == Stats() and e.stats is not Everything().stats
    assert e.path == [Vec2(0, 0), Vec2(1, 1)] and type(e.path[0]) is Vec2
    assert (e.count, e.label, e.speed) == (9, "x", 2.5)
    with pytest.raises(TypeError, match="has no field nope"):
        Everything(nope=1)
    assert e.field_values()["count"] == 9
    assert "count=9" in repr(e)


def test_instantiate_does_not_call_init() -> None:
    class Counting(Script):
        n: int = 0

        def __init__(self, **kw: Any) -> None:
            raise AssertionError("__init__ must not run")

    obj = instantiate(Counting, {"n": 4})
    assert obj.n == 4


def test_plugin_fields() -> None:
    p = SettingsPlugin()
    assert p.volume == 0.5
    assert list(declared_fields(SettingsPlugin)) == ["volume"]


def test_fields_are_cached_per_class() -> None:
    assert declared_fields(Derived) is declared_fields(Derived)
    assert declared_fields(Base) is not declared_fields(Derived)


# --- type ids -------------------------------------------------------------------------


def test_type_id_default_is_module_and_qualname() -> None:
    assert type_id_of(Everything) == f"{__name__}:Everything"


def test_type_id_explicit_override_and_not_inherited() -> None:
    assert type_id_of(Renamed) == "my-stable-id"

    class Sub(Renamed):
        pass

    assert (
        type_id_of(Sub)
        == f"{__name__}:test_type_id_explicit_override_and_not_inherited.<locals>.Sub"
    )


def test_type_id_of_plugin_module_drops_the_namespace() -> None:
    cls = type("Thing", (Script,), {"__module__": "hotplay_plugins_7.bouncy.ball"})
    assert type_id_of(cls) == "bouncy.ball:Thing"


# --- conforms ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ann", "ok"),
    [
        (1, int, True),
        (True, int, False),
        (1.0, int, False),
        (1, float, True),
        (1.5, float, True),
        ("1", float, False),
        (True, bool, True),
        (1, bool, False),
        ("s", str, True),
        (Vec2(1, 2), Vec2, True),
        ((1.0, 2.0), Vec2, False),
        (Color.WHITE, Color, True),
        ((255, 255, 255, 255), Color, False),
        (Handle(3), Handle, True),
        (3, Handle, False),
        (Mood.CALM, Mood, True),
        (1, Mood, False),
        ([Vec2(1, 1)], list[Vec2], True),
        ([(1.0, 1.0)], list[Vec2], False),
        ((Vec2(1, 1),), list[Vec2], False),
        ({"a": 1}, dict[str, int], True),
        ({"a": "1"}, dict[str, int], False),
        ({1: 1}, dict[str, int], False),
        ((1, "x"), tuple[int, str], True),
        ((1, 2), tuple[int, str], False),
        ((1,), tuple[int, str], False),
        ((1.0, 2, 3.5), tuple[float, ...], True),
        ((1.0, "2"), tuple[float, ...], False),
        (None, Optional[int], True),  # noqa: UP045
        (3, Optional[int], True),  # noqa: UP045
        ("3", Optional[int], False),  # noqa: UP045
        (None, Vec2 | None, True),
        (Stats(), Stats, True),
        ({"hp": 1}, Stats, False),
        ("a", Literal["a", "b"], True),
        ("c", Literal["a", "b"], False),
        (object(), Any, True),
    ],
)
def test_conforms(value: Any, ann: Any, ok: bool) -> None:
    assert conforms(value, ann) is ok


# --- to_plain / from_plain -----------------------------------------------------------------


ROUND_TRIPS: list[tuple[Any, Any, Any]] = [
    (True, bool, True),
    (3, int, 3),
    (2.5, float, 2.5),
    ("hé", str, "hé"),
    (Vec2(1, 2), Vec2, [1.0, 2.0]),
    (Color(255, 136, 0), Color, "#ff8800"),
    (Color(255, 136, 0, 1), Color, "#ff880001"),
    (Handle(4), Handle, 4),
    (Mood.ANGRY, Mood, "ANGRY"),
    ([Vec2(1, 2), Vec2(3, 4)], list[Vec2], [[1.0, 2.0], [3.0, 4.0]]),
    ({"a": 1, "b": 2}, dict[str, int], {"a": 1, "b": 2}),
    ((1, "x"), tuple[int, str], [1, "x"]),
    ((1.0, 2.0, 3.0), tuple[float, ...], [1.0, 2.0, 3.0]),
    (None, Optional[int], None),  # noqa: UP045
    (5, Optional[int], 5),  # noqa: UP045
    (Vec2(1, 1), Vec2 | None, [1.0, 1.0]),
    (Stats(hp=3, speed=0.5, where=Vec2(5, 6)), Stats, {"hp": 3, "speed": 0.5, "where": [5.0, 6.0]}),
    ([[Handle(1)], [Handle(2), Handle(3)]], list[list[Handle]], [[1], [2, 3]]),
]


@pytest.mark.parametrize(("value", "ann", "plain"), ROUND_TRIPS)
def test_to_plain_and_back(value: Any, ann: Any, plain: Any) -> None:
    assert to_plain(value) == plain
    back = from_plain(plain, ann)
    assert back == value
    assert type(back) is type(value)
    assert conforms(back, ann)


def test_from_plain_builds_exact_types_inside_containers() -> None:
    path = from_plain([[1, 2]], list[Vec2])
    assert type(path[0]) is Vec2
    assert type(from_plain(3, float)) is float
    assert from_plain(4.0, int) == 4 and type(from_plain(4.0, int)) is int
    handles = from_plain({"a": 1}, dict[str, Handle])
    assert type(handles["a"]) is Handle


@pytest.mark.parametrize(
    ("data", "ann"),
    [
        ("1", int),
        (True, int),
        (1.5, int),
        (1, bool),
        (None, str),
        ("x", float),
        (float("nan"), float),
        (float("inf"), float),
        (10**400, float),
        ([1], Vec2),
        ([1, 2, 3], Vec2),
        ([1, "2"], Vec2),
        ([10**400, 0], Vec2),
        ([float("nan"), 0], Vec2),
        ((1, 2), Vec2),
        ("#zzzzzz", Color),
        (123, Color),
        (-1, Handle),
        (1.0, Handle),
        ("CALM ", Mood),
        (1, Mood),
        ({"a": 1}, list[int]),
        ([1, "x"], list[int]),
        ([1], dict[str, int]),
        ({"a": "x"}, dict[str, int]),
        ([1], tuple[int, str]),
        ([1, 2], tuple[int, str]),
        ("x", Optional[int]),  # noqa: UP045
        ([1, 2], Stats),
        ({"hp": "many"}, Stats),
        ("c", Literal["a", "b"]),
        (1, Literal["1"]),
    ],
)
def test_from_plain_refuses_data_that_does_not_fit(data: Any, ann: Any) -> None:
    with pytest.raises(PlainDataError):
        from_plain(data, ann)


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), {1: "x"}, object(), {1, 2}, [object()], Vec2(float("inf"), 0)],
)
def test_to_plain_refuses_what_a_file_cannot_hold(value: Any) -> None:
    if isinstance(value, Vec2):
        # A Vec2 keeps whatever floats it got; the file writer refuses the non-finite ones.
        assert to_plain(value) == [float("inf"), 0.0]
        return
    with pytest.raises(PlainDataError):
        to_plain(value)


def test_dataclass_from_plain_uses_defaults_for_missing_keys() -> None:
    s = from_plain({"hp": 1}, Stats)
    assert s == Stats(hp=1, speed=1.5, where=Vec2(1, 2))


def test_zero_value_and_type_name() -> None:
    assert zero_value(list[int]) == []
    assert zero_value(Mood) is Mood.CALM
    assert type_name(int) == "int"
    assert type_name(list[Vec2]) == "list[Vec2]"
    assert type_name(Vec2 | None) == "Vec2 | None"
