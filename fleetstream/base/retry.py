"""The one backoff policy: exponential, capped, with jitter; every retry in fleetstream uses it.

Work retried later through a delay topic (describer pages, action steps), the continuous
planner's estate listing, the notifier's webhook posts and DynamoDB's unprocessed items all
wait `backoff_s(attempt, jitter)` of a RetryPolicy; only the parameters differ.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long throttled or transiently failing work keeps being retried, and how far apart.

    shard_deadline_s bounds a describer shard; the actor bounds a step by max_attempts alone.
    jitter_floor is the share of the ceiling always waited: 0.5 spreads retries while keeping
    them apart ("equal jitter"), 0.0 is "full jitter" for a hot resource shared by many writers.
    """

    max_attempts: int = 12
    base_s: float = 1.0
    max_backoff_s: float = 60.0
    shard_deadline_s: float = 3600.0
    jitter_floor: float = 0.5

    def backoff_s(self, attempt: int, jitter: float) -> float:
        """base_s * 2**attempt capped at max_backoff_s, jittered (jitter in [0, 1])."""
        ceiling = min(self.max_backoff_s, self.base_s * 2.0 ** min(attempt, 30))
        return ceiling * (self.jitter_floor + (1.0 - self.jitter_floor) * jitter)
