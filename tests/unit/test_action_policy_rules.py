"""The action policy's pure parts: signatures, the checks, the settings and the wire default."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from devstack.submitter import dev_actions_config, dev_submitter_key
from fleetstream.actions.models import ActionRequest, Selector, Target
from fleetstream.actions.policy import (
    Estate,
    authentication_refusal,
    malformed_ids,
    needs_approval,
    plan_refusal,
    request_refusal,
)
from fleetstream.actions.registry import ActionError, action_spec
from fleetstream.actions.selector import Plan
from fleetstream.actions.signing import sign_request, verifies
from fleetstream.actions.submit import signed_for_execution
from fleetstream.actions.wire import decode_request, encode_request
from fleetstream.base.config import ActionPolicy, SubmitterIdentity, load_settings
from fleetstream.base.errors import ConfigError
from fleetstream.base.models import utc_now
from fleetstream.serde.avro import codec

pytestmark = pytest.mark.unit

HOME, OTHER, OUTSIDE = "111111111111", "222222222222", "999999999999"
KEY = "arn:aws:kms:eu-west-1:111111111111:key/1"
POLICY = ActionPolicy.model_validate(
    {
        "submitters": {"alice": "a-key", "bob": "b-key"},
        "actions": {
            "tag": {"max_targets": 10, "approval_above": 3},
            "rds-snapshot-share": {"max_targets": 2},
        },
        "target_accounts": ["estate", "333333333333"],
        "kms_keys": [KEY],
    }
)
ESTATE = Estate(frozenset({HOME, OTHER}), lambda: {HOME, OTHER, "444444444444"})
KEYS = {"alice": "a-key", "bob": "b-key"}


def request(action: str = "tag", **changes: object) -> ActionRequest:
    base = ActionRequest(
        request_id="req-1",
        submission_id="s-1",
        action=action,
        params={"Team": "a"},
        selector=Selector("ec2.instance", accounts=(HOME,)),
        max_targets=1000,
        requested_by="alice",
        requested_at=utc_now(),
        submitter="alice",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def share(**params: str) -> ActionRequest:
    arn = f"arn:aws:rds:eu-west-1:{HOME}:cluster:orders"
    return request(
        "rds-snapshot-share",
        params={"kms_key_id": KEY, "target_account": OTHER} | params,
        selector=Selector("rds.db_cluster", arns=(arn,)),
    )


def plan_of(n: int) -> Plan:
    return Plan({(HOME, "eu-west-1"): tuple(Target(f"arn:{i}", f"i-{i}") for i in range(n))})


def test_a_signature_covers_every_field_and_survives_the_wire() -> None:
    signed = sign_request(replace(request(), dry_run=False), "a-key")
    assert verifies(decode_request(encode_request(signed)), "a-key")
    assert not verifies(signed, "b-key")
    for change in (
        {"params": {"Team": "b"}},
        {"selector": Selector("ec2.instance")},
        {"dry_run": True},
        {"max_targets": 10**6},
        {"submitter": "bob"},
        {"approves": "req-0"},
        {"request_id": "req-2"},
        {"requested_at": signed.requested_at + timedelta(milliseconds=1)},
    ):
        assert not verifies(replace(signed, **change), "a-key"), change


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"submitter": "", "signature": ""}, "not signed"),
        ({"submitter": "mallory"}, "unknown submitter 'mallory'"),
        ({"signature": "0" * 64}, "signature does not verify"),
    ],
)
def test_unsigned_unknown_and_forged_requests_are_not_authenticated(
    changes: dict[str, str], reason: str
) -> None:
    signed = replace(sign_request(request(), "a-key"), **changes)  # type: ignore[arg-type]
    refusal = authentication_refusal(signed, KEYS, utc_now(), timedelta(days=1))
    assert refusal is not None and reason in refusal


def test_a_signed_request_is_accepted_within_its_age_window_only() -> None:
    now = utc_now()
    fresh = sign_request(request(), "a-key")
    assert authentication_refusal(fresh, KEYS, now, timedelta(days=1)) is None
    old = sign_request(request(requested_at=now - timedelta(days=2)), "a-key")
    ahead = sign_request(request(requested_at=now + timedelta(hours=1)), "a-key")
    for late in (old, ahead):
        refusal = authentication_refusal(late, KEYS, now, timedelta(days=1))
        assert refusal is not None and "outside the accepted window" in refusal


@pytest.mark.parametrize(
    ("made", "reason"),
    [
        (request("stop", params={}), "action 'stop' is not allowed"),
        (share(target_account=OUTSIDE), f"target_account {OUTSIDE} is not in"),
        (share(kms_key_id="arn:aws:kms:eu-west-1:999999999999:key/x"), "kms_key_id is not one"),
        (request(selector=Selector("ec2.instance", accounts=(OUTSIDE,))), f"account {OUTSIDE}"),
        (
            request(
                selector=Selector("ec2.instance", arns=(f"arn:aws:ec2:us-east-1:{OUTSIDE}:x",))
            ),
            f"account {OUTSIDE} is not in the estate",
        ),
    ],
)
def test_requests_outside_the_policy_are_refused(made: ActionRequest, reason: str) -> None:
    spec = action_spec(made.action)
    refusal = request_refusal(POLICY, spec, made, ESTATE)
    assert refusal is not None and reason in refusal


def test_target_accounts_take_the_estate_the_organization_and_a_list() -> None:
    spec = action_spec("rds-snapshot-share")
    for allowed in (OTHER, "333333333333"):
        assert request_refusal(POLICY, spec, share(target_account=allowed), ESTATE) is None
    org_only = share(target_account="444444444444")
    assert request_refusal(POLICY, spec, org_only, ESTATE) is not None
    organization = POLICY.model_copy(update={"target_accounts": ("organization",)})
    assert request_refusal(organization, spec, org_only, ESTATE) is None


def test_the_policy_limit_wins_over_the_request_and_approval_is_above_the_threshold() -> None:
    huge = request(max_targets=10**6)
    refusal = plan_refusal(POLICY, huge, plan_of(11))
    assert refusal is not None and "exceed the policy's maximum of 10 for tag" in refusal
    lower = plan_refusal(POLICY, request(max_targets=5), plan_of(6))
    assert lower is not None and "max-targets guard of 5" in lower
    assert plan_refusal(POLICY, huge, plan_of(10)) is None
    assert not needs_approval(POLICY, huge, plan_of(3))
    assert needs_approval(POLICY, huge, plan_of(4))
    assert not needs_approval(POLICY, share(), plan_of(2))  # no threshold: never


def test_ids_that_cannot_be_keys_are_malformed() -> None:
    assert malformed_ids(request()) is None
    assert malformed_ids(request(request_id="x" * 129)) is not None
    assert malformed_ids(request(submission_id="a#b")) is not None
    assert malformed_ids(request(approves="")) is not None


def test_dry_run_is_the_default_of_the_model_and_of_the_wire() -> None:
    assert request().dry_run is True
    record = codec("action_request").decode(encode_request(replace(request(), dry_run=False)))
    del record["dry_run"]
    assert decode_request(codec("action_request").encode(record)).dry_run is True


def test_the_cli_signs_only_with_a_configured_submitter(tmp_path: Path) -> None:
    with pytest.raises(ActionError, match=r"actions\.submitter is not set"):
        signed_for_execution(request(), None)
    key_file = dev_submitter_key(tmp_path)
    assert key_file.stat().st_mode & 0o077 == 0
    assert dev_submitter_key(tmp_path).read_text() == key_file.read_text()  # made once
    me = SubmitterIdentity.model_validate({"name": "dev", "key": {"file": str(key_file)}})
    signed = signed_for_execution(request(submitter=""), me)
    assert (signed.submitter, signed.dry_run) == ("dev", False)
    assert verifies(signed, key_file.read_text().strip())


def test_the_local_stack_config_trusts_its_own_key(tmp_path: Path) -> None:
    config = dev_actions_config({"file": str(dev_submitter_key(tmp_path))})
    policy = ActionPolicy.model_validate(config["policy"])
    assert set(policy.submitters) == {"dev"} and "rds-snapshot-share" in policy.actions


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("actions:\n  policy:\n    actions:\n      reboot: {}\n", "unknown action reboot"),
        ("actions:\n  policy:\n    target_accounts: [org]\n", "'org' is not 'estate'"),
        ("actions:\n  policy:\n    submitters:\n      'a b': k\n", "'a b' is not a submitter"),
        ("actions:\n  policy:\n    actions:\n      tag: {max_targets: 0}\n", "max_targets"),
        ("actions:\n  submitter: {name: dev}\n", "actions.submitter.key"),
    ],
)
def test_bad_policy_settings_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(path, env={})


def test_the_default_policy_allows_nothing() -> None:
    policy = ActionPolicy()
    assert (policy.submitters, policy.actions, policy.kms_keys) == ({}, {}, ())
    refusal = request_refusal(policy, action_spec("tag"), request(), ESTATE)
    assert refusal is not None and "(none)" in refusal
