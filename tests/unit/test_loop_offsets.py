"""Offset arithmetic of the consume loops."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from fleetstream.runtime.loop import first_offsets, next_offsets

pytestmark = pytest.mark.unit


@dataclass
class FakeMessage:
    t: str
    p: int
    o: int

    def topic(self) -> str:
        return self.t

    def partition(self) -> int:
        return self.p

    def offset(self) -> int:
        return self.o


def test_next_and_first_offsets_per_partition() -> None:
    batch = [FakeMessage("w", 0, 5), FakeMessage("w", 1, 9), FakeMessage("w", 0, 7)]
    commit = {(tp.topic, tp.partition): tp.offset for tp in next_offsets(batch)}  # type: ignore[arg-type]
    rewind = {(tp.topic, tp.partition): tp.offset for tp in first_offsets(batch)}  # type: ignore[arg-type]
    assert commit == {("w", 0): 8, ("w", 1): 10}
    assert rewind == {("w", 0): 5, ("w", 1): 9}
