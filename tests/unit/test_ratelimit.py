"""Token buckets: bursts pass, sustained calls are paced, keys are independent."""

from __future__ import annotations

import pytest

from fleetstream.aws.ratelimit import TokenBuckets

pytestmark = pytest.mark.unit


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += seconds


def test_burst_then_paced_at_the_rate() -> None:
    t = FakeTime()
    buckets = TokenBuckets(10, 5, clock=t.clock, sleep=t.sleep)
    waits = [buckets.acquire("a") for _ in range(25)]
    assert waits[:5] == [0.0] * 5
    # 20 more calls at 10/s after the burst take 2 s of waiting in total.
    assert t.slept == pytest.approx(2.0)


def test_keys_do_not_share_tokens() -> None:
    t = FakeTime()
    buckets = TokenBuckets(1, 1, clock=t.clock, sleep=t.sleep)
    assert buckets.acquire(("111", "eu-west-1", "ec2")) == 0.0
    assert buckets.acquire(("111", "us-east-1", "ec2")) == 0.0
    assert buckets.acquire(("111", "eu-west-1", "ec2")) == pytest.approx(1.0)


def test_invalid_settings() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBuckets(0, 1)
