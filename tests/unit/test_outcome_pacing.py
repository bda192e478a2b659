"""Outcome work in chunks: bounded reads ahead, the keep-alive between chunks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from consumers.sink.pacing import in_chunks
from fleetstream.dynamodb import COLLECTION_FULL_RETRY_S, call_dynamodb
from fleetstream.errors import RetryBatchError


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
