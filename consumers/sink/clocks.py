"""Times from the future, refused before they can decide anything.

Every time the sink compares comes from a describer's clock. One far ahead of the sink's would
make an observation "newer" than every later one (pinning the item) or an outcome's start
later than the observations it should protect. The sink accepts a time no further ahead of
its own clock than sink.future_tolerance_s: a later observation is dead-lettered with the
reason, a later outcome is recorded as FAILED with error ClockSkew and deletes nothing.

A refused observation is no evidence of absence: the resource exists, only its time is wrong.
So the sink first puts a refusal mark for the observation's (shard, sweep) into the seen-marks
table (consumers/sink/seen.py), and a COMPLETE outcome of that sweep deletes nothing in that
shard (consumers/sink/deletions.py): without the mark it would tombstone the resource.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from fleetstream.base.errors import PoisonMessageError
from fleetstream.base.metrics import SINK_FUTURE_REFUSED
from fleetstream.base.models import Observation, ResourceEvent, ShardOutcome, ShardStatus

CLOCK_SKEW = "ClockSkew"


class FutureTimeError(PoisonMessageError):
    """An observation carries a time beyond the sink's clock plus its tolerance."""

    def __init__(self, message: str, observation: Observation) -> None:
        super().__init__(message)
        # The refused observation: its resource evidently exists, so the sink records the
        # refusal for the observation's (shard, sweep) before dead-lettering it.
        self.observation = observation


def _ahead(moment: datetime | None, now: datetime, tolerance: timedelta) -> bool:
    return moment is not None and moment > now + tolerance


def check_times(event: ResourceEvent, now: datetime, tolerance: timedelta) -> ResourceEvent:
    """The event, or a FAILED ClockSkew outcome in place of a future one; FutureTimeError for
    a future observation (the caller dead-letters it)."""
    if isinstance(event, Observation):
        if _ahead(event.observed_at, now, tolerance):
            SINK_FUTURE_REFUSED.labels("observation").inc()
            raise FutureTimeError(
                f"observed_at {event.observed_at.isoformat()} of {event.arn} is more than "
                f"{tolerance.total_seconds():g}s ahead of the sink's clock ({now.isoformat()})",
                event,
            )
        return event
    late = [
        f"{name} {moment.isoformat()}"
        for name, moment in (
            ("described_from", event.described_from),
            ("finished_at", event.finished_at),
        )
        if moment is not None and _ahead(moment, now, tolerance)
    ]
    if not late:
        return event
    SINK_FUTURE_REFUSED.labels("outcome").inc()
    return _skewed(event, now, tolerance, late)


def _skewed(
    outcome: ShardOutcome, now: datetime, tolerance: timedelta, late: list[str]
) -> ShardOutcome:
    reason = (
        f"{', '.join(late)} more than {tolerance.total_seconds():g}s ahead of the sink's clock "
        f"({now.isoformat()}); was {outcome.status.value}: nothing deleted"
    )
    return replace(
        outcome,
        status=ShardStatus.FAILED,
        error_code=CLOCK_SKEW,
        reason=reason,
        # Recorded (and expiring) on the sink's clock, not the future one.
        finished_at=now,
        described_from=None,
    )
