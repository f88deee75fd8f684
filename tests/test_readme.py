"""The README's two commands are what CI runs (so they stay true)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    head = text.split("## ", 1)[0]  # the commands stand near the top, before any section
    return re.findall(r"```sh\n(.+?)\n```", head)


def test_readme_has_exactly_two_commands_near_the_top():
    cmds = readme_commands()
    assert len(cmds) == 2, cmds
    assert cmds[0].endswith("hotplay-editor")
    assert "pytest" in cmds[1]


def test_ci_runs_the_readme_commands():
    install, test = readme_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    install_only = install.rsplit(" && ", 1)[0]  # everything but starting the editor
    assert install_only in ci
    assert test in ci
    assert "QT_QPA_PLATFORM=offscreen" in ci
