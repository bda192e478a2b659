"""Wires the actor consumer group: action-work + action-delay -> AWS -> results + next steps."""

from __future__ import annotations

import logging

from confluent_kafka import Message

from consumers.actor.ec2 import BATCH_ACTIONS
from consumers.actor.handler import Actor, StepOutput
from consumers.actor.rds_workflow import WORKFLOWS
from consumers.actor.steps import WaitPolicy
from fleetstream.actions.audit import audit_log
from fleetstream.actions.models import ActionStep
from fleetstream.actions.wire import decode_step, encode_result, step_record
from fleetstream.aws.clients import AwsClients
from fleetstream.base.config import Settings
from fleetstream.base.metrics import ACTION_OUTCOMES, ACTION_RETRIES, ACTION_STEPS
from fleetstream.base.retry import RetryPolicy
from fleetstream.kafka import topics
from fleetstream.runtime.loop import (
    TransactionalLoop,
    run_group,
    transactional_group,
)
from fleetstream.runtime.records import OutRecord

log = logging.getLogger(__name__)


def build(settings: Settings, clients: AwsClients | None = None) -> TransactionalLoop:
    """Build the actor loop."""
    config = settings.actions
    actor = Actor(
        # The same client factory as the describers: the same token buckets per
        # (account, region, service) and adaptive retries.
        # The actions role (aws.action_role_name), never the describers' read-only one.
        clients or AwsClients(settings.aws.acting()),
        audit_log(settings),
        BATCH_ACTIONS | WORKFLOWS,
        wait=WaitPolicy(config.wait_first_s, config.wait_every_s, config.wait_max_checks),
        retry=RetryPolicy(
            config.retry_max_attempts, config.retry_base_s, config.retry_max_backoff_s
        ),
    )
    results_topic = topics.ACTION_RESULTS.kafka_name(settings.kafka)

    def handle(message: Message) -> list[OutRecord]:
        step = decode_step(message.value())
        output = actor.handle(step)
        log.info("%s %s %s: %s", step.action, step.step_id, step.step, _summary(output))
        count(step, output)
        records = []
        if output.result is not None:
            records.append(
                OutRecord(
                    results_topic,
                    step.request_id.encode(),
                    encode_result(output.result, topic=topics.ACTION_RESULTS),
                )
            )
        if output.next_step is not None:
            records.append(step_record(settings, output.next_step))
        return records

    return transactional_group(
        settings,
        group=config.group_id,
        instance_id=config.instance_id,
        topics=[
            topics.ACTION_WORK.kafka_name(settings.kafka),
            topics.ACTION_DELAY.kafka_name(settings.kafka),
        ],
        handler=handle,
        batch_size=config.batch_size,
        concurrency=config.concurrency,
        commit_watchdog_s=config.commit_watchdog_s,
    )


def count(step: ActionStep, output: StepOutput) -> None:
    """The actor's metrics of one step."""
    result = output.result
    if result is None:
        ACTION_RETRIES.labels(step.action).inc()
        return
    status = "DUPLICATE" if result.duplicate else result.status
    ACTION_STEPS.labels(step.action, step.step, status).inc()
    if not result.duplicate and result.final:
        for outcome in result.outcomes:
            ACTION_OUTCOMES.labels(step.action, outcome.status.value).inc()


def _summary(output: StepOutput) -> str:
    parts = []
    if output.result is not None:
        dup = " (already done: first result returned)" if output.result.duplicate else ""
        parts.append(f"{output.result.status}{dup}")
    if output.next_step is not None:
        step = output.next_step
        when = f" at {step.not_before:%H:%M:%S}" if step.not_before else ""
        parts.append(f"next {step.step}{when}")
    return ", ".join(parts) or "nothing"


def run(settings: Settings) -> None:
    """Run the actor until SIGTERM."""
    run_group("actor", settings, build)
