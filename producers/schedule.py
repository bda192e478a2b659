"""When each shard is due: cadence per type, a stable jitter, in-flight and age bookkeeping.

Pure logic, driven by the long-running planner (producers/continuous.py) with epoch seconds.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from fleetstream.base.models import ShardKey, ShardStatus


class Decision(StrEnum):
    """What the planner did with a due shard (the label of fleetstream_planner_shards_total)."""

    ISSUED = "issued"
    SKIPPED_IN_FLIGHT = "skipped_in_flight"
    DEFERRED_BACKLOG = "deferred_backlog"
    PRESUMED_LOST = "presumed_lost"


def phase(shard: ShardKey) -> float:
    """A stable number in [0, 1) per shard: where in its cadence the shard fires."""
    digest = hashlib.sha256(str(shard).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(slots=True)
class ShardState:
    """The schedule's view of one shard."""

    next_due: float
    cadence_s: float
    in_flight: tuple[str, float] | None = None  # (sweep id, issued at)
    last_complete: float | None = None
    deferred: bool = False


@dataclass(frozen=True, slots=True)
class TypeAge:
    """How old the inventory of one resource type is."""

    oldest_s: float
    stale_shards: int
    in_flight: int


@dataclass
class Schedule:
    """Every known shard's next due time, what is in flight, and when each last completed."""

    cadence_of: Callable[[str], float]
    jitter: float
    in_flight_timeout_s: float
    started_at: float
    shards: dict[ShardKey, ShardState] = field(default_factory=dict)

    def sync(self, shards: Iterable[ShardKey], now: float) -> None:
        """Track exactly these shards: new ones get a first due time spread over their
        cadence (jitter), ones that left the estate are forgotten."""
        wanted = set(shards)
        for gone in self.shards.keys() - wanted:
            del self.shards[gone]
        for shard in wanted - self.shards.keys():
            cadence = self.cadence_of(shard.resource_type)
            self.shards[shard] = ShardState(now + phase(shard) * self.jitter * cadence, cadence)

    def decide(self, now: float, hold_back: bool) -> dict[ShardKey, Decision]:
        """Decisions for the shards due now. Skipped shards wait for their next slot;
        deferred ones stay due and are decided again next time."""
        decisions: dict[ShardKey, Decision] = {}
        for shard, state in self.shards.items():
            if state.next_due > now:
                continue
            if state.in_flight is not None:
                if now - state.in_flight[1] < self.in_flight_timeout_s:
                    decisions[shard] = Decision.SKIPPED_IN_FLIGHT
                    state.next_due = _next_slot(state.next_due, state.cadence_s, now)
                    continue
                decisions[shard] = Decision.PRESUMED_LOST  # issued again below, unless held
            if hold_back:
                if not state.deferred:
                    decisions[shard] = Decision.DEFERRED_BACKLOG
                state.deferred = True
                continue
            decisions.setdefault(shard, Decision.ISSUED)
        return decisions

    def issued(self, shard: ShardKey, sweep_id: str, now: float) -> None:
        """The shard's first page is durably on the work topic."""
        state = self.shards[shard]
        state.in_flight = (sweep_id, now)
        state.deferred = False
        state.next_due = _next_slot(state.next_due, state.cadence_s, now)

    def finished(self, shard: ShardKey, sweep_id: str, status: ShardStatus, at: float) -> None:
        """A shard's outcome was recorded (only its latest issue counts)."""
        state = self.shards.get(shard)
        if state is None or state.in_flight is None or state.in_flight[0] != sweep_id:
            return
        state.in_flight = None
        if status is ShardStatus.COMPLETE:
            state.last_complete = (
                at if state.last_complete is None else max(state.last_complete, at)
            )

    def in_flight_sweeps(self) -> set[str]:
        """Sweeps with a shard still in flight (the ones whose outcomes to look for)."""
        return {s.in_flight[0] for s in self.shards.values() if s.in_flight is not None}

    def age_of(self, shard: ShardKey, now: float) -> float:
        """Seconds since the shard last completed (or since the planner started)."""
        state = self.shards[shard]
        return now - (state.last_complete if state.last_complete is not None else self.started_at)

    def ages(self, now: float, stale_after_cadences: float) -> dict[str, TypeAge]:
        """Per resource type: oldest shard age, stale shards, shards in flight."""
        oldest: dict[str, float] = {}
        stale: dict[str, int] = {}
        flying: dict[str, int] = {}
        for shard, state in self.shards.items():
            kind = shard.resource_type
            age = self.age_of(shard, now)
            oldest[kind] = max(oldest.get(kind, 0.0), age)
            stale[kind] = stale.get(kind, 0) + (age > stale_after_cadences * state.cadence_s)
            flying[kind] = flying.get(kind, 0) + (state.in_flight is not None)
        return {k: TypeAge(oldest[k], stale[k], flying[k]) for k in oldest}


def _next_slot(due: float, cadence: float, now: float) -> float:
    """The first slot of the shard's cadence after now (missed slots are not caught up)."""
    if due > now:
        return due
    return due + cadence * (math.floor((now - due) / cadence) + 1)
