"""What an action's implementation returns, and how AWS errors map onto per-resource outcomes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from fleetstream.actions.models import ActionStep, Outcome, OutcomeStatus, Target
from fleetstream.aws.clients import AwsClients
from fleetstream.aws.errors import ErrorKind, classify, error_code


class StepRetry(Exception):  # noqa: N818 - a decision, not an error: do the step again later
    """Throttled or transient: the whole step is retried later (it slows, it does not fail)."""

    def __init__(self, summary: str) -> None:
        super().__init__(summary)
        self.summary = summary


@dataclass(frozen=True, slots=True)
class NextStep:
    """The step that follows, after delay_s (0: at once)."""

    step: str
    delay_s: float = 0.0
    state: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Execution:
    """The result of one step."""

    status: str  # OK, PARTIAL, FAILED, SKIPPED, WAITING
    outcomes: tuple[Outcome, ...]
    final: bool
    next: NextStep | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class WaitPolicy:
    """How a workflow waits: first re-check after first_s, then every every_s, max_checks."""

    first_s: float
    every_s: float
    max_checks: int


Implementation = Callable[[AwsClients, ActionStep, WaitPolicy], Execution]


def finished(outcomes: Sequence[Outcome]) -> Execution:
    """A batch that is over: OK when nothing failed, FAILED when nothing succeeded."""
    failed = sum(o.status is OutcomeStatus.FAILED for o in outcomes)
    status = "OK" if failed == 0 else "FAILED" if failed == len(outcomes) else "PARTIAL"
    return Execution(status, tuple(outcomes), final=True)


def retry_or_reason(error: ClientError | BotoCoreError) -> str:
    """Raise StepRetry for throttling and transient errors; otherwise the failure reason."""
    kind = classify(error)
    if kind in {ErrorKind.THROTTLED, ErrorKind.TRANSIENT}:
        raise StepRetry(f"{kind.value}: {error}"[:500])
    if isinstance(error, ClientError):
        message = error.response.get("Error", {}).get("Message", "")
        return f"{error_code(error)}: {message}"[:500]
    return f"{type(error).__name__}: {error}"[:500]


def is_not_found(error: ClientError) -> bool:
    """The target does not exist (any more): EC2's *.NotFound, RDS's *NotFound(Fault)."""
    code = error_code(error)
    return code.endswith((".NotFound", "NotFound", "NotFoundFault")) or code == "InvalidID"


def call_live(targets: Sequence[Target], call: Callable[[list[str]], object]) -> list[Outcome]:
    """Call an API that takes many ids at once; ids that vanished are skipped, not errors.

    EC2 rejects the whole call when one id does not exist and names it in the message; the
    named ids are skipped and the call repeated with the rest. When the message names none,
    each id is tried alone.
    """
    outcomes: list[Outcome] = []
    remaining = list(targets)
    while remaining:
        try:
            call([t.resource_id for t in remaining])
        except (ClientError, BotoCoreError) as error:
            reason = retry_or_reason(error)
            if not (isinstance(error, ClientError) and is_not_found(error)):
                outcomes += [
                    Outcome(t.arn, t.resource_id, OutcomeStatus.FAILED, reason) for t in remaining
                ]
                return outcomes
            vanished = [t for t in remaining if t.resource_id in reason]
            if not vanished:
                if len(remaining) == 1:
                    vanished = remaining
                else:
                    for target in remaining:
                        outcomes += call_live([target], call)
                    return outcomes
            outcomes += [
                Outcome(t.arn, t.resource_id, OutcomeStatus.SKIPPED, f"vanished: {reason}")
                for t in vanished
            ]
            remaining = [t for t in remaining if t not in vanished]
        else:
            outcomes += [Outcome(t.arn, t.resource_id, OutcomeStatus.OK) for t in remaining]
            return outcomes
    return outcomes
