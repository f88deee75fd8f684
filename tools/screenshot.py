"""Regenerate the README's screenshot from the real editor.

    QT_QPA_PLATFORM=offscreen python tools/screenshot.py [OUT.png]

It copies the sample project to a temporary folder, opens the editor on it,
picks Debug (HR), presses Play, lets the game run, then saves a change to a
script the way a user would (the balls turn green and grow a trail colour) and
waits for the hot reload, so the picture shows the editor with a game playing
and the reload report in the status bar. Works offscreen or under Xvfb.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "images" / "editor.png"


def _run_for(app: QApplication, seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def _wait(app: QApplication, condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the editor did not get there in time")
        _run_for(app, 0.02)


def main(argv: list[str]) -> int:
    """Take the screenshot; returns the exit code."""
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    app = QApplication.instance() or QApplication(argv[:1])
    from editor import MainWindow
    from editor.theme import apply_dark_theme
    from runtime import BuildProfile

    # Its own settings: the screenshot must not touch the user's (recent scenes...).
    app.setOrganizationName("Hotplay")
    app.setApplicationName("Hotplay Screenshot")
    apply_dark_theme(app)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "bouncy-demo"
        project.mkdir()
        for name in ("hotplay.toml", "plugins", "assets"):
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, project / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(src, project / name)
        window = MainWindow(project)
        window.resize(1400, 860)
        window.show()
        window.set_profile(BuildProfile.DEBUG_HR)
        window.play()
        _run_for(app, 1.5)
        ball = project / "plugins" / "bouncy" / "ball.py"
        source = ball.read_text()
        changed = source.replace(
            "        e = ctx.entity\n",
            "        e = ctx.entity\n        if e.visual:\n"
            '            e.visual.color = Color.parse("#80ed99")  # saved while running\n',
        ).replace("from runtime import Script, Vec2", "from runtime import Color, Script, Vec2")
        reloads = window.game.reload_count
        ball.write_text(changed)
        _wait(app, lambda: window.game.reload_count > reloads)
        _run_for(app, 0.6)
        spinner = window.scene_view.scene.find("Spinner")
        if spinner is not None:
            window.select(spinner.handle)
        _run_for(app, 0.2)
        out.parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(out))
        window.stop()
        window.close()
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
