"""Step 9, notify: once every swap is done, tell who needs to know.

Scene observers hear which scripts were rebuilt, scripts that came back start
living, reload participants run their commit functions and new plugins get
``on_init``. The reload has happened by now: whatever raises here is logged
with its traceback and the rest are still told.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from runtime.plugins import describe_error
from runtime.reload.commit import Committed

if TYPE_CHECKING:
    from runtime.game import Game

log = logging.getLogger("hotplay.reload")


def notify_all(
    game: Game, committed: Committed, participant_commits: Sequence[Callable[[], None]]
) -> None:
    """Tell observers, scripts, participants and new plugins; never raises an Exception."""
    for scene, handles in committed.replaced:
        try:
            game.notify_scripts_replaced(scene, handles)
        except Exception as exc:
            log.error(
                "an observer of scene %r failed after a reload (the reload stands): %s",
                scene.name,
                describe_error(exc),
                exc_info=exc,
            )
    for rs, entity, script in committed.to_init:
        rs.init_script(entity, script)  # reports and pauses a script that raises
    for commit in participant_commits:
        try:
            commit()
        except Exception as exc:
            log.error(
                "a reload participant failed at commit (the reload stands): %s",
                describe_error(exc),
                exc_info=exc,
            )
    if game.started:
        for name in committed.added_plugins:
            game.call_plugin(game.plugin_objects[name], "on_init")  # pauses one that raises
