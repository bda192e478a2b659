"""Approvals' pure rules: which submitter keys the planner accepts at start, and when an
approval may plan the request it approves (docs/security.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from consumers.action_planner.main import submitter_keys
from fleetstream.actions.audit import RequestRecord
from fleetstream.actions.models import ActionRequest, Selector
from fleetstream.actions.policy import approval_refusal, approved_content
from fleetstream.base.config import ActionPolicy
from fleetstream.base.errors import ConfigError
from fleetstream.base.models import utc_now

pytestmark = pytest.mark.unit

HOME = "111111111111"
ALICE_KEY, BOB_KEY = "alice-" + "a" * 32, "bob-" + "b" * 32
KEYS = {"alice": ALICE_KEY, "bob": BOB_KEY}
MAX_AGE = timedelta(days=1)
SELECTOR = Selector("ec2.instance", accounts=(HOME,))


def policy(submitters: dict[str, str]) -> ActionPolicy:
    return ActionPolicy.model_validate({"submitters": submitters})


@pytest.mark.parametrize(
    ("submitters", "message"),
    [
        ({"alice": ""}, r"actions.policy.submitters.alice: the key is 0 bytes; at least 16"),
        ({"alice": "a-key"}, r"actions.policy.submitters.alice: the key is 5 bytes; at least 16"),
        (
            {"alice": ALICE_KEY, "bob": ALICE_KEY, "carol": "c" * 16},
            r"actions.policy.submitters alice, bob share one key",
        ),
    ],
)
def test_short_empty_or_shared_submitter_keys_stop_the_planner_at_start(
    submitters: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        submitter_keys(policy(submitters))
    assert ALICE_KEY not in str(raised.value)  # never the secret itself


def test_distinct_keys_of_16_bytes_or_more_are_accepted() -> None:
    assert submitter_keys(policy(KEYS | {"carol": "c" * 16})) == KEYS | {"carol": "c" * 16}


def waiting(**changes: object) -> RequestRecord:
    """Alice's request req-1 as stored while it awaits approval."""
    base = RequestRecord(
        status="AWAITING_APPROVAL",
        steps=0,
        submissions=frozenset({"s-1"}),
        summary="",
        requested_by="alice",
        requested_at=utc_now().isoformat(),
        action="tag",
        params={"Team": "a"},
        selector=SELECTOR.canonical(),
        max_targets=1000,
        submission="s-1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def approval(**changes: object) -> ActionRequest:
    """Bob's approval of req-1, with the same action, parameters and selector."""
    base = ActionRequest(
        request_id="apr-1",
        submission_id="a-1",
        action="tag",
        params={"Team": "a"},
        selector=SELECTOR,
        max_targets=1000,
        requested_by="bob",
        requested_at=utc_now(),
        dry_run=False,
        submitter="bob",
        approves="req-1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def refusal(approving: ActionRequest, stored: RequestRecord, keys: dict[str, str] = KEYS) -> str:
    return approval_refusal(approving, stored, keys, utc_now(), MAX_AGE) or ""


def test_a_matching_approval_by_another_configured_submitter_passes() -> None:
    assert approval_refusal(approval(), waiting(), KEYS, utc_now(), MAX_AGE) is None


def test_an_approval_is_refused_when_the_requests_submitter_was_removed() -> None:
    reason = refusal(approval(), waiting(), {"bob": BOB_KEY})
    assert "submitter 'alice' is no longer in actions.policy.submitters" in reason


def test_an_approval_is_refused_when_the_request_is_older_than_max_request_age() -> None:
    old = waiting(requested_at=(utc_now() - MAX_AGE - timedelta(seconds=1)).isoformat())
    assert "older than actions.policy.max_request_age_s=86400" in refusal(approval(), old)


def test_an_approval_needs_its_own_id_and_another_submitter_and_the_same_content() -> None:
    assert "its own request id" in refusal(approval(request_id="req-1"), waiting())
    assert "a different submitter" in refusal(approval(requested_by="alice"), waiting())
    assert "differ" in refusal(approval(params={"Team": "b"}), waiting())
    assert "differ" in refusal(approval(action="untag"), waiting())
    other = Selector("ec2.instance", accounts=(HOME,), regions=("eu-west-1",))
    assert "differ" in refusal(approval(selector=other), waiting())


def test_approved_content_covers_what_runs_and_which_submission() -> None:
    stored = waiting().request("req-1")
    same = approved_content(stored)
    assert approved_content(replace(stored, requested_at=utc_now())) == same  # not the time
    for changed in (
        replace(stored, action="stop", params={}),
        replace(stored, params={"Team": "b"}),
        replace(stored, selector=Selector("ec2.instance", accounts=(HOME, "2" * 12))),
        replace(stored, max_targets=5),
        replace(stored, submission_id="s-2"),
    ):
        assert approved_content(changed) != same, changed
