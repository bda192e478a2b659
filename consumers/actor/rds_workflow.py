"""The RDS cluster snapshot workflow as a durable state machine, one Kafka message per step.

create -> wait_snapshot -> copy -> wait_copy -> share. A wait is a delayed re-check (the next
message carries a due time and waits unread on the action-delay topic), never a sleeping
thread. Snapshot identifiers derive from the execution id, so a step repeated after a crash
finds what its first attempt made (the *AlreadyExists faults) instead of making a second one.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from consumers.actor.steps import (
    Execution,
    Implementation,
    NextStep,
    WaitPolicy,
    is_not_found,
    retry_or_reason,
)
from fleetstream.actions.models import ActionStep, Outcome, OutcomeStatus
from fleetstream.aws.clients import AwsClients
from fleetstream.aws.errors import error_code

_ALREADY_EXISTS = "DBClusterSnapshotAlreadyExistsFault"
_FAILED_STATES = {"failed", "deleted", "incompatible-restore"}


def snapshot_ids(execution_id: str) -> tuple[str, str]:
    """(snapshot, copy) identifiers of an execution: stable, so steps are repeatable."""
    base = f"fleetstream-{execution_id}"
    return base, f"{base}-copy"


def run_step(clients: AwsClients, step: ActionStep, wait: WaitPolicy) -> Execution:
    """Execute one step of one execution and say what follows."""
    rds = clients.member(step.account_id, step.region, "rds")
    snapshot, copy = snapshot_ids(step.step_id)
    try:
        if step.step == "create":
            return _create(rds, step, snapshot, wait)
        if step.step == "wait_snapshot":
            return _wait(rds, step, snapshot, "copy", wait)
        if step.step == "copy":
            return _copy(rds, step, snapshot, copy, wait)
        if step.step == "wait_copy":
            return _wait(rds, step, copy, "share", wait)
        if step.step == "share":
            return _share(rds, step, copy)
    except (ClientError, BotoCoreError) as error:
        reason = retry_or_reason(error)
        gone = isinstance(error, ClientError) and is_not_found(error)
        status = OutcomeStatus.SKIPPED if gone and step.step == "create" else OutcomeStatus.FAILED
        return _end(step, status, f"{step.step}: {'vanished: ' if gone else ''}{reason}")
    return _end(step, OutcomeStatus.FAILED, f"unknown workflow step {step.step!r}")


def _create(rds: Any, step: ActionStep, snapshot: str, wait: WaitPolicy) -> Execution:
    try:
        rds.create_db_cluster_snapshot(
            DBClusterIdentifier=step.targets[0].resource_id,
            DBClusterSnapshotIdentifier=snapshot,
            Tags=[{"Key": "fleetstream:request", "Value": step.request_id}],
        )
    except ClientError as error:
        if error_code(error) != _ALREADY_EXISTS:  # made by an attempt that crashed after it
            raise
    return _continue(
        step, f"creating {snapshot}", NextStep("wait_snapshot", wait.first_s, {"check": "1"})
    )


def _wait(rds: Any, step: ActionStep, snapshot: str, then: str, wait: WaitPolicy) -> Execution:
    found = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=snapshot)
    status = found["DBClusterSnapshots"][0]["Status"]
    if status == "available":
        state = {"snapshot_arn": found["DBClusterSnapshots"][0]["DBClusterSnapshotArn"]}
        return _continue(step, f"{snapshot} available", NextStep(then, 0.0, state))
    if status in _FAILED_STATES:
        return _end(step, OutcomeStatus.FAILED, f"{snapshot} is {status}")
    check = int(step.state.get("check", "1"))
    if check >= wait.max_checks:
        return _end(step, OutcomeStatus.FAILED, f"{snapshot} still {status} after {check} checks")
    state = {"check": str(check + 1)}
    return _continue(
        step, f"{snapshot} {status}", NextStep(step.step, wait.every_s, state), "WAITING"
    )


def _copy(rds: Any, step: ActionStep, snapshot: str, copy: str, wait: WaitPolicy) -> Execution:
    try:
        rds.copy_db_cluster_snapshot(
            SourceDBClusterSnapshotIdentifier=step.state.get("snapshot_arn", snapshot),
            TargetDBClusterSnapshotIdentifier=copy,
            KmsKeyId=step.params["kms_key_id"],
            Tags=[{"Key": "fleetstream:request", "Value": step.request_id}],
        )
    except ClientError as error:
        if error_code(error) != _ALREADY_EXISTS:
            raise
    return _continue(
        step, f"copying to {copy}", NextStep("wait_copy", wait.first_s, {"check": "1"})
    )


def _share(rds: Any, step: ActionStep, copy: str) -> Execution:
    target_account = step.params["target_account"]
    # Adding an account that is already in the attribute is a no-op: repeatable.
    rds.modify_db_cluster_snapshot_attribute(
        DBClusterSnapshotIdentifier=copy, AttributeName="restore", ValuesToAdd=[target_account]
    )
    return _end(step, OutcomeStatus.OK, f"{copy} shared with {target_account}")


def _continue(step: ActionStep, reason: str, next_step: NextStep, status: str = "OK") -> Execution:
    target = step.targets[0]
    outcome = Outcome(target.arn, target.resource_id, OutcomeStatus.OK, reason)
    return Execution(status, (outcome,), final=False, next=next_step)


def _end(step: ActionStep, status: OutcomeStatus, reason: str) -> Execution:
    target = step.targets[0]
    outcome = Outcome(target.arn, target.resource_id, status, reason)
    return Execution(status.value, (outcome,), final=True, reason=reason)


WORKFLOWS: dict[str, Implementation] = {"rds-snapshot-share": run_step}
