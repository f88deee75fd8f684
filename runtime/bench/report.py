"""The benchmark's figures: targets, the human-readable table, the JSON, progress lines."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any

from runtime.bench.config import Config
from runtime.reload import STEPS

#: The value of a figure that could not be measured (its note says why).
NOT_AVAILABLE = "not available"

#: Targets: figure key -> (limit, unit). A figure meets its target when value <= limit.
TARGETS: dict[str, tuple[float, str]] = {
    "reload.1000.save_to_new_p50_ms": (25.0, "ms"),
    "reload.10000.save_to_new_p50_ms": (60.0, "ms"),
    "reload.100000.save_to_new_p50_ms": (600.0, "ms"),
    "import_check.1000.added_p50_ms": (15.0, "ms"),
    "floor_ratio": (2.0, "x"),
    "unrelated_ratio": (1.2, "x"),
    "soak.rss_growth_mb": (20.0, "MB"),
    "soak.old_generations_alive": (0.0, ""),
    "update.10000.frame_p50_ms": (8.0, "ms"),
    "draw.10000.frame_p50_ms": (16.0, "ms"),
    "start.player_s": (0.5, "s"),
}


def expected_figures(config: Config) -> list[str]:
    """Every figure key a run with `config` writes to its JSON (value or "not available")."""
    keys = []
    for n in config.sizes:
        keys += [
            f"reload.{n}.save_to_new_p50_ms",
            f"reload.{n}.save_to_new_p95_ms",
            f"reload.{n}.reload_p50_ms",
            f"reload.{n}.first_frame_p50_ms",
            f"reload.{n}.gc_p50_ms",
            f"reload.{n}.floor_ms",
            f"reload.{n}.floor_ratio",
        ]
        keys += [f"reload.{n}.{step}_p50_ms" for step in STEPS]
        if n == config.import_check_size:
            keys += [
                f"reload.{n}.save_to_new_checked_p50_ms",
                f"import_check.{n}.added_p50_ms",
                f"import_check.{n}.spawn_added_p50_ms",
            ]
    keys += [
        "floor_ratio",
        "unrelated_ratio",
        "unrelated_save_to_new_ratio",
        "soak.rss_growth_mb",
        "soak.old_generations_alive",
    ]
    keys += [f"update.{n}.frame_p50_ms" for n in config.frame_sizes]
    keys += [f"draw.{config.draw_size}.frame_p50_ms", "start.player_s", "start.editor_s"]
    return keys


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
            v = fig["value"]
            unit = fig["unit"]
            if v is None:
                shown = NOT_AVAILABLE
            elif unit == "x":
                shown = f"{v:.2f}x"
            elif unit == "":
                shown = f"{v:g}"
            else:
                shown = f"{v:,.{3 if unit == 's' else 2}f} {unit}"
            target = ""
            if "target" in fig:
                t = fig["target"]
                target = f"<= {t:g}{'x' if unit == 'x' else ' ' + unit if unit else ''}"
            status = fig["status"]
            lines.append(f"{fig['label']:<58} {shown:>12}  {target:>10}  {status}")
            if fig["note"]:
                lines.append(f"{'':<4}{fig['note']}")
        return "\n".join(lines)

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
