"""Conversions between the action plane's models and the Avro records of schemas/action_*."""

from __future__ import annotations

from typing import Any

from fleetstream.actions.models import (
    ActionRequest,
    ActionResult,
    ActionStep,
    Outcome,
    OutcomeStatus,
    ResultKind,
    Selector,
    Target,
)
from fleetstream.base.config import Settings
from fleetstream.base.errors import PoisonMessageError
from fleetstream.kafka import topics
from fleetstream.kafka.topics import Topic
from fleetstream.runtime.loop import NOT_BEFORE_HEADER, epoch_ms_header
from fleetstream.runtime.records import OutRecord
from fleetstream.serde.avro import codec, topic_codec


def encode_request(request: ActionRequest, *, topic: Topic = topics.ACTIONS) -> bytes:
    """ActionRequest -> framed Avro bytes for `topic`."""
    selector = request.selector
    return topic_codec(topic).encode(
        {
            "request_id": request.request_id,
            "submission_id": request.submission_id,
            "action": request.action,
            "params": dict(request.params),
            "selector": {
                "resource_type": selector.resource_type,
                "arns": list(selector.arns),
                "tags": dict(selector.tags),
                "attributes": dict(selector.attributes),
                "accounts": list(selector.accounts),
                "regions": list(selector.regions),
            },
            "dry_run": request.dry_run,
            "max_targets": request.max_targets,
            "requested_by": request.requested_by,
            "requested_at": request.requested_at,
            "submitter": request.submitter,
            "signature": request.signature,
            "approves": request.approves,
        }
    )


def decode_request(data: bytes | None) -> ActionRequest:
    """Framed Avro bytes -> ActionRequest; a v1 record has no submitter and no signature (the
    planner refuses it as unsigned, whatever its dry_run says)."""
    record = codec("action_request").decode(data)
    s = record["selector"]
    return ActionRequest(
        request_id=record["request_id"],
        submission_id=record["submission_id"],
        action=record["action"],
        params=record["params"],
        selector=Selector(
            resource_type=s["resource_type"],
            arns=tuple(s["arns"]),
            tags=s["tags"],
            attributes=s["attributes"],
            accounts=tuple(s["accounts"]),
            regions=tuple(s["regions"]),
        ),
        dry_run=record["dry_run"],
        max_targets=record["max_targets"],
        requested_by=record["requested_by"],
        requested_at=record["requested_at"],
        submitter=record["submitter"],
        signature=record["signature"],
        approves=record["approves"],
    )


def encode_step(step: ActionStep, *, topic: Topic = topics.ACTION_WORK) -> bytes:
    """ActionStep -> framed Avro bytes for `topic` (action-work or action-delay)."""
    return topic_codec(topic).encode(
        {
            "request_id": step.request_id,
            "submission_id": step.submission_id,
            "action": step.action,
            "params": dict(step.params),
            "account_id": step.account_id,
            "region": step.region,
            "resource_type": step.resource_type,
            "step_id": step.step_id,
            "step": step.step,
            "targets": [{"arn": t.arn, "resource_id": t.resource_id} for t in step.targets],
            "requested_by": step.requested_by,
            "issued_at": step.issued_at,
            "attempt": step.attempt,
            "not_before": step.not_before,
            "state": dict(step.state),
            "last_error": step.last_error,
        }
    )


def decode_step(data: bytes | None) -> ActionStep:
    """Framed Avro bytes -> ActionStep."""
    record = codec("action_step").decode(data)
    targets = tuple(Target(t["arn"], t["resource_id"]) for t in record.pop("targets"))
    return ActionStep(targets=targets, **record)


def encode_result(result: ActionResult, *, topic: Topic = topics.ACTION_RESULTS) -> bytes:
    """ActionResult -> framed Avro bytes for `topic`."""
    return topic_codec(topic).encode(result_record(result))


def result_record(result: ActionResult) -> dict[str, Any]:
    """The Avro record of a result (also how the audit table keeps outcomes)."""
    return {
        "request_id": result.request_id,
        "submission_id": result.submission_id,
        "action": result.action,
        "kind": result.kind.value,
        "status": result.status,
        "finished_at": result.finished_at,
        "step_id": result.step_id,
        "step": result.step,
        "account_id": result.account_id,
        "region": result.region,
        "outcomes": [
            {
                "arn": o.arn,
                "resource_id": o.resource_id,
                "status": o.status.value,
                "reason": o.reason,
            }
            for o in result.outcomes
        ],
        "reason": result.reason,
        "duplicate": result.duplicate,
        "final": result.final,
    }


def decode_result(data: bytes | None) -> ActionResult:
    """Framed Avro bytes -> ActionResult."""
    record = codec("action_result").decode(data)
    try:
        outcomes = tuple(
            Outcome(o["arn"], o["resource_id"], OutcomeStatus(o["status"]), o["reason"])
            for o in record.pop("outcomes")
        )
        kind = ResultKind(record.pop("kind"))
    except ValueError as exc:
        raise PoisonMessageError(f"bad action result: {exc}") from exc
    return ActionResult(outcomes=outcomes, kind=kind, **record)


def step_record(settings: Settings, step: ActionStep) -> OutRecord:
    """A step on action-work, or on action-delay with its due time when it must wait."""
    key = step.budget_key.encode()
    if step.not_before is None:
        work = topics.ACTION_WORK
        return OutRecord(settings.kafka.topic(work.name), key, encode_step(step, topic=work))
    delay = topics.ACTION_DELAY
    return OutRecord(
        settings.kafka.topic(delay.name),
        key,
        encode_step(step, topic=delay),
        [(NOT_BEFORE_HEADER, epoch_ms_header(step.not_before))],
    )
