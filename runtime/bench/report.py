"""The benchmark's figures: targets, the human-readable table, the JSON, progress lines."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Sequence
from typing import Any

from runtime.bench.config import Config
from runtime.reload import STEPS

#: The value of a figure that could not be measured (its note says why).
NOT_AVAILABLE = "not available"

#: With fewer samples than this, a "p95" is a maximum: only the p50 is reported.
MIN_SAMPLES_FOR_P95 = 20

#: Targets: figure key -> (limit, unit). A figure meets its target when value <= limit.
TARGETS: dict[str, tuple[float, str]] = {
    "reload.1000.save_to_new_p50_ms": (12.0, "ms"),
    "reload.10000.save_to_new_p50_ms": (30.0, "ms"),
    "reload.100000.save_to_new_p50_ms": (300.0, "ms"),
    "fields.10000.save_to_new_p50_ms": (40.0, "ms"),
    "import_check.1000.added_p50_ms": (15.0, "ms"),
    "floor_ratio": (1.5, "x"),
    "compare.jurigged_ratio": (1.5, "x"),
    "unrelated_ratio": (1.2, "x"),
    "soak.rss_growth_mb": (20.0, "MB"),
    "soak.old_generations_alive": (0.0, ""),
    "update.10000.frame_p50_ms": (8.0, "ms"),
    "update.10000.plain_ratio": (1.1, "x"),
    "update.10000.after_reloads_ratio": (1.1, "x"),
    "draw.10000.frame_p50_ms": (8.0, "ms"),
    "draw.10000.moving_p50_ms": (8.0, "ms"),
    "start.player_s": (0.5, "s"),
    "editor.100000.edit_p50_ms": (100.0, "ms"),
    "editor.100000.undo_p50_ms": (100.0, "ms"),
    "editor.100000.redo_p50_ms": (100.0, "ms"),
    "editor.10000.play_save_to_shown_p50_ms": (60.0, "ms"),
    "look_ahead.1000.look_ahead_p50_ms": (50.0, "ms"),
    "look_ahead.1000.ratio": (1.1, "x"),
    "history.1000.record_overhead_pct": (5.0, "%"),
}


def _p50_p95(key: str, samples: int) -> list[str]:
    return [f"{key}_p50_ms"] + ([f"{key}_p95_ms"] if samples >= MIN_SAMPLES_FOR_P95 else [])


def expected_figures(config: Config) -> list[str]:
    """Every figure key a run with `config` writes to its JSON (value or "not available")."""
    keys = []
    for n in config.sizes:
        count = config.reloads_for(n)
        keys += _p50_p95(f"reload.{n}.save_to_new", count)
        keys += _p50_p95(f"reload.{n}.reload_wall", count)
        keys += [f"reload.{n}.{step}_p50_ms" for step in STEPS]
        keys += [
            f"reload.{n}.reload_p50_ms",
            f"reload.{n}.first_frame_p50_ms",
            f"reload.{n}.gc_p50_ms",
            f"reload.{n}.floor_ms",
            f"reload.{n}.floor_ratio",
            f"reload.{n}.rebuild_floor_ms",
        ]
        if n == config.import_check_size:
            keys += [
                f"reload.{n}.save_to_new_checked_p50_ms",
                f"import_check.{n}.added_p50_ms",
                f"import_check.{n}.spawn_added_p50_ms",
            ]
    keys += _p50_p95(f"fields.{config.field_size}.save_to_new", config.field_reloads)
    keys += _p50_p95(f"fields.{config.field_size}.reload_wall", config.field_reloads)
    keys += [
        "floor_ratio",
        "unrelated_ratio",
        "unrelated_save_to_new_ratio",
        "soak.rss_growth_mb",
        "soak.old_generations_alive",
    ]
    for tool in ("jurigged", "autoreload"):
        keys += [
            f"compare.{tool}.{config.compare_size}.save_to_new_p50_ms",
            f"compare.{tool}_ratio",
        ]
    for n in config.frame_sizes:
        keys += [
            f"update.{n}.{k}"
            for k in ("frame_p50_ms", "plain_ratio", "after_reloads_ratio", "frames_alone_ratio")
        ]
    keys += [f"draw.{config.draw_size}.{k}" for k in ("frame_p50_ms", "moving_p50_ms")]
    keys += ["start.player_s", "start.editor_s"]
    keys += [f"editor.{config.editor_edit_size}.{a}_p50_ms" for a in ("edit", "undo", "redo")]
    keys += [
        f"editor.{config.editor_play_size}.play_save_to_shown_p50_ms",
        f"editor.{config.editor_play_size}.play_save_to_shown_direct_p50_ms",
    ]
    if config.look_ahead_size in config.sizes:
        keys += [f"look_ahead.{config.look_ahead_size}.{k}" for k in LOOK_AHEAD_FIGURES]
    if config.history_size in config.sizes:
        keys += [f"history.{config.history_size}.{k}" for k in HISTORY_FIGURES]
    return keys


#: The figures of `runtime.bench.lookahead`, after ``look_ahead.<size>.``.
LOOK_AHEAD_FIGURES = (
    "look_ahead_p50_ms",
    "frames_p50_ms",
    "ratio",
    "reload_with_p50_ms",
    "reload_without_p50_ms",
)

#: The figures of `runtime.bench.history`, after ``history.<size>.``.
HISTORY_FIGURES = (
    "frame_on_ms",
    "frame_off_ms",
    "record_overhead_pct",
    "record_overhead_wall_pct",
    "keyframe_p50_ms",
    "keyframe_cpu_p50_ms",
    "keyframe_full_p50_ms",
    "keyframe_kb",
    "ten_seconds_mb",
    "preview_p50_ms",
    "rewind_1s_p50_ms",
    "replay_1s_p50_ms",
    "scrub_forward_p50_ms",
)


class Results:
    """Figures by key, with notes; renders the table and the JSON."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.figures: dict[str, dict[str, Any]] = {}
        self.details: dict[str, Any] = {}
        self.verified_reloads = 0

    def put(self, key: str, value: float | None, unit: str, label: str, note: str = "") -> None:
        """Record one figure (``None``: not available, with `note` saying why)."""
        fig: dict[str, Any] = {"label": label, "value": value, "unit": unit, "note": note}
        if value is None:
            fig["status"] = NOT_AVAILABLE
        elif key in TARGETS:
            limit = TARGETS[key][0]
            fig["target"] = limit
            fig["status"] = "met" if value <= limit else "NOT met"
        else:
            fig["status"] = ""
        self.figures[key] = fig

    def table(self) -> str:
        """The human-readable table, one line per figure in the order they were put."""
        lines = [f"{'figure':<58} {'value':>12}  {'target':>10}  status"]
        lines.append("-" * len(lines[0]) + "-" * 6)
        for fig in self.figures.values():
            shown = format_value(fig["value"], fig["unit"])
            target = format_target(fig)
            lines.append(f"{fig['label']:<58} {shown:>12}  {target:>10}  {fig['status']}")
            if fig["note"]:
                lines.append(f"{'':<4}{fig['note']}")
        return "\n".join(lines)

    def markdown(self) -> str:
        """The headline figures as a Markdown table (the README's)."""
        return merged_markdown([self.to_json()])

    def to_json(self) -> dict[str, Any]:
        """Machine-readable results."""
        return {
            "verified": self.verified_reloads > 0,
            "verified_reloads": self.verified_reloads,
            "machine": machine(),
            "config": {k: v for k, v in vars(self.config).items()},
            "figures": self.figures,
            "details": self.details,
        }


def format_value(value: float | None, unit: str) -> str:
    """A figure's value as the tables show it."""
    if value is None:
        return NOT_AVAILABLE
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "":
        return f"{value:g}"
    return f"{value:,.{3 if unit == 's' else 2}f} {unit}"


def format_target(fig: dict[str, Any]) -> str:
    """A figure's target as the tables show it ("" without one)."""
    if "target" not in fig:
        return ""
    unit = fig["unit"]
    return f"<= {fig['target']:g}{'x' if unit == 'x' else ' ' + unit if unit else ''}"


#: Figures the README table leaves out: the breakdown of a reload (the JSON has them).
_DETAIL_SUFFIXES = (
    *(f".{step}_p50_ms" for step in STEPS),
    ".reload_p50_ms",
    ".first_frame_p50_ms",
    ".gc_p50_ms",
)


def merged_markdown(runs: Sequence[dict[str, Any]]) -> str:
    """A Markdown table of the headline figures (no step breakdown) over one or more runs' JSON.

    With one run the value is shown as measured; with several, as min / median /
    max (the machine is shared: one run's figure is one draw), judged on the median.
    """
    first = runs[0]["figures"]
    keys = [k for k in first if not k.endswith(_DETAIL_SUFFIXES)]
    several = len(runs) > 1
    measured = "min / median / max" if several else "measured"
    lines = [f"| figure | {measured} | target | status |", "| --- | --- | --- | --- |"]
    for key in keys:
        fig = first[key]
        unit = fig["unit"]
        values = [r["figures"][key]["value"] for r in runs if key in r["figures"]]
        values = [v for v in values if v is not None]
        target = format_target({**fig, "target": TARGETS[key][0]}) if key in TARGETS else ""
        if not values:
            lines.append(f"| {fig['label']} | {NOT_AVAILABLE} | {target} | |")
            continue
        median = statistics.median(values)
        if several:
            shown = " / ".join(format_value(v, unit) for v in (min(values), median, max(values)))
        else:
            shown = format_value(median, unit)
        status = ""
        if key in TARGETS:
            status = "met" if median <= TARGETS[key][0] else "**not met**"
        lines.append(f"| {fig['label']} | {shown} | {target} | {status} |")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """A short description of the machine and interpreter."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
    }


def progress(msg: str) -> None:
    """Tell the person waiting what is being measured now (stderr: stdout is the table)."""
    print(msg, file=sys.stderr, flush=True)
