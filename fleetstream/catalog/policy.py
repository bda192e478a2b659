"""IAM: the action each API call needs, and the member role's least-privilege read-only policy."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fleetstream.catalog import CatalogEntry, entries_for
from fleetstream.catalog.iam_actions import iam_action

# The planner lists each member account's enabled regions with this action.
REGION_DISCOVERY = "ec2:DescribeRegions"

__all__ = ["REGION_DISCOVERY", "iam_action", "iam_policy", "required_actions"]


def required_actions(entry: CatalogEntry) -> frozenset[str]:
    """Every IAM action the calls of an entry need (parent list, list, detail calls)."""
    return frozenset(iam_action(entry.service, operation) for operation in entry.operations())


# Actions that authorize by resource path rather than by operation: apigateway:GET on "*" would
# also read API keys' values (GET /apikeys?includeValues=true); the catalog reads only APIs,
# their stages and tags.
PATH_SCOPED_READS = {
    "apigateway:GET": [
        f"arn:*:apigateway:*::/{path}" for path in ("restapis", "restapis/*", "apis", "apis/*")
    ]
}

# What a read action's name starts with: the read-only statement holds nothing else. BatchGet*
# reads several resources in one call (CodeBuild's BatchGetProjects is its only detail call).
READ_VERBS = ("List", "Describe", "Get", "BatchGet")


def is_read_action(action: str) -> bool:
    """A read: named by a read verb, or one of the path-scoped reads (apigateway:GET)."""
    return action.split(":", 1)[1].startswith(READ_VERBS) or action in PATH_SCOPED_READS


def iam_policy(type_names: Iterable[str], action_permissions: Iterable[str] = ()) -> dict[str, Any]:
    """The member role's policy: read-only for these resource types, plus the permissions of
    the action plane's actions when given (a second statement, so it reads apart).

    Resource is "*": list and describe actions do not support resource-level permissions.
    """
    entries = entries_for(type_names)
    granted = {a for entry in entries for a in entry.permissions} | {REGION_DISCOVERY}
    actions = sorted(granted - PATH_SCOPED_READS.keys())
    statements: list[dict[str, Any]] = [
        {
            "Sid": "FleetstreamReadOnly",
            "Effect": "Allow",
            "Action": actions,
            "Resource": "*",
        }
    ]
    for action in sorted(granted & PATH_SCOPED_READS.keys()):
        sid = "FleetstreamReads" + action.split(":")[0].title().replace("-", "")
        statements.append(
            {
                "Sid": sid,
                "Effect": "Allow",
                "Action": [action],
                "Resource": PATH_SCOPED_READS[action],
            }
        )
    writes = sorted(set(action_permissions))
    if writes:
        statements.append(
            {"Sid": "FleetstreamActions", "Effect": "Allow", "Action": writes, "Resource": "*"}
        )
    return {"Version": "2012-10-17", "Statement": statements}
