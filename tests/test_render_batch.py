"""The batched drawing path (draw list, sprite atlas, fragment arrays) against the one-by-one path.

Both paths must give the same pixels "within antialiasing rounding". `assert_same_pixels`
allows a channel difference of at most `TOLERANCE` on at most `MAX_DIFFERING` of the
pixels. The two paths place and sample every sprite and image with the same arithmetic,
and with PySide6 6.11 shapes and images with an alpha channel come out exactly the same.
What may differ is the last step of an antialiased edge: an image without alpha is blended
from its own RGB32 pixels one by one but from its ARGB copy in the atlas when batched
(the varied scene's rotated opaque image: 34 edge pixels off by 1), and a fragment is
rotated with Qt's sine and cosine and scaled by ``(w / iw) * iw`` rather than ``w``, where
a last-bit difference can move an edge pixel's coverage by one step. None of these
reaches the inside of a shape, so a tolerance of 2 levels on 0.2 % of the pixels is
tight enough to catch any misplaced, missing or misordered item (each covers dozens of
pixels by more than 2 levels).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSizeF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap

from runtime.qt import render
from runtime.qt.render import Camera, DrawList, SceneRenderer, SpriteAtlas, fragment_arrays_work
from runtime.scene import Entity, Scene, Visual, VisualKind
from runtime.values import Color, Handle, Vec2

W, H = 320, 240
#: Largest difference allowed in one channel of one pixel (antialiasing rounding).
TOLERANCE = 2
#: Largest share of pixels allowed to differ at all.
MAX_DIFFERING = 0.002


@pytest.fixture
def assets(qapp, tmp_path: Path) -> Path:
    """Images of three kinds: with alpha, without alpha, and larger than an atlas sprite."""
    alpha = QImage(12, 8, QImage.Format.Format_ARGB32)
    opaque = QImage(10, 10, QImage.Format.Format_RGB32)
    big = QImage(600, 40, QImage.Format.Format_ARGB32)
    for img in (alpha, opaque, big):
        for y in range(img.height()):
            for x in range(img.width()):
                a = 255 if (x + y) % 3 else 120
                img.setPixelColor(x, y, QColor((x * 23) % 256, (y * 41) % 256, (x * y) % 256, a))
    alpha.save(str(tmp_path / "alpha.png"))
    opaque.save(str(tmp_path / "opaque.png"))
    big.save(str(tmp_path / "big.png"))
    return tmp_path


def varied_scene() -> Scene:
    """Shapes, images, text, trees, z orders, off-screen and odd items, overlapping."""
    s = Scene("varied")
    colors = [
        Color(230, 80, 60),
        Color(60, 200, 120, 180),
        Color(90, 120, 250),
        Color(250, 220, 40),
    ]
    for i in range(60):
        kind = (VisualKind.RECT, VisualKind.ELLIPSE)[i % 2]
        s.spawn(
            f"shape{i}",
            position=Vec2((i * 37) % 300 - 150 + 0.37 * i, (i * 23) % 220 - 110 + 0.21 * i),
            rotation=(0.0, 15.0, 33.3, 90.0, -45.0, 181.7)[i % 6],
            scale=Vec2(1.0 + (i % 3) * 0.5, 1.0 + (i % 4) * 0.25),
            visual=Visual(kind, Vec2(6 + i % 11, 6 + i % 7), colors[i % 4], z=i % 3),
        )
    s.spawn(
        "circle",
        position=Vec2(10, 10),
        rotation=37.0,
        visual=Visual(VisualKind.ELLIPSE, Vec2(20, 20), z=1),
    )
    for i, name in enumerate(("alpha.png", "opaque.png", "big.png", "missing.png")):
        s.spawn(
            name,
            position=Vec2(-120 + 70 * i, 60 - 15 * i),
            rotation=(0.0, 30.0, 0.0, 12.0)[i],
            scale=Vec2(1.5 + i * 0.3, 2.0),
            visual=Visual(VisualKind.IMAGE, Vec2(12, 8), z=1, image=name),
        )
    # Two overlapping shapes of the same z: the one later in the tree is drawn on top.
    s.spawn(
        "red",
        position=Vec2(-100, -60),
        visual=Visual(size=Vec2(30, 30), color=Color(255, 0, 0), z=1),
    )
    s.spawn(
        "blue",
        position=Vec2(-95, -55),
        visual=Visual(size=Vec2(30, 30), color=Color(0, 0, 255), z=1),
    )
    s.spawn(
        "flipped image",
        position=Vec2(40, -70),
        scale=Vec2(-2.0, 1.5),
        visual=Visual(VisualKind.IMAGE, Vec2(12, 8), z=2, image="alpha.png"),
    )
    s.spawn(
        "title",
        position=Vec2(0, -90),
        rotation=8.0,
        visual=Visual(VisualKind.TEXT, Vec2(200, 30), Color(255, 255, 255), z=1, text="Hotplay"),
    )
    # A rotated, scaled parent without a visual, with children drawn between the shapes.
    arm = s.spawn("arm", position=Vec2(-30, 20), rotation=25.0, scale=Vec2(1.5, 0.8))
    hand = s.spawn(
        "hand",
        parent=arm.handle,
        position=Vec2(30, 0),
        rotation=10.0,
        visual=Visual(VisualKind.RECT, Vec2(14, 9), Color(200, 60, 200), z=2),
    )
    s.spawn(
        "finger",
        parent=hand.handle,
        position=Vec2(8, 4),
        visual=Visual(VisualKind.ELLIPSE, Vec2(8, 5), Color(20, 220, 220), z=0),
    )
    s.spawn(
        "hidden",
        position=Vec2(5, 5),
        enabled=False,
        visual=Visual(VisualKind.RECT, Vec2(50, 50), z=9),
    )
    s.spawn("far away", position=Vec2(5000, -3000), visual=Visual(VisualKind.RECT, Vec2(30, 30)))
    s.spawn(
        "half out",
        position=Vec2(155, 0),
        rotation=20.0,
        visual=Visual(VisualKind.ELLIPSE, Vec2(40, 25), Color(255, 128, 0), z=2),
    )
    # Larger than the sprite cache takes: drawn on its own, under everything else.
    s.spawn(
        "floor",
        position=Vec2(0, 0),
        visual=Visual(VisualKind.RECT, Vec2(2400, 600), Color(40, 44, 60), z=-1),
    )
    return s


def paint(
    renderer: SceneRenderer, scene: Scene, camera: Camera | None = None, **kw: object
) -> QImage:
    image = QImage(W, H, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.black)
    painter = QPainter(image)
    renderer.paint(painter, scene, QSizeF(W, H), camera or Camera(), **kw)  # type: ignore[arg-type]
    painter.end()
    return image


def differences(a: QImage, b: QImage) -> tuple[int, int]:
    """(largest channel difference, number of pixels that differ) between two images."""
    assert a.size() == b.size() and a.format() == b.format()
    ba, bb = bytes(a.constBits()), bytes(b.constBits())
    if ba == bb:
        return 0, 0
    worst, pixels = 0, 0
    for i in range(0, len(ba), 4):
        d = max(abs(x - y) for x, y in zip(ba[i : i + 4], bb[i : i + 4], strict=True))
        if d:
            worst, pixels = max(worst, d), pixels + 1
    return worst, pixels


def assert_same_pixels(a: QImage, b: QImage) -> None:
    worst, pixels = differences(a, b)
    assert worst <= TOLERANCE and pixels <= MAX_DIFFERING * W * H, (worst, pixels)


@pytest.fixture
def renderers(assets: Path) -> tuple[SceneRenderer, SceneRenderer]:
    assert fragment_arrays_work()  # else both would draw one by one and prove nothing
    return SceneRenderer(assets), SceneRenderer(assets, batched=False)


def assert_paths_agree(
    renderers: tuple[SceneRenderer, SceneRenderer],
    scene: Scene,
    camera: Camera | None = None,
    **kw: object,
) -> QImage:
    batched, one_by_one = renderers
    image = paint(batched, scene, camera, **kw)
    assert_same_pixels(image, paint(one_by_one, scene, camera, **kw))
    return image


def test_pyside_takes_an_array_of_fragments(qapp) -> None:
    assert fragment_arrays_work()


@pytest.mark.parametrize(
    "camera",
    [Camera(), Camera(Vec2(23.5, -11.25), 1.7), Camera(Vec2(-40, 30), 0.45)],
    ids=["plain", "zoomed in", "zoomed out"],
)
def test_a_varied_scene_draws_the_same_both_ways(renderers, camera: Camera) -> None:
    scene = varied_scene()
    first = assert_paths_agree(renderers, scene, camera, selected=[Handle(3)], grid=True)
    # The second frame draws from the caches (draw list, atlas, remembered fragments).
    assert_same_pixels(first, paint(renderers[0], scene, camera, selected=[Handle(3)], grid=True))
    assert differences(first, paint(renderers[1], Scene("empty"), camera))[1] > W * H // 4


Change = Callable[[Scene], None]


def _move(s: Scene) -> None:
    s.find("shape3").position = Vec2(-60, -40)  # type: ignore[union-attr]


def _turn_and_grow(s: Scene) -> None:
    e = s.find("shape4")
    assert e is not None
    e.rotation += 57.0
    e.scale = Vec2(3.0, 0.5)


def _add(s: Scene) -> None:
    s.spawn(
        "new",
        position=Vec2(12, -3),
        visual=Visual(VisualKind.ELLIPSE, Vec2(30, 12), Color(1, 2, 250), z=1),
    )


def _remove(s: Scene) -> None:
    s.remove(s.find("hand").handle)  # type: ignore[union-attr]


def _reparent(s: Scene) -> None:
    s.reparent(s.find("finger").handle, s.find("shape7").handle)  # type: ignore[union-attr]


def _re_z_by_script(s: Scene) -> None:
    v = s.find("red").visual  # type: ignore[union-attr]
    assert v is not None
    v.z = 2  # as a running script would: no event


def _re_z_by_edit(s: Scene) -> None:
    e = s.find("shape1")
    assert e is not None and e.visual is not None
    v = e.visual.copy()
    v.z = -2
    s.set_attr(e.handle, "visual", v)


def _recolour(s: Scene) -> None:
    v = s.find("shape2").visual  # type: ignore[union-attr]
    assert v is not None
    v.color = Color(0, 255, 0)


def _reshape(s: Scene) -> None:
    v = s.find("shape8").visual  # type: ignore[union-attr]
    assert v is not None
    v.kind, v.size = VisualKind.ELLIPSE, Vec2(25, 9)


def _add_by_hand(s: Scene) -> None:
    # As a loader fills a scene: no Scene method, so no event.
    e = Entity(s.allocate_handle(), "by hand", position=Vec2(-20, 40), visual=Visual(z=1))
    s.entities[e.handle] = e
    s.roots.append(e.handle)


def _image_to_text(s: Scene) -> None:
    v = s.find("alpha.png").visual  # type: ignore[union-attr]
    assert v is not None
    v.kind, v.text = VisualKind.TEXT, "now a text"


def _hide_and_show(s: Scene) -> None:
    s.find("shape5").enabled = False  # type: ignore[union-attr]
    s.find("hidden").enabled = True  # type: ignore[union-attr]


def _drop_and_give_visuals(s: Scene) -> None:
    s.find("shape6").visual = None  # type: ignore[union-attr]
    s.find("arm").visual = Visual(VisualKind.RECT, Vec2(10, 40), Color(255, 0, 0), z=3)  # type: ignore[union-attr]


def _move_a_parent(s: Scene) -> None:
    arm = s.find("arm")
    assert arm is not None
    arm.position, arm.rotation = Vec2(50, -20), -70.0


def _reorder_siblings(s: Scene) -> None:
    s.reparent(s.find("red").handle, Handle.NONE)  # type: ignore[union-attr]  # to the end: on top


CHANGES = [
    _move,
    _turn_and_grow,
    _add,
    _reparent,
    _remove,
    _re_z_by_script,
    _re_z_by_edit,
    _recolour,
    _reshape,
    _add_by_hand,
    _image_to_text,
    _hide_and_show,
    _drop_and_give_visuals,
    _move_a_parent,
    _reorder_siblings,
]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__.strip("_") for c in CHANGES])
def test_a_change_between_frames_shows_on_the_next_frame(renderers, change: Change) -> None:
    scene = varied_scene()
    before = assert_paths_agree(renderers, scene)
    change(scene)
    after = assert_paths_agree(renderers, scene)
    assert differences(before, after)[1] > 0, "the change should be visible"


def test_every_change_in_a_row_with_one_renderer(renderers) -> None:
    scene = varied_scene()
    for change in CHANGES:
        change(scene)
        assert_paths_agree(renderers, scene)


def spy(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[tuple[object, ...]]:
    """The arguments of every call of ``owner.name`` from now on (still called)."""
    calls: list[tuple[object, ...]] = []
    real = getattr(owner, name)

    def spying(*args: object) -> object:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(owner, name, spying)
    return calls


def _rebuilds(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    return spy(monkeypatch, DrawList, "_rebuild")


def test_the_tree_is_walked_only_when_it_changes(
    renderers, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebuilds = _rebuilds(monkeypatch)
    scene = varied_scene()
    batched = renderers[0]
    paint(batched, scene)
    for i in range(3):  # what a running game does every frame: no walk
        _move(scene)
        scene.find("arm").rotation = 10.0 * i  # type: ignore[union-attr]
        scene.set_attr(scene.roots[1], "position", Vec2(i, i))
        paint(batched, scene)
    assert len(rebuilds) == 1
    _add(scene)  # at the end of the top level: followed in place
    paint(batched, scene)
    assert len(rebuilds) == 1
    _reparent(scene)
    paint(batched, scene)
    assert len(rebuilds) == 2
    _re_z_by_script(scene)
    paint(batched, scene)
    assert len(rebuilds) == 3


class CountingPainter(QPainter):
    """A painter that counts the batched calls."""

    def __init__(self, image: QImage) -> None:
        super().__init__(image)
        self.fragment_calls: list[int] = []

    def drawPixmapFragments(self, fragments, count, pixmap, *args) -> None:  # type: ignore[no-untyped-def,override]
        self.fragment_calls.append(count)
        super().drawPixmapFragments(fragments, count, pixmap, *args)


def fragment_calls(renderer: SceneRenderer, scene: Scene) -> list[int]:
    image = QImage(W, H, QImage.Format.Format_ARGB32_Premultiplied)
    painter = CountingPainter(image)
    renderer.paint(painter, scene, QSizeF(W, H), Camera())
    painter.end()
    return painter.fragment_calls


def many_sprites(n: int) -> Scene:
    s = Scene("many")
    for i in range(n):
        s.spawn(
            f"s{i}",
            position=Vec2((i * 37) % 300 - 150, (i * 23) % 220 - 110),
            rotation=float((i % 4) * 15),
            visual=Visual(
                (VisualKind.RECT, VisualKind.ELLIPSE)[i % 2], Vec2(8 + i % 9, 8 + i % 5), z=i % 4
            ),
        )
    return s


def test_one_call_draws_every_sprite_of_one_atlas_page(renderers) -> None:
    scene = many_sprites(2000)
    assert fragment_calls(renderers[0], scene) == [2000]
    assert fragment_calls(renderers[0], scene) == [2000]
    assert fragment_calls(renderers[1], scene) == []  # the one-by-one path


def test_an_item_that_is_no_fragment_splits_the_batch_in_z_order(renderers) -> None:
    scene = many_sprites(300)
    scene.spawn("label", visual=Visual(VisualKind.TEXT, Vec2(100, 20), z=2, text="between"))
    calls = fragment_calls(renderers[0], scene)
    assert sum(calls) == 300 and len(calls) == 2  # the z < 2 sprites, then the rest
    assert_paths_agree(renderers, scene)


def test_sprites_spread_over_pages_still_draw_in_z_order(renderers) -> None:
    scene = many_sprites(400)
    batched = renderers[0]
    batched._atlas = SpriteAtlas(width=64, height=64, max_pages=100)
    calls = fragment_calls(batched, scene)
    assert len(batched._atlas.pages) > 1 and len(calls) > 1 and sum(calls) == 400
    assert_paths_agree(renderers, scene)


def test_a_full_atlas_starts_over(renderers) -> None:
    scene = many_sprites(200)
    batched = renderers[0]
    batched._atlas = SpriteAtlas(width=64, height=64, max_pages=2)
    assert_paths_agree(renderers, scene)
    assert len(batched._atlas.pages) <= 2
    assert_paths_agree(renderers, scene)


def test_the_atlas_packs_pixmaps_apart_and_refuses_what_does_not_fit(qapp) -> None:
    atlas = SpriteAtlas(width=32, height=32, max_pages=2)
    pm = QPixmap(10, 6)
    spots = [atlas.place(pm) for _ in range(9)]
    corners = [(s[1], s[2]) for s in spots if s is not None]
    # Two a shelf with a gap between them, four shelves a page, then a second page.
    assert corners == [
        (0, 0),
        (12, 0),
        (0, 8),
        (12, 8),
        (0, 16),
        (12, 16),
        (0, 24),
        (12, 24),
        (0, 0),
    ]
    assert len({id(s[0]) for s in spots if s is not None}) == 2
    assert atlas.place(QPixmap(31, 4)) is None  # wider than a page with its gap
    assert not atlas.can_hold(QPixmap(31, 4))
    while atlas.place(pm) is not None:
        pass
    assert len(atlas.pages) == 2
    atlas.clear()
    assert atlas.pages == [] and atlas.place(pm) is not None


def test_a_fragment_array_rewrites_only_the_fragments_that_changed(qapp) -> None:
    xs, ys = [float(i) for i in range(40)], [float(-i) for i in range(40)]
    fields = [(float(i), 0.0, 4.0, 4.0, 1.0, 1.0, 0.0, 1.0) for i in range(40)]
    fragments = render.FragmentArray()
    fragments.fill(xs, ys, fields)
    doubles = fragments._doubles
    fields[7] = (9.0, 9.0, 2.0, 3.0, 1.5, 1.0, 30.0, 1.0)
    fields[30] = (1.0, 2.0, 3.0, 4.0, 1.0, 1.0, 0.0, 0.5)
    xs[3] = 99.5
    fragments.fill(xs, ys, list(fields))
    assert fragments._doubles is doubles, "written in place"
    fresh = render.FragmentArray()
    fresh.fill(xs, ys, fields)
    assert fragments._doubles == fresh._doubles
    fields = [(1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 0.0, 1.0)] * 40  # all new: written anew
    fragments.fill(xs, ys, fields)
    fresh.fill(xs, ys, list(fields))
    assert fragments._doubles == fresh._doubles


def test_a_narrow_atlas_fills_shelves_to_its_width_and_pages_to_its_height(qapp) -> None:
    atlas = SpriteAtlas(width=24, height=48, max_pages=2)
    pm = QPixmap(10, 6)
    spots = [atlas.place(pm) for _ in range(13)]
    corners = [(s[1], s[2]) for s in spots if s is not None]
    # Two a shelf (24 pixels wide), six shelves a page (48 high), then a second page.
    assert corners == [(x, y) for y in range(0, 48, 8) for x in (0, 12)] + [(0, 0)]
    assert len(atlas.pages) == 2
    assert (atlas.pages[0].width(), atlas.pages[0].height()) == (24, 48)
    assert atlas.can_hold(QPixmap(22, 46)) and not atlas.can_hold(QPixmap(23, 4))


def test_without_fragment_arrays_every_frame_is_drawn_one_by_one(
    renderers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render, "fragment_arrays_work", lambda: False)
    scene = varied_scene()
    assert fragment_calls(renderers[0], scene) == []
    assert_paths_agree(renderers, scene)


def test_a_draw_list_goes_with_its_scene(renderers) -> None:
    batched = renderers[0]
    scene = many_sprites(10)
    paint(batched, scene)
    assert len(batched._draw_lists) == 1
    del scene
    gc.collect()
    assert len(batched._draw_lists) == 0


def test_time_paint_draws_the_batched_path(qapp) -> None:
    times = render.time_paint(many_sprites(200), 3, 160, 120, warmup=1)
    assert len(times) == 3 and all(t > 0 for t in times)


# --- a scene that announces every change (the editor's edited scene) -----------------


def _announced_moves(s: Scene) -> None:
    s.set_attr(s.find("shape3").handle, "position", Vec2(-60, -40))  # type: ignore[union-attr]
    s.set_attr(s.find("shape4").handle, "rotation", 77.0)  # type: ignore[union-attr]
    s.set_attr(s.find("shape9").handle, "scale", Vec2(2.5, 0.5))  # type: ignore[union-attr]


def _announced_restyle(s: Scene) -> None:
    for name, color, z in (("shape2", Color(0, 255, 0), 0), ("shape1", Color(9, 9, 9), -2)):
        e = s.find(name)
        assert e is not None and e.visual is not None
        v = e.visual.copy()
        v.color, v.z = color, z if z else v.z
        s.set_attr(e.handle, "visual", v)
    s.set_attr(s.find("shape5").handle, "enabled", False)  # type: ignore[union-attr]


def _announced_tree_edits(s: Scene) -> None:
    _add(s)
    _reparent(s)
    _remove(s)
    s.set_attr(s.find("arm").handle, "rotation", -70.0)  # type: ignore[union-attr]


ANNOUNCED = [_announced_moves, _announced_restyle, _announced_tree_edits]


def _collections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    return spy(monkeypatch, SceneRenderer, "_collect_runs")


def _fills(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """The copies of runs into fragment arrays."""
    return spy(monkeypatch, render.FragmentArray, "fill")


@pytest.mark.parametrize("change", ANNOUNCED, ids=[c.__name__.strip("_") for c in ANNOUNCED])
def test_an_announced_change_shows_on_the_next_frame(renderers, change: Change) -> None:
    scene = varied_scene()
    renderers[0].announce_changes(scene)
    before = assert_paths_agree(renderers, scene)
    change(scene)
    after = assert_paths_agree(renderers, scene)
    assert differences(before, after)[1] > 0, "the change should be visible"


def _announced_sprites(renderers) -> tuple[Scene, SceneRenderer]:
    """Many sprites, in a scene the batched renderer is told announces every change."""
    scene = many_sprites(300)
    renderers[0].announce_changes(scene)
    return scene, renderers[0]


def test_an_announced_scene_is_collected_again_only_when_a_patch_cannot_do(
    renderers, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene, batched = _announced_sprites(renderers)
    collected, fills = _collections(monkeypatch), _fills(monkeypatch)
    paint(batched, scene)
    filled = len(fills)
    paint(batched, scene)  # nothing changed: the kept runs, their fragments not copied again
    assert len(collected) == 1 and len(fills) == filled
    moved = scene.roots[5]
    for i in range(3):  # a transform edit updates that entity's entry alone
        scene.set_attr(moved, "position", Vec2(10.0 * i, -7.5))
        scene.set_attr(scene.roots[7], "rotation", 15.0 * i)
        scene.set_attr(scene.roots[8], "name", f"renamed {i}")
        assert_paths_agree(renderers, scene)
    assert len(collected) == 1
    _add(scene)  # a new entity has no entry: collected anew
    assert_paths_agree(renderers, scene)
    assert len(collected) == 2
    paint(batched, scene, Camera(Vec2(5, 5), 1.3))  # so does another camera
    assert len(collected) == 3


def test_a_change_without_events_in_an_announced_scene_is_told(renderers) -> None:
    scene = varied_scene()
    batched = renderers[0]
    batched.announce_changes(scene)
    before = paint(batched, scene)
    shape = scene.find("shape3")
    assert shape is not None
    shape.position = Vec2(-60, -40)  # a live drag: no event
    assert differences(before, paint(batched, scene))[1] == 0, "kept runs: not seen yet"
    batched.changed_without_events(scene, [shape.handle])
    assert differences(before, assert_paths_agree(renderers, scene))[1] > 0


def test_a_new_order_keeps_what_each_entity_was_drawn_with(
    renderers, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = many_sprites(200)
    batched = renderers[0]
    paint(batched, scene)
    looked_up = spy(monkeypatch, SceneRenderer, "_fragment")
    _add(scene)  # a new order: the entities already drawn keep their fragments
    scene.reparent(scene.roots[3], scene.roots[4])
    assert_paths_agree(renderers, scene)
    assert [args[1] for args in looked_up] == [scene.find("new").visual]  # type: ignore[union-attr]


def test_adding_an_entity_and_undoing_it_follows_the_kept_frame(
    renderers, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene, batched = _announced_sprites(renderers)
    paint(batched, scene)
    collected, rebuilds = _collections(monkeypatch), _rebuilds(monkeypatch)
    for i in range(2):  # add an entity (at the end of the top level), then undo it
        added = scene.spawn(
            f"added {i}", position=Vec2(20, 30), visual=Visual(VisualKind.RECT, Vec2(8, 8), z=3)
        )
        assert_paths_agree(renderers, scene)
        scene.remove(added.handle)
        assert_paths_agree(renderers, scene)
    assert collected == [] and rebuilds == []
    scene.remove(scene.roots[10])  # in the middle of a batch: collected anew, not re-sorted
    assert_paths_agree(renderers, scene)
    assert len(collected) == 1 and rebuilds == []
    scene.spawn("under", parent=scene.roots[0], visual=Visual(z=3))  # a child: sorted anew
    assert_paths_agree(renderers, scene)
    assert len(rebuilds) == 1


def test_a_running_game_that_spawns_and_removes_keeps_its_order(
    renderers, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = varied_scene()
    batched = renderers[0]
    paint(batched, scene)
    rebuilds = _rebuilds(monkeypatch)
    for i in range(3):
        shot = scene.spawn(f"shot {i}", position=Vec2(i * 9, 5), visual=Visual(z=i % 2))
        assert_paths_agree(renderers, scene)
        if i:
            scene.remove(shot.handle)
            assert_paths_agree(renderers, scene)
    assert rebuilds == []


# --- a scene that does not announce its changes (a running game) -----------------------
#
# Every frame reads every entity; when none looks different the runs are not collected
# again, only moved where entities moved, and their fragments are copied only then.


def _move_all(scene: Scene, step: float) -> None:
    for e in scene.entities.values():
        e.position = Vec2(e.position[0] + step, e.position[1] - step / 2)


def test_a_still_frame_is_neither_collected_nor_copied_again(
    renderers, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = many_sprites(300)
    batched = renderers[0]
    collected, fills = _collections(monkeypatch), _fills(monkeypatch)
    first = paint(batched, scene)
    assert len(collected) == 1 and fills
    filled = len(fills)
    again = paint(batched, scene)
    assert len(collected) == 1 and len(fills) == filled
    assert differences(first, again) == (0, 0)


def test_a_reused_frame_forgets_the_changes_it_read(renderers) -> None:
    scene = many_sprites(30)
    batched = renderers[0]
    paint(batched, scene)
    scene.set_attr(scene.roots[2], "position", Vec2(5, 5))  # an event, in a scene not announced
    assert batched._draw_list(scene).changed
    assert_paths_agree(renderers, scene)
    assert batched._draw_list(scene).changed == set()


def test_moved_entities_are_moved_in_the_kept_runs(
    renderers, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = varied_scene()  # images, texts and trees too
    batched = renderers[0]
    collected = _collections(monkeypatch)
    before = assert_paths_agree(renderers, scene)
    for step in (3.0, -7.5, 0.25):
        _move_all(scene, step)
        after = assert_paths_agree(renderers, scene)
        assert differences(before, after)[1] > 0, "the moves should be visible"
        before = after
    # The one-by-one renderer never collects: every collection was the batched one's.
    assert len(collected) == 1
    assert batched._draw_list(scene).seen is not None


def test_a_moved_parent_moves_its_children_in_the_kept_runs(
    renderers, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = varied_scene()
    collected = _collections(monkeypatch)
    before = assert_paths_agree(renderers, scene)
    arm = scene.find("arm")
    assert arm is not None and arm.children and arm.rotation
    arm.position = Vec2(arm.position[0] + 40, arm.position[1] - 25)
    after = assert_paths_agree(renderers, scene)
    assert differences(before, after)[1] > 0
    assert len(collected) == 1


def test_moves_after_spawns_and_removals_land_where_each_entity_is(
    renderers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A game that removes entities from the middle and spawns new ones at the end: the
    # order follows in place, the removed leave holes in the tree order the kept runs
    # are moved by, and every later move must still land on its own entity.
    scene = many_sprites(60)
    batched = renderers[0]
    paint(batched, scene)
    rebuilds = _rebuilds(monkeypatch)
    for i in range(4):
        scene.remove(scene.roots[3 * i + 1])
        scene.spawn(f"shot {i}", position=Vec2(i * 7, -4), visual=Visual(z=i % 3))
        assert_paths_agree(renderers, scene)
        for step in (2.0, -3.5):
            _move_all(scene, step)
            assert_paths_agree(renderers, scene)
    assert rebuilds == []
    dl = batched._draw_list(scene)
    assert dl._holes == 4 and len(dl.tree) == 64
    # Mostly holes: the order is made again rather than kept over a tree of holes.
    for h in list(scene.roots)[:40]:
        scene.remove(h)
    assert_paths_agree(renderers, scene)
    _move_all(scene, 1.5)
    assert_paths_agree(renderers, scene)
    assert len(rebuilds) == 1
    assert dl._holes == 0 and dl.tree == sorted(dl.order, key=lambda n: n.index)


def test_a_camera_that_pans_moves_the_kept_runs_and_one_that_zooms_collects(
    renderers, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = varied_scene()
    collected = _collections(monkeypatch)
    assert_paths_agree(renderers, scene, Camera(Vec2(0, 0), 1.5))
    assert_paths_agree(renderers, scene, Camera(Vec2(31.5, -12.25), 1.5))
    assert len(collected) == 1
    assert_paths_agree(renderers, scene, Camera(Vec2(31.5, -12.25), 0.8))
    assert len(collected) == 2


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__.strip("_") for c in CHANGES])
def test_a_change_after_moves_shows_on_the_next_frame(renderers, change: Change) -> None:
    scene = varied_scene()
    assert_paths_agree(renderers, scene)
    _move_all(scene, 2.0)  # the runs are kept and moved: `change` must still be seen
    before = assert_paths_agree(renderers, scene)
    change(scene)
    after = assert_paths_agree(renderers, scene)
    assert differences(before, after)[1] > 0, "the change should be visible"


def test_a_visual_changed_in_place_is_seen(renderers) -> None:
    scene = many_sprites(50)
    before = assert_paths_agree(renderers, scene)
    v = scene[scene.roots[20]].visual
    assert v is not None
    v.size = Vec2(v.size[0] + 6, v.size[1])  # as a script would: no event
    after = assert_paths_agree(renderers, scene)
    assert differences(before, after)[1] > 0


def test_a_few_entities_that_turn_are_patched_in_the_kept_runs(
    renderers, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = many_sprites(300)
    collected = _collections(monkeypatch)
    before = assert_paths_agree(renderers, scene)
    turning = [scene[h] for h in scene.roots[::40]]
    for _ in range(3):
        for e in turning:
            e.rotation += 17.0
        _move_all(scene, 1.5)  # and everything moves, as in a running game
        after = assert_paths_agree(renderers, scene)
        assert differences(before, after)[1] > 0
        before = after
    assert len(collected) == 1
    for e in scene.entities.values():  # every entity turns: too many to patch
        e.rotation += 17.0
    assert_paths_agree(renderers, scene)
    assert len(collected) == 2


def test_equal_new_values_do_not_count_as_changes(
    renderers, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = many_sprites(300)
    collected = _collections(monkeypatch)
    before = assert_paths_agree(renderers, scene)
    e = scene[scene.roots[3]]
    assert e.visual is not None
    e.visual = e.visual.copy()  # the same values in a new object: drawn the same
    for e in scene.entities.values():
        e.scale = Vec2(*e.scale)  # as a script that sets what it had, every frame
    assert differences(before, assert_paths_agree(renderers, scene)) == (0, 0)
    scene[scene.roots[9]].rotation += 30.0  # and one real change among them: patched
    assert differences(before, assert_paths_agree(renderers, scene))[1] > 0
    assert len(collected) == 1


def test_a_frame_that_collects_reads_the_entities_once(
    renderers, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = many_sprites(100)
    batched = renderers[0]
    paint(batched, scene)
    reads = spy(monkeypatch, render, "_looks")
    for i in range(3):  # every entity turns: every frame is collected anew
        for e in scene.entities.values():
            e.rotation += 0.7 if i % 2 else -0.7
        assert_paths_agree(renderers, scene)
        assert len(reads) == i + 1


def test_a_scene_that_changes_all_over_is_read_ever_less_often_until_it_calms(
    renderers, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = many_sprites(render._MAX_PATCHED + 40)  # more than a frame patches
    batched = renderers[0]
    paint(batched, scene)
    reads, collected = spy(monkeypatch, render, "_looks"), _collections(monkeypatch)
    for i in range(40):  # everything turns, every frame
        for e in scene.entities.values():
            e.rotation += 3.0 if i % 2 else -2.0
        assert_paths_agree(renderers, scene)
    assert len(collected) == 40 and len(reads) <= 12
    for i in range(render._MAX_UNREAD + 2):  # it stops turning, and only moves
        _move_all(scene, 1.0 if i % 2 else -1.0)
        assert_paths_agree(renderers, scene)
    collected.clear()
    _move_all(scene, 2.0)
    assert_paths_agree(renderers, scene)
    assert collected == [], "drawn from the kept runs again"


def test_a_tree_edit_the_order_cannot_follow_is_sorted_anew_when_told_late(
    renderers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Removing a parent and its child and adding two entities keeps the entity
    # count: the announced path gives up on following it, and the order must
    # still be rebuilt, not taken for up to date.
    scene = varied_scene()
    batched = renderers[0]
    batched.announce_changes(scene)
    paint(batched, scene)
    rebuilds = _rebuilds(monkeypatch)
    arm = scene.find("arm")
    assert arm is not None
    removed = len(scene.remove(arm.handle))
    for i in range(removed):
        scene.spawn(
            f"late {i}",
            position=Vec2(-30 + 25 * i, 35),
            visual=Visual(VisualKind.RECT, Vec2(18, 18), Color(255, 255, 255), z=3),
        )
    assert len(rebuilds) == 0
    image = assert_paths_agree(renderers, scene)
    assert rebuilds
    assert image.pixelColor(160 - 30, 120 + 35).red() == 255


def test_a_renderer_draws_two_scenes_in_turn(renderers) -> None:
    scenes = [many_sprites(40), varied_scene()]
    batched = renderers[0]
    for step in (0.0, 4.0, 4.0):
        for s in scenes:
            _move_all(s, step)
            fresh = SceneRenderer(batched.assets_dir)  # collects every frame it draws
            assert differences(paint(batched, s), paint(fresh, s)) == (0, 0)


# --- the background and grid ------------------------------------------------------------------


def _grid_frame(renderer: SceneRenderer, scene: Scene, camera: Camera, *, by_hand: bool) -> QImage:
    """A frame of `scene` with the grid: through the renderer, or its lines painted one by one."""
    image = QImage(W, H, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor(200, 0, 200))  # whatever was there before: the backdrop covers it
    p = QPainter(image)
    size = QSizeF(W, H)
    if by_hand:  # what every frame did before the backdrop was kept
        bg = scene.background
        p.fillRect(0, 0, W, H, QColor(bg[0], bg[1], bg[2], bg[3]))
        renderer._paint_grid(p, size, camera)
    else:
        renderer.paint(p, scene, size, camera, grid=True)
    p.end()
    return image


@pytest.mark.parametrize("zoom", [1.0, 0.37, 2.5])
def test_the_grid_drawn_from_its_cached_backdrop_is_the_grid_painted_line_by_line(
    qapp, zoom: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blending the lines every frame took 5-19 ms at 1280x720; the pixels must not change."""
    scene = Scene("empty")  # the backdrop alone: nothing else is drawn
    scene.background = Color(30, 34, 44)
    camera = Camera(Vec2(13.0, -7.0), zoom)
    renderer = SceneRenderer(Path.cwd())
    expected = _grid_frame(SceneRenderer(Path.cwd()), scene, camera, by_hand=True)
    lines = spy(monkeypatch, SceneRenderer, "_paint_grid")
    first = _grid_frame(renderer, scene, camera, by_hand=False)
    second = _grid_frame(renderer, scene, camera, by_hand=False)
    assert first == expected and second == expected
    assert len(lines) == 1  # painted once, then copied
    camera.zoom *= 1.5  # a new view: painted again
    _grid_frame(renderer, scene, camera, by_hand=False)
    assert len(lines) == 2
