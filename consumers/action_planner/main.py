"""Wires the action planner group: actions -> inventory query -> action-work + action-results."""

from __future__ import annotations

import logging
from collections.abc import Callable

from confluent_kafka import Message

from consumers.action_planner.handler import ActionPlanner
from fleetstream.actions.audit import audit_log
from fleetstream.actions.policy import Estate, RequestRefusedError
from fleetstream.actions.selector import InventoryQuery
from fleetstream.actions.signing import submitter_key_problem
from fleetstream.actions.wire import decode_request, encode_result, step_record
from fleetstream.aws.accounts import active_account_ids
from fleetstream.aws.clients import AwsClients, dynamodb_client
from fleetstream.base.config import ActionPolicy, Settings
from fleetstream.base.errors import ConfigError
from fleetstream.kafka import topics
from fleetstream.kafka.auth import resolve_secret
from fleetstream.runtime.loop import (
    TransactionalLoop,
    run_group,
    to_dead_letter,
    transactional_group,
)
from fleetstream.runtime.records import OutRecord

log = logging.getLogger(__name__)


def submitter_keys(policy: ActionPolicy) -> dict[str, str]:
    """Each submitter's signing key, read once at start (a ConfigError names a missing, short
    or shared one)."""
    keys = {
        name: resolve_secret(source, name, section="actions.policy.submitters")
        for name, source in policy.submitters.items()
    }
    problem = submitter_key_problem(keys)
    if problem is not None:
        raise ConfigError(problem)
    return keys


def estate_of(settings: Settings, clients: AwsClients) -> Callable[[], Estate]:
    """The estate's accounts now (include/exclude applied); the organization's on demand."""
    everyone = settings.accounts.model_copy(update={"include": (), "exclude": ()})

    def estate() -> Estate:
        return Estate(
            frozenset(active_account_ids(settings.accounts, clients)),
            lambda: active_account_ids(everyone, clients),
        )

    return estate


def build(settings: Settings) -> TransactionalLoop:
    """Build the action planner loop."""
    clients = AwsClients(settings.aws)
    keys = submitter_keys(settings.actions.policy)
    if not keys:
        log.warning("actions.policy.submitters is empty: every request will be refused")
    planner = ActionPlanner(
        InventoryQuery(dynamodb_client(settings), settings.sink.table),
        audit_log(settings),
        settings.actions.policy,
        keys,
        estate_of(settings, clients),
    )
    results_topic = topics.ACTION_RESULTS.kafka_name(settings.kafka)
    group = settings.actions.planner_group_id
    dlq_topic = topics.DLQ.kafka_name(settings.kafka)

    def handle(message: Message) -> list[OutRecord]:
        request = decode_request(message.value())
        planned = planner.handle(request)
        log.info(
            "request %s (%s) from %s: %s %s",
            request.request_id,
            request.action,
            request.submitter or "(unsigned)",
            planned.result.status,
            planned.result.reason,
        )
        records = [
            OutRecord(
                results_topic,
                result.request_id.encode(),
                encode_result(result, topic=topics.ACTION_RESULTS),
            )
            for result in (planned.result, *planned.also)
        ]
        records += [step_record(settings, step) for step in planned.steps]
        if planned.refused:
            # Refused requests are parked with the reason: visible, and replayable once the
            # policy or the submitter's key is fixed.
            refused = RequestRefusedError(planned.result.reason or "refused")
            records.append(
                to_dead_letter(message, refused, kind="refused", group=group, dlq_topic=dlq_topic)
            )
        return records

    # One request per transaction: a request is planned alone, its steps committed with it.
    return transactional_group(
        settings,
        group=group,
        instance_id=settings.actions.instance_id,
        topics=[topics.ACTIONS.kafka_name(settings.kafka)],
        handler=handle,
        batch_size=1,
        concurrency=1,
        commit_watchdog_s=settings.actions.commit_watchdog_s,
    )


def run(settings: Settings) -> None:
    """Run the action planner until SIGTERM."""
    run_group("action-planner", settings, build)
