"""The long-running planner's schedule: cadence, jitter, in-flight skips, backlog, ages."""

from __future__ import annotations

import pytest

from fleetstream.base.config import PlannerSettings
from fleetstream.base.models import ShardKey, ShardStatus
from producers.schedule import Decision, Schedule, phase

pytestmark = pytest.mark.unit
SETTINGS = PlannerSettings(cadence_s={"default": 60, "iam.*": 3600, "ec2.instance": 10})


def schedule(jitter: float = 1.0, timeout: float = 1000) -> Schedule:
    return Schedule(SETTINGS.cadence_of, jitter, timeout, started_at=0.0)


def shards(accounts: int, kind: str = "ec2.instance") -> list[ShardKey]:
    return [ShardKey(f"{n:012d}", "eu-west-1", kind) for n in range(accounts)]


def issue_due(plan: Schedule, now: float, hold_back: bool = False) -> dict[ShardKey, Decision]:
    decisions = plan.decide(now, hold_back)
    for shard, decision in decisions.items():
        if decision in {Decision.ISSUED, Decision.PRESUMED_LOST}:
            plan.issued(shard, f"sweep@{now}", now)
    return decisions


def test_jitter_spreads_first_sweeps_over_the_cadence() -> None:
    plan = schedule()
    plan.sync(shards(1000), now=0.0)
    per_second = [
        sum(d is Decision.ISSUED for d in issue_due(plan, now=float(t)).values()) for t in range(11)
    ]
    # 1,000 accounts with a 10 s cadence: about 100 a second, never all at once.
    assert sum(per_second) == 1000
    assert max(per_second) < 200
    no_jitter = schedule(jitter=0)
    no_jitter.sync(shards(1000), now=0.0)
    assert len(issue_due(no_jitter, now=0.0)) == 1000


def test_phase_is_stable_and_uniformish() -> None:
    keys = shards(2000)
    assert [phase(k) for k in keys] == [phase(k) for k in keys]
    assert 0.4 < sum(phase(k) for k in keys) / len(keys) < 0.6


def test_cadence_per_type_and_in_flight_skips() -> None:
    plan = schedule(jitter=0, timeout=10_000)
    fast, slow = ShardKey("1", "r", "ec2.instance"), ShardKey("1", "global", "iam.role")
    plan.sync([fast, slow], now=0.0)
    assert issue_due(plan, 0.0) == {fast: Decision.ISSUED, slow: Decision.ISSUED}
    # Both in flight: the next slot of the fast type is skipped, the slow one is not due.
    assert issue_due(plan, 10.0) == {fast: Decision.SKIPPED_IN_FLIGHT}
    assert issue_due(plan, 15.0) == {}
    plan.finished(fast, "sweep@0.0", ShardStatus.COMPLETE, at=16.0)
    assert issue_due(plan, 20.0) == {fast: Decision.ISSUED}
    # A finished shard of an older issue does not end the newer one.
    plan.finished(fast, "sweep@0.0", ShardStatus.COMPLETE, at=21.0)
    assert plan.shards[fast].in_flight == ("sweep@20.0", 20.0)
    assert issue_due(plan, 3600.0) == {
        fast: Decision.SKIPPED_IN_FLIGHT,
        slow: Decision.SKIPPED_IN_FLIGHT,
    }


def test_a_lost_shard_is_issued_again_after_the_timeout() -> None:
    plan = schedule(jitter=0, timeout=25)
    shard = ShardKey("1", "r", "ec2.instance")
    plan.sync([shard], now=0.0)
    issue_due(plan, 0.0)
    assert issue_due(plan, 20.0) == {shard: Decision.SKIPPED_IN_FLIGHT}
    assert issue_due(plan, 30.0) == {shard: Decision.PRESUMED_LOST}
    assert plan.shards[shard].in_flight == ("sweep@30.0", 30.0)


def test_backlog_defers_due_shards_until_it_drains() -> None:
    plan = schedule(jitter=0)
    keys = shards(3)
    plan.sync(keys, now=0.0)
    assert set(issue_due(plan, 0.0, hold_back=True).values()) == {Decision.DEFERRED_BACKLOG}
    # Still held: counted once, not every tick.
    assert issue_due(plan, 1.0, hold_back=True) == {}
    assert set(issue_due(plan, 2.0).values()) == {Decision.ISSUED}


def test_ages_and_stale_shards() -> None:
    plan = schedule(jitter=0)
    done, never = ShardKey("1", "r", "ec2.instance"), ShardKey("2", "r", "ec2.instance")
    plan.sync([done, never], now=0.0)
    issue_due(plan, 0.0)
    plan.finished(done, "sweep@0.0", ShardStatus.COMPLETE, at=5.0)
    plan.finished(never, "sweep@0.0", ShardStatus.FAILED, at=5.0)
    ages = plan.ages(now=32.0, stale_after_cadences=3)["ec2.instance"]
    # The failed shard's age counts from the planner's start: 32 s > 3 x 10 s; 27 s is not.
    assert (ages.oldest_s, ages.stale_shards, ages.in_flight) == (32.0, 1, 0)


def test_shards_leaving_the_estate_are_forgotten() -> None:
    plan = schedule()
    plan.sync(shards(3), now=0.0)
    plan.sync(shards(2), now=1.0)
    assert len(plan.shards) == 2
