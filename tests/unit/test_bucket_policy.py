"""The devstack's bucket-policy Deny enforcement in front of moto (pure parts)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devstack.bucket_policy import denies
from devstack.s3_rest import S3Request, s3_request

pytestmark = pytest.mark.unit
ROLE = "arn:aws:iam::111111111111:role/FleetstreamReadOnly"
LOCATE = S3Request("GetBucketLocation", "s3:GetBucketLocation", "b")


def policy(**statement: Any) -> str:
    base = {
        "Effect": "Deny",
        "Principal": {"AWS": ROLE},
        "Action": "s3:GetBucketLocation",
        "Resource": "arn:aws:s3:::b",
    }
    return json.dumps({"Statement": [base | statement]})


def test_an_explicit_deny_for_the_callers_role_is_enforced() -> None:
    assert denies(policy(), LOCATE, frozenset({ROLE}))
    assert denies(policy(Action=["s3:GetBucket*"], Principal="*"), LOCATE, frozenset())
    assert denies(policy(Principal={"AWS": [ROLE, "x"]}, Resource="*"), LOCATE, frozenset({ROLE}))


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow"},
        {"Action": "s3:GetBucketTagging"},
        {"Resource": "arn:aws:s3:::other"},
        {"Principal": {"AWS": "arn:aws:iam::111111111111:role/Other"}},
        {"Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ],
)
def test_what_does_not_deny_this_caller_this_call_is_left_to_moto(
    statement: dict[str, Any],
) -> None:
    assert not denies(policy(**statement), LOCATE, frozenset({ROLE}))


def test_s3_rest_requests_are_named_by_operation() -> None:
    def named(method: str, path: str, query: str = "") -> str | None:
        found = s3_request({"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query})
        return None if found is None else f"{found.operation} {found.action} {found.bucket}"

    assert named("GET", "/b", "location") == "GetBucketLocation s3:GetBucketLocation b"
    assert named("GET", "/b", "tagging") == "GetBucketTagging s3:GetBucketTagging b"
    assert named("GET", "/b", "list-type=2") == "ListObjects s3:ListBucket b"
    assert named("GET", "/") is None  # ListBuckets
    assert named("GET", "/b/key") is None  # object calls
    assert named("PUT", "/b", "tagging") is None
