"""The action plane on the real stack: the fleet tagging job and the RDS snapshot workflow."""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from devstack import StackEndpoints
from devstack.seed import EstateSpec, seed_estate
from fleetstream.actions.audit import audit_log
from fleetstream.actions.models import ActionResult, ResultKind
from fleetstream.actions.status import RequestStatus, request_status
from fleetstream.actions.wire import decode_result
from fleetstream.apps.actions_cli import act_command, action_status_command
from fleetstream.base.config import Settings, load_settings
from fleetstream.kafka import clients as kafka
from fleetstream.runtime.workers import WorkerPool
from tests.dashboards import load, queries_without_data, row_panels
from tests.integration.helpers import (
    action_policy_env,
    aws_calls,
    member_client,
    read_topic,
    set_faults,
    settings_for,
    sweep,
)
from tests.prometheus_fixtures import PrometheusFactory

pytestmark = pytest.mark.integration

SIXTEEN_REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "sa-east-1",
)
# The same latency for every CreateTags, for the pipeline and the naive loop alike.
CREATE_TAGS_LATENCY_MS = 50


def act(*args: str) -> tuple[int, str]:
    """`fleetstream act ...` in this process; exit code and everything it printed."""
    obj = SimpleNamespace(settings=load_settings(None))
    result = CliRunner().invoke(act_command, list(args), obj=obj)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def calls_since(endpoint: str, since: float) -> Counter[str]:
    return Counter(c["action"] for c in aws_calls(endpoint) if c["at"] >= since)


def wait_finished(pool: WorkerPool, settings: Settings, request_id: str) -> RequestStatus:
    audit = audit_log(settings)
    deadline = time.monotonic() + 180
    status = request_status(audit, request_id)
    while not status.finished and time.monotonic() < deadline:
        pool.check()
        time.sleep(0.1)
        status = request_status(audit, request_id)
    assert status.finished, status.summary()
    return status


def start_action_plane(pool: WorkerPool, settings: Settings) -> None:
    pool.start("action-planner", 1)
    pool.start("actor", 1)
    assert kafka.wait_for_group(settings.kafka, settings.actions.planner_group_id, 1, 60)
    assert kafka.wait_for_group(settings.kafka, settings.actions.group_id, 1, 60)


def request_id_of(output: str) -> str:
    match = re.search(r"request (?:id )?(req-[0-9a-f]+)", output)
    assert match, output
    return match.group(1)


def test_fleet_tagging_job(
    local_stack: StackEndpoints,
    pipeline: object,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
    prometheus_factory: PrometheusFactory,
    measurements: list[str],
) -> None:
    """Production=Yes on every instance of 3 accounts x 16 regions, once; refusals produce
    nothing; the naive one-call-per-instance loop is measured against the same moto."""
    endpoint = local_stack.aws_endpoint
    assert endpoint
    estate = seed_estate(
        endpoint,
        EstateSpec(
            member_accounts=3, regions=SIXTEEN_REGIONS, instances_per_region=2, paged_region=None
        ),
    )
    settings = settings_for(
        monkeypatch,
        estate,
        FLEETSTREAM_RESOURCE_TYPES='["ec2.instance"]',
        **action_policy_env({"tag": {"max_targets": 1000}}),
    )
    sweep(settings, log_dir, ok=True)
    where = "type=ec2.instance"
    refusals_and_dry_run_produce_nothing(settings, endpoint, where)

    pool = WorkerPool(None, log_dir)
    set_faults(endpoint, {"latency_ms": {"CreateTags": CREATE_TAGS_LATENCY_MS}})
    try:
        start_action_plane(pool, settings)
        submitted = time.time()
        code, out = act("tag", "--where", where, "--set", "Production=Yes", "--execute")
        assert code == 0, out
        request_id = request_id_of(out)
        status = wait_finished(pool, settings, request_id)
        pipeline_s = time.time() - submitted
        first_calls = calls_since(endpoint, submitted)

        # A second identical request acts on nothing and returns the first results.
        again = time.time()
        code, out = act("tag", "--where", where, "--set", "Production=Yes", "--execute")
        assert code == 0 and "was submitted before" in out, out
        assert request_id_of(out) == request_id
        results = results_after_resubmission(settings, request_id)
        second_calls = calls_since(endpoint, again)
        naive_s, naive_calls = naive_loop(endpoint, estate.instances)
        # The dashboard's action-plane row has data to show for this job.
        prom = prometheus_factory({w.role: [w.metrics_url.split("/")[2]] for w in pool.workers})
        dashboard = load("fleetstream-continuous.json")
        prom.wait_until(
            "the action-plane panels to have data",
            lambda: (
                not queries_without_data(prom, dashboard, row_panels(dashboard, "Action plane"))
            ),
        )
    finally:
        set_faults(endpoint, {})
        pool.stop()

    assert status.steps == status.done == 48
    assert status.outcomes == Counter({"OK": 96}), status.summary()
    assert first_calls["CreateTags"] == 48, first_calls  # one call per account-region
    assert second_calls["CreateTags"] == 0, second_calls
    assert_resubmission_returned_the_first(results, 48)
    assert request_status(audit_log(settings), request_id).submissions == 2
    shown = CliRunner().invoke(
        action_status_command, [request_id], obj=SimpleNamespace(settings=settings)
    )
    assert f"{request_id}: PLANNED, 48/48 steps finished, 2 submission(s)" in shown.output
    assert "outcomes: 96 OK" in shown.output
    for instance in estate.instances:
        ec2 = member_client(endpoint, instance.account_id, "ec2", instance.region)
        tags = ec2.describe_tags(
            Filters=[{"Name": "resource-id", "Values": [instance.instance_id]}]
        )["Tags"]
        assert {"Key": "Production", "Value": "Yes"} in [
            {"Key": t["Key"], "Value": t["Value"]} for t in tags
        ], instance
    measurements.append(
        f"tagging job, 96 instances in 3 accounts x 16 regions (moto, CreateTags latency "
        f"{CREATE_TAGS_LATENCY_MS} ms): fleetstream act {pipeline_s:.2f} s submit-to-audited, "
        f"{first_calls['CreateTags']} CreateTags / {sum(first_calls.values())} AWS calls; "
        f"naive loop {naive_s:.2f} s, {naive_calls} CreateTags; "
        f"second identical request {second_calls['CreateTags']} CreateTags"
    )


def refusals_and_dry_run_produce_nothing(settings: Settings, endpoint: str, where: str) -> None:
    """Unknown action, malformed selector, over the guard: one line, exit 2; dry run: the
    plan. None of them produces a request or calls AWS."""
    started = time.time()
    code, out = act("reboot", "--where", where, "--execute")
    assert code == 2 and "unknown action 'reboot'" in out
    code, out = act("tag", "--where", "type=ec2.instance,Env", "--set", "A=b", "--execute")
    assert code == 2 and "malformed selector term 'Env'" in out
    code, out = act(
        "tag", "--where", where, "--set", "Production=Yes", "--max-targets", "95", "--execute"
    )
    # A refusal has its own exit code (ExitCode.REFUSED), distinct from a usage error's 2.
    assert code == 7 and "refused: 96 targets exceed --max-targets 95" in out
    code, out = act("tag", "--where", where, "--set", "Production=Yes")
    assert code == 0, out
    assert "dry run: nothing was submitted" in out
    assert re.search(r"^total\s+96$", out, re.MULTILINE), out
    assert len(re.findall(r"^\d{12}\s+\S+\s+2$", out, re.MULTILINE)) == 48, out
    account = settings.accounts.include[0]
    # Each index path of the selector: by_shard alone, by_shard + items, by_account + items.
    assert planned_total(f"{where},region=eu-west-1,region=sa-east-1") == 12
    assert planned_total(f"{where},tag:Environment=dev") == 48  # the first of 2 per region
    assert planned_total(f"{where},account={account},region=eu-west-1,tag:Team=search") == 1
    assert planned_total(f"{where},attr:InstanceType=t3.micro,account={account}") == 32
    assert planned_total(f"{where},attr:InstanceType=m5.large") == 0
    kafka.ensure_topics(settings.kafka)
    assert read_topic(settings, settings.kafka.topic("actions"), idle_s=1.0) == []
    assert calls_since(endpoint, started)["CreateTags"] == 0


def planned_total(where: str) -> int:
    """The total of a dry run's plan."""
    code, out = act("tag", "--where", where, "--set", "Production=Yes")
    assert code == 0, out
    match = re.search(r"^total\s+(\d+)$", out, re.MULTILINE)
    assert match, out
    return int(match.group(1))


def results_after_resubmission(settings: Settings, request_id: str) -> list[ActionResult]:
    """The request's results, once the re-submission's duplicate plan result is among them."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        messages = read_topic(settings, settings.kafka.topic("action-results"), idle_s=0.5)
        results = [r for r in map(decode_result, (m.value() for m in messages))]
        mine = [r for r in results if r.request_id == request_id]
        if any(r.kind is ResultKind.PLAN and r.duplicate for r in mine):
            return mine
    raise AssertionError("the re-submission's result did not arrive")


def assert_resubmission_returned_the_first(results: list[ActionResult], steps: int) -> None:
    """One plan per submission, the second a duplicate; step results only from the first."""
    plans = [r for r in results if r.kind is ResultKind.PLAN]
    assert [(p.status, p.duplicate) for p in plans] == [("PLANNED", False), ("PLANNED", True)]
    assert plans[1].reason is not None and "not acting again" in plans[1].reason
    finals = [r for r in results if r.kind is ResultKind.STEP and r.final]
    assert len(finals) == steps
    assert {r.submission_id for r in finals} == {plans[0].submission_id}


def naive_loop(endpoint: str, instances: Any) -> tuple[float, int]:
    """What a one-off script does: one CreateTags per instance, one after the other."""
    clients = {
        (i.account_id, i.region): member_client(endpoint, i.account_id, "ec2", i.region)
        for i in instances
    }
    started = time.monotonic()
    for instance in instances:
        clients[(instance.account_id, instance.region)].create_tags(
            Resources=[instance.instance_id], Tags=[{"Key": "NaiveLoop", "Value": "Yes"}]
        )
    return time.monotonic() - started, len(instances)


def seed_clusters(endpoint: str, account: str, region: str) -> tuple[Any, str, list[str]]:
    """Four Aurora clusters and a KMS key in one account-region."""
    rds = member_client(endpoint, account, "rds", region)
    key_arn = member_client(endpoint, account, "kms", region).create_key()["KeyMetadata"]["Arn"]
    arns = [
        rds.create_db_cluster(
            DBClusterIdentifier=f"orders-{n}",
            Engine="aurora-postgresql",
            MasterUsername="fleetadmin",
            MasterUserPassword="not-a-secret-1",
        )["DBCluster"]["DBClusterArn"]
        for n in range(4)
    ]
    return rds, key_arn, arns


def assert_copied_and_shared(rds: Any, key_arn: str, target: str) -> None:
    """Each cluster has one snapshot and one copy, encrypted with the key, shared."""
    snapshots = rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    copies = [s for s in snapshots if s["DBClusterSnapshotIdentifier"].endswith("-copy")]
    assert len(snapshots) == 8 and len(copies) == 4
    assert sorted(s["DBClusterIdentifier"] for s in copies) == [f"orders-{n}" for n in range(4)]
    for copy in copies:
        assert copy["KmsKeyId"] == key_arn
        attributes = rds.describe_db_cluster_snapshot_attributes(
            DBClusterSnapshotIdentifier=copy["DBClusterSnapshotIdentifier"]
        )["DBClusterSnapshotAttributesResult"]["DBClusterSnapshotAttributes"]
        assert {"AttributeName": "restore", "AttributeValues": [target]} in attributes


def kill_actor_once_all_wait(
    pool: WorkerPool, settings: Settings, request_id: str, endpoint: str, since: float
) -> Counter[str]:
    """SIGKILL the actor once all five executions made their first step; the AWS calls."""
    deadline = time.monotonic() + 60
    while create_step_records(settings, request_id) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    actor = next(w for w in pool.workers if w.role == "actor")
    actor.process.send_signal(signal.SIGKILL)
    actor.process.wait(timeout=30)
    pool.workers.remove(actor)
    return calls_since(endpoint, since)


def create_step_records(settings: Settings, request_id: str) -> int:
    return sum(
        1
        for item in audit_log(settings).records(request_id)
        if item["record"]["S"].startswith("step#") and item["record"]["S"].endswith("#create")
    )


def test_rds_snapshot_workflow_survives_a_killed_actor(
    local_stack: StackEndpoints,
    pipeline: object,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    """Four clusters snapshotted, copied with a KMS key and shared, in parallel; the actor is
    SIGKILLed while every execution waits; each workflow completes exactly once; a cluster
    that does not exist is skipped; a re-submission starts nothing."""
    endpoint = local_stack.aws_endpoint
    assert endpoint
    region = "eu-west-1"
    estate = seed_estate(
        endpoint,
        EstateSpec(member_accounts=2, regions=(region,), instances_per_region=0, paged_region=None),
    )
    source, target = (a.account_id for a in estate.accounts)
    rds, key_arn, arns = seed_clusters(endpoint, source, region)
    settings = settings_for(
        monkeypatch,
        estate,
        # The first re-check of a snapshot is due 6 s after its step: the window to kill in.
        FLEETSTREAM_ACTIONS__WAIT_FIRST_S="6",
        FLEETSTREAM_ACTIONS__WAIT_EVERY_S="1",
        **action_policy_env({"rds-snapshot-share": {"max_targets": 10}}, kms_keys=(key_arn,)),
    )
    gone = f"arn:aws:rds:{region}:{source}:cluster:gone-cluster"
    where = f"type=rds.db_cluster,arn={'|'.join([*arns, gone])}"
    args = ["rds-snapshot-share", "--where", where, "--set", f"kms_key_id={key_arn}"]
    args += ["--set", f"target_account={target}", "--execute"]

    pool = WorkerPool(None, log_dir)
    started = time.time()
    try:
        start_action_plane(pool, settings)
        code, out = act(*args)
        assert code == 0, out
        request_id = request_id_of(out)
        at_kill = kill_actor_once_all_wait(pool, settings, request_id, endpoint, started)
        pool.start("actor", 1)  # the replacement, same replica id
        status = wait_finished(pool, settings, request_id)
        done_calls = calls_since(endpoint, started)

        resubmitted = time.time()
        code, out = act(*args)
        assert code == 0 and "was submitted before" in out, out
        results = results_after_resubmission(settings, request_id)
        again_calls = calls_since(endpoint, resubmitted)
    finally:
        pool.stop()

    # The kill came while every execution was waiting: all created, none copied yet.
    assert at_kill["CreateDBClusterSnapshot"] == 5, at_kill
    assert at_kill["CopyDBClusterSnapshot"] == 0, at_kill
    assert status.steps == status.done == 5
    assert status.outcomes == Counter({"OK": 4, "SKIPPED": 1}), status.summary()
    assert [o.arn for o in status.problems] == [gone]
    # Exactly once: one create (and the one for the missing cluster), copy and share each.
    assert done_calls["CreateDBClusterSnapshot"] == 5, done_calls
    assert done_calls["CopyDBClusterSnapshot"] == 4, done_calls
    assert done_calls["ModifyDBClusterSnapshotAttribute"] == 4, done_calls
    assert done_calls["DescribeDBClusterSnapshots"] >= 8, done_calls  # delayed re-checks
    writes = (
        "CreateDBClusterSnapshot",
        "CopyDBClusterSnapshot",
        "ModifyDBClusterSnapshotAttribute",
    )
    assert not any(again_calls[w] for w in writes), again_calls
    assert_resubmission_returned_the_first(results, 5)

    assert_copied_and_shared(rds, key_arn, target)
