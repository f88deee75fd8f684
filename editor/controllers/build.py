"""The Build button: compile the project's plugins for the chosen profile and report."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from editor.controllers import STATUS_SECONDS
from runtime import BuildProfile, Project
from runtime.build import BuildResult, build_project

log = logging.getLogger("hotplay.editor")


class BuildController(QObject):
    """Runs `runtime.build.build_project`, the same build Play and the command line run.

    Args:
        project: the project to build.
        profile: returns the build profile chosen.
        parent: the owning window.

    Signals:
        built(object): the `runtime.build.BuildResult` of a Build.
        statusReported(str, str, float): a message for the status bar (text, kind, seconds).
    """

    built = Signal(object)
    statusReported = Signal(str, str, float)

    def __init__(
        self, project: Project, profile: Callable[[], BuildProfile], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.project = project
        self._profile = profile

    def build(self) -> BuildResult | None:
        """Compile every plugin source; report errors in the log and the status bar.

        Returns:
            The build result, or ``None`` when the Release output could not be written.
        """
        try:
            result = build_project(self.project, self._profile())
        except OSError as exc:
            log.error("build failed: cannot write the output: %s", exc)
            self.statusReported.emit(f"build failed: {exc}", "error", STATUS_SECONDS)
            return None
        if not result.ok:
            errors = [str(e) for e in result.errors]
            # The row shows the first line: it names the first error's file:line:col,
            # so the user sees where to look without opening the details.
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            log.error("build failed: %s%s\n%s", errors[0], more, "\n".join(errors))
            self.statusReported.emit(f"build failed: {errors[0]}", "error", STATUS_SECONDS)
        else:
            log.info("build: %d modules compiled, no errors", result.files)
            self.statusReported.emit(
                f"build succeeded: {result.files} modules", "ok", STATUS_SECONDS
            )
        self.built.emit(result)
        return result
