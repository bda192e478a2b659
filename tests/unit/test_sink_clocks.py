"""The sink refuses times beyond its own clock plus a tolerance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consumers.sink.clocks import FutureTimeError, check_times
from fleetstream.base.models import Observation, ShardOutcome, ShardStatus

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
TOLERANCE = timedelta(seconds=120)


def seen(at: datetime) -> Observation:
    return Observation("arn:x", "1", "r", "t", "x", "{}", at, "s")


def outcome(finished: datetime, described_from: datetime | None) -> ShardOutcome:
    return ShardOutcome(
        "s", "1", "r", "t", ShardStatus.COMPLETE, 3, 1, NOW, finished, described_from=described_from
    )


def test_an_observation_within_the_tolerance_passes_one_beyond_is_refused() -> None:
    ok = seen(NOW + TOLERANCE)
    assert check_times(ok, NOW, TOLERANCE) is ok
    with pytest.raises(FutureTimeError, match="ahead of the sink's clock"):
        check_times(seen(NOW + TOLERANCE + timedelta(milliseconds=1)), NOW, TOLERANCE)


@pytest.mark.parametrize(
    ("finished", "described_from"),
    [(NOW + timedelta(hours=1), NOW), (NOW, NOW + timedelta(days=365))],
)
def test_a_future_outcome_becomes_a_failed_clock_skew_outcome_that_deletes_nothing(
    finished: datetime, described_from: datetime
) -> None:
    checked = check_times(outcome(finished, described_from), NOW, TOLERANCE)
    assert isinstance(checked, ShardOutcome)
    assert (checked.status, checked.error_code) == (ShardStatus.FAILED, "ClockSkew")
    assert checked.described_from is None and checked.finished_at == NOW
    assert "was COMPLETE" in (checked.reason or "")


def test_an_outcome_on_time_is_untouched() -> None:
    on_time = outcome(NOW + timedelta(seconds=5), NOW - timedelta(minutes=1))
    assert check_times(on_time, NOW, TOLERANCE) is on_time
