"""The action planner's server-side policy: who may ask, for what, on which targets.

Pure checks over a request, its plan and the estate; each returns the reason a request must
not run, or None. Nothing here trusts the request: its own max_targets can only lower the
policy's limit, and its submitter counts only once its signature verifies
(docs/security.md has the threat model these checks answer).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from fleetstream.actions.audit import RequestRecord
from fleetstream.actions.models import ActionRequest
from fleetstream.actions.registry import ActionError, ActionSpec
from fleetstream.actions.selector import Plan, arn_identity
from fleetstream.actions.signing import verifies
from fleetstream.base.config import ActionPolicy

# Ids become DynamoDB keys and Kafka keys: bounded, printable, no separators of ours ('#').
_ID = re.compile(r"^[\w.:-]{1,128}$")
# A signature from a clock this far ahead is still accepted (hosts' clocks differ).
FUTURE_SKEW = timedelta(minutes=5)


class RequestRefusedError(ActionError):
    """A request the planner refused; the message is the reason (dead letters carry it)."""


@dataclass(frozen=True, slots=True)
class Estate:
    """The accounts a request may touch (after include/exclude), and, looked up only when
    the policy names it, every active account of the organization."""

    accounts: frozenset[str]
    organization: Callable[[], Collection[str]]


def malformed_ids(request: ActionRequest) -> str | None:
    """Why the request's ids cannot be keys, or None."""
    for name, value in (
        ("request_id", request.request_id),
        ("submission_id", request.submission_id),
    ):
        if not _ID.match(value):
            return f"{name} must be 1-128 of letters, digits, '.', ':', '_' or '-'"
    if request.approves is not None and not _ID.match(request.approves):
        return "approves must be a request id"
    return None


def authentication_refusal(
    request: ActionRequest, keys: Mapping[str, str], now: datetime, max_age: timedelta
) -> str | None:
    """Why the request's submitter is not authenticated, or None (the signature verifies
    under that submitter's key and was made within the accepted window)."""
    if not request.submitter or not request.signature:
        return (
            "not signed: a request needs a submitter and its signature "
            "(actions.submitter on the submitting side; v1 records cannot carry one)"
        )
    key = keys.get(request.submitter)
    if key is None:
        return f"unknown submitter {request.submitter!r} (not in actions.policy.submitters)"
    if not verifies(request, key):
        return (
            f"the signature does not verify for submitter {request.submitter!r}: "
            "forged, altered after signing, or signed with another key"
        )
    if request.requested_at < now - max_age or request.requested_at > now + FUTURE_SKEW:
        return (
            f"requested_at {request.requested_at.isoformat()} is outside the accepted window "
            f"(actions.policy.max_request_age_s={max_age.total_seconds():.0f}); submit it anew"
        )
    return None


def request_refusal(
    policy: ActionPolicy, spec: ActionSpec, request: ActionRequest, estate: Estate
) -> str | None:
    """Why the request itself (before its plan) is outside the policy, or None."""
    if request.action not in policy.actions:
        allowed = ", ".join(sorted(policy.actions)) or "none"
        return f"action {request.action!r} is not allowed by actions.policy.actions ({allowed})"
    for param in spec.account_params:
        account = request.params.get(param, "")
        if account not in _target_accounts(policy, estate):
            return (
                f"{param} {account} is not in actions.policy.target_accounts "
                f"({', '.join(policy.target_accounts)})"
            )
    for param in spec.kms_key_params:
        if request.params.get(param, "") not in policy.kms_keys:
            return f"{param} is not one of actions.policy.kms_keys"
    selected = list(request.selector.accounts)
    selected += [arn_identity(arn)[0] for arn in request.selector.arns]
    for account in selected:
        if account not in estate.accounts:
            return f"account {account} is not in the estate (accounts: include/exclude)"
    return None


def plan_refusal(policy: ActionPolicy, request: ActionRequest, plan: Plan) -> str | None:
    """Why the plan is too large (the policy's limit, or the request's own lower one)."""
    limit = policy.actions[request.action].max_targets
    if plan.total > limit:
        return (
            f"{plan.total} targets exceed the policy's maximum of {limit} for "
            f"{request.action} (actions.policy.actions.{request.action}.max_targets)"
        )
    if plan.total > request.max_targets:
        return (
            f"{plan.total} targets exceed the request's max-targets guard of "
            f"{request.max_targets}; narrow the selector or raise --max-targets"
        )
    return None


def needs_approval(policy: ActionPolicy, request: ActionRequest, plan: Plan) -> bool:
    """The plan is above the action's approval threshold."""
    threshold = policy.actions[request.action].approval_above
    return threshold is not None and plan.total > threshold


def approved_content(request: ActionRequest) -> str:
    """A digest of what an approval lets run: the action, parameters, selector, max_targets and
    submission. A request id is approved for this content only: any other submission under
    the same id (an earlier one replayed, or new content re-signed) does not ride on it."""
    body = {
        "action": request.action,
        "params": dict(sorted(request.params.items())),
        "selector": request.selector.canonical(),
        "max_targets": request.max_targets,
        "submission_id": request.submission_id,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def approval_refusal(
    approval: ActionRequest,
    stored: RequestRecord,
    keys: Mapping[str, str],
    now: datetime,
    max_age: timedelta,
) -> str | None:
    """Why this (authenticated) approval may not plan the stored request it approves, or None.
    The request's status (awaiting, approved already) is the planner's to judge."""
    if approval.request_id == approval.approves:
        return f"an approval needs its own request id, not that of request {approval.approves}"
    if stored.requested_by == approval.requested_by:
        return (
            f"an approval must come from a different submitter than the request's "
            f"({stored.requested_by})"
        )
    # The request was authenticated when it was submitted; it must still be now: a removed
    # submitter's waiting requests, or ones past the replay window, are not run by an approval.
    if stored.requested_by not in keys:
        return (
            f"the request's submitter {stored.requested_by!r} is no longer in "
            "actions.policy.submitters"
        )
    if datetime.fromisoformat(stored.requested_at) < now - max_age:
        return (
            f"request {approval.approves} is older than actions.policy.max_request_age_s="
            f"{max_age.total_seconds():.0f}; submit it anew"
        )
    if (approval.action, dict(approval.params), approval.selector.canonical()) != (
        stored.action,
        dict(stored.params),
        stored.selector,
    ):
        return (
            f"the approval's action, parameters or selector differ from those of request "
            f"{approval.approves}"
        )
    return None


def _target_accounts(policy: ActionPolicy, estate: Estate) -> set[str]:
    allowed = {a for a in policy.target_accounts if a not in ("estate", "organization")}
    if "estate" in policy.target_accounts:
        allowed |= estate.accounts
    if "organization" in policy.target_accounts:
        allowed |= set(estate.organization())
    return allowed
