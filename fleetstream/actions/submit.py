"""`fleetstream act`: plan a request against the inventory, print it, submit it on request."""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from confluent_kafka import KafkaError, Message

from fleetstream.actions.models import ActionRequest, Selector, idempotency_key
from fleetstream.actions.policy import RequestRefusedError
from fleetstream.actions.registry import ActionError, action_spec
from fleetstream.actions.selector import InventoryQuery, Plan
from fleetstream.actions.signing import sign_request
from fleetstream.actions.wire import encode_request
from fleetstream.base.config import Settings, SubmitterIdentity
from fleetstream.base.errors import FleetstreamError
from fleetstream.base.models import utc_now
from fleetstream.inventory.report import table
from fleetstream.kafka import clients as kafka
from fleetstream.kafka import topics
from fleetstream.kafka.auth import resolve_secret


@dataclass(frozen=True, slots=True)
class Proposal:
    """A validated request and its plan, before anything is produced."""

    request: ActionRequest
    plan: Plan


def propose(
    action: str,
    selector: Selector,
    params: Mapping[str, str],
    *,
    max_targets: int,
    key: str | None,
    query: InventoryQuery,
    accounts: Callable[[], list[str]],
    approves: str | None = None,
) -> Proposal:
    """Validate the request and plan it; ActionError (one line) when it cannot run.

    The request is a dry run until it is signed for submission (signed_for_execution).
    """
    spec = action_spec(action)
    spec.validate(selector.resource_type, params)
    default_id = approval_id(approves) if approves else idempotency_key(action, params, selector)
    request = ActionRequest(
        request_id=key or default_id,
        submission_id=uuid.uuid4().hex,
        action=action,
        params=dict(params),
        selector=selector,
        max_targets=max_targets,
        requested_by=f"{getpass.getuser()}@{socket.gethostname()}",
        requested_at=utc_now(),
        approves=approves,
    )
    needs_accounts = not (selector.accounts or selector.arns)
    plan = query.plan(selector, accounts() if needs_accounts else ())
    if plan.total > max_targets:
        raise RequestRefusedError(
            f"refused: {plan.total} targets exceed --max-targets {max_targets}; "
            "narrow the selector or raise --max-targets"
        )
    return Proposal(request, plan)


def approval_id(approves: str) -> str:
    """An approval's own request id: distinct from the request it approves."""
    return "apr-" + hashlib.sha256(f"{approves}|{uuid.uuid4().hex}".encode()).hexdigest()[:24]


def signed_for_execution(
    request: ActionRequest, submitter: SubmitterIdentity | None
) -> ActionRequest:
    """The request made to act (dry_run False), signed as the configured submitter."""
    if submitter is None:
        raise ActionError(
            "actions.submitter is not set: this process has no key to sign requests with "
            "(docs/security.md)"
        )
    key = resolve_secret(submitter.key, "key", section="actions.submitter")
    return sign_request(replace(request, dry_run=False, submitter=submitter.name), key)


def plan_text(proposal: Proposal) -> str:
    """The plan as a table: targets per account and region, and the total."""
    rows = [(a, r, len(t)) for (a, r), t in sorted(proposal.plan.targets.items())]
    rows.append(("total", "", proposal.plan.total))
    request = proposal.request
    head = (
        f"{request.action} {json.dumps(dict(request.params))} on {request.selector.resource_type}"
    )
    return f"{head}\n{table(('account', 'region', 'targets'), rows)}"


def submit(settings: Settings, request: ActionRequest) -> None:
    """Produce the request to the actions topic and wait for its delivery report."""
    kafka.ensure_topics(settings.kafka)
    producer = kafka.make_producer(settings.kafka)
    failures: list[KafkaError] = []

    def delivered(error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            failures.append(error)

    producer.produce(
        topics.ACTIONS.kafka_name(settings.kafka),
        key=request.partition_key.encode(),
        value=encode_request(request, topic=topics.ACTIONS),
        on_delivery=delivered,
    )
    if producer.flush(30) or failures:
        raise FleetstreamError(f"the request was not delivered to Kafka: {failures or 'timeout'}")
