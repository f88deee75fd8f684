"""The engine value types: `Vec2`, `Color`, `Handle`."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime.values import Color, Handle, Vec2

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


# --- Vec2 ---------------------------------------------------------------------------


def test_vec2_arithmetic() -> None:
    a, b = Vec2(3, 4), Vec2(1, -2)
    assert a + b == Vec2(4, 2)
    assert a - b == Vec2(2, 6)
    assert a * 2 == Vec2(6, 8)
    assert 2 * a == Vec2(6, 8)
    assert a / 2 == Vec2(1.5, 2.0)
    assert -a == Vec2(-3, -4)
    assert abs(a) == 5.0
    assert a.length == 5.0
    assert a.dot(b) == 3 - 8


def test_vec2_results_are_vec2_even_with_plain_tuples() -> None:
    v = Vec2(1, 2)
    plus, rplus = v + (1, 1), (1, 1) + v  # noqa: RUF005 - Vec2 addition, not concatenation
    for result in (plus, rplus, v - (1, 1), (1, 1) - v, v * 3, 3 * v, v / 2, -v):
        assert type(result) is Vec2
    assert (10, 10) - v == Vec2(9, 8)
    # A plain tuple on the left must not concatenate.
    assert (1, 1) + v == Vec2(2, 3)  # noqa: RUF005


def test_vec2_components_are_floats_and_it_unpacks() -> None:
    v = Vec2(1, 2)
    assert type(v.x) is float and type(v.y) is float
    x, y = v
    assert (x, y) == (1.0, 2.0)
    assert v == (1.0, 2.0)
    assert hash(v) == hash((1.0, 2.0))
    assert Vec2() == Vec2.ZERO == (0.0, 0.0)
    assert Vec2.ONE == (1.0, 1.0)


def test_vec2_is_immutable() -> None:
    v = Vec2(1, 2)
    with pytest.raises(AttributeError):
        v.x = 5.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        v[0] = 5.0  # type: ignore[index]


def test_vec2_truthiness() -> None:
    assert not Vec2.ZERO
    assert Vec2(0, 0.5)


def test_vec2_refuses_non_numbers() -> None:
    with pytest.raises((TypeError, ValueError)):
        Vec2("a", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Vec2(1, 2) * Vec2(1, 2)  # type: ignore[operator]


def test_vec2_helpers() -> None:
    assert Vec2(3, 4).normalized() == pytest.approx(Vec2(0.6, 0.8))
    assert Vec2.ZERO.normalized() == Vec2.ZERO
    r = Vec2(1, 0).rotated(90)
    assert r.x == pytest.approx(0.0, abs=1e-12) and r.y == pytest.approx(1.0)
    assert Vec2(0, 0).lerp(Vec2(10, 20), 0.25) == Vec2(2.5, 5.0)
    assert Vec2(1, 1).distance_to(Vec2(4, 5)) == 5.0
    assert Vec2(1, 2).with_x(7) == Vec2(7, 2)
    assert Vec2(1, 2).with_y(7) == Vec2(1, 7)
    assert repr(Vec2(1.5, -2)) == "Vec2(1.5, -2)"


@given(finite, finite, finite, finite)
def test_vec2_add_sub_roundtrip(ax: float, ay: float, bx: float, by: float) -> None:
    a, b = Vec2(ax, ay), Vec2(bx, by)
    assert (a + b) - b == pytest.approx(a, abs=1e-6)
    assert a + b == b + a


@given(finite, finite, st.floats(min_value=-360, max_value=360))
def test_vec2_rotation_keeps_length(x: float, y: float, deg: float) -> None:
    v = Vec2(x, y)
    assert v.rotated(deg).length == pytest.approx(v.length, rel=1e-9, abs=1e-9)


# --- Color --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rgba"),
    [
        ("#ff8800", (255, 136, 0, 255)),
        ("#FF8800", (255, 136, 0, 255)),
        ("ff8800", (255, 136, 0, 255)),
        ("#f80", (255, 136, 0, 255)),
        ("#ff880080", (255, 136, 0, 128)),
        ("  #000000  ", (0, 0, 0, 255)),
    ],
)
def test_color_parse(text: str, rgba: tuple[int, int, int, int]) -> None:
    assert Color.parse(text) == rgba
    assert type(Color.parse(text)) is Color


@pytest.mark.parametrize("text", ["", "#", "#ff88", "#ff88000", "#gg8800", "#ff880080ff", "red"])
def test_color_parse_refuses_bad_text(text: str) -> None:
    with pytest.raises(ValueError, match="not a colour"):
        Color.parse(text)


def test_color_hex_roundtrip_and_alpha() -> None:
    assert Color(255, 136, 0).hex == "#ff8800"
    assert Color(255, 136, 0, 16).hex == "#ff880010"
    assert Color.parse(Color(1, 2, 3, 4).hex) == Color(1, 2, 3, 4)
    assert Color.WHITE.with_alpha(0) == Color(255, 255, 255, 0)
    assert Color.TRANSPARENT.a == 0
    assert (Color.RED.r, Color.RED.g, Color.RED.b) == (230, 57, 70)
    assert repr(Color(255, 136, 0)) == "Color.parse('#ff8800')"


@pytest.mark.parametrize("channels", [(256, 0, 0), (0, -1, 0), (0, 0, 0, 300)])
def test_color_channels_out_of_range(channels: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"outside 0\.\.255"):
        Color(*channels)


def test_color_lerp_clamps() -> None:
    black, white = Color.BLACK, Color.WHITE
    assert black.lerp(white, 0.5) == Color(128, 128, 128)
    assert black.lerp(white, -1) == black
    assert black.lerp(white, 2) == white


@given(st.tuples(*[st.integers(0, 255)] * 4))
def test_color_hex_roundtrip_property(rgba: tuple[int, int, int, int]) -> None:
    c = Color(*rgba)
    assert Color.parse(c.hex) == c


# --- Handle -------------------------------------------------------------------------


def test_handle_none_is_false_and_repr() -> None:
    assert not Handle.NONE
    assert Handle.NONE == 0
    assert Handle(3)
    assert repr(Handle(3)) == "Handle(3)"
    assert str(Handle(3)) == "Handle(3)"


def test_handle_is_an_int_usable_as_key() -> None:
    d = {Handle(3): "x"}
    assert d[3] == "x"
    assert Handle(3) == 3
    assert int(Handle(3)) + 1 == 4
    assert Handle("7") == 7
    assert isinstance(Handle(1), int)


def test_value_types_are_slotted() -> None:
    for v in (Vec2(1, 2), Color(1, 2, 3), Handle(1)):
        assert not hasattr(v, "__dict__")
    assert math.isclose(Vec2(1e308, 0).x, 1e308)


@pytest.mark.parametrize("value", [Vec2(1, 2), Color(1, 2, 3, 4), Handle(5)])
def test_value_types_survive_copy_and_pickle(value: object) -> None:
    import copy
    import pickle

    for dup in (copy.copy(value), copy.deepcopy(value), copy.deepcopy([value])[0]):
        assert dup == value and type(dup) is type(value)
    # Never used for scenes or snapshots, but a value type must not break a tool that pickles.
    back = pickle.loads(pickle.dumps(value))
    assert back == value and type(back) is type(value)
