"""Batch actions: tag, untag, stop, start, snapshot; many ids per call where the API allows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from consumers.actor.steps import (
    Execution,
    Implementation,
    WaitPolicy,
    call_live,
    finished,
    is_not_found,
    retry_or_reason,
)
from fleetstream.actions.models import ActionStep, Outcome, OutcomeStatus, Target
from fleetstream.aws.clients import AwsClients
from fleetstream.inventory.dynamodb import chunks

# The resource groups tagging API takes at most 20 ARNs per call.
_TAGGING_API_CHUNK = 20
REQUEST_TAG = "fleetstream:request"


def _ec2(clients: AwsClients, step: ActionStep) -> Any:
    return clients.member(step.account_id, step.region, "ec2")


def tag(clients: AwsClients, step: ActionStep, _wait: WaitPolicy) -> Execution:
    """CreateTags with every id of the batch in one call (TagResources for non-EC2 types)."""
    if not step.resource_type.startswith("ec2."):
        return _tagging_api(clients, step, untag=False)
    tags = [{"Key": k, "Value": v} for k, v in sorted(step.params.items())]
    ec2 = _ec2(clients, step)
    return finished(call_live(step.targets, lambda ids: ec2.create_tags(Resources=ids, Tags=tags)))


def untag(clients: AwsClients, step: ActionStep, _wait: WaitPolicy) -> Execution:
    """DeleteTags: a key alone removes it, Key=Value removes it only with that value."""
    if not step.resource_type.startswith("ec2."):
        return _tagging_api(clients, step, untag=True)
    tags = [{"Key": k, "Value": v} if v else {"Key": k} for k, v in sorted(step.params.items())]
    ec2 = _ec2(clients, step)
    return finished(call_live(step.targets, lambda ids: ec2.delete_tags(Resources=ids, Tags=tags)))


def stop(clients: AwsClients, step: ActionStep, _wait: WaitPolicy) -> Execution:
    """StopInstances for the whole batch."""
    ec2 = _ec2(clients, step)
    return finished(call_live(step.targets, lambda ids: ec2.stop_instances(InstanceIds=ids)))


def start(clients: AwsClients, step: ActionStep, _wait: WaitPolicy) -> Execution:
    """StartInstances for the whole batch."""
    ec2 = _ec2(clients, step)
    return finished(call_live(step.targets, lambda ids: ec2.start_instances(InstanceIds=ids)))


def snapshot(clients: AwsClients, step: ActionStep, _wait: WaitPolicy) -> Execution:
    """One CreateSnapshot per volume, tagged with the request, so a retry after a crash finds
    the snapshots it already made (CreateSnapshot has no idempotency token)."""
    ec2 = _ec2(clients, step)
    try:
        existing = {
            s["VolumeId"]: s["SnapshotId"]
            for page in ec2.get_paginator("describe_snapshots").paginate(
                OwnerIds=["self"],
                Filters=[{"Name": f"tag:{REQUEST_TAG}", "Values": [step.request_id]}],
            )
            for s in page["Snapshots"]
        }
    except (ClientError, BotoCoreError) as error:
        reason = retry_or_reason(error)
        return finished(
            [Outcome(t.arn, t.resource_id, OutcomeStatus.FAILED, reason) for t in step.targets]
        )
    description = step.params.get("description") or f"fleetstream {step.request_id}"
    outcomes: list[Outcome] = []
    for target in step.targets:
        if target.resource_id in existing:
            outcomes.append(_ok(target, existing[target.resource_id]))
            continue
        try:
            made = ec2.create_snapshot(
                VolumeId=target.resource_id,
                Description=description,
                TagSpecifications=[
                    {
                        "ResourceType": "snapshot",
                        "Tags": [{"Key": REQUEST_TAG, "Value": step.request_id}],
                    }
                ],
            )
        except (ClientError, BotoCoreError) as error:
            outcomes.append(_failed_or_skipped(target, error))
        else:
            outcomes.append(_ok(target, made["SnapshotId"]))
    return finished(outcomes)


def _ok(target: Target, reason: str) -> Outcome:
    return Outcome(target.arn, target.resource_id, OutcomeStatus.OK, reason)


def _failed_or_skipped(target: Target, error: ClientError | BotoCoreError) -> Outcome:
    reason = retry_or_reason(error)
    if isinstance(error, ClientError) and is_not_found(error):
        return Outcome(target.arn, target.resource_id, OutcomeStatus.SKIPPED, f"vanished: {reason}")
    return Outcome(target.arn, target.resource_id, OutcomeStatus.FAILED, reason)


def _tagging_api(clients: AwsClients, step: ActionStep, *, untag: bool) -> Execution:
    """TagResources / UntagResources, 20 ARNs per call; failures come back per ARN."""
    api = clients.member(step.account_id, step.region, "resourcegroupstaggingapi")
    outcomes: list[Outcome] = []
    for chunk in chunks(step.targets, _TAGGING_API_CHUNK):
        arns = [t.arn for t in chunk]
        try:
            if untag:
                response = api.untag_resources(ResourceARNList=arns, TagKeys=sorted(step.params))
            else:
                response = api.tag_resources(ResourceARNList=arns, Tags=dict(step.params))
        except (ClientError, BotoCoreError) as error:
            outcomes += [_failed_or_skipped(t, error) for t in chunk]
            continue
        outcomes += _per_arn(chunk, response.get("FailedResourcesMap", {}))
    return finished(outcomes)


def _per_arn(targets: Sequence[Target], failed: dict[str, Any]) -> list[Outcome]:
    outcomes = []
    for target in targets:
        failure = failed.get(target.arn)
        if failure is None:
            outcomes.append(Outcome(target.arn, target.resource_id, OutcomeStatus.OK))
            continue
        reason = f"{failure.get('ErrorCode', '')}: {failure.get('ErrorMessage', '')}"[:500]
        gone = "NotFound" in reason or "does not exist" in reason
        status = OutcomeStatus.SKIPPED if gone else OutcomeStatus.FAILED
        outcomes.append(Outcome(target.arn, target.resource_id, status, reason))
    return outcomes


BATCH_ACTIONS: dict[str, Implementation] = {
    "tag": tag,
    "untag": untag,
    "stop": stop,
    "start": start,
    "snapshot": snapshot,
}
