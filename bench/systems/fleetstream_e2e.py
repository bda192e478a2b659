"""System (d): fleetstream end to end, `fleetstream sweep` as a library call.

The harness sets the environment (Kafka, DynamoDB Local, AWS_ENDPOINT_URL = the simulator,
a topic prefix, tables and groups of this run's own); this plans a sweep with
Organizations ListAccounts, runs `describers` describer and `sinks` sink processes, waits for
every shard's outcome and counts what landed in the inventory table. With extra "sweeps" > 1
it runs that many sweeps through one pool and measures each (bench/sweeps.py), terminating
extra "terminate" instances before every sweep but the first.
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict
from pathlib import Path

from bench.sweeps import item_bytes, measure_sweeps
from bench.systems.common import (
    SystemOutput,
    SystemParams,
    parse_params,
    peak_rss_mb,
    stored_count,
)
from fleetstream.apps.oneshot import run_sweep, sweep_workers
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings, load_settings


def main() -> None:
    """Run one sweep; report the inventory table's item count and each process' peak RSS."""
    params = parse_params()
    settings = load_settings(None)
    if int(params.extra.get("sweeps", "1")) > 1:
        repeated(params, settings)
        return
    result = run_sweep(
        settings,
        None,
        describers=params.processes,
        sinks=params.sinks,
        timeout_s=params.timeout_s,
        log_dir=Path(params.work_dir) / "fleetstream-logs",
        echo=lambda line: print(line, file=sys.stderr, flush=True),
    )
    ddb = dynamodb_client(settings)
    stored, how = stored_count(ddb, settings.sink.table)
    progress = result.progress
    notes = [
        f"sweep {progress.sweep_id}: {len(progress.shards)}/{progress.total_shards} shards, "
        f"{progress.resources} resources in COMPLETE outcomes, {stored} items in DynamoDB ({how})",
        f"{params.processes} describers, {params.sinks} sinks, page size "
        f"{settings.describer.page_size}, describer concurrency {settings.describer.concurrency}",
    ]
    if not result.ok:
        notes.append("sweep NOT ok (timed out or failed shards)")
    for table in (settings.sink.table, settings.sink.sweeps_table):
        ddb.delete_table(TableName=table)
    SystemOutput(
        found=stored,
        pages=sum(s.pages for s in progress.shards),
        failed_shards=len(progress.failed),
        rss_mb=[("planner+sweep", peak_rss_mb()), *result.peak_rss_mb],
        notes=notes,
    ).emit()


def repeated(params: SystemParams, settings: Settings) -> None:
    """Several sweeps through one pool, each measured on its own (bench/sweeps.py)."""
    echo = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    infra = [int(p) for p in params.extra.get("infra_pids", "").split(",") if p]
    with sweep_workers(
        settings,
        None,
        describers=params.processes,
        sinks=params.sinks,
        log_dir=Path(params.work_dir) / "fleetstream-logs",
        echo=echo,
    ) as pool:
        measured = measure_sweeps(
            settings,
            pool,
            sweeps=int(params.extra["sweeps"]),
            terminate=int(params.extra.get("terminate", "0")),
            timeout_s=params.timeout_s,
            infra_pids=infra,
            echo=echo,
        )
    ddb = dynamodb_client(settings)
    stored, how = stored_count(ddb, settings.sink.table)
    last = measured[-1]
    notes = [
        f"{len(measured)} sweeps, {stored} items in DynamoDB ({how}), tombstones included; "
        f"skip_unchanged {settings.sink.skip_unchanged}",
        f"{params.processes} describers, {params.sinks} sinks, page size "
        f"{settings.describer.page_size}, describer concurrency {settings.describer.concurrency}",
    ]
    sample = ddb.scan(TableName=settings.sink.table, Limit=1).get("Items", [])
    if sample:
        size = item_bytes(sample[0])
        notes.append(
            f"one stored inventory item: {size:,} bytes by DynamoDB's size rules = "
            f"{math.ceil(size / 1024)} WCU per put, plus 1 per GSI (by_shard, by_account)"
        )
    for table in (settings.sink.table, settings.sink.sweeps_table, settings.sink.seen_table_name):
        ddb.delete_table(TableName=table)
    SystemOutput(
        found=last.resources,
        pages=0,
        failed_shards=sum(m.failed_shards for m in measured),
        rss_mb=[
            (name, max(m_rss for m in measured for n, m_rss in m.rss_mb if n == name))
            for name, _ in measured[0].rss_mb
        ],
        notes=notes,
        sweeps=[asdict(m) for m in measured],
    ).emit()


if __name__ == "__main__":
    main()
