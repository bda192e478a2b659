"""Reads the inventory table's DynamoDB Stream shard by shard, parents before children.

DynamoDB splits and rolls a stream's shards: a child shard's records follow its parent's, so a
child is read only once its parent is read to its end (checkpointed `closed`), or once the
parent is no longer listed (trimmed after 24 hours). Each shard's iterator resumes after its
checkpointed sequence number (TRIM_HORIZON for a shard never read). An expired iterator is
fetched again from the checkpoint; a checkpoint older than the stream's retention
(TrimmedDataAccessException) restarts the shard at TRIM_HORIZON and counts the loss.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from consumers.sink.expiry.checkpoints import Checkpoints, Position
from consumers.sink.expiry.metrics import (
    STREAM_AGE,
    STREAM_CHECKPOINT,
    STREAM_RECORDS,
    STREAM_SHARDS,
    STREAM_TRIMMED,
)
from consumers.sink.expiry.removals import removed_at
from fleetstream.aws.errors import error_code
from fleetstream.inventory.dynamodb import call_dynamodb

log = logging.getLogger(__name__)

_RECORDS_PER_CALL = 1000
_DESCRIBE_EVERY_S = 30.0  # new shards appear every few hours; a closed one asks sooner


def readable(shards: Sequence[Mapping[str, Any]], positions: Mapping[str, Position]) -> list[str]:
    """The shards to read now: not closed-and-done, and whose parent is done or gone."""
    listed = {s["ShardId"] for s in shards}
    ready: list[str] = []
    for shard in shards:
        shard_id = shard["ShardId"]
        if positions.get(shard_id, Position(shard_id, None)).closed:
            continue
        parent = shard.get("ParentShardId")
        if (
            parent is None
            or parent not in listed
            or (parent in positions and positions[parent].closed)
        ):
            ready.append(shard_id)
    return ready


@dataclass
class _Shard:
    iterator: str | None = None
    age_s: float = 0.0


@dataclass
class StreamReader:
    """One poll reads every readable shard once and hands each batch to `deliver`, which
    returns only once the batch's records are in Kafka; then the position is checkpointed."""

    streams: Any
    stream_arn: str
    checkpoints: Checkpoints
    deliver: Callable[[list[dict[str, Any]]], None]
    clock: Callable[[], float] = time.time
    _shards: list[Mapping[str, Any]] = field(default_factory=list)
    _described_at: float = float("-inf")
    _positions: dict[str, Position] = field(default_factory=dict)
    _open: dict[str, _Shard] = field(default_factory=dict)

    def start(self) -> None:
        """Load the checkpoints (call once, before polling)."""
        self._positions = self.checkpoints.load()

    def poll(self) -> int:
        """Read each readable shard once; return how many records were read."""
        if time.monotonic() - self._described_at > _DESCRIBE_EVERY_S:
            self._describe()
        ready = readable(self._shards, self._positions)
        STREAM_SHARDS.labels("reading").set(len(ready))
        STREAM_SHARDS.labels("done").set(sum(p.closed for p in self._positions.values()))
        done = {shard_id for shard_id, p in self._positions.items() if p.closed}
        waiting = {s["ShardId"] for s in self._shards} - set(ready) - done
        STREAM_SHARDS.labels("waiting").set(len(waiting))
        read = sum(self._read(shard_id) for shard_id in ready)
        STREAM_AGE.set(max((s.age_s for s in self._open.values()), default=0.0))
        return read

    def drained(self) -> bool:
        """Every listed shard is closed and read to its end (a disabled or replaced stream)."""
        self._describe()
        return all(
            self._positions.get(s["ShardId"], Position(s["ShardId"], None)).closed
            for s in self._shards
        )

    def _describe(self) -> None:
        shards: list[Mapping[str, Any]] = []
        start: str | None = None
        while True:
            kwargs: dict[str, Any] = {"StreamArn": self.stream_arn}
            if start is not None:
                kwargs["ExclusiveStartShardId"] = start
            description = call_dynamodb(self.streams, "describe_stream", **kwargs)[
                "StreamDescription"
            ]
            shards.extend(description["Shards"])
            start = description.get("LastEvaluatedShardId")
            if not start:
                break
        self._shards = shards
        self._described_at = time.monotonic()

    def _iterator(self, shard_id: str) -> str:
        position = self._positions.get(shard_id)
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard_id}
        if position is not None and position.sequence is not None:
            kwargs["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
            kwargs["SequenceNumber"] = position.sequence
        else:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        try:
            return str(call_dynamodb(self.streams, "get_shard_iterator", **kwargs)["ShardIterator"])
        except ClientError as exc:
            if error_code(exc) != "TrimmedDataAccessException":
                raise
        STREAM_TRIMMED.inc()
        log.error(
            "shard %s: records after the checkpoint were trimmed (the reader was down longer "
            "than the stream keeps records): reading from the oldest kept",
            shard_id,
        )
        horizon = {"StreamArn": self.stream_arn, "ShardId": shard_id}
        return str(
            call_dynamodb(
                self.streams, "get_shard_iterator", **horizon, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        )

    def _read(self, shard_id: str) -> int:
        state = self._open.setdefault(shard_id, _Shard())
        if state.iterator is None:
            state.iterator = self._iterator(shard_id)
        try:
            response = call_dynamodb(
                self.streams,
                "get_records",
                ShardIterator=state.iterator,
                Limit=_RECORDS_PER_CALL,
            )
        except ClientError as exc:
            if error_code(exc) not in {"ExpiredIteratorException", "TrimmedDataAccessException"}:
                raise
            state.iterator = None  # fetched again from the checkpoint next poll
            return 0
        records: list[dict[str, Any]] = response.get("Records", [])
        following = response.get("NextShardIterator")
        if records:
            self.deliver(records)  # in Kafka before the position moves past them
            STREAM_RECORDS.inc(len(records))
            newest = removed_at(records[-1])
            state.age_s = max(0.0, self.clock() - newest.timestamp())
        else:
            state.age_s = 0.0  # at the shard's tip
        last = records[-1]["dynamodb"]["SequenceNumber"] if records else None
        previous = self._positions.get(shard_id, Position(shard_id, None))
        position = Position(shard_id, last or previous.sequence, closed=following is None)
        if position != previous:
            self.checkpoints.save(position)
            self._positions[shard_id] = position
            STREAM_CHECKPOINT.set(self.clock())
        state.iterator = following
        if following is None:
            log.info("shard %s read to its end; its children may go", shard_id)
            self._open.pop(shard_id, None)
            self._described_at = float("-inf")  # list the children now
        return len(records)
