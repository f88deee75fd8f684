"""Engine value types: `Vec2`, `Color` and `Handle`.

They are immutable (tuple and int subclasses), so a script cannot change an
entity's position behind the engine's back by mutating a shared vector, and so
they are cheap to create, hash and compare. The snapshot codec and the scene
file codec know all three.
"""

from __future__ import annotations

import math
from operator import itemgetter
from typing import ClassVar, SupportsFloat, SupportsIndex


class Vec2(tuple[float, float]):
    """An immutable 2D vector with the arithmetic a 2D game needs.

    `Vec2(3, 4) * 2 == Vec2(6, 8)`, `abs(Vec2(3, 4)) == 5.0`; it unpacks like a
    tuple (`x, y = v`).
    """

    __slots__ = ()

    ZERO: ClassVar[Vec2]
    ONE: ClassVar[Vec2]

    x = property(itemgetter(0), doc="The horizontal component.")
    y = property(itemgetter(1), doc="The vertical component (down is positive, as on screen).")

    def __new__(cls, x: SupportsFloat = 0.0, y: SupportsFloat = 0.0) -> Vec2:
        """A vector of two floats (anything `float()` accepts)."""
        return tuple.__new__(cls, (float(x), float(y)))

    def __repr__(self) -> str:
        return f"Vec2({self[0]:g}, {self[1]:g})"

    # copy.deepcopy (used for field defaults such as ``list[Vec2]``) rebuilds a
    # tuple subclass as ``cls.__new__(cls, *self.__getnewargs__())``, and
    # tuple's own __getnewargs__ passes the whole tuple as one argument.
    def __getnewargs__(self) -> tuple[float, float]:
        return (self[0], self[1])

    def __copy__(self) -> Vec2:
        return self

    def __deepcopy__(self, memo: object) -> Vec2:
        return self

    def __add__(self, other: tuple[float, float]) -> Vec2:  # type: ignore[override]
        return tuple.__new__(Vec2, (self[0] + other[0], self[1] + other[1]))

    __radd__ = __add__

    def __sub__(self, other: tuple[float, float]) -> Vec2:
        return tuple.__new__(Vec2, (self[0] - other[0], self[1] - other[1]))

    def __rsub__(self, other: tuple[float, float]) -> Vec2:
        return tuple.__new__(Vec2, (other[0] - self[0], other[1] - self[1]))

    def __mul__(self, k: SupportsFloat) -> Vec2:  # type: ignore[override]
        k = float(k)
        return tuple.__new__(Vec2, (self[0] * k, self[1] * k))

    __rmul__ = __mul__  # type: ignore[assignment]

    def __truediv__(self, k: SupportsFloat) -> Vec2:
        k = float(k)
        return tuple.__new__(Vec2, (self[0] / k, self[1] / k))

    def __neg__(self) -> Vec2:
        return tuple.__new__(Vec2, (-self[0], -self[1]))

    def __abs__(self) -> float:
        return math.hypot(self[0], self[1])

    def __bool__(self) -> bool:
        return self[0] != 0.0 or self[1] != 0.0

    @property
    def length(self) -> float:
        """The Euclidean length."""
        return math.hypot(self[0], self[1])

    def normalized(self) -> Vec2:
        """This vector scaled to length 1 (the zero vector stays zero)."""
        n = math.hypot(self[0], self[1])
        return self if n == 0.0 else tuple.__new__(Vec2, (self[0] / n, self[1] / n))

    def dot(self, other: tuple[float, float]) -> float:
        """The dot product."""
        return self[0] * other[0] + self[1] * other[1]

    def rotated(self, degrees: float) -> Vec2:
        """This vector rotated clockwise on screen by `degrees`."""
        r = math.radians(degrees)
        c, s = math.cos(r), math.sin(r)
        return tuple.__new__(Vec2, (self[0] * c - self[1] * s, self[0] * s + self[1] * c))

    def lerp(self, other: tuple[float, float], t: float) -> Vec2:
        """The point a fraction `t` of the way from this vector to `other`."""
        return tuple.__new__(
            Vec2, (self[0] + (other[0] - self[0]) * t, self[1] + (other[1] - self[1]) * t)
        )

    def distance_to(self, other: tuple[float, float]) -> float:
        """The distance between two points."""
        return math.hypot(other[0] - self[0], other[1] - self[1])

    def with_x(self, x: float) -> Vec2:
        """A copy with another x."""
        return tuple.__new__(Vec2, (float(x), self[1]))

    def with_y(self, y: float) -> Vec2:
        """A copy with another y."""
        return tuple.__new__(Vec2, (self[0], float(y)))


Vec2.ZERO = Vec2(0.0, 0.0)
Vec2.ONE = Vec2(1.0, 1.0)


def _channel(v: SupportsIndex | float) -> int:
    i = int(v)
    if not 0 <= i <= 255:
        raise ValueError(f"colour channel {v!r} is outside 0..255")
    return i


class Color(tuple[int, int, int, int]):
    """An immutable RGBA colour with 0-255 channels; `Color.parse("#ff8800")` reads hex."""

    __slots__ = ()

    WHITE: ClassVar[Color]
    BLACK: ClassVar[Color]
    RED: ClassVar[Color]
    GREEN: ClassVar[Color]
    BLUE: ClassVar[Color]
    YELLOW: ClassVar[Color]
    TRANSPARENT: ClassVar[Color]

    r = property(itemgetter(0), doc="Red, 0-255.")
    g = property(itemgetter(1), doc="Green, 0-255.")
    b = property(itemgetter(2), doc="Blue, 0-255.")
    a = property(itemgetter(3), doc="Alpha (opacity), 0-255.")

    def __new__(cls, r: int = 255, g: int = 255, b: int = 255, a: int = 255) -> Color:
        """A colour from 0-255 channels.

        Raises:
            ValueError: a channel is outside 0..255.
        """
        return tuple.__new__(cls, (_channel(r), _channel(g), _channel(b), _channel(a)))

    # See Vec2.__getnewargs__: copying a list of colours must work.
    def __getnewargs__(self) -> tuple[int, int, int, int]:
        return (self[0], self[1], self[2], self[3])

    def __copy__(self) -> Color:
        return self

    def __deepcopy__(self, memo: object) -> Color:
        return self

    @classmethod
    def parse(cls, text: str) -> Color:
        """Read `#rgb`, `#rrggbb` or `#rrggbbaa`.

        Raises:
            ValueError: the text is not a colour in one of those forms.
        """
        s = text.strip().removeprefix("#")
        if len(s) == 3:
            s = "".join(ch * 2 for ch in s)
        if len(s) not in (6, 8) or any(ch not in "0123456789abcdefABCDEF" for ch in s):
            raise ValueError(f"{text!r} is not a colour (expected #rrggbb or #rrggbbaa)")
        if len(s) == 6:
            s += "ff"
        return cls(int(s[0:2], 16), int(s[2:4], 16), int(s[4:6], 16), int(s[6:8], 16))

    @property
    def hex(self) -> str:
        """`#rrggbb`, or `#rrggbbaa` when not fully opaque."""
        r, g, b, a = self
        return f"#{r:02x}{g:02x}{b:02x}" + ("" if a == 255 else f"{a:02x}")

    def with_alpha(self, a: int) -> Color:
        """A copy with another alpha."""
        return Color(self[0], self[1], self[2], a)

    def lerp(self, other: tuple[int, int, int, int], t: float) -> Color:
        """The colour a fraction `t` (clamped to 0..1) of the way to `other`."""
        t = min(1.0, max(0.0, t))
        return Color(*(round(a + (b - a) * t) for a, b in zip(self, other, strict=True)))

    def __repr__(self) -> str:
        return f"Color.parse({self.hex!r})"


Color.WHITE = Color(255, 255, 255)
Color.BLACK = Color(0, 0, 0)
Color.RED = Color(230, 57, 70)
Color.GREEN = Color(42, 157, 143)
Color.BLUE = Color(69, 123, 157)
Color.YELLOW = Color(233, 196, 106)
Color.TRANSPARENT = Color(0, 0, 0, 0)


class Handle(int):
    """A reference to an entity of a scene, stable for the scene's lifetime.

    Handles are never reused within a scene. `Handle.NONE` (0) refers to
    nothing and is false.
    """

    __slots__ = ()

    NONE: ClassVar[Handle]

    def __repr__(self) -> str:
        return f"Handle({int(self)})"

    __str__ = __repr__


Handle.NONE = Handle(0)
