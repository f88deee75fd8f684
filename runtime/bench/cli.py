"""The command line of ``python -m runtime.bench``: options, the run, the table, the JSON."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from runtime.bench.compare import compare_worker
from runtime.bench.config import Config
from runtime.bench.errors import BenchError
from runtime.bench.frames import draw_worker
from runtime.bench.report import machine, merged_markdown
from runtime.bench.run import run
from runtime.game import tune_gc


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    p = argparse.ArgumentParser(
        prog="python -m runtime.bench",
        description="Hot reload, frame and start-up benchmarks of Hotplay (verified).",
    )
    p.add_argument("--quick", action="store_true", help="small sizes and few reloads (seconds)")
    p.add_argument(
        "--sizes",
        default=None,
        help="comma-separated entity counts for the reload figures (default 1000,10000,100000)",
    )
    p.add_argument("--reloads", type=int, default=None, help="measured reloads per size")
    p.add_argument("--soak", type=int, default=None, help="reloads in the memory soak")
    p.add_argument(
        "--quiet-ms",
        type=float,
        default=None,
        help="watcher quiet window (default: the runtime's DEFAULT_QUIET_MS)",
    )
    p.add_argument("--json", type=Path, default=None, help="write machine-readable results here")
    p.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        default=None,
        metavar="JSON",
        help="print the README table (min / median / max) of runs written with --json; no run",
    )
    # The child process of the drawing figure (runtime.bench.frames): N,FRAMES,WIDTH,HEIGHT.
    p.add_argument("--draw-worker", default=None, help=argparse.SUPPRESS)
    # The child process of a tool compared side by side (runtime.bench.compare):
    # TOOL,N,RELOADS,PROJECT.
    p.add_argument("--compare-worker", default=None, help=argparse.SUPPRESS)
    return p


def config_from_args(args: argparse.Namespace) -> Config:
    """The `Config` the command-line options ask for."""
    config = Config.quick_run() if args.quick else Config.default()
    if args.sizes:
        config.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if args.reloads is not None:
        config.reloads = dict.fromkeys(config.sizes, args.reloads)
    if args.soak is not None:
        config.soak_reloads = args.soak
    config.quiet_ms = args.quiet_ms
    return config


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table.

    Returns:
        The exit status: 0, or 1 when a verification failed (``BENCHMARK FAILED`` on stderr).
    """
    args = build_parser().parse_args(argv)
    tune_gc()  # as the player and the editor do
    if args.draw_worker:
        n, frames, w, h = (int(x) for x in args.draw_worker.split(","))
        print(json.dumps(draw_worker(n, frames, w, h)), flush=True)
        return 0
    if args.compare_worker:
        tool, n, reloads, project = args.compare_worker.split(",", 3)
        try:
            result = compare_worker(tool, int(n), int(reloads), Path(project))
        except BenchError as exc:
            print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
            return 1
        print(json.dumps(result), flush=True)
        return 0
    if args.merge:
        runs = [json.loads(path.read_text(encoding="utf-8")) for path in args.merge]
        print(merged_markdown(runs))
        return 0
    logging.basicConfig(level=logging.WARNING, format="%(levelname)-7s %(name)s: %(message)s")
    # The field-changing edits drop and reset fields on purpose, every time; what the
    # reports say is verified instead (a wrong note fails the run).
    logging.getLogger("hotplay.reload").setLevel(logging.ERROR)
    config = config_from_args(args)
    t0 = time.perf_counter()
    try:
        results = run(config)
    except BenchError as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1
    wall = time.perf_counter() - t0
    m = machine()
    print(
        f"Hotplay benchmark ({'quick' if config.quick else 'full'} run, {wall:.0f} s): "
        f"{m['cpu']}, {m['cores']} cores, Python {m['python']}"
    )
    print(
        f"{results.verified_reloads} reloads verified (every field and position, new code "
        "observed after one frame)"
    )
    print(results.table())
    print("\nREADME table (merge two or more runs' JSON with --merge for min / median / max):")
    print(results.markdown())
    if args.json is not None:
        data = results.to_json()
        data["wall_s"] = wall
        args.json.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return 0
