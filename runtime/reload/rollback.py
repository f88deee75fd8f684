"""Rolling back: the new side is dropped; the objects that were told hear of the failure."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from runtime.guard import is_user_interrupt
from runtime.plugins import GAME_CODE_ERRORS, describe_error
from runtime.reload.hooks import hook_context, who
from runtime.reload.state import Target
from runtime.reports import ReloadReport
from runtime.scripting import Plugin, Script

if TYPE_CHECKING:
    from runtime.game import Game

log = logging.getLogger("hotplay.reload")


def roll_back(game: Game, told: Sequence[Target], report: ReloadReport) -> ReloadReport:
    """Call ``on_after_reload(ctx, report)`` on the old objects whose ``on_before_reload`` ran.

    Nothing else needs undoing: no step before the commit writes into the game.

    Returns:
        `report`, the failed reload's.
    """
    for t in told:
        if type(t.obj).on_after_reload in (Script.on_after_reload, Plugin.on_after_reload):
            continue
        try:
            t.obj.on_after_reload(hook_context(game, t, t.obj), report)
        except GAME_CODE_ERRORS as exc:
            if is_user_interrupt(exc):
                raise  # the terminal's Ctrl+C ends the program, not this hook
            log.error(
                "%s: on_after_reload after a failed reload raised %s",
                who(t),
                describe_error(exc),
            )
    game.release_contexts()
    return report
