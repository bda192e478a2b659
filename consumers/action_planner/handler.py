"""The action planner's handler: one request in; its plan and per-account-region steps out."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from fleetstream.actions.audit import AuditLog
from fleetstream.actions.models import ActionRequest, ActionResult, ActionStep, ResultKind
from fleetstream.actions.registry import ActionError, ActionSpec, action_spec
from fleetstream.actions.selector import InventoryQuery, Plan
from fleetstream.models import utc_now


@dataclass(frozen=True, slots=True)
class Planned:
    """The request's result on action-results and the steps for the actor group."""

    result: ActionResult
    steps: list[ActionStep]


def execution_id(request_id: str, arn: str) -> str:
    """A workflow execution's stable id: the same request and target, the same execution."""
    return "x" + hashlib.sha256(f"{request_id}|{arn}".encode()).hexdigest()[:20]


def refusal(request: ActionRequest, plan: Plan) -> str | None:
    """Why a request must not run, or None."""
    if plan.total > request.max_targets:
        return (
            f"{plan.total} targets exceed the request's max-targets guard of "
            f"{request.max_targets}; narrow the selector or raise --max-targets"
        )
    return None


class ActionPlanner:
    """Resolves a request's selector against the inventory and splits it into steps."""

    def __init__(
        self,
        query: InventoryQuery,
        audit: AuditLog,
        accounts: Callable[[], Sequence[str]],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._query = query
        self._audit = audit
        self._accounts = accounts
        self._clock = clock

    def handle(self, request: ActionRequest) -> Planned:
        """Plan a request; an unknown action, bad parameters or too many targets refuse it."""
        try:
            spec = action_spec(request.action)
            spec.validate(request.selector.resource_type, request.params)
        except ActionError as exc:
            return self._refused(request, str(exc))
        stored = None if request.dry_run else self._audit.request(request.request_id)
        # The same submission again means this planner died before its transaction committed:
        # it is planned again, with the same step ids, which the actor dedupes.
        if (
            stored is not None
            and stored.status == "PLANNED"
            and request.submission_id not in stored.submissions
        ):
            # A re-submission: the first plan stands and nothing is acted on again.
            self._audit.add_submission(request.request_id, request.submission_id)
            note = (
                f"already planned for {stored.requested_by} at {stored.requested_at} "
                f"({stored.summary}); not acting again"
            )
            return Planned(self._result(request, "PLANNED", note, duplicate=True), [])
        accounts = () if request.selector.accounts or request.selector.arns else self._accounts()
        plan = self._query.plan(request.selector, accounts)
        reason = refusal(request, plan)
        if reason is not None:
            return self._refused(request, reason)
        if request.dry_run:
            return Planned(self._result(request, "DRY_RUN", _summary(plan, 0)), [])
        steps = list(self._steps(request, spec, plan))
        counts = {f"{a}/{r}": len(t) for (a, r), t in plan.targets.items()}
        summary = _summary(plan, len(steps))
        self._audit.record_request(request, "PLANNED", counts, len(steps), summary)
        return Planned(self._result(request, "PLANNED", summary), steps)

    def _steps(self, request: ActionRequest, spec: ActionSpec, plan: Plan) -> list[ActionStep]:
        now = self._clock()
        steps = []
        for account, region, n, targets in plan.batches(spec.max_batch):
            steps.append(
                ActionStep(
                    request_id=request.request_id,
                    submission_id=request.submission_id,
                    action=request.action,
                    params=request.params,
                    account_id=account,
                    region=region,
                    resource_type=request.selector.resource_type,
                    step_id=(
                        execution_id(request.request_id, targets[0].arn)
                        if spec.first_step
                        else f"{account}/{region}/{n}"
                    ),
                    step=spec.first_step or "batch",
                    targets=targets,
                    requested_by=request.requested_by,
                    issued_at=now,
                )
            )
        return steps

    def _refused(self, request: ActionRequest, reason: str) -> Planned:
        self._audit.record_request(request, "REFUSED", {}, 0, reason)
        return Planned(self._result(request, "REFUSED", reason), [])

    def _result(
        self, request: ActionRequest, status: str, reason: str, duplicate: bool = False
    ) -> ActionResult:
        return ActionResult(
            request_id=request.request_id,
            submission_id=request.submission_id,
            action=request.action,
            kind=ResultKind.PLAN,
            status=status,
            finished_at=self._clock(),
            reason=reason,
            duplicate=duplicate,
        )


def _summary(plan: Plan, steps: int) -> str:
    return f"{plan.total} targets in {len(plan.targets)} account-regions; {steps} steps"
