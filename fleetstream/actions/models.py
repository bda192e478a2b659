"""Typed messages of the action plane; their wire form is in schemas/action_*.avsc."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Selector:
    """Which resources an action targets: explicit ARNs, or a query over the inventory."""

    resource_type: str
    arns: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    def canonical(self) -> str:
        """Sorted JSON: equal selectors give equal text (part of the idempotency key)."""
        body = asdict(self)
        for key in ("arns", "accounts", "regions"):
            body[key] = sorted(body[key])
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_canonical(cls, text: str) -> Selector:
        """The selector back from its canonical text (as the audit table stores it)."""
        body = json.loads(text)
        for key in ("arns", "accounts", "regions"):
            body[key] = tuple(body[key])
        return cls(**body)


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """One request to act on the fleet, as the CLI (or any producer) submits it."""

    request_id: str  # the idempotency key: the same request twice acts once
    submission_id: str  # unique per submission: tells a re-submission from a redelivery
    action: str
    params: Mapping[str, str]
    selector: Selector
    max_targets: int
    requested_by: str  # as submitted; the planner replaces it with the verified submitter
    requested_at: datetime
    dry_run: bool = True  # the safe default, on the wire too: acting is asked for explicitly
    submitter: str = ""  # a name in the planner's actions.policy.submitters
    signature: str = ""  # fleetstream.actions.signing: HMAC-SHA256 under the submitter's key
    approves: str | None = None  # an approval: the id of the request it approves

    @property
    def partition_key(self) -> str:
        """An approval goes to its request's partition: one planner sees both, in order."""
        return self.approves or self.request_id


def idempotency_key(action: str, params: Mapping[str, str], selector: Selector) -> str:
    """The default request id: a hash of the action, its parameters and its selector."""
    text = json.dumps(
        {
            "action": action,
            "params": dict(sorted(params.items())),
            "selector": selector.canonical(),
        },
        sort_keys=True,
    )
    return "req-" + hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Target:
    """One resource an action acts on."""

    arn: str
    resource_id: str


class OutcomeStatus(StrEnum):
    OK = "OK"
    SKIPPED = "SKIPPED"  # the target vanished between plan and execution
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one target."""

    arn: str
    resource_id: str
    status: OutcomeStatus
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ActionStep:
    """One unit of the actor's work: a batch of one account-region, or one workflow step.

    step_id names the batch (account/region/n) or the workflow execution; step is "batch" or
    the workflow step's name; attempt counts re-checks and throttled retries of the step.
    """

    request_id: str
    submission_id: str
    action: str
    params: Mapping[str, str]
    account_id: str
    region: str
    resource_type: str
    step_id: str
    step: str
    targets: tuple[Target, ...]
    requested_by: str
    issued_at: datetime
    attempt: int = 0
    not_before: datetime | None = None
    state: Mapping[str, str] = field(default_factory=dict)
    last_error: str | None = None

    @property
    def budget_key(self) -> str:
        """account/region: one actor owns an account-region (and its rate budget) at a time."""
        return f"{self.account_id}/{self.region}"

    @property
    def record_key(self) -> str:
        """The audit record of this step (its idempotency key); a workflow's re-checks are
        distinct steps (state "check"), throttled retries of one step are not."""
        check = self.state.get("check")
        return f"step#{self.step_id}#{self.step}" + (f"#{int(check):04d}" if check else "")


class ResultKind(StrEnum):
    PLAN = "PLAN"  # the planner expanded (or refused) a request
    STEP = "STEP"  # a batch or a workflow step finished


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What goes to the action-results topic: a plan, or a finished step with its outcomes."""

    request_id: str
    submission_id: str
    action: str
    kind: ResultKind
    status: str
    finished_at: datetime
    step_id: str = ""
    step: str = ""
    account_id: str = ""
    region: str = ""
    outcomes: tuple[Outcome, ...] = ()
    reason: str | None = None
    duplicate: bool = False  # a re-submission or redelivery: the first result, returned again
    final: bool = False  # the batch or workflow execution is over
