"""Build profiles: how the game runs and what happens to code changes."""

from __future__ import annotations

import enum


class BuildProfile(enum.Enum):
    """The three profiles of the editor's combo, as in Fyrox.

    ========== ============================================ ==================================
    profile    how the game runs                            code changes
    ========== ============================================ ==================================
    Debug      plugins imported from source, asserts on     apply at the next Play
    Debug (HR) as Debug, plus the plugin watcher            reloaded live, game and editor
    Release    separate process, ``python -O``, bytecode    apply at the next Build + Play
    ========== ============================================ ==================================
    """

    DEBUG = "debug"
    DEBUG_HR = "debug-hr"
    RELEASE = "release"

    @property
    def display_name(self) -> str:
        """The name shown in the editor: ``Debug``, ``Debug (HR)``, ``Release``."""
        return _DISPLAY[self]

    @property
    def hot_reload(self) -> bool:
        """Whether plugin files are watched and reloaded while the game runs."""
        return self is BuildProfile.DEBUG_HR

    @property
    def interpreter_flags(self) -> tuple[str, ...]:
        """Extra flags for the Python interpreter that runs the game."""
        return ("-O",) if self is BuildProfile.RELEASE else ()

    @property
    def precompiled(self) -> bool:
        """Whether plugins run from bytecode compiled by the Build step."""
        return self is BuildProfile.RELEASE

    @property
    def separate_process_only(self) -> bool:
        """Whether the game must run in its own process (``-O`` is not switchable in-process)."""
        return self is BuildProfile.RELEASE

    @classmethod
    def parse(cls, text: str) -> BuildProfile:
        """Read a profile from its CLI value (``debug-hr``) or display name (``Debug (HR)``).

        Raises:
            ValueError: no profile has that name.
        """
        t = text.strip().lower()
        for p in cls:
            if t in (p.value, p.display_name.lower(), p.name.lower()):
                return p
        names = ", ".join(p.value for p in cls)
        raise ValueError(f"unknown build profile {text!r} (choose {names})")

    def __str__(self) -> str:
        return self.display_name


_DISPLAY = {
    BuildProfile.DEBUG: "Debug",
    BuildProfile.DEBUG_HR: "Debug (HR)",
    BuildProfile.RELEASE: "Release",
}
