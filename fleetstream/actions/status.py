"""A request's progress and outcomes, read back from the audit table."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from fleetstream.actions.audit import AuditLog, RequestRecord, StepRecord
from fleetstream.actions.models import Outcome


@dataclass(frozen=True, slots=True)
class RequestStatus:
    """How far a request got: its plan, its finished steps and per-resource outcomes."""

    request_id: str
    status: str  # PLANNED, REFUSED, or UNKNOWN (never planned)
    steps: int  # batches or workflow executions planned
    done: int  # of them, finished
    submissions: int
    outcomes: Counter[str] = field(default_factory=Counter)  # final outcome status -> count
    problems: tuple[Outcome, ...] = ()  # outcomes that were not OK

    @property
    def finished(self) -> bool:
        return self.status == "REFUSED" or (self.status == "PLANNED" and self.done >= self.steps)

    def summary(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(self.outcomes.items())) or "none yet"
        return (
            f"request {self.request_id}: {self.status}, {self.done}/{self.steps} steps finished, "
            f"{self.submissions} submission(s); outcomes: {counts}"
        )


def request_status(audit: AuditLog, request_id: str) -> RequestStatus:
    """Read every record of a request; the final step of each batch or execution counts."""
    status, steps, submissions, done = "UNKNOWN", 0, 0, 0
    outcomes: Counter[str] = Counter()
    problems: list[Outcome] = []
    for item in audit.records(request_id):
        record = item["record"]["S"]
        if record == "request":
            stored = RequestRecord.from_item(item)
            status, steps, submissions = stored.status, stored.steps, len(stored.submissions)
        elif record.startswith("done#"):
            done += 1
        elif record.startswith("step#") and item["final"]["BOOL"]:
            step = StepRecord.from_item(item)
            for outcome in step.outcomes:
                outcomes[outcome.status.value] += 1
                if outcome.status.value != "OK":
                    problems.append(outcome)
    return RequestStatus(request_id, status, steps, done, submissions, outcomes, tuple(problems))
