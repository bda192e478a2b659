"""The actor's handler: one step in; its result and the step that follows out, acted on once.

Idempotency: before acting, the step's audit record is looked up; a step already executed is
not executed again. A redelivery of the same submission (the process died before its Kafka
transaction committed) returns the first result and re-emits the step that followed; a
re-submission of the same request returns the first result, marked duplicate, and ends there
(so a second submission never starts a second workflow).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from consumers.actor.steps import Execution, Implementation, NextStep, StepRetry, WaitPolicy
from fleetstream.actions.audit import AuditLog, StepRecord
from fleetstream.actions.models import ActionResult, ActionStep, Outcome, OutcomeStatus, ResultKind
from fleetstream.aws.clients import AwsClients
from fleetstream.base.errors import PoisonMessageError, RetryBatchError
from fleetstream.base.models import utc_now
from fleetstream.base.retry import RetryPolicy


@dataclass(frozen=True, slots=True)
class StepOutput:
    """What one step produces: its result (None while retrying) and the step that follows."""

    result: ActionResult | None
    next_step: ActionStep | None = None


class Actor:
    """Executes steps through the member accounts' clients, once each."""

    def __init__(
        self,
        clients: AwsClients,
        audit: AuditLog,
        implementations: Mapping[str, Implementation],
        *,
        wait: WaitPolicy,
        retry: RetryPolicy,
        clock: Callable[[], datetime] = utc_now,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._clients = clients
        self._audit = audit
        self._implementations = implementations
        self._wait = wait
        self._retry = retry
        self._clock = clock
        self._jitter = jitter

    def handle(self, step: ActionStep) -> StepOutput:
        """Execute a step unless it was executed before; never act twice."""
        implementation = self._implementations.get(step.action)
        if implementation is None:
            raise PoisonMessageError(f"unknown action {step.action!r}")
        try:
            return self._handle(step, implementation)
        except RetryBatchError as exc:
            # The audit table is throttled or unavailable: the step waits on action-delay
            # like a throttled AWS call (a step acted on but not recorded is repeatable).
            return self._retry_later(step, f"audit table: {exc}")

    def _handle(self, step: ActionStep, implementation: Implementation) -> StepOutput:
        stored = self._audit.step(step.request_id, step.record_key)
        if stored is not None:
            return self._again(step, stored)
        try:
            execution = implementation(self._clients, step, self._wait)
        except StepRetry as retry:
            return self._retry_later(step, retry.summary)
        record = StepRecord(
            submission_id=step.submission_id,
            status=execution.status,
            outcomes=execution.outcomes,
            final=execution.final,
            reason=execution.reason,
            next_step=_next_json(execution.next),
        )
        first = self._audit.record_step(step.request_id, step.record_key, record, _context(step))
        if first is not None:  # another attempt recorded it first: its result stands
            return self._again(step, first)
        if execution.final:
            self._audit.mark_done(step.request_id, step.step_id, execution.status)
        return StepOutput(self._result(step, record), self._follow(step, execution.next))

    def _again(self, step: ActionStep, stored: StepRecord) -> StepOutput:
        if stored.final:
            self._audit.mark_done(step.request_id, step.step_id, stored.status)
        if stored.submission_id != step.submission_id:
            return StepOutput(self._result(step, stored, duplicate=True))
        follow = None
        if stored.next_step is not None:
            follow = self._follow(
                step,
                NextStep(
                    stored.next_step["step"], stored.next_step["delay_s"], stored.next_step["state"]
                ),
            )
        return StepOutput(self._result(step, stored, duplicate=True), follow)

    def _follow(self, step: ActionStep, next_step: NextStep | None) -> ActionStep | None:
        if next_step is None:
            return None
        now = self._clock()
        due = now + timedelta(seconds=next_step.delay_s) if next_step.delay_s > 0 else None
        return replace(
            step,
            step=next_step.step,
            state=dict(next_step.state),
            attempt=0,
            not_before=due,
            issued_at=now,
            last_error=None,
        )

    def _retry_later(self, step: ActionStep, summary: str) -> StepOutput:
        attempt = step.attempt + 1
        if attempt >= self._retry.max_attempts:
            reason = f"gave up after {attempt} attempts: {summary}"
            outcomes = tuple(
                Outcome(t.arn, t.resource_id, OutcomeStatus.FAILED, reason) for t in step.targets
            )
            execution = Execution("FAILED", outcomes, final=True, reason=reason)
            record = StepRecord(step.submission_id, "FAILED", outcomes, True, reason)
            self._audit.record_step(step.request_id, step.record_key, record, _context(step))
            self._audit.mark_done(step.request_id, step.step_id, execution.status)
            return StepOutput(self._result(step, record))
        now = self._clock()
        delay = self._retry.backoff_s(step.attempt, self._jitter())
        again = replace(
            step,
            attempt=attempt,
            not_before=now + timedelta(seconds=delay),
            issued_at=now,
            last_error=summary,
        )
        return StepOutput(None, again)

    def _result(
        self, step: ActionStep, record: StepRecord, duplicate: bool = False
    ) -> ActionResult:
        return ActionResult(
            request_id=step.request_id,
            submission_id=step.submission_id,
            action=step.action,
            kind=ResultKind.STEP,
            status=record.status,
            finished_at=self._clock(),
            step_id=step.step_id,
            step=step.step,
            account_id=step.account_id,
            region=step.region,
            outcomes=record.outcomes,
            reason=record.reason,
            duplicate=duplicate,
            final=record.final,
        )


def _next_json(next_step: NextStep | None) -> dict[str, object] | None:
    if next_step is None:
        return None
    return {"step": next_step.step, "delay_s": next_step.delay_s, "state": dict(next_step.state)}


def _context(step: ActionStep) -> dict[str, str]:
    """Who/what/where of a step, stored beside its outcome in the audit table."""
    return {
        "action": step.action,
        "step": step.step,
        "step_id": step.step_id,
        "account_id": step.account_id,
        "region": step.region,
        "resource_type": step.resource_type,
        "requested_by": step.requested_by,
        "params": ",".join(f"{k}={v}" for k, v in sorted(step.params.items())),
        "submission": step.submission_id,
    }
