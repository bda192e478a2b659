"""Results as markdown (bench/results/<scenario>.md) and a PNG chart."""

from __future__ import annotations

import importlib
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.measure import SystemRun
from bench.scenarios import CriticalPath, Scenario, Shape
from bench.simulator.config import SimConfig


@dataclass(slots=True)
class ShapeResult:
    """Every system's run on one estate shape, with that shape's critical path."""

    shape: Shape
    config: SimConfig
    critical: CriticalPath
    runs: list[SystemRun]
    skipped: list[str]


COLUMNS = (
    "| system | found / expected | wall s | resources/s | x critical path | CPU s | "
    "infra CPU s | sim CPU s | CPU µs / resource (own / + infra) | "
    "peak RSS MB (max / sum, processes) | API calls | throttles | load before / after |"
)
RSS_DETAIL_MAX = 12  # list every process' peak RSS in the notes up to this many processes


def _row(run: SystemRun, critical: CriticalPath) -> str:
    status = "" if run.ok else " **MISMATCH**"
    return (
        f"| {run.system} | {run.found} / {run.expected}{status} | {run.wall_s:.1f} | "
        f"{run.resources_per_s:,.0f} | {run.wall_s / critical.seconds:.1f} | {run.cpu_s:.1f} | "
        f"{run.infra_cpu_s:.1f} | {run.sim_cpu_s:.2f} | "
        f"{run.cpu_us_per_resource:,.0f} / {run.all_cpu_us_per_resource:,.0f} | "
        f"{run.peak_rss_mb:.0f} / {run.total_rss_mb:.0f} ({len(run.rss_mb)}) | "
        f"{run.calls:,} | {run.throttles:,} | {run.load[0]:.2f} / {run.load[1]:.2f} |"
    )


def _rss_detail(run: SystemRun) -> str:
    if not run.rss_mb or len(run.rss_mb) > RSS_DETAIL_MAX:
        return ""
    return "; peak RSS MB per process: " + ", ".join(f"{n} {mb:.0f}" for n, mb in run.rss_mb)


def _ratios(runs: Sequence[SystemRun]) -> list[str]:
    names = [r.system for r in runs]
    lines = [
        "Wall-time ratio (row / column; below 1 means the row is faster):",
        "",
        "| | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for row in runs:
        cells = [f"{row.wall_s / col.wall_s:.2f}" for col in runs]
        lines.append(f"| {row.system} | " + " | ".join(cells) + " |")
    return lines


def markdown(scenario: Scenario, quick: bool, results: Sequence[ShapeResult]) -> str:
    """The whole report of one scenario run."""
    first = results[0].config
    lat, thr = first.latency, first.throttle
    lines = [
        f"# {scenario.name}{' (quick)' if quick else ''}: {scenario.title}",
        "",
        f"Machine: {platform.machine()}, {_cpus()} CPUs, Python {platform.python_version()}. "
        f"Simulator latency: lognormal, median {lat.describe_median_ms:g} ms per describe and "
        f"{lat.other_median_ms:g} ms per other call (sigma {lat.sigma:g}), plus "
        f"{lat.per_item_ms:g} ms per returned item. Token buckets per (account, region, class): "
        f"describe {thr.describe.burst:g} burst / {thr.describe.rate_per_s:g} per s, "
        f"mutate {thr.mutate.burst:g} / {thr.mutate.rate_per_s:g} per s. Load = the 1-minute "
        "load average when the system started and ended (other work shares the CPUs).",
        "",
    ]
    for result in results:
        shape = result.shape
        lines += [
            f"## {shape.label()} (accounts x regions x instances) = {shape.total:,} instances",
            "",
            f"Critical path: {result.critical.explain()}.",
            "",
            COLUMNS,
            "|---" * COLUMNS.count(" | ") + "|---|",
            *(_row(run, result.critical) for run in result.runs),
            "",
        ]
        if len(result.runs) > 1:
            lines += [*_ratios(result.runs), ""]
        lines.append("Notes:")
        lines += [
            f"- {run.system}: {'; '.join(run.notes) or '-'}{_rss_detail(run)}"
            for run in result.runs
        ]
        lines += [f"- not run: {reason}" for reason in result.skipped]
        lines.append("")
    return "\n".join(lines)


def _cpus() -> int:
    return os.cpu_count() or 0


def _pyplot() -> Any | None:
    """matplotlib.pyplot on the file-only Agg backend, or None: the chart is optional."""
    try:
        matplotlib = importlib.import_module("matplotlib")
    except ImportError:
        return None
    matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")


def chart(scenario: Scenario, results: Sequence[ShapeResult], path: Path) -> str | None:
    """A PNG of wall time per system (and the critical path); None if matplotlib is missing."""
    plt = _pyplot()
    if plt is None:
        return "matplotlib is not installed: no chart"
    systems = sorted({run.system for result in results for run in result.runs})
    figure, axes = plt.subplots(figsize=(8, 4.5))
    if len(results) == 1:
        result = results[0]
        walls = [run.wall_s for run in result.runs]
        axes.bar([run.system for run in result.runs], walls, color="#4c72b0")
        axes.axhline(
            result.critical.seconds, color="#c44e52", linestyle="--", label="critical path"
        )
        axes.set_ylabel("wall seconds")
        axes.set_title(f"{scenario.name} {result.shape.label()}: sweep wall time")
    else:
        xs = [result.shape.accounts for result in results]
        for system in systems:
            points = [
                (result.shape.accounts, run.wall_s)
                for result in results
                for run in result.runs
                if run.system == system
            ]
            axes.plot(*zip(*points, strict=True), marker="o", label=system)
        axes.plot(xs, [r.critical.seconds for r in results], "k--", label="critical path")
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("accounts")
        axes.set_ylabel("wall seconds")
        axes.set_title(f"{scenario.name}: wall time by estate size")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return None
