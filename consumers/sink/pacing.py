"""Outcome work in bounded chunks, with the consumer group served between them.

A shard outcome can tombstone or mark every item of a shard, hundreds of thousands of
writes. Done in one go inside one poll, it outlived max.poll.interval.ms: the sink was
evicted while still writing, its partition went to another sink, and the outcome was redone
there (and evicted again). The outcome's items are read lazily, a chunk at a time, and the
loop's keep-alive runs between the writes of a chunk, so the sink stays in its group; when the
keep-alive finds the partition gone it raises, and this sink stops writing at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")

# Called between bounded pieces of outcome work: serves the consumer group and raises when
# the partition of the work left this consumer (fleetstream.loop.PartitionsLostError).
KeepAlive = Callable[[], None]


def no_keep_alive() -> None:
    """The keep-alive of a writer without a consumer group (Lambda mode, tools)."""


def in_chunks(items: Iterable[T], size: int, keep_alive: KeepAlive) -> Iterator[list[T]]:
    """Consecutive lists of at most size items, read lazily: the source is never read more
    than one chunk ahead of the caller. keep_alive runs before each chunk is read."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, not {size}")
    source = iter(items)
    while True:
        keep_alive()
        chunk = list(islice(source, size))
        if not chunk:
            return
        yield chunk
