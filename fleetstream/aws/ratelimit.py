"""Token buckets per (account, region, service): the shared client-side AWS rate budget."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable


class TokenBuckets:
    """One token bucket per key; acquire() waits for a token instead of failing.

    Every thread of a process shares the buckets, and the work topic is keyed by
    account/region, so one process owns an account-region's budget at a time.
    """

    def __init__(
        self,
        rate_per_s: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_keys: int = 65_536,
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self._rate = rate_per_s
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._max_keys = max_keys
        self._lock = threading.Lock()
        # key -> (tokens, last refill time)
        self._buckets: dict[Hashable, tuple[float, float]] = {}

    def acquire(self, key: Hashable) -> float:
        """Take one token for key, sleeping as long as needed; return the seconds waited."""
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - last) * self._rate) - 1
            if len(self._buckets) >= self._max_keys and key not in self._buckets:
                self._buckets.clear()  # idle buckets are full anyway; forget them
            self._buckets[key] = (tokens, now)
        # A negative balance is a reservation: wait until it would have refilled.
        wait = -tokens / self._rate if tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait
