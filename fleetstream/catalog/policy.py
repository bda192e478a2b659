"""IAM: the action each API call needs, and the member role's least-privilege read-only policy."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import botocore.session

from fleetstream.catalog import CatalogEntry, entries_for

# The planner lists each member account's enabled regions with this action.
REGION_DISCOVERY = "ec2:DescribeRegions"

# API operations whose IAM action has another name (the Service Authorization Reference).
_ACTION_NAMES = {("s3", "ListBuckets"): "ListAllMyBuckets"}


@cache
def iam_prefix(service: str) -> str:
    """The IAM prefix of a boto3 service: its signing name (elbv2: elasticloadbalancing)."""
    model = botocore.session.get_session().get_service_model(service)
    return str(model.signing_name)


def iam_action(service: str, operation: str) -> str:
    """The IAM action an API operation needs, e.g. ('stepfunctions', 'ListStateMachines')."""
    return f"{iam_prefix(service)}:{_ACTION_NAMES.get((service, operation), operation)}"


def required_actions(entry: CatalogEntry) -> frozenset[str]:
    """Every IAM action the calls of an entry need (parent list, list, detail calls)."""
    return frozenset(iam_action(entry.service, operation) for operation in entry.operations())


def iam_policy(type_names: Iterable[str], action_permissions: Iterable[str] = ()) -> dict[str, Any]:
    """The member role's policy: read-only for these resource types, plus the permissions of
    the action plane's actions when given (a second statement, so it reads apart).

    Resource is "*": list and describe actions do not support resource-level permissions.
    """
    entries = entries_for(type_names)
    actions = sorted({a for entry in entries for a in entry.permissions} | {REGION_DISCOVERY})
    statements: list[dict[str, Any]] = [
        {
            "Sid": "FleetstreamReadOnly",
            "Effect": "Allow",
            "Action": actions,
            "Resource": "*",
        }
    ]
    writes = sorted(set(action_permissions))
    if writes:
        statements.append(
            {"Sid": "FleetstreamActions", "Effect": "Allow", "Action": writes, "Resource": "*"}
        )
    return {"Version": "2012-10-17", "Statement": statements}
