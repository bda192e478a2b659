"""Run one system as a child process and measure it: wall, CPU, memory, API calls, throttles."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.simulator.process import SimulatorProcess
from bench.sweep_report import SweepMeasure
from bench.systems.common import SystemOutput, SystemParams

SYSTEM_MODULES = {
    "serial": "bench.systems.serial",
    "director": "bench.systems.director",
    "c7n-org": "bench.systems.c7n_org",
    "fleetstream": "bench.systems.fleetstream_e2e",
}


@dataclass(slots=True)
class SystemRun:
    """One system's measured run on one estate shape."""

    system: str
    expected: int
    found: int
    wall_s: float
    cpu_s: float  # the system's processes: user + system, children included
    infra_cpu_s: float  # Kafka and DynamoDB Local during the run
    sim_cpu_s: float
    sim_wall_s: float
    calls: int
    throttles: int
    rss_mb: list[tuple[str, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pages: int = 0
    failed_shards: int = 0
    exit_code: int = 0
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average at start and end
    sweeps: list[SweepMeasure] = field(default_factory=list)  # `--sweeps N`: each one measured

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.found == self.expected

    @property
    def resources_per_s(self) -> float:
        return self.found / self.wall_s if self.wall_s > 0 and self.found > 0 else 0.0

    @property
    def cpu_us_per_resource(self) -> float:
        """The system's own CPU (children included) per resource found, in microseconds."""
        return self.cpu_s / self.found * 1e6 if self.found > 0 else 0.0

    @property
    def all_cpu_us_per_resource(self) -> float:
        """The same with Kafka's and DynamoDB Local's CPU of the run added."""
        return (self.cpu_s + self.infra_cpu_s) / self.found * 1e6 if self.found > 0 else 0.0

    @property
    def peak_rss_mb(self) -> float:
        return max((mb for _, mb in self.rss_mb), default=0.0)

    @property
    def total_rss_mb(self) -> float:
        """Sum of per-process peaks: an upper bound of the memory the system held at once."""
        return sum(mb for _, mb in self.rss_mb)


def tree_cpu_s(pids: Sequence[int]) -> float:
    """CPU seconds (user + system) of processes and their live descendants."""
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for proc in [root, *root.children(recursive=True)]:
                times = proc.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_system(
    system: str,
    params: SystemParams,
    env: Mapping[str, str],
    simulator: SimulatorProcess,
    expected: int,
    infra_pids: Sequence[int],
    log_path: Path,
) -> SystemRun:
    """Start the system's module, wait for it, and measure the run from the outside."""
    command = [sys.executable, "-m", SYSTEM_MODULES[system], "--params", params.to_json()]
    before: dict[str, Any] = simulator.stats()
    infra_before = tree_cpu_s(infra_pids)
    cpu_before = _children_cpu_s()
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    with log_path.open("w") as log:
        done = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=log,
            env={**os.environ, **env},
            text=True,
            timeout=params.timeout_s + 120,
            check=False,
        )
    wall = time.monotonic() - started
    cpu = _children_cpu_s() - cpu_before
    infra = tree_cpu_s(infra_pids) - infra_before
    after: dict[str, Any] = simulator.stats()
    output = SystemOutput.parse(done.stdout) or SystemOutput(
        found=-1, notes=[f"no result line; see {log_path}"]
    )
    return SystemRun(
        system=system,
        expected=expected,
        found=output.found,
        wall_s=wall,
        cpu_s=cpu,
        infra_cpu_s=infra if infra_pids else 0.0,
        sim_cpu_s=float(after["cpu_s"]) - float(before["cpu_s"]),
        sim_wall_s=float(after["wall_s"]) - float(before["wall_s"]),
        calls=int(after["calls"]) - int(before["calls"]),
        throttles=int(after["throttles"]) - int(before["throttles"]),
        rss_mb=output.rss_mb,
        notes=output.notes,
        pages=output.pages,
        failed_shards=output.failed_shards,
        exit_code=done.returncode,
        load=(load_before, os.getloadavg()[0]),
        sweeps=[SweepMeasure.from_json(raw) for raw in output.sweeps],
    )
