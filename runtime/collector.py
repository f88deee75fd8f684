"""`collector_paused`: no cyclic garbage collection while a burst of objects is made.

Loading a scene, copying it for Play, copying the world for the look-ahead
and a hot reload each make hundreds of thousands of objects that live on.
With the collector on, every few hundred of them set off a collection, and
the older generations' collections walk everything made so far again: at
100,000 entities that was about 40 % of the time of loading a scene. None of
these bursts leaves cycles to collect that could not wait until after it.
A scene loaded or copied lives on: its objects go straight to the oldest
generation (``keep``), where they are not walked again until a full collection.
The look-ahead's copy stays young: its world is thrown away at once. A reload
that rebuilds a good part of a scene collects the two younger generations just
before, and moves what it made to the oldest at the commit unless the
look-ahead ran frames (whose world it would move too).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused(*, keep: bool = False) -> Iterator[bool]:
    """Turn the cyclic collector off for the block; back on after it, if it was on.

    The block gets whether it was on (``with collector_paused() as was_on``).

    Args:
        keep: the block makes objects that live on (a loaded scene, Play's copy of
            one). When it ends without an error, every object the collector tracks
            joins the oldest generation at once, without being looked at. Otherwise
            they all sit in the youngest generation, and the first collection after
            the block walks every one of them (a third of a second after copying
            100,000 entities), then the middle generation's walks them again. Done
            only while nothing else is frozen (`gc.freeze`), which it would thaw.
            The two younger generations are collected first (`collect_young`):
            what moves to the oldest is then the block's own objects, not cyclic
            garbage that was waiting there, which would wait for a full collection
            instead.
    """
    was_on = gc.isenabled()
    if keep and was_on:
        collect_young()
    gc.disable()
    try:
        yield was_on
        if keep and was_on:
            keep_young()
    finally:
        if was_on:
            gc.enable()


def collect_young() -> None:
    """Collect the two younger generations now, even while the collector is paused.

    After it, what is young is what is made from then on. It walks what the last
    frames made (each frame's new numbers and vectors are young: about 2 ms at
    10,000 entities, 25 ms at 100,000), which the next collection would walk anyway.
    """
    gc.collect(1)


def keep_young() -> None:
    """Move every object the collector tracks to its oldest generation, without a walk.

    For objects that live on, made since `collect_young`: otherwise the next
    collections walk each of them as young objects. Done only while nothing
    else is frozen (`gc.freeze`), which it would thaw. Objects moved there are
    looked at again only by a full collection.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()  # every tracked object to the permanent generation: no walk
        gc.unfreeze()  # and all of them back, into the oldest generation
