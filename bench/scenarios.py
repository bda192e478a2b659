"""Benchmark scenarios and the simulator's critical path (the lower bound of any sweep)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.simulator.config import LatencyConfig, SimConfig, ThrottleConfig
from bench.simulator.estate import EstateSpec
from bench.simulator.service import ORG_PAGE

BEST_PAGE = 1000  # the largest MaxResults DescribeInstances accepts


@dataclass(frozen=True, slots=True)
class Shape:
    """accounts x regions x instances per region."""

    accounts: int
    regions: int
    instances: int

    @property
    def total(self) -> int:
        return self.accounts * self.regions * self.instances

    def label(self) -> str:
        return f"{self.accounts}x{self.regions}x{self.instances}"


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named benchmark: one or more estate shapes (S4 grows the account count)."""

    name: str
    title: str
    shapes: tuple[Shape, ...]
    quick_shapes: tuple[Shape, ...]

    def shapes_for(self, quick: bool) -> tuple[Shape, ...]:
        return self.quick_shapes if quick else self.shapes


SCENARIOS = {
    "S1": Scenario(
        "S1",
        "wide: many accounts and regions, few instances each",
        (Shape(120, 16, 25),),
        (Shape(4, 2, 50),),
    ),
    "S3": Scenario(
        "S3",
        "deep: few shards of many instances (pagination-bound)",
        (Shape(10, 4, 5000),),
        (Shape(2, 2, 2500),),
    ),
    "S4": Scenario(
        "S4",
        "growth: the S1 shape with 10, 100 and 1000 accounts",
        (Shape(10, 16, 25), Shape(100, 16, 25), Shape(1000, 16, 25)),
        (Shape(2, 2, 50), Shape(4, 2, 50), Shape(8, 2, 50)),
    ),
}


def sim_config(
    shape: Shape,
    seed: int = 1,
    latency: LatencyConfig | None = None,
    throttle: ThrottleConfig | None = None,
) -> SimConfig:
    """The simulator settings of one shape (latency and throttling on)."""
    return SimConfig(
        estate=EstateSpec(
            seed=seed,
            accounts=shape.accounts,
            region_count=shape.regions,
            instances_per_region=shape.instances,
        ),
        latency=latency or LatencyConfig(),
        throttle=throttle or ThrottleConfig(),
    )


@dataclass(frozen=True, slots=True)
class CriticalPath:
    """The fastest any client could sweep the estate, given latency and rate limits."""

    seconds: float
    list_accounts_s: float
    account_setup_s: float
    shard_s: float
    shard_pages: int
    shard_bound: str  # "latency" or "rate limit"

    def explain(self) -> str:
        return (
            f"{self.seconds:.2f} s = ListAccounts {self.list_accounts_s:.2f} s (serial pages) "
            f"+ AssumeRole and DescribeRegions {self.account_setup_s:.2f} s "
            f"+ slowest shard {self.shard_s:.2f} s ({self.shard_pages} pages of up to "
            f"{BEST_PAGE}, {self.shard_bound}-bound)"
        )


def critical_path(config: SimConfig, page_size: int = BEST_PAGE) -> CriticalPath:
    """Lower bound with unlimited client concurrency and median latencies.

    Accounts and shards all run in parallel, so the bound is the longest chain: the serial
    ListAccounts pages, then one account's AssumeRole and DescribeRegions, then its slowest
    shard, whose pages are serial (each needs the previous NextToken) and whose describe
    calls cannot outrun the shard's token bucket (burst, then the refill rate).
    """
    latency, spec = config.latency, config.estate
    list_s = max(1, math.ceil(spec.accounts / ORG_PAGE)) * latency.other_median_ms / 1000
    setup_s = (latency.other_median_ms + latency.describe_median_ms) / 1000
    n = spec.instances_per_region
    pages = max(1, math.ceil(n / page_size))
    sizes = [min(page_size, n - k * page_size) for k in range(pages)]
    latency_s = sum(latency.page_ms(max(0, s)) for s in sizes) / 1000
    bucket = config.throttle.describe
    # DescribeRegions (in the home region) draws from the same bucket as that shard's pages.
    rate_s = max(0.0, (pages + 1 - bucket.burst) / bucket.rate_per_s)
    shard_s = max(latency_s, rate_s)
    return CriticalPath(
        seconds=list_s + setup_s + shard_s,
        list_accounts_s=list_s,
        account_setup_s=setup_s,
        shard_s=shard_s,
        shard_pages=pages,
        shard_bound="latency" if latency_s >= rate_s else "rate limit",
    )


TAG_BATCH = 1000  # ids per CreateTags call (EC2 accepts up to 1000 resources per call)


@dataclass(frozen=True, slots=True)
class TaggingFloor:
    """The fastest any client could tag every instance it already knows (S2's rate-limit floor).

    With unlimited concurrency: one AssumeRole per account, then in every account-region its
    CreateTags calls of up to TAG_BATCH ids, serial within the account-region only if the
    mutate bucket forces it (burst, then the refill rate).
    """

    seconds: float
    assume_role_s: float
    shard_s: float
    calls_per_shard: int
    min_create_tags: int
    shard_bound: str  # "latency" or "rate limit"

    def explain(self) -> str:
        return (
            f"{self.seconds:.2f} s = AssumeRole {self.assume_role_s:.2f} s + the slowest "
            f"account-region's {self.calls_per_shard} CreateTags of up to {TAG_BATCH} ids "
            f"{self.shard_s:.2f} s ({self.shard_bound}-bound); at least "
            f"{self.min_create_tags:,} CreateTags calls in all"
        )


def tagging_floor(config: SimConfig) -> TaggingFloor:
    """S2's floor: the ids are known (the inventory); only AssumeRole and CreateTags remain."""
    latency, spec = config.latency, config.estate
    per_shard = math.ceil(spec.live_instances / max(1, spec.accounts * spec.region_count))
    calls = max(1, math.ceil(per_shard / TAG_BATCH))
    latency_s = calls * latency.other_median_ms / 1000
    bucket = config.throttle.mutate
    rate_s = max(0.0, (calls - bucket.burst) / bucket.rate_per_s)
    shard_s = max(latency_s, rate_s)
    assume_s = latency.other_median_ms / 1000
    return TaggingFloor(
        seconds=assume_s + shard_s,
        assume_role_s=assume_s,
        shard_s=shard_s,
        calls_per_shard=calls,
        min_create_tags=calls * spec.accounts * spec.region_count,
        shard_bound="latency" if latency_s >= rate_s else "rate limit",
    )
