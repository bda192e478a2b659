"""The action planner's handler: one request in; its plan and per-account-region steps out.

The planner, not the request, decides: a request runs only when its submitter's signature
verifies and it fits actions.policy (fleetstream/actions/policy.py, docs/security.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from fleetstream.actions.audit import AuditLog
from fleetstream.actions.models import ActionRequest, ActionResult, ActionStep, ResultKind
from fleetstream.actions.policy import (
    Estate,
    approval_refusal,
    approved_content,
    authentication_refusal,
    malformed_ids,
    needs_approval,
    plan_refusal,
    request_refusal,
)
from fleetstream.actions.registry import ActionError, ActionSpec, action_spec
from fleetstream.actions.selector import InventoryQuery, Plan
from fleetstream.base.config import ActionPolicy
from fleetstream.base.models import utc_now


@dataclass(frozen=True, slots=True)
class Planned:
    """The request's result on action-results and the steps for the actor group."""

    result: ActionResult
    steps: list[ActionStep]
    also: list[ActionResult] = field(default_factory=list)  # an approval: the request's result
    refused: bool = False  # the request is dead-lettered with result.reason


def execution_id(request_id: str, arn: str) -> str:
    """A workflow execution's stable id: the same request and target, the same execution."""
    return "x" + hashlib.sha256(f"{request_id}|{arn}".encode()).hexdigest()[:20]


class ActionPlanner:
    """Authenticates a request, holds it to the policy, resolves its selector against the
    inventory and splits it into steps; an approval plans the request it approves."""

    def __init__(
        self,
        query: InventoryQuery,
        audit: AuditLog,
        policy: ActionPolicy,
        keys: Mapping[str, str],
        estate: Callable[[], Estate],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._query = query
        self._audit = audit
        self._policy = policy
        self._keys = dict(keys)
        self._estate = estate
        self._clock = clock

    def handle(self, request: ActionRequest) -> Planned:
        """Plan a request, or refuse it (unsigned, outside the policy, bad parameters, too
        many targets); above the approval threshold it waits for another submitter."""
        reason = malformed_ids(request) or authentication_refusal(
            request,
            self._keys,
            self._clock(),
            timedelta(seconds=self._policy.max_request_age_s),
        )
        if reason is not None:
            return self._refused(request, reason)
        # From here on, who asked is the verified submitter, whatever requested_by said.
        request = replace(request, requested_by=request.submitter)
        if request.approves is not None:
            return self._approve(request)
        try:
            spec = action_spec(request.action)
            spec.validate(request.selector.resource_type, request.params)
            estate = self._estate()
            reason = request_refusal(self._policy, spec, request, estate)
        except ActionError as exc:
            reason = str(exc)
        if reason is not None:
            return self._refused(request, reason)
        stored = None if request.dry_run else self._audit.request(request.request_id)
        if stored is not None and stored.status != "REFUSED":
            if stored.requested_by != request.requested_by:
                return self._refused(
                    request, f"request id {request.request_id} belongs to another submitter"
                )
            if stored.status == "APPROVED":
                return self._refused(request, f"request id {request.request_id} is an approval's")
            # The same submission again means this planner died before its transaction
            # committed: it is planned again, with the same step ids, which the actor dedupes.
            if stored.status == "PLANNED" and request.submission_id not in stored.submissions:
                # A re-submission: the first plan stands and nothing is acted on again.
                self._audit.add_submission(request.request_id, request.submission_id)
                note = (
                    f"already planned for {stored.requested_by} at {stored.requested_at} "
                    f"({stored.summary}); not acting again"
                )
                return Planned(self._result(request, "PLANNED", note, duplicate=True), [])
            # An approval covers the content it approved, not the request id: an earlier
            # submission replayed, or new content signed under the approved submission, after
            # the approval does not run (it would act on what the approver never saw).
            if stored.approved_by and stored.approved_content != approved_content(request):
                return self._refused(
                    request,
                    f"request {request.request_id} was approved by {stored.approved_by} for "
                    f"other content (submission {stored.submission}); this submission was "
                    "not approved",
                )
        plan, reason = self._plan(request, estate)
        if reason is not None:
            return self._refused(request, reason)
        if request.dry_run:
            return Planned(self._result(request, "DRY_RUN", _summary(plan, 0)), [])
        counts = _counts(plan)
        # A redelivery after its approval (the content is the approved one, checked above).
        approved = stored is not None and bool(stored.approved_by)
        if needs_approval(self._policy, request, plan) and not approved:
            summary = (
                f"{_summary(plan, 0)}; awaits approval by a submitter other than "
                f"{request.requested_by} (fleetstream act ... --approve {request.request_id})"
            )
            self._audit.record_request(request, "AWAITING_APPROVAL", counts, 0, summary)
            return Planned(self._result(request, "AWAITING_APPROVAL", summary), [])
        steps = self._steps(request, spec, plan)
        summary = _summary(plan, len(steps))
        self._audit.record_request(request, "PLANNED", counts, len(steps), summary)
        return Planned(self._result(request, "PLANNED", summary), steps)

    def _approve(self, approval: ActionRequest) -> Planned:
        """An approval: a different submitter's signed request naming the request it approves,
        with the same action, parameters and selector. The request is planned again now; a
        dry-run approval only says whether it would be, and approves nothing."""
        assert approval.approves is not None
        # Its own id first: an approval's record must never land on another request's.
        own = (
            None
            if approval.request_id == approval.approves
            else self._audit.request(approval.request_id)
        )
        if own is not None and not (
            own.status == "APPROVED"
            and own.requested_by == approval.requested_by
            and own.approves == approval.approves
        ):
            return self._refused(
                approval,
                f"request id {approval.request_id} belongs to another request; an approval "
                "needs an id of its own",
            )
        stored = self._audit.request(approval.approves)
        redelivered = (
            stored is not None
            and stored.status == "PLANNED"
            and stored.approval_submission == approval.submission_id
        )
        if stored is not None and stored.approved_by and not redelivered:
            note = (
                f"request {approval.approves} was approved by {stored.approved_by} already; "
                "not acting again"
            )
            status = "DRY_RUN" if approval.dry_run else "APPROVED"
            return Planned(self._result(approval, status, note, duplicate=True), [])
        if stored is None or (stored.status != "AWAITING_APPROVAL" and not redelivered):
            status = "unknown" if stored is None else stored.status
            return self._refused(
                approval, f"request {approval.approves} does not await approval ({status})"
            )
        reason = approval_refusal(
            approval,
            stored,
            self._keys,
            self._clock(),
            timedelta(seconds=self._policy.max_request_age_s),
        )
        if reason is not None:
            return self._refused(approval, reason)
        original = stored.request(approval.approves)
        # The policy and the inventory may have changed while it waited: checked again.
        try:
            spec = action_spec(original.action)
            estate = self._estate()
            reason = request_refusal(self._policy, spec, original, estate)
        except ActionError as exc:
            reason = str(exc)
        plan = None
        if reason is None:
            plan, reason = self._plan(original, estate)
        if reason is not None or plan is None:
            return self._refused(approval, f"request {approval.approves} cannot run: {reason}")
        steps = self._steps(original, spec, plan)
        summary = f"{_summary(plan, len(steps))}; approved by {approval.requested_by}"
        if approval.dry_run:
            # A dry run shows what the approval would run; the request keeps waiting.
            note = f"dry run: would approve request {approval.approves} ({summary}); not approved"
            return Planned(self._result(approval, "DRY_RUN", note), [])
        # A redelivery (this planner died before its transaction committed) plans it again
        # with the same step ids, which the actor dedupes; otherwise only one approval wins,
        # and only while the submission it read is still the one waiting.
        if not redelivered and not self._audit.approve(
            original, approval, _counts(plan), len(steps), summary, approved_content(original)
        ):
            note = f"request {approval.approves} was approved (or replaced) already; not acting"
            return Planned(self._result(approval, "APPROVED", note, duplicate=True), [])
        # Conditional: an id that meanwhile holds another record keeps it (the approval is
        # still recorded on the request it approved: approved_by, approval_submission).
        self._audit.record_approval(approval, _counts(plan), len(steps), summary)
        return Planned(
            self._result(approval, "APPROVED", summary),
            steps,
            also=[self._result(original, "PLANNED", summary)],
        )

    def _plan(self, request: ActionRequest, estate: Estate) -> tuple[Plan, str | None]:
        """The request's plan, and why it is too large (or None)."""
        selector = request.selector
        accounts = () if selector.accounts or selector.arns else sorted(estate.accounts)
        plan = self._query.plan(selector, accounts)
        return plan, plan_refusal(self._policy, request, plan)

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
        if malformed_ids(request) is not None:
            # Ids that cannot be keys (too long, '#') are answered and audited under a digest,
            # so an oversized id cannot make the result unproducible and stall the planner.
            request = replace(
                request,
                request_id=_digest("invalid-", request.request_id),
                submission_id=_digest("", request.submission_id),
                approves=None,
            )
        self._audit.record_refusal(request, reason)
        return Planned(self._result(request, "REFUSED", reason), [], refused=True)

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


def _digest(prefix: str, text: str) -> str:
    return prefix + hashlib.sha256(text.encode()).hexdigest()[:24]


def _counts(plan: Plan) -> dict[str, int]:
    return {f"{a}/{r}": len(t) for (a, r), t in plan.targets.items()}


def _summary(plan: Plan, steps: int) -> str:
    return f"{plan.total} targets in {len(plan.targets)} account-regions; {steps} steps"
