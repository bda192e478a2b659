"""The lag exporter's Burrow-style status rules, on hand-made sample windows."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from consumers.lag.status import (
    PartitionSample,
    Rules,
    Status,
    group_status,
    partition_status,
    time_lag_s,
    trim,
    window_of,
)
from fleetstream.kafka.admin import pending_records

pytestmark = pytest.mark.unit

RULES = Rules(window_s=10, stop_after_s=30)


def history(
    points: Sequence[tuple[float, int | None, int]], *, owned: bool = True
) -> list[PartitionSample]:
    """Samples from (at, committed, pending) triples."""
    return [PartitionSample(at, committed, pending, owned) for at, committed, pending in points]


def test_no_samples_and_a_single_sample_are_ok() -> None:
    assert partition_status([], RULES) is Status.OK
    assert partition_status(history([(0, 5, 100)]), RULES) is Status.OK


def test_caught_up_consumer_is_ok_however_long_the_offset_stays() -> None:
    assert partition_status(history([(t, 7, 0) for t in range(0, 60, 5)]), RULES) is Status.OK


def test_consumer_that_moves_and_keeps_up_is_ok() -> None:
    points = [(t, 10 * t, 3) for t in range(0, 30, 2)]
    assert partition_status(history(points), RULES) is Status.OK


def test_lag_growing_while_the_consumer_moves_is_warn() -> None:
    points = [(t, t, 5 + t) for t in range(0, 12, 2)]
    assert partition_status(history(points), RULES) is Status.WARN


def test_growing_lag_is_not_warn_before_the_window_is_covered() -> None:
    points = [(t, t, 5 + t) for t in range(0, 8, 2)]
    assert partition_status(history(points), RULES) is Status.OK


def test_lag_that_touched_zero_in_the_window_is_not_warn() -> None:
    points = [(0, 0, 5), (4, 10, 0), (8, 12, 7), (12, 14, 9)]
    assert partition_status(history(points), RULES) is Status.OK


def test_offset_not_moving_with_lag_for_a_window_is_stall_while_owned() -> None:
    points = [(0, 40, 0), *[(t, 50, 3 + t) for t in range(2, 14, 2)]]
    assert partition_status(history(points), RULES) is Status.STALL


def test_stall_needs_the_whole_window() -> None:
    points = [(0, 40, 0), *[(t, 50, 3) for t in range(2, 10, 2)]]
    assert partition_status(history(points), RULES) is Status.OK


def test_lag_appearing_after_a_long_idle_offset_is_not_stall() -> None:
    # The offset has been 50 for a minute, but records arrived only now: the clock starts now.
    points = [(t, 50, 0) for t in range(0, 60, 5)] + [(60, 50, 4)]
    assert partition_status(history(points), RULES) is Status.OK


def test_no_progress_without_an_owner_for_a_window_is_stop() -> None:
    points = [(0, 40, 0), *[(t, 50, 3) for t in range(2, 14, 2)]]
    assert partition_status(history(points, owned=False), RULES) is Status.STOP


def test_no_progress_for_stop_after_is_stop_even_when_owned() -> None:
    points = [(t, 50, 3) for t in range(0, 32, 2)]
    assert partition_status(history(points), RULES) is Status.STOP


def test_never_committed_partition_with_records_waiting_stalls_like_any_other() -> None:
    points = [(t, None, 8) for t in range(0, 12, 2)]
    assert partition_status(history(points), RULES) is Status.STALL
    assert partition_status(history(points, owned=False), RULES) is Status.STOP


def test_committed_offset_going_back_is_rewind() -> None:
    points = [(0, 100, 1), (2, 110, 1), (4, 20, 91), (6, 30, 81)]
    assert partition_status(history(points), RULES) is Status.REWIND


def test_rewind_leaves_the_window() -> None:
    points = [(0, 100, 1), (2, 20, 1), *[(t, 20 + t, 1) for t in range(4, 20, 2)]]
    assert partition_status(history(points), RULES) is Status.OK


def test_stop_outranks_rewind() -> None:
    points = [(0, 100, 1), (2, 20, 5), *[(t, 20, 5) for t in range(4, 40, 4)]]
    assert partition_status(history(points), RULES) is Status.STOP


def test_recovery_from_stall_is_ok_at_once() -> None:
    points = [*[(t, 50, 3 + t) for t in range(0, 14, 2)], (14, 70, 0)]
    assert partition_status(history(points), RULES) is Status.OK


def test_group_is_its_worst_partition_and_empty_group_is_ok() -> None:
    assert group_status([Status.OK, Status.STALL, Status.WARN]) is Status.STALL
    assert group_status([]) is Status.OK
    assert Status.OK < Status.WARN < Status.REWIND < Status.STALL < Status.STOP


def test_time_lag_is_zero_when_caught_up_and_unknown_without_a_timestamp() -> None:
    assert time_lag_s(PartitionSample(100, 5, 0, True, None)) == 0
    assert time_lag_s(PartitionSample(100, 5, 3, True, None)) is None
    assert time_lag_s(PartitionSample(100, 5, 3, True, 40.5)) == 59.5
    # Clock skew between producer and exporter never makes a negative lag.
    assert time_lag_s(PartitionSample(100, 5, 3, True, 101)) == 0


@pytest.mark.parametrize(
    ("committed", "low", "stable", "caught_up", "expected"),
    [
        (10, 0, 10, False, 0),  # at the end
        (12, 0, 10, False, 0),  # past a commit marker beyond the LSO
        (7, 0, 10, False, 3),
        (7, 0, 10, True, 0),  # only markers or aborted records left
        (None, 4, 10, False, 6),  # never committed: starts at the low watermark
        (None, 10, 10, False, 0),
        (2, 5, 10, False, 5),  # committed offset fell out of retention
    ],
)
def test_pending_records(
    committed: int | None, low: int, stable: int, caught_up: bool, expected: int
) -> None:
    assert pending_records(committed, low, stable, caught_up=caught_up) == expected


def test_window_spans_its_length_with_one_anchor_before_it() -> None:
    samples = history([(t, t, 1) for t in range(0, 20, 3)])
    assert [s.at for s in window_of(samples, 10)] == [6, 9, 12, 15, 18]


def test_trim_keeps_the_horizon_plus_one() -> None:
    samples = history([(t, t, 1) for t in range(0, 100, 5)])
    trim(samples, RULES)
    assert samples[0].at == 65
    assert samples[-1].at == 95


def test_rules_reject_a_stop_shorter_than_the_window() -> None:
    with pytest.raises(ValueError, match="window"):
        Rules(window_s=10, stop_after_s=5)
