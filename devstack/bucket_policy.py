"""Explicit Deny statements of S3 bucket policies, enforced in front of moto.

moto stores bucket policies but does not apply them to bucket-level calls (GetBucketLocation,
GetBucketTagging, ...), so "a member role the bucket policy refuses" cannot be tested against
plain moto. This middleware answers such a call the way S3 does (HTTP 403, AccessDenied) when
the bucket's policy has an explicit Deny for it. Enforced: statements with Effect Deny, no
Condition, an Action (wildcards allowed) naming the call's IAM action, a Resource matching the
bucket's ARN, and a Principal that is "*" or the caller's role (an assumed role's role ARN, or
its session ARN). Everything else, Allow statements included, is moto's business as before.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from typing import Any
from xml.sax.saxutils import escape

from moto.iam.models import get_account_id_from
from moto.s3.models import s3_backends
from moto.sts.models import sts_backends

from devstack.aws_server import ACCESS_KEY
from devstack.s3_rest import S3Request, s3_request

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
PolicyLookup = Callable[[str], str | None]  # bucket name -> policy document
CallerLookup = Callable[[str], frozenset[str]]  # access key id -> the caller's principal ARNs


def denies(policy_document: str, request: S3Request, principals: frozenset[str]) -> bool:
    """Return True when an unconditioned Deny statement of the policy covers the request."""
    try:
        policy = json.loads(policy_document)
    except ValueError:
        return False
    statements = policy.get("Statement", []) if isinstance(policy, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    return any(
        isinstance(s, dict)
        and s.get("Effect") == "Deny"
        and "Condition" not in s
        and _any_match(s.get("Action"), request.action, case_sensitive=False)
        and _any_match(s.get("Resource"), request.resource_arn, case_sensitive=True)
        and _names_principal(s.get("Principal"), principals)
        for s in statements
    )


def _any_match(patterns: Any, value: str, *, case_sensitive: bool) -> bool:
    listed = patterns if isinstance(patterns, list) else [patterns]
    if not case_sensitive:
        value = value.lower()
    return any(
        isinstance(p, str) and fnmatchcase(value, p if case_sensitive else p.lower())
        for p in listed
    )


def _names_principal(principal: Any, principals: frozenset[str]) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    named = principal.get("AWS", [])
    listed = named if isinstance(named, list) else [named]
    return any(p == "*" or p in principals for p in listed)


def moto_bucket_policy(bucket: str) -> str | None:
    """The policy document of a bucket in moto's S3 backend (any account), or None."""
    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        return None
    partition, account_id = owner
    found = s3_backends[account_id][partition].buckets.get(bucket)
    policy = None if found is None else found.policy
    return None if policy is None else policy.decode()


def moto_caller(access_key_id: str) -> frozenset[str]:
    """The ARNs a bucket policy may name the caller by: for an assumed role, the role's ARN
    and the session's ARN; for anything else, nothing (only "*" statements apply)."""
    account_id = get_account_id_from(access_key_id)
    assumed = sts_backends[account_id]["aws"].get_assumed_role_from_access_key(access_key_id)
    if assumed is None:
        return frozenset()
    return frozenset({assumed.role_arn, assumed.arn})


class BucketPolicyMiddleware:
    """WSGI middleware that refuses S3 bucket calls an explicit bucket-policy Deny refuses."""

    def __init__(
        self,
        app: WSGIApp,
        policy_of: PolicyLookup = moto_bucket_policy,
        caller_of: CallerLookup = moto_caller,
    ) -> None:
        self.app = app
        self.policy_of = policy_of
        self.caller_of = caller_of

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Refuse a denied bucket call; pass everything else to moto unchanged."""
        signer = ACCESS_KEY.search(environ.get("HTTP_AUTHORIZATION", ""))
        if signer is None or signer.group(2) != "s3":
            return self.app(environ, start_response)
        request = s3_request(environ)
        if request is None:
            return self.app(environ, start_response)
        policy = self.policy_of(request.bucket)
        if policy is None or not denies(policy, request, self.caller_of(signer.group(1))):
            return self.app(environ, start_response)
        print(
            f"{request.operation} on {request.bucket} denied by its bucket policy",
            file=sys.stderr,
            flush=True,
        )
        return access_denied(start_response)


def access_denied(start_response: StartResponse) -> list[bytes]:
    """Answer with S3's AccessDenied error document, as S3 does."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
        f"<RequestId>{escape(uuid.uuid4().hex[:16].upper())}</RequestId></Error>"
    ).encode()
    start_response(
        "403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
    )
    return [body]
