"""Freshness: from the AWS event that asked for a refresh to the change event it produced."""

from __future__ import annotations

import time
from collections.abc import Sequence

from consumers.sink.changes import SinkOutput
from fleetstream.base.continuous_metrics import FRESHNESS
from fleetstream.base.models import Observation, ResourceEvent


class EventTimes:
    """The event times refreshed observations of one batch carry, by ARN."""

    def __init__(self) -> None:
        self._by_arn: dict[str, tuple[str, int]] = {}

    def note(self, event: ResourceEvent, triggered_at: bytes | None) -> None:
        """Remember the event time of a refreshed observation (the oldest one per ARN)."""
        if triggered_at is None or not isinstance(event, Observation):
            return
        try:
            event_ms = int(triggered_at)
        except ValueError:
            return  # a malformed measurement header must not fail the write
        held = self._by_arn.get(event.arn)
        if held is None or event_ms < held[1]:
            self._by_arn[event.arn] = (event.resource_type, event_ms)

    def observe_freshness(self, outputs: Sequence[SinkOutput]) -> None:
        """One freshness sample per change event a refreshed observation produced."""
        now_ms = time.time() * 1000
        for output in outputs:
            held = self._by_arn.get(output.arn)
            if output.change is not None and held is not None:
                FRESHNESS.labels(held[0]).observe(max(0.0, now_ms - held[1]) / 1000)
