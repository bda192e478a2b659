"""moto's server with AWS-like trust checks on STS AssumeRole (and, see bucket_policy, explicit
Deny statements of S3 bucket policies).

moto's AssumeRole succeeds for any role ARN, so "a member account whose role cannot be
assumed" cannot be tested against plain moto. The middleware below answers AssumeRole the
way AWS does (HTTP 403, AccessDenied) unless the role exists in moto's IAM backend of the
target account and, when its trust policy demands one, the request carries the matching
sts:ExternalId. `OrganizationAccountAccessRole` is always assumable: AWS creates it in every
account made by Organizations CreateAccount. Everything else goes to moto untouched.

Run: python -m fleetstream.devstack.aws_server --host 127.0.0.1 --port 5000
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
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from moto.iam.models import get_account_id_from, iam_backends
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
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


def trust_allows(policy_document: str, external_id: str | None) -> bool:
    """Return True when some Allow statement for sts:AssumeRole is met by external_id."""
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
        required = statement.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId")
        if required is None or external_id in _as_list(required):
            return True
    return not allows


def denial_reason(role_arn: str, external_id: str | None, lookup: TrustLookup) -> str | None:
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
    if not trust_allows(document, external_id):
        return "trust policy condition sts:ExternalId not met"
    return None


def moto_trust_policy(account_id: str, role_arn: str) -> str | None:
    """Return the trust policy of role_arn from moto's IAM backend, or None if absent."""
    for role in iam_backends[account_id]["global"].get_roles():
        if role.arn == role_arn:
            return str(role.assume_role_policy_document)
    return None


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
        reason = denial_reason(role_arn, external_id, self.lookup)
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
    from fleetstream.devstack.bucket_policy import BucketPolicyMiddleware  # noqa: PLC0415
    from fleetstream.devstack.faults import FaultInjectionMiddleware  # noqa: PLC0415

    app = FaultInjectionMiddleware(
        TrustEnforcingMiddleware(
            BucketPolicyMiddleware(DomainDispatcherApplication(create_backend_app))
        )
    )
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
