"""moto's server with AWS-like trust checks on STS AssumeRole (and, see bucket_policy, explicit
Deny statements of S3 bucket policies).

moto's AssumeRole succeeds for any role ARN, so "a member account whose role cannot be
assumed" cannot be tested against plain moto. The middleware below answers AssumeRole the
way AWS does (HTTP 403, AccessDenied) unless the role exists in moto's IAM backend of the
target account and one Allow statement of its trust policy is met: its `Principal` names the
caller (an account or its root, a role whose session the caller is, the caller's ARN, or "*"),
and its `sts:ExternalId` and `aws:PrincipalOrgID` conditions (StringEquals) hold.
`OrganizationAccountAccessRole` is always assumable: AWS creates it in every account made by
Organizations CreateAccount. Everything else goes to moto untouched.

Run: python -m devstack.aws_server --host 127.0.0.1 --port 5000
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from moto.iam.models import get_account_id_from, iam_backends
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.organizations.exceptions import AWSOrganizationsNotInUseException
from moto.organizations.models import organizations_backends
from moto.sts.models import sts_backends
from werkzeug.serving import run_simple
from werkzeug.wsgi import get_input_stream

ORG_ACCESS_ROLE = "OrganizationAccountAccessRole"
ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/(?:[^/]+/)*([^/]+)$")
ACCESS_KEY = re.compile(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
TrustLookup = Callable[[str, str], str | None]
OrgLookup = Callable[[str], str | None]
CALLER = re.compile(r"^arn:aws[\w-]*:(?:sts|iam)::(\d{12}):(.+)$")


def _no_org(_account_id: str) -> str | None:
    return None


@dataclass(frozen=True)
class Caller:
    """Who calls AssumeRole: its ARN, and the organization of its account."""

    arn: str
    org_of: OrgLookup = _no_org

    @property
    def account_id(self) -> str | None:
        match = CALLER.match(self.arn)
        return match.group(1) if match else None

    def is_named_by(self, principal: str) -> bool:
        """IAM's principal matching: an account (id or :root), a role (its sessions), an ARN."""
        if principal == "*":
            return True
        account = self.account_id
        if principal in (account, f"arn:aws:iam::{account}:root"):
            return True
        role = ROLE_ARN.match(principal)
        if role is not None:
            role_account, role_name = role.groups()
            return self.arn.startswith(f"arn:aws:sts::{role_account}:assumed-role/{role_name}/")
        return principal == self.arn


def _principal_ok(statement: dict[str, Any], caller: Caller | None) -> bool:
    if caller is None:
        return True  # no caller known (unit tests of the condition alone)
    principal = statement.get("Principal", {})
    if principal == "*":
        return True
    names = _as_list(principal.get("AWS", [])) if isinstance(principal, dict) else []
    return any(caller.is_named_by(str(name)) for name in names)


def trust_allows(
    policy_document: str, external_id: str | None, caller: Caller | None = None
) -> bool:
    """Return True when some Allow statement for sts:AssumeRole names the caller and its
    conditions (sts:ExternalId, aws:PrincipalOrgID) are met."""
    try:
        policy = json.loads(policy_document)
    except ValueError:
        return True  # moto accepted the document; do not be stricter than its owner
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    allows = [
        s
        for s in statements
        if s.get("Effect") == "Allow" and "sts:AssumeRole" in _as_list(s.get("Action", []))
    ]
    for statement in allows:
        equals = statement.get("Condition", {}).get("StringEquals", {})
        required = equals.get("sts:ExternalId")
        if required is not None and external_id not in _as_list(required):
            continue
        org = equals.get("aws:PrincipalOrgID")
        if org is not None and (
            caller is None
            or caller.account_id is None
            or caller.org_of(caller.account_id) not in _as_list(org)
        ):
            continue
        if _principal_ok(statement, caller):
            return True
    return not allows


def denial_reason(
    role_arn: str, external_id: str | None, lookup: TrustLookup, caller: Caller | None = None
) -> str | None:
    """Return why AssumeRole of role_arn must be denied, or None to let moto answer."""
    match = ROLE_ARN.match(role_arn)
    if match is None:
        return None  # malformed ARNs get moto's own validation error
    account_id, role_name = match.groups()
    if role_name == ORG_ACCESS_ROLE:
        return None
    document = lookup(account_id, role_arn)
    if document is None:
        return "role does not exist"
    if not trust_allows(document, external_id, caller):
        return "trust policy not met (principal, sts:ExternalId or aws:PrincipalOrgID)"
    return None


def moto_trust_policy(account_id: str, role_arn: str) -> str | None:
    """Return the trust policy of role_arn from moto's IAM backend, or None if absent."""
    for role in iam_backends[account_id]["global"].get_roles():
        if role.arn == role_arn:
            return str(role.assume_role_policy_document)
    return None


def moto_organization_id(account_id: str) -> str | None:
    """The id of the organization an account of moto belongs to (None outside one)."""
    try:
        described = organizations_backends[account_id]["aws"].describe_organization()
    except AWSOrganizationsNotInUseException:
        return None
    return str(described["Organization"]["Id"])


def caller_arn(access_key_id: str) -> str:
    """Return the ARN moto attributes to an access key (for the AccessDenied message)."""
    account_id = get_account_id_from(access_key_id)
    _, arn, _ = sts_backends[account_id]["global"].get_caller_identity(access_key_id, "us-east-1")
    return str(arn)


class TrustEnforcingMiddleware:
    """WSGI middleware that denies STS AssumeRole calls AWS would deny."""

    def __init__(self, app: WSGIApp, lookup: TrustLookup = moto_trust_policy) -> None:
        self.app = app
        self.lookup = lookup

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Check AssumeRole requests; pass everything else to moto unchanged."""
        auth = ACCESS_KEY.search(environ.get("HTTP_AUTHORIZATION", ""))
        if environ.get("REQUEST_METHOD") != "POST" or auth is None or auth.group(2) != "sts":
            return self.app(environ, start_response)
        body = get_input_stream(environ).read()
        # moto reads the body again, so hand it a fresh, fully buffered stream.
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ.pop("wsgi.input_terminated", None)
        params = parse_qs(body.decode("utf-8", "replace"))
        if params.get("Action") != ["AssumeRole"]:
            return self.app(environ, start_response)
        role_arn = params.get("RoleArn", [""])[0]
        external_id = params.get("ExternalId", [None])[0]
        caller = Caller(caller_arn(auth.group(1)), moto_organization_id)
        reason = denial_reason(role_arn, external_id, self.lookup, caller)
        if reason is None:
            return self.app(environ, start_response)
        print(f"AssumeRole denied: {role_arn}: {reason}", file=sys.stderr, flush=True)
        return access_denied(caller_arn(auth.group(1)), role_arn, start_response)


def access_denied(caller: str, role_arn: str, start_response: StartResponse) -> list[bytes]:
    """Answer with STS's AccessDenied error document, as AWS does."""
    message = f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>Sender</Type><Code>AccessDenied</Code>"
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()
    start_response(
        "403 Forbidden", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))]
    )
    return [body]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def main(argv: list[str] | None = None) -> None:
    """Serve moto plus the trust middleware until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    # moto builds some URLs (e.g. S3 presigned) from the port it believes it serves on.
    os.environ.setdefault("MOTO_PORT", str(args.port))
    # Imported here: faults and bucket_policy import this module's ACCESS_KEY.
    from devstack.bucket_policy import BucketPolicyMiddleware  # noqa: PLC0415
    from devstack.faults import FaultInjectionMiddleware  # noqa: PLC0415

    app = FaultInjectionMiddleware(
        TrustEnforcingMiddleware(
            BucketPolicyMiddleware(DomainDispatcherApplication(create_backend_app))
        )
    )
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
