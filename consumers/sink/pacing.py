"""Outcome work in bounded chunks, with the consumer group served between them.

A shard outcome can tombstone or mark every item of a shard, hundreds of thousands of
writes. Done in one go inside one poll, it outlived max.poll.interval.ms: the sink was
evicted while still writing, its partition went to another sink, and the outcome was redone
there (and evicted again). The outcome's items are read lazily, a chunk at a time, and the
loop's keep-alive runs between the writes of a chunk, so the sink stays in its group; when the
keep-alive finds the partition gone it raises, and this sink stops writing at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from itertools import islice
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Called between bounded pieces of outcome work: serves the consumer group and raises when
# the partition of the work left this consumer (fleetstream.runtime.loop.PartitionsLostError).
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


def paced_map(
    pool: Executor,
    work: Callable[[T], R],
    items: Sequence[T],
    keep_alive: KeepAlive,
    *,
    wait_s: float = 0.5,
) -> Iterator[R]:
    """work(item) for every item on the pool, results in order; keep_alive runs at least every
    wait_s while any write is in flight, so one slow call cannot starve the group. When
    keep_alive raises, the writes not started yet are cancelled."""
    futures = [pool.submit(work, item) for item in items]
    try:
        for future in futures:
            while True:
                try:
                    result = future.result(timeout=wait_s)
                except TimeoutError:
                    keep_alive()
                    continue
                break
            keep_alive()
            yield result
    finally:
        for future in futures:
            future.cancel()
