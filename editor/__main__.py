"""``python -m editor [PROJECT_DIR]`` / ``hotplay-editor``: open the Hotplay editor."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from runtime import BuildProfile, ProjectError


def main(argv: Sequence[str] | None = None) -> int:
    """Open the editor on a project (default: this repository's sample project).

    Returns:
        The exit code: 0, or 2 when the folder is not a Hotplay project.
    """
    parser = argparse.ArgumentParser(prog="hotplay-editor", description=__doc__)
    parser.add_argument("project", nargs="?", help="project folder (default: the sample project)")
    parser.add_argument("--scene", help="scene file to open instead of the project's main scene")
    parser.add_argument(
        "--profile",
        type=BuildProfile.parse,
        default=None,
        help="build profile: debug, debug-hr or release (default: the last one used)",
    )
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication, QMessageBox

    from editor.main_window import MainWindow
    from editor.theme import apply_dark_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Hotplay Editor")
    app.setOrganizationName("Hotplay")
    apply_dark_theme(app)  # type: ignore[arg-type]
    try:
        window = MainWindow(args.project, scene=args.scene, profile=args.profile)
    except ProjectError as exc:
        print(f"hotplay-editor: {exc}", file=sys.stderr)
        if not _headless():
            QMessageBox.critical(None, "Not a Hotplay project", str(exc))
        return 2
    window.show()
    return app.exec()


def _headless() -> bool:
    """Whether no one can see a dialog (offscreen or minimal Qt platform): stderr must do."""
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.platformName() in ("offscreen", "minimal")


if __name__ == "__main__":
    sys.exit(main())
