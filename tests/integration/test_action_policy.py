"""The action planner's server-side policy on the real stack: a rogue submitter is refused,
audited and dead-lettered and nothing acts; a genuine signed request still runs; a request
above the approval threshold waits for another submitter; a v1 or flagless request never acts.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from devstack import StackEndpoints
from devstack.seed import Estate, EstateSpec, seed_estate
from fleetstream.actions.audit import audit_log
from fleetstream.actions.models import (
    ActionRequest,
    ActionResult,
    ActionStep,
    ResultKind,
    Selector,
)
from fleetstream.actions.signing import sign_request
from fleetstream.actions.wire import decode_result, decode_step, encode_request
from fleetstream.base.config import Settings
from fleetstream.base.models import utc_now
from fleetstream.runtime.workers import WorkerPool
from fleetstream.serde.avro import AvroCodec, codec, schemas_dir
from tests.integration.helpers import member_client, produce_raw, read_topic, settings_for, sweep
from tests.integration.test_actions import (
    act,
    calls_since,
    request_id_of,
    seed_clusters,
    start_action_plane,
    wait_finished,
)

pytestmark = pytest.mark.integration
REGION = "eu-west-1"
OUTSIDE = "999999999999"
ALICE_KEY = "alice-" + uuid.uuid4().hex
BOB_KEY = "bob-" + uuid.uuid4().hex
RDS_WRITES = (
    "CreateDBClusterSnapshot",
    "CopyDBClusterSnapshot",
    "ModifyDBClusterSnapshotAttribute",
)


def policy_env(actions: dict[str, Any], kms_keys: list[str] = ()) -> dict[str, str]:  # type: ignore[assignment]
    """The planner's policy (alice and bob may submit) and alice as this process' submitter."""
    policy = {
        "submitters": {"alice": ALICE_KEY, "bob": BOB_KEY},
        "actions": actions,
        "target_accounts": ["estate"],
        "kms_keys": list(kms_keys),
    }
    return {
        "FLEETSTREAM_ACTIONS__POLICY": json.dumps(policy),
        "FLEETSTREAM_ACTIONS__SUBMITTER": json.dumps({"name": "alice", "key": ALICE_KEY}),
    }


def new_request(
    action: str, selector: Selector, params: dict[str, str], *, dry_run: bool = False
) -> ActionRequest:
    """What a compromised router writes: whatever it likes, claiming to be anyone."""
    return ActionRequest(
        request_id=f"req-{uuid.uuid4().hex[:16]}",
        submission_id=uuid.uuid4().hex,
        action=action,
        params=params,
        selector=selector,
        max_targets=10**6,
        requested_by="alice",
        requested_at=utc_now(),
        dry_run=dry_run,
    )


def signed(request: ActionRequest, submitter: str, key: str) -> ActionRequest:
    return sign_request(replace(request, submitter=submitter), key)


def produce_requests(settings: Settings, *requests: ActionRequest) -> None:
    """Straight onto the actions topic, as any principal with write access could."""
    produce_raw(
        settings,
        settings.kafka.topic("actions"),
        [(r.request_id.encode(), encode_request(r)) for r in requests],
    )


def plan_results(settings: Settings, request_ids: set[str]) -> dict[str, ActionResult]:
    """The (last) PLAN result of each request, once every one of them has one."""
    deadline = time.monotonic() + 120
    found: dict[str, ActionResult] = {}
    while time.monotonic() < deadline:
        messages = read_topic(settings, settings.kafka.topic("action-results"), idle_s=0.5)
        found = {}
        for result in (decode_result(m.value()) for m in messages):
            if result.kind is ResultKind.PLAN and result.request_id in request_ids:
                found[result.request_id] = result
        if set(found) == request_ids:
            return found
    raise AssertionError(f"no plan result for {sorted(request_ids - set(found))}")


def dead_letters(settings: Settings) -> dict[str, str]:
    """request id -> the reason header of its dead letter, for requests from the actions topic."""
    out: dict[str, str] = {}
    for message in read_topic(settings, settings.kafka.topic("dlq"), idle_s=1.0):
        headers = dict(message.headers() or [])
        if headers.get("fs.original.topic") == settings.kafka.topic("actions").encode():
            out[message.key().decode()] = headers["fs.error.message"].decode()
    return out


def refusals_audited(settings: Settings, request_id: str) -> list[str]:
    """The reasons of the audit table's refusal records of a request."""
    return [
        item["reason"]["S"]
        for item in audit_log(settings).records(request_id)
        if item["record"]["S"].startswith("refusal#")
    ]


def manual_snapshots(endpoint: str, account: str) -> list[str]:
    rds = member_client(endpoint, account, "rds", REGION)
    snapshots = rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    return [s["DBClusterSnapshotIdentifier"] for s in snapshots]


def test_a_rogue_submitter_is_refused_audited_and_dead_lettered(
    local_stack: StackEndpoints,
    pipeline: object,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    """The issue's scenario and its variants, each refused with its reason, audited and
    dead-lettered, nothing snapshotted, copied or shared; then a genuine request runs."""
    endpoint = local_stack.aws_endpoint
    assert endpoint
    estate = seed_estate(
        endpoint,
        EstateSpec(member_accounts=3, regions=(REGION,), instances_per_region=0, paged_region=None),
    )
    source, target, excluded = (a.account_id for a in estate.accounts)
    rds, key_arn, arns = seed_clusters(endpoint, source, REGION)
    outside_rds = member_client(endpoint, excluded, "rds", REGION)
    outside_arn = outside_rds.create_db_cluster(
        DBClusterIdentifier="payroll",
        Engine="aurora-postgresql",
        MasterUsername="fleetadmin",
        MasterUserPassword="not-a-secret-1",
    )["DBCluster"]["DBClusterArn"]
    foreign_key = f"arn:aws:kms:{REGION}:{OUTSIDE}:key/{uuid.uuid4()}"
    settings = settings_for(
        monkeypatch,
        estate,
        FLEETSTREAM_RESOURCE_TYPES='["rds.db_cluster"]',
        FLEETSTREAM_ACCOUNTS__EXCLUDE=json.dumps([excluded]),
        FLEETSTREAM_ACTIONS__WAIT_FIRST_S="1",
        FLEETSTREAM_ACTIONS__WAIT_EVERY_S="1",
        **policy_env(
            {"rds-snapshot-share": {"max_targets": 3}, "tag": {"max_targets": 100}},
            kms_keys=[key_arn],
        ),
    )
    sweep(settings, log_dir, ok=True)
    every_cluster = Selector("rds.db_cluster")
    share = {"kms_key_id": foreign_key, "target_account": OUTSIDE}
    honest = {"kms_key_id": key_arn, "target_account": target}
    rogue = {
        # The scenario: unsigned, every cluster, a huge guard, out to a foreign account.
        "unsigned": (new_request("rds-snapshot-share", every_cluster, share), "not signed"),
        "forged": (
            signed(new_request("rds-snapshot-share", every_cluster, honest), "alice", "guess"),
            "signature does not verify",
        ),
        # A genuine request, intercepted and pointed at a foreign account.
        "tampered": (
            replace(
                signed(
                    new_request("rds-snapshot-share", every_cluster, honest), "alice", ALICE_KEY
                ),
                params=share,
            ),
            "signature does not verify",
        ),
        "unknown submitter": (
            signed(new_request("rds-snapshot-share", every_cluster, honest), "mallory", "m-key"),
            "unknown submitter 'mallory'",
        ),
        "huge max_targets": (
            signed(new_request("rds-snapshot-share", every_cluster, honest), "alice", ALICE_KEY),
            "4 targets exceed the policy's maximum of 3",
        ),
        "outside target account": (
            signed(
                new_request(
                    "rds-snapshot-share",
                    Selector("rds.db_cluster", arns=tuple(arns[:1])),
                    honest | {"target_account": OUTSIDE},
                ),
                "alice",
                ALICE_KEY,
            ),
            f"target_account {OUTSIDE} is not",
        ),
        "foreign KMS key": (
            signed(
                new_request(
                    "rds-snapshot-share",
                    Selector("rds.db_cluster", arns=tuple(arns[:1])),
                    honest | {"kms_key_id": foreign_key},
                ),
                "alice",
                ALICE_KEY,
            ),
            "kms_key_id is not one of actions.policy.kms_keys",
        ),
        "action not allowed": (
            signed(
                new_request("untag", Selector("rds.db_cluster", arns=tuple(arns)), {"Team": ""}),
                "alice",
                ALICE_KEY,
            ),
            "action 'untag' is not allowed",
        ),
        "arn outside the estate": (
            signed(
                new_request(
                    "rds-snapshot-share", Selector("rds.db_cluster", arns=(outside_arn,)), honest
                ),
                "alice",
                ALICE_KEY,
            ),
            f"account {excluded} is not in the estate",
        ),
        "account outside the estate": (
            signed(
                new_request(
                    "rds-snapshot-share", Selector("rds.db_cluster", accounts=(excluded,)), honest
                ),
                "alice",
                ALICE_KEY,
            ),
            f"account {excluded} is not in the estate",
        ),
    }
    pool = WorkerPool(None, log_dir)
    started = time.time()
    try:
        start_action_plane(pool, settings)
        # An id that cannot be a key: answered under its digest, the planner not stalled.
        oversized = replace(
            new_request("rds-snapshot-share", every_cluster, share), request_id="req-" + "x" * 4000
        )
        digest = "invalid-" + hashlib.sha256(oversized.request_id.encode()).hexdigest()[:24]
        produce_requests(settings, oversized, *(r for r, _ in rogue.values()))
        results = plan_results(settings, {digest} | {r.request_id for r, _ in rogue.values()})
        rogue_calls = calls_since(endpoint, started)
        letters = dead_letters(settings)

        genuine = signed(
            new_request(
                "rds-snapshot-share", Selector("rds.db_cluster", arns=tuple(arns[:2])), honest
            ),
            "alice",
            ALICE_KEY,
        )
        produce_requests(settings, genuine)
        status = wait_finished(pool, settings, genuine.request_id)
        genuine_calls = calls_since(endpoint, started)
    finally:
        pool.stop()

    for case, (request, reason) in rogue.items():
        result = results[request.request_id]
        assert result.status == "REFUSED", (case, result)
        assert result.reason is not None and reason in result.reason, (case, result.reason)
        assert any(reason in r for r in refusals_audited(settings, request.request_id)), case
        assert reason in letters.get(request.request_id, ""), (case, letters)
    assert results[digest].status == "REFUSED" and "request_id must be" in str(
        results[digest].reason
    )
    assert refusals_audited(settings, digest) == [results[digest].reason]
    assert not any(rogue_calls[w] for w in RDS_WRITES), rogue_calls
    # The genuine request ran after every refusal, and only it touched the clusters.
    assert status.status == "PLANNED" and status.outcomes == Counter({"OK": 2}), status.summary()
    assert genuine_calls["CopyDBClusterSnapshot"] == 2, genuine_calls
    assert genuine_calls["ModifyDBClusterSnapshotAttribute"] == 2, genuine_calls
    assert manual_snapshots(endpoint, excluded) == []
    copies = [s for s in manual_snapshots(endpoint, source) if s.endswith("-copy")]
    assert len(copies) == 2
    for copy in copies:
        attributes = rds.describe_db_cluster_snapshot_attributes(DBClusterSnapshotIdentifier=copy)[
            "DBClusterSnapshotAttributesResult"
        ]["DBClusterSnapshotAttributes"]
        assert {"AttributeName": "restore", "AttributeValues": [target]} in attributes
    stored = next(
        i for i in audit_log(settings).records(genuine.request_id) if i["record"]["S"] == "request"
    )
    assert stored["requested_by"]["S"] == "alice"


def v1_codec(tmp_path: Path) -> AvroCodec:
    """A writer that knows only action_request.v1.avsc: an old producer."""
    (tmp_path / "v1").mkdir(exist_ok=True)
    old = schemas_dir() / "action_request.v1.avsc"
    (tmp_path / "v1" / old.name).write_text(old.read_text())
    return AvroCodec("action_request", tmp_path / "v1")


def request_record(request: ActionRequest) -> dict[str, Any]:
    """The request's Avro record as the current codec writes it, dry_run left out."""
    record = codec("action_request").decode(encode_request(request))
    record.pop("dry_run")
    return record


def approval_again(settings: Settings, args: list[str]) -> ActionResult:
    """The same approval submitted once more (a new submission); its result."""
    code, out = act(*args)
    assert code == 0, out
    approval = approval_id_of(out)
    return plan_results(settings, {approval})[approval]


def approval_id_of(output: str) -> str:
    match = re.search(r"approval (apr-[0-9a-f]+)", output)
    assert match, output
    return match.group(1)


def produce_old_and_flagless(
    settings: Settings, tmp_path: Path, arns: list[str]
) -> tuple[ActionRequest, ActionRequest]:
    """An old producer's v1 record (dry_run false; it cannot carry a signature), and a signed
    v2 record written without dry_run (the schema's default decides)."""
    two = Selector("ec2.instance", arns=tuple(arns))
    v1 = new_request("tag", two, {"V1": "Yes"})
    old_writer = v1_codec(tmp_path)
    v1_record = request_record(v1) | {"dry_run": False}
    v1_record = {f["name"]: v1_record[f["name"]] for f in old_writer.schema["fields"]}
    flagless = signed(new_request("tag", two, {"NoFlag": "Yes"}, dry_run=True), "alice", ALICE_KEY)
    produce_raw(
        settings,
        settings.kafka.topic("actions"),
        [
            (v1.request_id.encode(), old_writer.encode(v1_record)),
            (
                flagless.request_id.encode(),
                codec("action_request").encode(request_record(flagless)),
            ),
        ],
    )
    return v1, flagless


def instance_tags(endpoint: str, account: str, instance_id: str) -> dict[str, str]:
    ec2 = member_client(endpoint, account, "ec2", REGION)
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [instance_id]}])["Tags"]
    return {t["Key"]: t["Value"] for t in tags}


def test_approval_by_another_submitter_and_requests_without_the_flag(
    local_stack: StackEndpoints,
    pipeline: object,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
    tmp_path: Path,
) -> None:
    """Above the threshold a request waits; its own submitter's approval is refused, bob's
    runs it. A v1 record (no signature) is refused; a v2 record without dry_run is a dry run."""
    endpoint = local_stack.aws_endpoint
    assert endpoint
    estate = seed_estate(
        endpoint,
        EstateSpec(member_accounts=1, regions=(REGION,), instances_per_region=4, paged_region=None),
    )
    account = estate.accounts[0].account_id
    instances = [i.instance_id for i in estate.instances]
    arns = [f"arn:aws:ec2:{REGION}:{account}:instance/{i}" for i in instances]
    settings = settings_for(
        monkeypatch, estate, **policy_env({"tag": {"max_targets": 10, "approval_above": 2}})
    )
    where = f"type=ec2.instance,arn={'|'.join(arns)}"
    tag = ["tag", "--where", where, "--set", "Reviewed=Yes", "--execute"]
    as_bob = json.dumps({"name": "bob", "key": BOB_KEY})

    pool = WorkerPool(None, log_dir)
    started = time.time()
    try:
        start_action_plane(pool, settings)
        code, out = act(*tag)
        assert code == 0, out
        request_id = request_id_of(out)
        waiting = plan_results(settings, {request_id})[request_id]
        assert waiting.status == "AWAITING_APPROVAL", waiting
        assert calls_since(endpoint, started)["CreateTags"] == 0

        code, out = act(*tag, "--approve", request_id)  # alice approves her own request
        assert code == 0, out
        own_approval = approval_id_of(out)
        refused = plan_results(settings, {own_approval})[own_approval]
        assert refused.status == "REFUSED" and "a different submitter" in (refused.reason or "")
        assert calls_since(endpoint, started)["CreateTags"] == 0

        monkeypatch.setenv("FLEETSTREAM_ACTIONS__SUBMITTER", as_bob)
        code, out = act(*tag, "--approve", request_id)
        assert code == 0, out
        status = wait_finished(pool, settings, request_id)
        approved_calls = calls_since(endpoint, started)["CreateTags"]
        again = approval_again(settings, [*tag, "--approve", request_id])

        v1, flagless = produce_old_and_flagless(settings, tmp_path, arns[:2])
        old_and_flagless = plan_results(settings, {v1.request_id, flagless.request_id})
    finally:
        pool.stop()

    assert status.status == "PLANNED" and status.outcomes == Counter({"OK": 4}), status.summary()
    # A second approval acts on nothing more.
    assert (again.status, again.duplicate) == ("APPROVED", True), again
    assert calls_since(endpoint, started)["CreateTags"] == approved_calls == 1
    stored = next(
        i for i in audit_log(settings).records(request_id) if i["record"]["S"] == "request"
    )
    assert (stored["requested_by"]["S"], stored["approved_by"]["S"]) == ("alice", "bob")
    assert old_and_flagless[v1.request_id].status == "REFUSED"
    assert old_and_flagless[flagless.request_id].status == "DRY_RUN"
    for instance in instances:
        tags = instance_tags(endpoint, account, instance)
        assert tags.get("Reviewed") == "Yes" and "V1" not in tags and "NoFlag" not in tags


# --- An approval covers exactly what was approved (review of the two-person rule) ---------

SECOND_REGION = "us-east-1"


def approval_of(
    request_id: str, selector: Selector, action: str, params: dict[str, str]
) -> ActionRequest:
    """Bob's signed approval of a request (its own, fresh approval id)."""
    approval = replace(
        new_request(action, selector, params),
        request_id=f"apr-{uuid.uuid4().hex[:16]}",
        approves=request_id,
    )
    return signed(approval, "bob", BOB_KEY)


def results_of(
    settings: Settings, request_id: str, submission_id: str, count: int = 1
) -> list[ActionResult]:
    """The PLAN results of one submission of a request, in order, once there are `count`."""
    deadline = time.monotonic() + 120
    found: list[ActionResult] = []
    while time.monotonic() < deadline:
        messages = read_topic(settings, settings.kafka.topic("action-results"), idle_s=0.5)
        found = [
            result
            for result in (decode_result(m.value()) for m in messages)
            if result.kind is ResultKind.PLAN
            and (result.request_id, result.submission_id) == (request_id, submission_id)
        ]
        if len(found) >= count:
            return found
    raise AssertionError(f"{len(found)} of {count} results of {request_id}/{submission_id}")


def steps_on_action_work(settings: Settings, request_id: str) -> list[ActionStep]:
    """Every step the planner committed for a request (read_committed: with its result)."""
    messages = read_topic(settings, settings.kafka.topic("action-work"), idle_s=0.5)
    steps = [decode_step(m.value()) for m in messages]
    return [s for s in steps if s.request_id == request_id]


def wait_steps_done(pool: WorkerPool, settings: Settings, steps: list[ActionStep]) -> None:
    """Every step marked done by the actor (whatever it did), so its AWS calls are logged."""
    audit = audit_log(settings)
    deadline = time.monotonic() + 180
    wanted = {(s.request_id, f"done#{s.step_id}") for s in steps}
    while time.monotonic() < deadline:
        done = {
            (request_id, item["record"]["S"])
            for request_id in {r for r, _ in wanted}
            for item in audit.records(request_id)
        }
        if wanted <= done:
            return
        pool.check()
        time.sleep(0.2)
    raise AssertionError(f"steps not done: {sorted(wanted - done)}")


def request_record_of(settings: Settings, request_id: str) -> dict[str, Any]:
    return next(i for i in audit_log(settings).records(request_id) if i["record"]["S"] == "request")


def two_region_estate(endpoint: str) -> tuple[Estate, list[str], list[str]]:
    """One account with 3 instances in each of two regions: their ARNs per region."""
    estate = seed_estate(
        endpoint,
        EstateSpec(
            member_accounts=1,
            regions=(REGION, SECOND_REGION),
            instances_per_region=3,
            paged_region=None,
        ),
    )
    account = estate.accounts[0].account_id

    def arns(region: str) -> list[str]:
        return [
            f"arn:aws:ec2:{region}:{account}:instance/{i.instance_id}"
            for i in estate.instances
            if i.region == region
        ]

    return estate, arns(REGION), arns(SECOND_REGION)


def test_an_approval_is_bound_to_the_content_it_approved(
    local_stack: StackEndpoints,
    pipeline: object,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    """Alice asks to stop 3 instances, swaps the waiting request for a small tag, bob approves
    the tag; re-sending the stop (its original bytes, or new content under the approved
    submission) must not run: nothing is stopped."""
    endpoint = local_stack.aws_endpoint
    assert endpoint
    estate, eu_arns, us_arns = two_region_estate(endpoint)
    settings = settings_for(
        monkeypatch,
        estate,
        **policy_env(
            {
                "stop": {"max_targets": 10, "approval_above": 1},
                "tag": {"max_targets": 10, "approval_above": 1},
            }
        ),
    )
    stop_many = Selector("ec2.instance", arns=tuple(eu_arns))
    tag_few = Selector("ec2.instance", arns=tuple(us_arns[:2]))
    wanted = signed(new_request("stop", stop_many, {}), "alice", ALICE_KEY)
    rid = wanted.request_id
    innocuous = signed(
        replace(new_request("tag", tag_few, {"Team": "a"}), request_id=rid), "alice", ALICE_KEY
    )
    pool = WorkerPool(None, log_dir)
    started = time.time()
    try:
        start_action_plane(pool, settings)
        produce_requests(settings, wanted)
        first = results_of(settings, rid, wanted.submission_id)[-1]
        produce_requests(settings, innocuous)
        second = results_of(settings, rid, innocuous.submission_id)[-1]
        produce_requests(settings, approval_of(rid, tag_few, "tag", {"Team": "a"}))
        approved = wait_finished(pool, settings, rid)
        # The original bytes again, and new content signed under the approved submission.
        produce_requests(settings, wanted)
        replayed = results_of(settings, rid, wanted.submission_id, count=2)[-1]
        resigned = signed(
            replace(
                new_request("stop", stop_many, {}),
                request_id=rid,
                submission_id=innocuous.submission_id,
            ),
            "alice",
            ALICE_KEY,
        )
        produce_requests(settings, resigned)
        # AWAITING_APPROVAL, PLANNED (with bob's approval), then this one.
        resent = results_of(settings, rid, innocuous.submission_id, count=3)[-1]
        steps = steps_on_action_work(settings, rid)
        wait_steps_done(pool, settings, steps)
        calls = calls_since(endpoint, started)
    finally:
        pool.stop()

    assert (first.status, second.status) == ("AWAITING_APPROVAL", "AWAITING_APPROVAL")
    assert approved.status == "PLANNED" and approved.outcomes == Counter({"OK": 2})
    for result in (replayed, resent):
        assert result.status == "REFUSED" or result.duplicate, result
    assert [s.action for s in steps] == ["tag"], steps
    assert calls["StopInstances"] == 0, calls
    assert calls["CreateTags"] == 1, calls
    stored = request_record_of(settings, rid)
    assert (stored["action"]["S"], stored["approved_by"]["S"]) == ("tag", "bob")


def test_a_dry_run_approval_approves_nothing(
    local_stack: StackEndpoints,
    pipeline: object,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    """Bob's dry-run approval leaves the request waiting and acts on nothing; his real
    approval still runs it."""
    endpoint = local_stack.aws_endpoint
    assert endpoint
    estate, eu_arns, _ = two_region_estate(endpoint)
    settings = settings_for(
        monkeypatch,
        estate,
        **policy_env({"tag": {"max_targets": 10, "approval_above": 1}}),
    )
    two = Selector("ec2.instance", arns=tuple(eu_arns[:2]))
    request = signed(new_request("tag", two, {"Team": "a"}), "alice", ALICE_KEY)
    dry = signed(
        replace(
            approval_of(request.request_id, two, "tag", {"Team": "a"}), dry_run=True, signature=""
        ),
        "bob",
        BOB_KEY,
    )
    real = approval_of(request.request_id, two, "tag", {"Team": "a"})
    pool = WorkerPool(None, log_dir)
    started = time.time()
    try:
        start_action_plane(pool, settings)
        produce_requests(settings, request)
        waiting = results_of(settings, request.request_id, request.submission_id)[-1]
        produce_requests(settings, dry)
        dry_result = results_of(settings, dry.request_id, dry.submission_id)[-1]
        after_dry = request_record_of(settings, request.request_id)
        dry_steps = steps_on_action_work(settings, request.request_id)
        produce_requests(settings, real)
        real_result = results_of(settings, real.request_id, real.submission_id)[-1]
        status = wait_finished(pool, settings, request.request_id)
        calls = calls_since(endpoint, started)
    finally:
        pool.stop()

    assert waiting.status == "AWAITING_APPROVAL", waiting
    assert dry_result.status in ("DRY_RUN", "REFUSED"), dry_result
    assert after_dry["status"]["S"] == "AWAITING_APPROVAL", after_dry
    assert "approved_by" not in after_dry, after_dry
    assert dry_steps == [], dry_steps
    assert (real_result.status, real_result.duplicate) == ("APPROVED", False), real_result
    assert status.status == "PLANNED" and status.outcomes == Counter({"OK": 2}), status.summary()
    assert calls["CreateTags"] == 1, calls
    assert request_record_of(settings, request.request_id)["approved_by"]["S"] == "bob"


def test_an_approval_cannot_take_another_requests_id(
    local_stack: StackEndpoints,
    pipeline: object,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    """An approval whose own id is a planned request's id, or the id it approves, is refused
    and overwrites no audit record; a proper approval then runs the request."""
    endpoint = local_stack.aws_endpoint
    assert endpoint
    estate, eu_arns, _ = two_region_estate(endpoint)
    settings = settings_for(
        monkeypatch,
        estate,
        **policy_env({"tag": {"max_targets": 10, "approval_above": 1}}),
    )
    one = Selector("ec2.instance", arns=tuple(eu_arns[:1]))
    two = Selector("ec2.instance", arns=tuple(eu_arns[1:3]))
    planned = signed(new_request("tag", one, {"Team": "p"}), "alice", ALICE_KEY)
    waiting = signed(new_request("tag", two, {"Team": "q"}), "alice", ALICE_KEY)
    q = waiting.request_id
    squatting = signed(
        replace(
            approval_of(q, two, "tag", {"Team": "q"}), request_id=planned.request_id, signature=""
        ),
        "bob",
        BOB_KEY,
    )
    itself = signed(
        replace(approval_of(q, two, "tag", {"Team": "q"}), request_id=q, signature=""),
        "bob",
        BOB_KEY,
    )
    proper = approval_of(q, two, "tag", {"Team": "q"})
    pool = WorkerPool(None, log_dir)
    try:
        start_action_plane(pool, settings)
        produce_requests(settings, planned, waiting)
        wait_finished(pool, settings, planned.request_id)
        results_of(settings, q, waiting.submission_id)
        produce_requests(settings, squatting)
        squatted = results_of(settings, planned.request_id, squatting.submission_id)[-1]
        produce_requests(settings, itself)
        self_named = results_of(settings, q, itself.submission_id)[-1]
        q_before_proper = request_record_of(settings, q)
        produce_requests(settings, proper)
        status = wait_finished(pool, settings, q)
    finally:
        pool.stop()

    p_record = request_record_of(settings, planned.request_id)
    assert (p_record["status"]["S"], p_record["requested_by"]["S"]) == ("PLANNED", "alice")
    assert p_record["action"]["S"] == "tag" and "approved_by" not in p_record, p_record
    assert squatted.status == "REFUSED", squatted
    assert self_named.status == "REFUSED", self_named
    assert q_before_proper["status"]["S"] == "AWAITING_APPROVAL", q_before_proper
    assert q_before_proper["requested_by"]["S"] == "alice", q_before_proper
    assert status.status == "PLANNED" and status.outcomes == Counter({"OK": 2}), status.summary()
    q_record = request_record_of(settings, q)
    assert (q_record["requested_by"]["S"], q_record["approved_by"]["S"]) == ("alice", "bob")
