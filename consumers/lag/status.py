"""Burrow-style consumer status from a sliding window of lag samples (pure: no Kafka, no clock).

Rules per partition, checked in this order (the first that holds wins):

  STOP    lag > 0, the committed offset has not moved for stop_after_s; or it has not moved for
          window_s while no member of the group owned the partition (the consumer is gone)
  STALL   lag > 0 and the committed offset has not moved for window_s while a member owns it
          (the consumer is alive but not making progress)
  REWIND  the committed offset went backwards within the window (a reset or a replay)
  WARN    the samples cover the whole window, lag > 0 in every one of them, and lag is higher
          at the end of the window than at its start (the consumer moves but falls behind)
  OK      otherwise, including while fewer samples than a window exist

"lag" is the records the group still has to read (see PartitionSample.pending), so a partition
whose only unread entries are transaction markers is caught up. A group's status is the worst
of its partitions'; a group without partitions is OK.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum


class Status(IntEnum):
    """Partition and group status; the value is the severity exported as a gauge."""

    OK = 0
    WARN = 1
    REWIND = 2
    STALL = 3
    STOP = 4


@dataclass(frozen=True, slots=True)
class Rules:
    """How long a window is and when a non-moving consumer counts as stopped."""

    window_s: float
    stop_after_s: float

    def __post_init__(self) -> None:
        if self.window_s <= 0 or self.stop_after_s < self.window_s:
            raise ValueError("need 0 < window_s <= stop_after_s")

    @property
    def horizon_s(self) -> float:
        """How much history the rules ever look at."""
        return max(self.window_s, self.stop_after_s)


@dataclass(frozen=True, slots=True)
class PartitionSample:
    """One observation of one group's position on one partition."""

    at: float  # epoch seconds of the observation
    committed: int | None  # None: the group never committed this partition
    pending: int  # records still to read: 0 when caught up
    owned: bool  # a member of the group holds the partition right now
    oldest_unread_at: float | None = None  # timestamp of the record at the committed offset


def time_lag_s(sample: PartitionSample) -> float | None:
    """Age of the oldest unread record: 0 when caught up, None when its timestamp is unknown."""
    if sample.pending == 0:
        return 0.0
    if sample.oldest_unread_at is None:
        return None
    return max(0.0, sample.at - sample.oldest_unread_at)


def _stuck_run(history: Sequence[PartitionSample]) -> list[PartitionSample]:
    """The trailing samples with lag > 0 and the same committed offset as the newest."""
    newest = history[-1]
    run: list[PartitionSample] = []
    for sample in reversed(history):
        if sample.pending == 0 or sample.committed != newest.committed:
            break
        run.append(sample)
    run.reverse()
    return run


def window_of(history: Sequence[PartitionSample], window_s: float) -> list[PartitionSample]:
    """The samples of the last window_s, plus the newest one before it (so it spans the window)."""
    if not history:
        return []
    start = history[-1].at - window_s
    inside = [s for s in history if s.at >= start]
    before = [s for s in history if s.at < start]
    return ([before[-1]] if before else []) + inside


def partition_status(history: Sequence[PartitionSample], rules: Rules) -> Status:
    """Status of one partition from its samples, oldest first."""
    if not history:
        return Status.OK
    newest = history[-1]
    run = _stuck_run(history)
    if run:
        stuck_for = newest.at - run[0].at
        if stuck_for >= rules.stop_after_s:
            return Status.STOP
        if stuck_for >= rules.window_s:
            return Status.STOP if not any(s.owned for s in run) else Status.STALL
    window = window_of(history, rules.window_s)
    for older, newer in itertools.pairwise(window):
        if (
            older.committed is not None
            and newer.committed is not None
            and (newer.committed < older.committed)
        ):
            return Status.REWIND
    covered = newest.at - window[0].at >= rules.window_s
    if covered and all(s.pending > 0 for s in window) and window[-1].pending > window[0].pending:
        return Status.WARN
    return Status.OK


def group_status(statuses: Iterable[Status]) -> Status:
    """A group is as bad as its worst partition."""
    return max(statuses, default=Status.OK)


def trim(history: list[PartitionSample], rules: Rules) -> None:
    """Drop samples the rules will never look at again (keeps one just beyond the horizon)."""
    if not history:
        return
    start = history[-1].at - rules.horizon_s
    while len(history) > 1 and history[1].at <= start:
        del history[0]
