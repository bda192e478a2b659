"""Wires the action planner group: actions -> inventory query -> action-work + action-results."""

from __future__ import annotations

import logging

from confluent_kafka import Message

from consumers.action_planner.handler import ActionPlanner
from consumers.actor.main import step_record
from fleetstream.actions.audit import audit_log
from fleetstream.actions.selector import InventoryQuery
from fleetstream.actions.wire import decode_request, encode_result
from fleetstream.aws import AwsClients, dynamodb_client
from fleetstream.config import Settings
from fleetstream.loop import TransactionalLoop, run_group, transactional_group
from fleetstream.records import OutRecord
from producers.accounts import active_account_ids

log = logging.getLogger(__name__)


def build(settings: Settings) -> TransactionalLoop:
    """Build the action planner loop."""
    clients = AwsClients(settings.aws)
    planner = ActionPlanner(
        InventoryQuery(dynamodb_client(settings), settings.sink.table),
        audit_log(settings),
        lambda: active_account_ids(settings.accounts, clients),
    )
    results_topic = settings.kafka.topic("action-results")

    def handle(message: Message) -> list[OutRecord]:
        request = decode_request(message.value())
        planned = planner.handle(request)
        log.info(
            "request %s (%s): %s %s",
            request.request_id,
            request.action,
            planned.result.status,
            planned.result.reason,
        )
        key = request.request_id.encode()
        records = [OutRecord(results_topic, key, encode_result(planned.result))]
        records += [step_record(settings, step) for step in planned.steps]
        return records

    # One request per transaction: a request is planned alone, its steps committed with it.
    return transactional_group(
        settings,
        group=settings.actions.planner_group_id,
        instance_id=settings.actions.instance_id,
        topics=[settings.kafka.topic("actions")],
        handler=handle,
        batch_size=1,
        concurrency=1,
        commit_watchdog_s=settings.actions.commit_watchdog_s,
    )


def run(settings: Settings) -> None:
    """Run the action planner until SIGTERM."""
    run_group("action-planner", settings, build)
