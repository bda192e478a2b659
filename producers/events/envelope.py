"""The EventBridge envelope of a CloudTrail management event ("AWS API Call via CloudTrail")."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fleetstream.base.errors import PoisonMessageError

# What EventBridge delivers for a management event CloudTrail recorded.
API_CALL = "AWS API Call via CloudTrail"


@dataclass(frozen=True, slots=True)
class ApiCallEvent:
    """The parts of one CloudTrail API call event the router needs."""

    event_id: str
    account_id: str  # where the resource lives: detail.recipientAccountId, else the envelope's
    region: str
    source: str  # detail.eventSource, e.g. ec2.amazonaws.com
    name: str  # detail.eventName, e.g. RunInstances
    time: datetime
    detail: Mapping[str, Any]
    envelope_account: str  # the account whose bus the event came from ("account")

    @property
    def failed(self) -> bool:
        """The call was refused (detail.errorCode): it changed nothing."""
        return bool(self.detail.get("errorCode"))

    @property
    def foreign(self) -> bool:
        """Another account's copy of the event: its envelope account is not the recipient.

        For a cross-account call CloudTrail records the event in the caller's account too;
        the resource owner's own copy (account == recipientAccountId) is the one to trust.
        """
        return self.envelope_account != self.account_id


def _text(record: Mapping[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value:
        raise PoisonMessageError(f"event has no {where}{key}")
    return value


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise PoisonMessageError(f"event time {text[:40]!r} is not ISO 8601") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_event(value: bytes | None) -> ApiCallEvent | None:
    """Decode one event; None for a well-formed event of another kind (not an API call).

    Raises PoisonMessageError for anything that is not an EventBridge event at all.
    """
    if value is None:
        raise PoisonMessageError("event has no value")
    try:
        envelope = json.loads(value)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PoisonMessageError(f"event is not JSON: {exc}") from exc
    if not isinstance(envelope, dict):
        raise PoisonMessageError("event is not a JSON object")
    kind = _text(envelope, "detail-type", "")
    detail = envelope.get("detail")
    if not isinstance(detail, dict):
        raise PoisonMessageError("event has no detail object")
    if kind != API_CALL:
        return None
    account = _text(envelope, "account", "")
    # The account the call was made in; CloudTrail's recipientAccountId is where the resource
    # lives. When they differ the event is foreign (see ApiCallEvent.foreign).
    recipient = detail.get("recipientAccountId")
    return ApiCallEvent(
        event_id=str(envelope.get("id") or detail.get("eventID") or ""),
        account_id=recipient if isinstance(recipient, str) and recipient else account,
        envelope_account=account,
        region=_text(envelope, "region", ""),
        source=_text(detail, "eventSource", "detail."),
        name=_text(detail, "eventName", "detail."),
        time=_time(str(detail.get("eventTime") or _text(envelope, "time", ""))),
        detail=detail,
    )
