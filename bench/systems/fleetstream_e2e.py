"""System (d): fleetstream end to end, `fleetstream sweep` as a library call.

The harness sets the environment (Kafka, DynamoDB Local, AWS_ENDPOINT_URL = the simulator,
a topic prefix, tables and groups of this run's own); this plans a sweep with
Organizations ListAccounts, runs `describers` describer and `sinks` sink processes, waits for
every shard's outcome and counts what landed in the inventory table.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.systems.common import SystemOutput, parse_params, peak_rss_mb, stored_count
from fleetstream.apps.oneshot import run_sweep
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import load_settings


def main() -> None:
    """Run one sweep; report the inventory table's item count and each process' peak RSS."""
    params = parse_params()
    settings = load_settings(None)
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


if __name__ == "__main__":
    main()
