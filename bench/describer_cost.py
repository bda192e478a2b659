"""`python -m bench.describer_cost --accounts 200 --regions 2`: the describer's AWS side alone.

One process, no Kafka: the simulator's estate is described page by page through
`consumers.describer.handler.Describer` (AwsClients, the catalog's ec2.instance entry,
observe) on a thread pool as wide as the describer's default concurrency. It prints what the
process spent: CPU seconds and µs per resource (robust to other load on the machine, unlike
wall time), peak RSS, the load average, and with --tracemalloc the biggest live allocations
by line at the end (where the baseline memory goes).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.scenarios import Shape, sim_config
from bench.simulator.estate import account_id
from bench.simulator.process import SimulatorProcess
from bench.systems.common import peak_rss_mb
from consumers.describer.handler import Describer
from fleetstream.aws.clients import AwsClients
from fleetstream.base.config import load_settings
from fleetstream.base.models import WorkItem, utc_now
from fleetstream.catalog import CATALOG

INSTANCES = "ec2.instance"


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def describe_estate(url: str, accounts: list[str], regions: Sequence[str], threads: int) -> int:
    """Describe every (account, region) shard to its last page; the resources found."""
    settings = load_settings(None, env={"AWS_ENDPOINT_URL": url})
    describer = Describer(
        AwsClients(settings.aws),
        CATALOG,
        page_size=1000,
        role_arn_of=settings.aws.member_role_arn,
        redaction_key=b"bench-describer-cost-key",
    )

    def shard(account: str, region: str) -> int:
        now = utc_now()
        item: WorkItem | None = WorkItem(
            "bench", account, region, INSTANCES, shard_started_at=now, issued_at=now
        )
        found = 0
        while item is not None:
            result = describer.handle(item)
            if result.retry is not None or (
                result.outcome is not None and result.outcome.error_code
            ):
                raise RuntimeError(f"{account} {region}: {result}")
            found += len(result.observations)
            item = result.next_item
        return found

    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(shard, a, r) for a in accounts for r in regions]
        return sum(f.result() for f in futures)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--regions", type=int, default=2)
    parser.add_argument("--instances", type=int, default=25)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--tracemalloc", action="store_true", help="top allocations at the end")
    args = parser.parse_args(argv)
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        os.environ.setdefault(name, value)
    config = sim_config(Shape(args.accounts, args.regions, args.instances))
    accounts = [account_id(config.estate.seed, i) for i in range(args.accounts)]
    with SimulatorProcess(config, Path(os.devnull)) as sim:
        if args.tracemalloc:
            tracemalloc.start(1)
        load_before, cpu0, wall0 = os.getloadavg()[0], _cpu_s(), time.monotonic()
        found = describe_estate(sim.url, accounts, config.estate.regions, args.threads)
        cpu, wall = _cpu_s() - cpu0, time.monotonic() - wall0
        expected = config.estate.live_instances
        print(
            f"shape {args.accounts}x{args.regions}x{args.instances} threads {args.threads}: "
            f"found {found} / {expected}, CPU {cpu:.1f} s = {cpu / max(found, 1) * 1e6:,.0f} µs "
            f"per resource, wall {wall:.1f} s, peak RSS {peak_rss_mb():.0f} MB, "
            f"load {load_before:.1f} -> {os.getloadavg()[0]:.1f}"
        )
        if args.tracemalloc:
            snapshot = tracemalloc.take_snapshot()
            stats = snapshot.statistics("lineno")
            total = sum(s.size for s in stats)
            print(f"tracemalloc: {total / 2**20:.1f} MB live; top by line:")
            for stat in stats[:15]:
                frame = stat.traceback[0]
                print(f"  {stat.size / 2**20:7.1f} MB  {frame.filename}:{frame.lineno}")


if __name__ == "__main__":
    main()
