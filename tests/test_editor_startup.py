"""The editor's start-up check: a clear message instead of Qt's abort without a display."""

from __future__ import annotations

import sys

import pytest

from editor import __main__ as editor_main

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 check")


@linux_only
def test_no_display_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    problem = editor_main._display_problem()
    assert problem is not None
    assert "DISPLAY is not set" in problem and "QT_QPA_PLATFORM=offscreen" in problem


@pytest.mark.parametrize("platform", ["offscreen", "minimal", "wayland"])
def test_other_platforms_are_not_checked(monkeypatch: pytest.MonkeyPatch, platform: str) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", platform)
    assert editor_main._display_problem() is None
