"""The log panel shows whatever a child sends, including times no clock can show."""

from __future__ import annotations

import logging
import math

import pytest

from editor.log_panel import LogEntry, LogPanel, clock_text

ODD_TIMES = [1e308, math.nan, math.inf, -math.inf, -1.0, -1e308, 0.0]


@pytest.mark.parametrize("created", ODD_TIMES)
def test_clock_text_never_raises(created: float) -> None:
    assert isinstance(clock_text(created), str)


def test_entries_with_any_timestamp_are_shown_and_filtered(qtbot) -> None:
    panel = LogPanel()
    qtbot.addWidget(panel)
    for i, created in enumerate(ODD_TIMES):
        panel.add_entry(LogEntry(created, logging.WARNING, "game", f"odd {i}"))
        panel.add_entry(LogEntry(1.7e9, logging.INFO, "game", f"plain {i}"))
    assert len(panel.visible_entries()) == 2 * len(ODD_TIMES)

    panel.set_minimum_level(logging.WARNING)
    assert [e.message for e in panel.visible_entries()] == [
        f"odd {i}" for i in range(len(ODD_TIMES))
    ]
    panel.set_minimum_level(logging.DEBUG)
    assert len(panel.visible_entries()) == 2 * len(ODD_TIMES)
    assert panel.count_label.text() == f"{2 * len(ODD_TIMES)} of {2 * len(ODD_TIMES)} messages"
