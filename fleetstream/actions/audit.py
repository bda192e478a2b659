"""The audit table: every request, step and per-resource outcome; also the idempotency record.

Key (request_id, record): `request` holds who asked what and the plan (and who approved it,
with a digest of the content approved: the only content the id may run; an approval's own
`request` record is written only where its id holds no other record);
`refusal#<submission id>` why one submission was refused (a refusal never overwrites a planned
request's record, so a forged request reusing its id changes nothing); `step#<step id>#<step>`
(and `#<check>` for a workflow's re-checks) is one step's execution, written once with a
conditional put, so a step found here is never acted on again; `done#<step id>` marks a
batch or workflow execution as over.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from fleetstream.actions.models import ActionRequest, Outcome, OutcomeStatus, Selector
from fleetstream.aws.clients import dynamodb_client
from fleetstream.aws.errors import error_code
from fleetstream.base.config import Settings
from fleetstream.inventory.dynamodb import call_dynamodb, create_table


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One executed step, as stored: enough to return its result and re-emit what followed."""

    submission_id: str
    status: str
    outcomes: tuple[Outcome, ...]
    final: bool
    reason: str | None = None
    next_step: Mapping[str, Any] | None = None  # step, delay_s, state of the step that follows

    def item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "submission_id": {"S": self.submission_id},
            "status": {"S": self.status},
            "final": {"BOOL": self.final},
            "outcomes": {
                "S": json.dumps(
                    [[o.arn, o.resource_id, o.status.value, o.reason] for o in self.outcomes]
                )
            },
        }
        if self.reason:
            item["reason"] = {"S": self.reason}
        if self.next_step is not None:
            item["next_step"] = {"S": json.dumps(self.next_step, sort_keys=True)}
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> StepRecord:
        outcomes = tuple(
            Outcome(arn, rid, OutcomeStatus(status), reason)
            for arn, rid, status, reason in json.loads(item["outcomes"]["S"])
        )
        return cls(
            submission_id=item["submission_id"]["S"],
            status=item["status"]["S"],
            outcomes=outcomes,
            final=item["final"]["BOOL"],
            reason=item.get("reason", {}).get("S"),
            next_step=json.loads(item["next_step"]["S"]) if "next_step" in item else None,
        )


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """A planned (or refused) request, as stored."""

    status: str  # PLANNED, AWAITING_APPROVAL, APPROVED (an approval's own record), REFUSED
    steps: int
    submissions: frozenset[str]
    summary: str
    requested_by: str
    requested_at: str
    action: str = ""
    params: Mapping[str, str] = field(default_factory=dict)
    selector: str = ""  # Selector.canonical()
    max_targets: int = 0
    submission: str = ""  # the submission that was planned (or awaits approval)
    approved_by: str = ""
    approval_submission: str = ""  # the approval's submission that planned it
    # policy.approved_content() of what was approved: the only content this id runs.
    approved_content: str = ""
    approves: str = ""  # an approval's own record: the request it approved

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> RequestRecord:
        def text(name: str) -> str:
            return str(item.get(name, {}).get("S", ""))

        return cls(
            status=item["status"]["S"],
            steps=int(item["steps"]["N"]),
            submissions=frozenset(item.get("submissions", {}).get("SS", [])),
            summary=text("summary"),
            requested_by=item["requested_by"]["S"],
            requested_at=item["requested_at"]["S"],
            action=text("action"),
            params=json.loads(text("params") or "{}"),
            selector=text("selector"),
            max_targets=int(item.get("max_targets", {}).get("N", "0")),
            submission=text("submission"),
            approved_by=text("approved_by"),
            approval_submission=text("approval_submission"),
            approved_content=text("approved_content"),
            approves=text("approves"),
        )

    def request(self, request_id: str) -> ActionRequest:
        """The stored request again, to plan it once approved (it acts: dry_run is False)."""
        return ActionRequest(
            request_id=request_id,
            submission_id=self.submission,
            action=self.action,
            params=dict(self.params),
            selector=Selector.from_canonical(self.selector),
            max_targets=self.max_targets,
            requested_by=self.requested_by,
            requested_at=datetime.fromisoformat(self.requested_at),
            dry_run=False,
            submitter=self.requested_by,
        )


class AuditLog:
    """Reads and writes the audit table (created on demand)."""

    def __init__(self, client: Any, table: str, ttl: timedelta) -> None:
        self._client = client
        self.table = table
        self._ttl_s = int(ttl.total_seconds())

    def ensure(self) -> None:
        """Create the table if it does not exist."""
        if self.table in set(self._client.list_tables()["TableNames"]):
            return
        create_table(
            self._client,
            self.table,
            keys=[("request_id", "HASH"), ("record", "RANGE")],
            attributes={"request_id": "S", "record": "S"},
        )

    def request(self, request_id: str) -> RequestRecord | None:
        """The request's record, or None when it was never planned."""
        response = call_dynamodb(
            self._client,
            "get_item",
            TableName=self.table,
            Key=_key(request_id, "request"),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return None if item is None else RequestRecord.from_item(item)

    def record_request(
        self, request: ActionRequest, status: str, plan: Mapping[str, int], steps: int, summary: str
    ) -> None:
        """Who asked for what, the plan, and every submission of the same request."""
        self._update_request(request, status, plan, steps, summary)

    def record_approval(
        self, approval: ActionRequest, plan: Mapping[str, int], steps: int, summary: str
    ) -> bool:
        """An approval's own record (APPROVED), under its own id; False, writing nothing, when
        that id holds any other record than this approver's approval (it overwrites none)."""
        try:
            self._update_request(
                approval,
                "APPROVED",
                plan,
                steps,
                summary,
                approves=approval.approves or "",
                condition=(
                    "attribute_not_exists(#record) OR "
                    "(#status = :status AND requested_by = :by AND approves = :approves)"
                ),
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def _update_request(
        self,
        request: ActionRequest,
        status: str,
        plan: Mapping[str, int],
        steps: int,
        summary: str,
        approves: str = "",
        condition: str | None = None,
    ) -> None:
        names = {"#action": "action", "#status": "status", "#plan": "plan"}
        values: dict[str, Any] = {}
        conditional: dict[str, Any] = {}
        approves_set = ""
        if approves:
            approves_set = ", approves = :approves"
            values[":approves"] = {"S": approves}
        if condition is not None:
            conditional["ConditionExpression"] = condition
            names["#record"] = "record"
        call_dynamodb(
            self._client,
            "update_item",
            TableName=self.table,
            Key=_key(request.request_id, "request"),
            UpdateExpression=(
                "SET #action = :action, params = :params, selector = :selector, "
                "requested_by = :by, requested_at = :at, #status = :status, #plan = :plan, "
                "steps = :steps, summary = :summary, expires_at = :ttl, "
                f"max_targets = :max, submission = :submission_id{approves_set} "
                "ADD submissions :submission"
            ),
            ExpressionAttributeNames=names,
            **conditional,
            ExpressionAttributeValues=values
            | {
                ":action": {"S": request.action},
                ":params": {"S": json.dumps(dict(request.params), sort_keys=True)},
                ":selector": {"S": request.selector.canonical()},
                ":by": {"S": request.requested_by},
                ":at": {"S": request.requested_at.isoformat()},
                ":status": {"S": status},
                ":plan": {"S": json.dumps(dict(plan), sort_keys=True)},
                ":steps": {"N": str(steps)},
                ":summary": {"S": summary},
                ":ttl": {"N": str(self._expires())},
                ":submission": {"SS": [request.submission_id]},
                ":submission_id": {"S": request.submission_id},
                ":max": {"N": str(request.max_targets)},
            },
        )

    def record_refusal(self, request: ActionRequest, reason: str) -> None:
        """A refused submission: its own record always; the request's record only when the id
        has none yet (a refusal never overwrites what a genuine request stored)."""
        details = {
            "action": {"S": request.action},
            "params": {"S": json.dumps(dict(request.params), sort_keys=True)},
            "selector": {"S": request.selector.canonical()},
            "requested_by": {"S": request.requested_by},
            "requested_at": {"S": request.requested_at.isoformat()},
            "expires_at": {"N": str(self._expires())},
        }
        call_dynamodb(
            self._client,
            "put_item",
            TableName=self.table,
            Item=_key(request.request_id, f"refusal#{request.submission_id}")
            | details
            | {
                "reason": {"S": reason},
                "submitter": {"S": request.submitter},
                "refused_at_ms": {"N": str(int(time.time() * 1000))},
            },
        )
        try:
            call_dynamodb(
                self._client,
                "put_item",
                TableName=self.table,
                Item=_key(request.request_id, "request")
                | details
                | {
                    "status": {"S": "REFUSED"},
                    "steps": {"N": "0"},
                    "summary": {"S": reason},
                    "submissions": {"SS": [request.submission_id]},
                },
                ConditionExpression="attribute_not_exists(#record)",
                ExpressionAttributeNames={"#record": "record"},
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def approve(
        self,
        original: ActionRequest,
        approval: ActionRequest,
        plan: Mapping[str, int],
        steps: int,
        summary: str,
        content: str,
    ) -> bool:
        """AWAITING_APPROVAL -> PLANNED with the approver and a digest of the approved content;
        False when it no longer awaits, or another submission replaced the one approved."""
        request_id = original.request_id
        try:
            call_dynamodb(
                self._client,
                "update_item",
                TableName=self.table,
                Key=_key(request_id, "request"),
                UpdateExpression=(
                    "SET #status = :planned, #plan = :plan, steps = :steps, summary = :summary, "
                    "approved_by = :by, approved_at = :at, approval_submission = :submission, "
                    "approved_content = :content"
                ),
                ConditionExpression="#status = :awaiting AND submission = :original",
                ExpressionAttributeNames={"#status": "status", "#plan": "plan"},
                ExpressionAttributeValues={
                    ":planned": {"S": "PLANNED"},
                    ":awaiting": {"S": "AWAITING_APPROVAL"},
                    ":plan": {"S": json.dumps(dict(plan), sort_keys=True)},
                    ":steps": {"N": str(steps)},
                    ":summary": {"S": summary},
                    ":by": {"S": approval.requested_by},
                    ":at": {"S": approval.requested_at.isoformat()},
                    ":submission": {"S": approval.submission_id},
                    ":content": {"S": content},
                    ":original": {"S": original.submission_id},
                },
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def add_submission(self, request_id: str, submission_id: str) -> None:
        """A re-submission of a planned request: remembered, nothing else changes."""
        call_dynamodb(
            self._client,
            "update_item",
            TableName=self.table,
            Key=_key(request_id, "request"),
            UpdateExpression="ADD submissions :submission",
            ExpressionAttributeValues={":submission": {"SS": [submission_id]}},
        )

    def step(self, request_id: str, record: str) -> StepRecord | None:
        """A step already executed, or None."""
        response = call_dynamodb(
            self._client,
            "get_item",
            TableName=self.table,
            Key=_key(request_id, record),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return None if item is None else StepRecord.from_item(item)

    def record_step(
        self, request_id: str, record: str, step: StepRecord, context: Mapping[str, str]
    ) -> StepRecord | None:
        """Write a step once; if it was already written, return what was written first."""
        item = _key(request_id, record) | step.item()
        item |= {k: {"S": v} for k, v in context.items() if v}
        item["finished_at_ms"] = {"N": str(int(time.time() * 1000))}
        item["expires_at"] = {"N": str(self._expires())}
        try:
            call_dynamodb(
                self._client,
                "put_item",
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(#record)",
                ExpressionAttributeNames={"#record": "record"},
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return self.step(request_id, record)
        return None

    def mark_done(self, request_id: str, step_id: str, status: str) -> None:
        """A batch or workflow execution is over (idempotent)."""
        call_dynamodb(
            self._client,
            "put_item",
            TableName=self.table,
            Item=_key(request_id, f"done#{step_id}")
            | {"status": {"S": status}, "expires_at": {"N": str(self._expires())}},
        )

    def records(self, request_id: str) -> list[dict[str, Any]]:
        """Every record of a request (request, steps, done markers)."""
        items: list[dict[str, Any]] = []
        pages = self._client.get_paginator("query").paginate(
            TableName=self.table,
            KeyConditionExpression="request_id = :r",
            ExpressionAttributeValues={":r": {"S": request_id}},
            ConsistentRead=True,
        )
        for page in pages:
            items.extend(page["Items"])
        return items

    def _expires(self) -> int:
        return int(time.time()) + self._ttl_s


def audit_log(settings: Settings) -> AuditLog:
    """The audit table of this deployment (created when missing)."""
    audit = AuditLog(
        dynamodb_client(settings),
        settings.actions.audit_table,
        timedelta(days=settings.actions.audit_ttl_days),
    )
    audit.ensure()
    return audit


def _key(request_id: str, record: str) -> dict[str, Any]:
    return {"request_id": {"S": request_id}, "record": {"S": record}}
