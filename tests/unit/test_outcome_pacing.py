"""Outcome work in chunks: bounded reads ahead, the keep-alive between chunks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from consumers.sink.pacing import in_chunks, paced_map
from fleetstream.base.errors import RetryBatchError
from fleetstream.inventory.dynamodb import COLLECTION_FULL_RETRY_S, call_dynamodb


def test_chunks_are_bounded_and_cover_every_item_in_order() -> None:
    calls: list[str] = []
    chunks = list(in_chunks(range(7), 3, lambda: calls.append("keep-alive")))
    assert chunks == [[0, 1, 2], [3, 4, 5], [6]]
    # Before each chunk is read, and once more to find the source empty.
    assert calls == ["keep-alive"] * 4


def test_the_source_is_never_read_more_than_one_chunk_ahead() -> None:
    read: list[int] = []

    def source() -> Iterator[int]:
        for n in range(1_000):
            read.append(n)
            yield n

    chunks = in_chunks(source(), 10, lambda: None)
    for handled, chunk in enumerate(chunks, start=1):
        assert len(chunk) <= 10
        assert len(read) <= handled * 10  # nothing beyond the chunk in hand was read
        if handled == 3:
            break
    assert len(read) == 30


def test_a_keep_alive_that_raises_stops_before_the_next_chunk_is_read() -> None:
    read: list[int] = []

    class PartitionGoneError(Exception):
        pass

    def source() -> Iterator[int]:
        for n in range(100):
            read.append(n)
            yield n

    state = {"calls": 0}

    def keep_alive() -> None:
        state["calls"] += 1
        if state["calls"] == 2:
            raise PartitionGoneError

    chunks = in_chunks(source(), 5, keep_alive)
    assert next(chunks) == [0, 1, 2, 3, 4]
    with pytest.raises(PartitionGoneError):
        next(chunks)
    assert read == [0, 1, 2, 3, 4]


def test_a_chunk_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(in_chunks([1], 0, lambda: None))


def test_a_full_item_collection_pauses_the_batch_instead_of_crashing_the_sink() -> None:
    """ItemCollectionSizeLimitExceededException (a shard's marks over the 10 GB a table with
    a local index allows) used to escape the loop and crash the sink on every redelivery."""
    error = ClientError(
        {"Error": {"Code": "ItemCollectionSizeLimitExceededException", "Message": "full"}},
        "BatchWriteItem",
    )

    class FullTable:
        def batch_write_item(self, **_kwargs: object) -> None:
            raise error

    with pytest.raises(RetryBatchError) as raised:
        call_dynamodb(FullTable(), "batch_write_item", RequestItems={"t-seen": []})
    assert raised.value.retry_after == COLLECTION_FULL_RETRY_S


def test_the_group_is_served_while_a_write_is_still_in_flight() -> None:
    """A write that does not return (a slow DynamoDB call) must not starve the keep-alive: the
    write below finishes only once keep_alive has run while it was in flight."""
    served = threading.Event()

    def slow_write(n: int) -> int:
        if not served.wait(timeout=60):
            raise AssertionError("keep_alive never ran while the write was in flight")
        return n * 10

    with ThreadPoolExecutor(2) as pool:
        results = list(paced_map(pool, slow_write, [1, 2, 3], served.set, wait_s=0.01))
    assert results == [10, 20, 30]


def test_a_keep_alive_that_raises_cancels_the_writes_not_started() -> None:
    started: list[int] = []
    release = threading.Event()

    def write(n: int) -> int:
        started.append(n)
        release.wait(timeout=60)
        return n

    class LostError(Exception):
        pass

    def keep_alive() -> None:
        raise LostError

    with ThreadPoolExecutor(1) as pool:
        with pytest.raises(LostError):
            list(paced_map(pool, write, list(range(50)), keep_alive, wait_s=0.01))
        release.set()  # only now may the write under way finish
    # The one write under way finished; the 49 queued behind it were never started.
    assert started == [0]
