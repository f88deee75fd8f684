"""Sprites of turned shapes: cut to the pixels the shape reaches, drawn where they were."""

from __future__ import annotations

import math
import random

import pytest
from PySide6.QtGui import QImage

from runtime.qt.render import SceneRenderer, sprite_box
from runtime.scene import VisualKind
from runtime.values import Color

COLOR = Color(200, 120, 40, 230)
SIZES = [(8.0, 8.0), (9.0, 14.0), (24.0, 20.0), (3.5, 17.25), (40.0, 6.0), (0.5, 30.0)]
DEGREES = [1, 15, 30, 44, 45, 89, 90, 135, 200, 271, 359]
_rnd = random.Random(15)
#: The sizes and angles above, and as many drawn at random (seeded: the same every run).
CASES = [(pw, ph, d) for pw, ph in SIZES for d in DEGREES] + [
    (_rnd.uniform(0.3, 70.0), float(_rnd.randint(1, 70)), _rnd.randint(1, 359)) for _ in range(66)
]


def diagonal_sprite(kind: VisualKind, pw: float, ph: float, degrees: int) -> QImage:
    """The shape as it is drawn in the square of its diagonal (the box at any angle)."""
    side = max(1, math.ceil(math.hypot(pw, ph)))
    pm = SceneRenderer(".")._paint_shape(kind, pw, ph, COLOR, degrees, (side, side))
    return pm.toImage().convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)


def transparent_outside(image: QImage, rect: tuple[int, int, int, int]) -> bool:
    x0, y0, w, h = rect
    return all(
        image.pixelColor(x, y).alpha() == 0
        for y in range(image.height())
        for x in range(image.width())
        if not (x0 <= x < x0 + w and y0 <= y < y0 + h)
    )


@pytest.mark.parametrize("kind", [VisualKind.RECT, VisualKind.ELLIPSE])
def test_a_turned_sprite_is_its_diagonal_square_less_transparent_pixels(qapp, kind) -> None:
    renderer = SceneRenderer(".")
    cut = 0
    for pw, ph, degrees in CASES:
        full = diagonal_sprite(kind, pw, ph, degrees)
        sprite = renderer._render_sprite(kind, pw, ph, COLOR, degrees)
        assert sprite is not None
        w, h = sprite.width(), sprite.height()
        assert (w, h) == sprite_box(kind, pw, ph, degrees)
        # Centred in the diagonal's square by whole pixels: drawn at its centre
        # less half its size, it covers the same pixels of a frame.
        dx, dy = full.width() - w, full.height() - h
        assert dx >= 0 and dy >= 0 and dx % 2 == 0 and dy % 2 == 0, (pw, ph, degrees)
        crop = (dx // 2, dy // 2, w, h)
        assert transparent_outside(full, crop), (kind, pw, ph, degrees)
        image = sprite.toImage().convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
        assert image == full.copy(*crop), (kind, pw, ph, degrees)
        cut += full.width() * full.height() - w * h
    assert cut > 0, "some turned sprites should be smaller than their diagonal's square"


def test_an_unturned_sprite_is_its_shape_rounded_up(qapp) -> None:
    assert sprite_box(VisualKind.RECT, 9.0, 14.5, 0) == (9, 15)
    assert sprite_box(VisualKind.ELLIPSE, 0.3, 2.0, 0) == (1, 2)


def test_a_quarter_turned_rect_is_its_shape_on_end(qapp) -> None:
    # 10 x 4 at 90 degrees: the diagonal's square is 11, less an even number: 5 x 11.
    assert sprite_box(VisualKind.RECT, 10.0, 4.0, 90) == (5, 11)
