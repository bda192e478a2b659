"""Repeated sweeps of one estate through one fleetstream pool, measured sweep by sweep.

Issue 16's "no rewrite of unchanged items": the second sweep of an unchanged estate (with
sink.skip_unchanged) should write <= 5% of the items, emit 0 changes and take <= 0.5x the
first sweep's wall time. Per sweep this records what the sink's own counters say it wrote
(inventory items, seen marks, and the write units DynamoDB reported for both), the change
events the changes topic received (read_committed, by type), each process' peak RSS during
that sweep, and the CPU of the pipeline's processes (and of Kafka and DynamoDB Local).
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import boto3
import psutil
from confluent_kafka import Consumer, KafkaError, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from bench.sweep_report import SweepMeasure
from bench.systems.common import member_session, organization_accounts, peak_rss_mb
from fleetstream.apps.oneshot import scrape, sweep_once
from fleetstream.base.config import Settings
from fleetstream.kafka.clients import end_offsets
from fleetstream.runtime.workers import WorkerPool
from fleetstream.serde.wire import decode_change_event

# The sink's counters, labelled by table (fleetstream/base/metrics.py).
WRITES = "fleetstream_sink_items_written_total"
UNCHANGED = "fleetstream_sink_unchanged_skipped_total"
STALE = "fleetstream_sink_stale_observations_total"
UNITS = "fleetstream_sink_write_units_total"
MARKS = "fleetstream_sink_seen_marks_total"
_COUNTERS = (WRITES, UNCHANGED, STALE, UNITS, MARKS)
CHANGES_IDLE_S = 3.0
CHANGES_LIMIT_S = 300.0


def sink_counters(pool: WorkerPool) -> dict[tuple[str, str], float]:
    """(counter, table) -> value summed over the pool's sink processes."""
    totals: dict[tuple[str, str], float] = {}
    for worker, text in scrape(pool):
        if worker.role != "sink":
            continue
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name in _COUNTERS:
                    key = (sample.name, sample.labels.get("table", ""))
                    totals[key] = totals.get(key, 0.0) + sample.value
    return totals


def process_cpu_s(pids: Iterable[int], *, children: bool = True) -> float:
    """User + system CPU of these processes (and their live children), now."""
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for proc in (root, *(root.children(recursive=True) if children else ())):
                times = proc.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


def cpu_by_process(pool: WorkerPool) -> dict[str, float]:
    """CPU seconds so far of the planner (this process alone) and of each worker."""
    pids = {"planner+sweep": os.getpid()} | {w.log_path.stem: w.process.pid for w in pool.workers}
    return {name: process_cpu_s([pid], children=False) for name, pid in pids.items()}


def reset_peaks(pids: Iterable[int]) -> None:
    """Restart each process' peak-RSS count (VmHWM) from its current RSS (Linux clear_refs 5),
    so that a peak read after a sweep is that sweep's own peak."""
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            continue


def count_changes(settings: Settings, topic: str, start: Mapping[int, int]) -> dict[str, int]:
    """Committed change events from the start offsets to the end, by change type.

    Reads until every partition has reported its end since its last message and
    CHANGES_IDLE_S has passed without one (a transaction's records appear at its commit)."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka.bootstrap_servers,
            "group.id": f"bench-changes-{time.time_ns()}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
        }
    )
    found: Counter[str] = Counter()
    try:
        consumer.assign([TopicPartition(topic, p, offset) for p, offset in start.items()])
        at_end: set[int] = set()
        last = time.monotonic()
        give_up = last + CHANGES_LIMIT_S
        while time.monotonic() < give_up and (
            at_end != set(start) or time.monotonic() - last < CHANGES_IDLE_S
        ):
            for message in consumer.consume(500, timeout=0.5):
                error = message.error()
                if error is None:
                    found[str(decode_change_event(message.value()).change_type)] += 1
                    at_end.discard(message.partition() or 0)
                    last = time.monotonic()
                elif error.code() == KafkaError._PARTITION_EOF:
                    at_end.add(message.partition() or 0)
    finally:
        consumer.close()
    return dict(found)


def terminate_instances(count: int, accounts: Sequence[str]) -> list[str]:
    """Terminate count live instances spread over the first accounts, in each one's home
    region (DescribeInstances, then TerminateInstances through the member role; the simulator
    is AWS_ENDPOINT_URL)."""
    hub = boto3.Session(region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    used = accounts[: max(1, min(count, len(accounts)))]
    per_account = math.ceil(count / len(used))
    done: list[str] = []
    for account in used:
        ec2 = member_session(hub, account).client("ec2")
        page = ec2.describe_instances(
            Filters=[{"Name": "instance-state-name", "Values": ["running", "stopped"]}],
            MaxResults=max(5, per_account),
        )
        ids = [i["InstanceId"] for r in page["Reservations"] for i in r["Instances"]]
        ids = ids[: min(per_account, count - len(done))]
        if ids:
            ec2.terminate_instances(InstanceIds=ids)
            done += ids
    return done


def rss_of(pool: WorkerPool) -> list[tuple[str, float]]:
    """Each process' peak RSS since the last reset_peaks: the planner, then the workers."""
    return [
        ("planner+sweep", peak_rss_mb()),
        *((w.log_path.stem, rss) for w in pool.workers if (rss := w.peak_rss_mb()) is not None),
    ]


def measure_sweeps(
    settings: Settings,
    pool: WorkerPool,
    *,
    sweeps: int,
    terminate: int,
    timeout_s: float,
    infra_pids: Sequence[int],
    echo: Callable[[str], None],
) -> list[SweepMeasure]:
    """Run sweeps one after another through the running pool, each measured on its own;
    before every sweep but the first, terminate `terminate` instances in the simulator."""
    changes_topic = settings.kafka.topic("changes")
    inventory, seen = settings.sink.table, settings.sink.seen_table_name
    accounts = organization_accounts(boto3.Session()) if terminate else []
    measured: list[SweepMeasure] = []
    for index in range(sweeps):
        ended = terminate_instances(terminate, accounts) if index and terminate else []
        if ended:
            echo(f"terminated {len(ended)} instances before sweep {index + 1}")
        counters = sink_counters(pool)
        offsets = end_offsets(settings.kafka, changes_topic)
        reset_peaks([os.getpid(), *(w.process.pid for w in pool.workers)])
        cpu, infra = process_cpu_s([os.getpid()]), process_cpu_s(infra_pids)
        each = cpu_by_process(pool)
        load = os.getloadavg()[0]
        result = sweep_once(settings, pool, timeout_s, time.monotonic(), echo)
        cpu, infra = process_cpu_s([os.getpid()]) - cpu, process_cpu_s(infra_pids) - infra
        rss = rss_of(pool)
        each = {name: used - each.get(name, 0.0) for name, used in cpu_by_process(pool).items()}
        # The changes first: reading them to their end also lets the sinks' counters settle.
        changes = count_changes(settings, changes_topic, offsets)
        after = sink_counters(pool)
        delta = {key: value - counters.get(key, 0.0) for key, value in after.items()}
        progress = result.progress
        measured.append(
            SweepMeasure(
                index=index + 1,
                wall_s=result.elapsed_s,
                shards=len(progress.shards),
                failed_shards=len(progress.failed),
                resources=progress.resources,
                terminated_before=len(ended),
                inventory_writes=int(delta.get((WRITES, inventory), 0.0)),
                unchanged_skipped=int(delta.get((UNCHANGED, inventory), 0.0)),
                stale=int(delta.get((STALE, inventory), 0.0)),
                seen_marks=int(delta.get((MARKS, seen), 0.0)),
                inventory_wcu=delta.get((UNITS, inventory), 0.0),
                seen_wcu=delta.get((UNITS, seen), 0.0),
                changes=changes,
                cpu_s=cpu,
                infra_cpu_s=infra,
                rss_mb=rss,
                cpu_by_process=list(each.items()),
                load=(load, os.getloadavg()[0]),
            )
        )
        echo(f"sweep {index + 1}: {measured[-1]}")
    return measured


def item_bytes(item: Mapping[str, Any]) -> int:
    """An item's size as DynamoDB bills it: each attribute's name plus its value (strings and
    binaries by length, numbers about 1 byte per 2 digits + 1, maps and lists 3 bytes plus
    their elements, 1 byte per element overhead)."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: Mapping[str, Any]) -> int:
    kind, raw = next(iter(value.items()))
    if kind == "S":
        return len(str(raw).encode())
    if kind == "B":
        return len(raw)
    if kind == "N":
        return len(str(raw).lstrip("-").replace(".", "")) // 2 + 1
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_bytes(v) + 1 for k, v in raw.items())
    if kind == "L":
        return 3 + sum(_value_bytes(v) + 1 for v in raw)
    return len(str(raw).encode())
