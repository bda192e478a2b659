"""EC2-style token buckets and the latency model: the two things that make AWS slow."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable

from bench.simulator.config import BucketConfig, LatencyConfig, ThrottleConfig

Clock = Callable[[], float]


class TokenBucket:
    """A bucket of `burst` tokens refilled at `rate_per_s`; a call takes one or is refused."""

    def __init__(self, config: BucketConfig, now: float) -> None:
        self.config = config
        self.tokens = float(config.burst)
        self.updated = now

    def take(self, now: float) -> bool:
        """Take one token if there is one (never blocks: AWS answers throttled at once)."""
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.config.burst, self.tokens + elapsed * self.config.rate_per_s)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Buckets:
    """Token buckets per (account, region, action class), created full on first use."""

    def __init__(self, config: ThrottleConfig, clock: Clock = time.monotonic) -> None:
        self._config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, account: str, region: str, action_class: str) -> bool:
        """True when the call may proceed, False when it is throttled."""
        key = (account, region, action_class)
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(self._config.bucket(action_class), now)
            return bucket.take(now)


class LatencyModel:
    """Draws a service time per call from a lognormal around the configured medians."""

    def __init__(self, config: LatencyConfig, seed: int = 0) -> None:
        self.config = config
        self._seed = seed
        self._local = threading.local()
        self._counter = 0
        self._lock = threading.Lock()

    def _rng(self) -> random.Random:
        rng: random.Random | None = getattr(self._local, "rng", None)
        if rng is None:
            with self._lock:
                self._counter += 1
                rng = random.Random(self._seed * 1_000_003 + self._counter)
            self._local.rng = rng
        return rng

    def seconds(self, describe: bool, items: int = 0) -> float:
        """One call's service time in seconds."""
        median = self.config.describe_median_ms if describe else self.config.other_median_ms
        factor = math.exp(self.config.sigma * self._rng().gauss()) if self.config.sigma else 1.0
        return (median * factor + self.config.per_item_ms * items) / 1000.0
