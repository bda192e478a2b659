"""The actor's handler against moto and DynamoDB Local: once per step, throttling slows,
vanished targets are skipped. No Kafka: the handler is called directly, as the loop does."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import replace

import pytest

from consumers.actor.ec2 import BATCH_ACTIONS
from consumers.actor.handler import Actor
from consumers.actor.rds_workflow import WORKFLOWS
from consumers.actor.steps import WaitPolicy
from devstack import StackEndpoints
from devstack.seed import Estate, EstateSpec, seed_estate
from fleetstream.actions.audit import AuditLog, audit_log
from fleetstream.actions.models import ActionStep, OutcomeStatus, Target
from fleetstream.aws.clients import AwsClients, dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.base.models import utc_now
from fleetstream.base.retry import RetryPolicy
from tests.integration.helpers import aws_calls, member_client, set_faults, settings_for

pytestmark = pytest.mark.integration
REGION = "eu-west-1"
GONE_INSTANCE = "i-0123456789abcdef0"


def make_actor(settings: Settings, audit: AuditLog, max_attempts: int = 3) -> Actor:
    return Actor(
        AwsClients(settings.aws),
        audit,
        BATCH_ACTIONS | WORKFLOWS,
        wait=WaitPolicy(first_s=30, every_s=5, max_checks=3),
        retry=RetryPolicy(max_attempts=max_attempts, base_s=0.1, max_backoff_s=1),
    )


def step_of(
    action: str,
    account: str,
    targets: list[Target],
    resource_type: str = "ec2.instance",
    **params: str,
) -> ActionStep:
    return ActionStep(
        request_id=f"req-{uuid.uuid4().hex[:8]}",
        submission_id="first",
        action=action,
        params=params,
        account_id=account,
        region=REGION,
        resource_type=resource_type,
        step_id=f"{account}/{REGION}/0",
        step="batch",
        targets=tuple(targets),
        requested_by="test",
        issued_at=utc_now(),
    )


def one_account(
    stack: StackEndpoints, monkeypatch: pytest.MonkeyPatch, instances: int, **env: str
) -> tuple[str, Estate, Settings]:
    """A one-account, one-region estate and the settings pointing at it."""
    endpoint = stack.aws_endpoint
    assert endpoint
    estate = seed_estate(
        endpoint,
        EstateSpec(
            member_accounts=1, regions=(REGION,), instances_per_region=instances, paged_region=None
        ),
    )
    return endpoint, estate, settings_for(monkeypatch, estate, **env)


def calls(endpoint: str, since: float) -> Counter[str]:
    return Counter(c["action"] for c in aws_calls(endpoint) if c["at"] >= since)


def test_actor_acts_once_and_skips_what_vanished(
    local_stack: StackEndpoints, pipeline: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, estate, settings = one_account(local_stack, monkeypatch, instances=2)
    account = estate.accounts[0].account_id
    audit = audit_log(settings)
    actor = make_actor(settings, audit)
    live = [
        Target(f"arn:aws:ec2:{REGION}:{account}:instance/{i.instance_id}", i.instance_id)
        for i in estate.instances
    ]
    gone = Target(f"arn:aws:ec2:{REGION}:{account}:instance/{GONE_INSTANCE}", GONE_INSTANCE)
    step = step_of("stop", account, [*live, gone])
    started = utc_now().timestamp()

    first = actor.handle(step)
    assert first.result is not None and not first.result.duplicate
    assert first.result.status == "OK"
    assert {o.resource_id: o.status for o in first.result.outcomes} == {
        **{t.resource_id: OutcomeStatus.OK for t in live},
        GONE_INSTANCE: OutcomeStatus.SKIPPED,
    }
    # A redelivery and a re-submission both get the first result back and call nothing.
    after_first = calls(endpoint, started)
    again = actor.handle(step)
    resubmitted = actor.handle(replace(step, submission_id="second"))
    assert calls(endpoint, started) == after_first
    for output in (again, resubmitted):
        assert output.result is not None and output.result.duplicate
        assert output.result.outcomes == first.result.outcomes
        assert output.next_step is None
    ec2 = member_client(endpoint, account, "ec2", REGION)
    states = ec2.describe_instances(InstanceIds=[t.resource_id for t in live])
    assert {i["State"]["Name"] for r in states["Reservations"] for i in r["Instances"]} <= {
        "stopping",
        "stopped",
    }


def test_throttling_slows_a_step_and_fails_it_only_after_its_attempts(
    local_stack: StackEndpoints, pipeline: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One attempt per call: botocore's own retries would only make the test slower.
    endpoint, estate, settings = one_account(
        local_stack, monkeypatch, instances=1, FLEETSTREAM_AWS__MAX_ATTEMPTS="1"
    )
    account = estate.accounts[0].account_id
    actor = make_actor(settings, audit_log(settings), max_attempts=2)
    instance = estate.instances[0].instance_id
    step = step_of("tag", account, [Target(f"arn:{instance}", instance)], Production="Yes")
    set_faults(
        endpoint,
        {
            "errors": [
                {
                    "action": "CreateTags",
                    "rate": 1.0,
                    "code": "RequestLimitExceeded",
                    "status": 503,
                    "account": account,
                }
            ]
        },
    )
    try:
        output = actor.handle(step)
        assert output.result is None  # no result yet: it is retried later, not failed
        retry = output.next_step
        assert retry is not None and retry.attempt == 1 and retry.not_before is not None
        assert retry.not_before > retry.issued_at
        assert retry.last_error is not None and "throttled" in retry.last_error
        given_up = actor.handle(retry)
    finally:
        set_faults(endpoint, {})
    assert given_up.result is not None and given_up.result.final
    assert given_up.result.status == "FAILED"
    assert "gave up after 2 attempts" in str(given_up.result.reason)


def test_other_services_are_tagged_through_the_tagging_api(
    local_stack: StackEndpoints, pipeline: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, estate, settings = one_account(local_stack, monkeypatch, instances=0)
    account = estate.accounts[0].account_id
    rds = member_client(endpoint, account, "rds", REGION)
    targets = [
        Target(
            rds.create_db_cluster(
                DBClusterIdentifier=f"ledger-{n}",
                Engine="aurora-postgresql",
                MasterUsername="fleetadmin",
                MasterUserPassword="not-a-secret-1",
            )["DBCluster"]["DBClusterArn"],
            f"ledger-{n}",
        )
        for n in range(3)
    ]
    started = utc_now().timestamp()
    step = step_of("tag", account, targets, "rds.db_cluster", Production="Yes")
    output = make_actor(settings, audit_log(settings)).handle(step)
    assert output.result is not None and output.result.status == "OK"
    assert calls(endpoint, started)["TagResources"] == 1  # 3 ARNs, one call
    for target in targets:
        tags = rds.list_tags_for_resource(ResourceName=target.arn)["TagList"]
        assert {"Key": "Production", "Value": "Yes"} in tags


def test_a_snapshot_step_repeated_after_a_crash_makes_no_second_snapshot(
    local_stack: StackEndpoints, pipeline: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window between the AWS calls and the audit record: the step runs again and finds
    the snapshots its first run made (CreateSnapshot has no idempotency token)."""
    endpoint, estate, settings = one_account(local_stack, monkeypatch, instances=0)
    account = estate.accounts[0].account_id
    ec2 = member_client(endpoint, account, "ec2", REGION)
    volumes = [
        ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1)["VolumeId"] for _ in range(2)
    ]
    targets = [Target(f"arn:aws:ec2:{REGION}:{account}:volume/{v}", v) for v in volumes]
    audit = audit_log(settings)
    actor = make_actor(settings, audit)
    step = step_of("snapshot", account, targets, "ec2.volume")
    started = utc_now().timestamp()
    first = actor.handle(step)
    # As if the process died before the audit record was written.
    dynamodb_client(settings).delete_item(
        TableName=audit.table,
        Key={"request_id": {"S": step.request_id}, "record": {"S": step.record_key}},
    )
    again = actor.handle(step)
    assert first.result is not None and again.result is not None
    assert not again.result.duplicate
    assert again.result.outcomes == first.result.outcomes
    assert {o.status for o in first.result.outcomes} == {OutcomeStatus.OK}
    assert calls(endpoint, started)["CreateSnapshot"] == 2  # one per volume, not four
    snapshots = ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
    assert sorted(s["VolumeId"] for s in snapshots if s["VolumeId"] in volumes) == sorted(volumes)
