"""Step 7, prepare: the reload participants (the editor) get ready for the new generation."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from runtime.plugins import LoadedPlugin, describe_error
from runtime.reload.state import ReloadFailed

Participant = Callable[[dict[str, Any]], Callable[[], None] | None]


def prepare_participants(
    participants: Iterable[Participant], fresh: dict[str, LoadedPlugin]
) -> tuple[Callable[[], None], ...]:
    """Call every participant's ``prepare(fresh)``; return the commit functions they gave.

    Raises:
        ReloadFailed: a participant refused the new generation (the reload rolls back).
    """
    commits = []
    for prepare in list(participants):
        try:
            commit = prepare(fresh)
        except Exception as exc:
            raise ReloadFailed(f"reload participant failed: {describe_error(exc)}") from exc
        if commit is not None:
            commits.append(commit)
    return tuple(commits)
