"""Authenticated submitters: an HMAC-SHA256 over a canonical encoding of an action request.

The key is a shared secret between one submitter and the action planner (docs/security.md):
whoever can write the actions topic but does not hold a submitter's key cannot make a request
the planner accepts, nor change one (a signed request's every field is covered).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from fleetstream.actions.models import ActionRequest

# Bumped if the canonical form ever changes, so old and new signatures never collide.
_CANONICAL_VERSION = "fleetstream-action-request-v2"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# An HMAC key shorter than this is guessable (an empty one lets anyone sign).
MIN_KEY_BYTES = 16


def canonical_bytes(request: ActionRequest) -> bytes:
    """Every field of the request but the signature, as sorted compact JSON (UTF-8)."""
    body = {
        "v": _CANONICAL_VERSION,
        "request_id": request.request_id,
        "submission_id": request.submission_id,
        "action": request.action,
        "params": dict(sorted(request.params.items())),
        "selector": request.selector.canonical(),
        "dry_run": request.dry_run,
        "max_targets": request.max_targets,
        "requested_by": request.requested_by,
        # Milliseconds, as the wire keeps them: the signature survives a round trip.
        "requested_at": _epoch_ms(request.requested_at),
        "submitter": request.submitter,
        "approves": request.approves,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature(request: ActionRequest, key: str) -> str:
    """The hex HMAC-SHA256 of the request's canonical form under the submitter's key."""
    return hmac.new(key.encode(), canonical_bytes(request), hashlib.sha256).hexdigest()


def sign_request(request: ActionRequest, key: str) -> ActionRequest:
    """The request with its signature set (its submitter must already be set)."""
    return replace(request, signature=signature(request, key))


def verifies(request: ActionRequest, key: str) -> bool:
    """The signature is the submitter key's HMAC of this very request (constant-time)."""
    return hmac.compare_digest(request.signature, signature(request, key))


def _epoch_ms(moment: datetime) -> int:
    """Whole milliseconds since the epoch, exactly as Avro's timestamp-millis keeps them."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(milliseconds=1)


def submitter_key_problem(keys: Mapping[str, str]) -> str | None:
    """What is wrong with the planner's submitter keys, or None: every key at least
    MIN_KEY_BYTES long, and no key under two names (one holder could approve its own requests
    under the other name). The message names submitters, never a key."""
    for name, key in sorted(keys.items()):
        size = len(key.encode())
        if size < MIN_KEY_BYTES:
            return (
                f"actions.policy.submitters.{name}: the key is {size} bytes; at least "
                f"{MIN_KEY_BYTES} are needed (a short or empty key lets anyone sign)"
            )
    holders: dict[str, list[str]] = {}
    for name, key in sorted(keys.items()):
        holders.setdefault(key, []).append(name)
    for names in holders.values():
        if len(names) > 1:
            return (
                f"actions.policy.submitters {', '.join(names)} share one key: give each its "
                "own (one key holder could approve its own requests under the other name)"
            )
    return None
