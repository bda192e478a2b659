"""The replay group's per-topic progress marks (fleetstream.apps.dlq_progress)."""

from __future__ import annotations

import pytest

from fleetstream.apps.dlq_progress import (
    PartitionProgress,
    Verdict,
    decode_marks,
    encode_marks,
)
from fleetstream.base.errors import FleetstreamError

LETTERS = ["a", "b", "a", None, "b"]  # original topic of the dead letter at each offset


def scan(progress: PartitionProgress, only_topic: str | None) -> list[Verdict]:
    return [
        progress.take(offset, target, only_topic)
        for offset, target in enumerate(LETTERS)
        if offset >= progress.committed
    ]


def test_a_filtered_run_commits_no_further_than_the_first_letter_it_left() -> None:
    progress = PartitionProgress(committed=0)
    assert scan(progress, "a") == [
        Verdict.REPLAY,
        Verdict.HELD,
        Verdict.REPLAY,
        Verdict.UNROUTABLE,
        Verdict.HELD,
    ]
    assert progress.commit_point("a") == (1, {"a": 5})


def test_later_runs_replay_only_what_is_beyond_its_topics_mark() -> None:
    progress = PartitionProgress(committed=1, marks={"a": 5})
    assert scan(progress, None) == [
        Verdict.REPLAY,
        Verdict.ALREADY,
        Verdict.UNROUTABLE,
        Verdict.REPLAY,
    ]
    assert progress.commit_point(None) == (5, {})


def test_a_mark_beyond_where_a_limited_run_stopped_is_kept() -> None:
    progress = PartitionProgress(committed=1, marks={"a": 5})
    progress.take(1, "b", None)
    assert progress.commit_point(None) == (2, {"a": 5})


def test_marks_round_trip_and_unreadable_ones_stop_the_replay() -> None:
    assert encode_marks({}) == ""
    assert decode_marks(encode_marks({"t.work": 7}), "dlq:0") == {"t.work": 7}
    assert decode_marks(None, "dlq:0") == {}
    for garbage in ("{", '{"v": 2, "marks": {}}', '{"v": 1, "marks": ["x"]}', "[]"):
        with pytest.raises(FleetstreamError, match="unreadable"):
            decode_marks(garbage, "dlq:0")
    with pytest.raises(FleetstreamError, match="commit metadata"):
        encode_marks({f"topic-{n:04}": n for n in range(400)})
