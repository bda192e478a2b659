"""Which events the router trusts: events are untrusted input, whoever put them on the bus."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from producers.events.envelope import ApiCallEvent


@dataclass(frozen=True, slots=True)
class Admission:
    """Refuses foreign copies and event times outside [now - max_age, now + future_tolerance].

    Only the router's own clock is compared with the event time, with a tolerance for AWS's:
    a far-future time would make every genuine event for the resource look like a duplicate
    of a refresh already issued, and a replay of old events would spend refresh budgets.
    """

    future_tolerance: timedelta
    max_age: timedelta

    def refusal(self, event: ApiCallEvent, now: datetime) -> str | None:
        """The outcome (fleetstream_events_total) an untrustworthy event is counted as, or
        None for an event to route."""
        if event.foreign:
            return "foreign_account"
        if event.time > now + self.future_tolerance:
            return "future"
        if event.time < now - self.max_age:
            return "too_old"
        return None
