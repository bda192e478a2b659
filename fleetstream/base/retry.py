"""Backoff of work that is retried later through a delay topic (pages, action steps)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long throttled or transiently failing work keeps being retried, and how far apart.

    shard_deadline_s bounds a describer shard; the actor bounds a step by max_attempts alone.
    """

    max_attempts: int = 12
    base_s: float = 1.0
    max_backoff_s: float = 60.0
    shard_deadline_s: float = 3600.0

    def backoff_s(self, attempt: int, jitter: float) -> float:
        """Exponential backoff with jitter (jitter in [0, 1])."""
        ceiling = min(self.max_backoff_s, self.base_s * 2.0 ** min(attempt, 30))
        return ceiling * (0.5 + 0.5 * jitter)
