"""The simulator's settings: the estate's shape, the latency model and the rate limits."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.simulator.estate import EstateSpec


@dataclass(frozen=True, slots=True)
class LatencyConfig:
    """Lognormal service time per call: median, spread, plus a cost per returned item."""

    describe_median_ms: float = 150.0
    other_median_ms: float = 50.0
    sigma: float = 0.25  # of the underlying normal; 0 makes every call take the median
    per_item_ms: float = 0.2  # a 1000-instance page takes 200 ms longer than an empty one

    def page_ms(self, items: int) -> float:
        """The median time of a describe page of that many items (for the critical path)."""
        return self.describe_median_ms + self.per_item_ms * items


@dataclass(frozen=True, slots=True)
class BucketConfig:
    """One token bucket: capacity (burst) and refill rate per second."""

    burst: float
    rate_per_s: float


@dataclass(frozen=True, slots=True)
class ThrottleConfig:
    """Rate limits per (account, region, action class); EC2's published defaults."""

    describe: BucketConfig = BucketConfig(100, 20)  # EC2 non-mutating actions
    mutate: BucketConfig = BucketConfig(200, 5)  # EC2 mutating actions
    sts: BucketConfig = BucketConfig(200, 100)
    organizations: BucketConfig = BucketConfig(40, 20)

    def bucket(self, action_class: str) -> BucketConfig:
        """The bucket settings of an action class."""
        value: BucketConfig = getattr(self, action_class)
        return value


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Everything a simulator process needs; JSON round-trips for the command line."""

    estate: EstateSpec = field(default_factory=EstateSpec)
    latency: LatencyConfig = field(default_factory=LatencyConfig)
    throttle: ThrottleConfig = field(default_factory=ThrottleConfig)
    enabled: bool = True  # False: no latency and no throttling (unit tests, smoke checks)

    def to_json(self) -> str:
        """Serialize for `python -m bench.simulator --config JSON`."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SimConfig:
        """Parse what to_json wrote (missing keys keep their defaults)."""
        raw: dict[str, Any] = json.loads(text)
        estate = raw.get("estate", {})
        if "regions" in estate:
            estate = {**estate, "regions": tuple(estate["regions"])}
        throttle = {k: BucketConfig(**v) for k, v in raw.get("throttle", {}).items()}
        return cls(
            estate=EstateSpec(**estate),
            latency=LatencyConfig(**raw.get("latency", {})),
            throttle=ThrottleConfig(**throttle),
            enabled=bool(raw.get("enabled", True)),
        )
