"""`fleetstream sweep`: one full sweep through Kafka to completion, then a summary."""

from __future__ import annotations

import contextlib
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from fleetstream.apps.preflight import check_all
from fleetstream.apps.progress import LineProgress, ProgressView
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.base.metrics import export_sweep_progress, serve
from fleetstream.inventory.dynamodb import Tables
from fleetstream.inventory.sweep_watch import SweepWatch
from fleetstream.inventory.sweeps import SweepProgress, SweepStore
from fleetstream.kafka import clients as kafka
from fleetstream.runtime.workers import Worker, WorkerPool
from producers.main import plan_sweep

GROUP_SETTLE_S = 45.0


@dataclass(frozen=True, slots=True)
class SweepResult:
    """A finished (or timed-out) one-shot sweep."""

    progress: SweepProgress
    elapsed_s: float
    metrics_urls: tuple[str, ...]
    lag_lines: tuple[str, ...]
    peak_rss_mb: tuple[tuple[str, float], ...] = ()

    @property
    def ok(self) -> bool:
        return self.progress.finished and not self.progress.failed


def run_sweep(
    settings: Settings,
    config_path: Path | None,
    *,
    describers: int,
    sinks: int,
    timeout_s: float,
    log_dir: Path,
    echo: Callable[[str], None],
    view: ProgressView | None = None,
) -> SweepResult:
    """Plan a sweep and wait until every shard is complete or failed (or the timeout)."""
    started = time.monotonic()
    with sweep_workers(
        settings, config_path, describers=describers, sinks=sinks, log_dir=log_dir, echo=echo
    ) as pool:
        return sweep_once(settings, pool, timeout_s, started, echo, view)


@contextlib.contextmanager
def sweep_workers(
    settings: Settings,
    config_path: Path | None,
    *,
    describers: int,
    sinks: int,
    log_dir: Path,
    echo: Callable[[str], None],
) -> Iterator[WorkerPool]:
    """Topics, tables and running describer and sink processes, stopped on exit: several
    sweeps can run through one pool (the benchmark's second sweep)."""
    check_all(settings)
    serve(settings.metrics)
    kafka.ensure_topics(settings.kafka)
    ddb = dynamodb_client(settings)
    Tables(
        ddb, settings.sink.table, settings.sink.sweeps_table, settings.sink.seen_table_name
    ).ensure()
    pool = WorkerPool(config_path, log_dir)
    try:
        pool.start("describer", describers)
        pool.start("sink", sinks)
        for group, members in (
            (settings.describer.group_id, describers),
            (settings.sink.group_id, sinks),
        ):
            # With 0 local workers the sweep relies on an existing deployment of that group.
            if members and not kafka.wait_for_group(settings.kafka, group, members, GROUP_SETTLE_S):
                pool.check()
                echo(f"  {group} not yet stable after {GROUP_SETTLE_S:g}s; sweeping anyway")
        yield pool
    finally:
        pool.stop()


def sweep_once(
    settings: Settings,
    pool: WorkerPool,
    timeout_s: float,
    started: float,
    echo: Callable[[str], None],
    view: ProgressView | None = None,
) -> SweepResult:
    """Plan one sweep through a running pool and wait for it; elapsed counts from started."""
    ddb = dynamodb_client(settings)
    sweeps = SweepStore(ddb, settings.sink.sweeps_table, timedelta(days=settings.sink.ttl_days))
    planned = plan_sweep(settings)
    echo(f"sweep {planned.sweep_id}: {planned.accounts} accounts, {planned.shards} shards issued")
    progress = _wait(sweeps, planned.sweep_id, pool, timeout_s, started, view or LineProgress(echo))
    elapsed = time.monotonic() - started
    # Give the stats callbacks one interval to report the final lag before stopping.
    time.sleep(2 * settings.metrics.stats_interval_ms / 1000)
    lag = tuple(
        f"{worker.role}: {line}"
        for worker, text in scrape(pool)
        for line in text.splitlines()
        if line.startswith("fleetstream_consumer_lag{")
    )
    peaks = tuple(
        (w.log_path.stem, rss) for w in pool.workers if (rss := w.peak_rss_mb()) is not None
    )
    return SweepResult(
        progress,
        elapsed,
        tuple(w.metrics_url for w in pool.workers),
        lag,
        peaks,
    )


def scrape(pool: WorkerPool) -> list[tuple[Worker, str]]:
    """Each reachable worker's /metrics text."""
    pages: list[tuple[Worker, str]] = []
    for worker in pool.workers:
        try:
            with urllib.request.urlopen(worker.metrics_url, timeout=5) as response:
                pages.append((worker, response.read().decode()))
        except OSError:
            continue
    return pages


def _wait(
    sweeps: SweepStore,
    sweep_id: str,
    pool: WorkerPool,
    timeout_s: float,
    started: float,
    view: ProgressView,
) -> SweepProgress:
    deadline = started + timeout_s
    watch = SweepWatch(sweeps, sweep_id)
    try:
        while True:
            progress = watch.poll()
            elapsed = time.monotonic() - started
            export_sweep_progress(progress, elapsed_s=elapsed)
            view.update(progress, elapsed)
            if progress.finished or time.monotonic() > deadline:
                return progress
            pool.check()
            time.sleep(0.25)
    finally:
        view.close()
