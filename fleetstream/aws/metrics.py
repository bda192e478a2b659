"""AWS API metrics from botocore's event hooks: calls, latency, throttled attempts, errors.

Register once per botocore session, before its clients are created (clients copy the session's
event hooks when they are built):

    instrument_session(core, account="123456789012")   # a member account's session
    instrument_session(hub_core)                         # fleetstream's own identity ("hub")
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import botocore.session
from botocore.exceptions import ClientError

from fleetstream.aws.errors import THROTTLING_CODES
from fleetstream.base.metrics import (
    AWS_CALL_SECONDS,
    AWS_CALLS,
    AWS_ERROR_CODES,
    AWS_ERRORS,
    AWS_THROTTLES,
    CREDENTIAL_REFRESHES,
    account_label,
)

HUB = "hub"
_STARTED = "fleetstream_metrics_started"
_LABELS = "fleetstream_metrics_labels"
_UNIQUE = "fleetstream-metrics"


def instrument_session(
    core: botocore.session.Session, *, account: str | Callable[[], str] = HUB
) -> None:
    """Count and time every API call of clients created from this session afterwards.

    account is the account label, or a function giving it for the call in progress (the
    shared member clients act for a different account in each call). Idempotent: a second
    call on the same session registers nothing more.
    """
    core.register(
        "before-call", functools.partial(_before_call, account), unique_id=f"{_UNIQUE}-before"
    )
    core.register("needs-retry", _needs_retry, unique_id=f"{_UNIQUE}-retry")
    core.register("after-call", _after_call, unique_id=f"{_UNIQUE}-after")
    core.register("after-call-error", _after_call_error, unique_id=f"{_UNIQUE}-after-error")


def counted_refresh(fetch: Callable[[], Any]) -> Callable[[], Any]:
    """Wrap a credential fetcher (AssumeRoleCredentialFetcher.fetch_credentials) to count it."""

    @functools.wraps(fetch)
    def fetch_counted() -> Any:
        try:
            credentials = fetch()
        except Exception:
            CREDENTIAL_REFRESHES.labels("error").inc()
            raise
        CREDENTIAL_REFRESHES.labels("ok").inc()
        return credentials

    return fetch_counted


Labels = tuple[str, str, str, str]  # service, operation, account label, region


def _labels(context: dict[str, Any] | None) -> Labels | None:
    """(service, operation, account, region) stashed by _before_call for this call."""
    stashed = (context or {}).get(_LABELS)
    return stashed if isinstance(stashed, tuple) else None


def _before_call(
    account: str | Callable[[], str], model: Any, context: dict[str, Any], **_: Any
) -> None:
    service, operation = str(model.service_model.service_name), str(model.name)
    region = str(context.get("client_region") or "unknown")
    label = account_label(account() if callable(account) else account)
    context[_LABELS] = (service, operation, label, region)
    context[_STARTED] = time.monotonic()
    AWS_CALLS.labels(service, operation, label, region).inc()
    # Zero-valued series from the first call on, so rate() and dashboards see 0, not nothing.
    AWS_THROTTLES.labels(service, operation, label, region)
    AWS_ERRORS.labels(service, operation, label, region)


def _needs_retry(
    response: tuple[Any, dict[str, Any]] | None = None,
    request_dict: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    # Called once per attempt; returning None leaves the retry decision to botocore.
    labels = _labels((request_dict or {}).get("context"))
    if response is None or labels is None:
        return
    if response[1].get("Error", {}).get("Code") in THROTTLING_CODES:
        AWS_THROTTLES.labels(*labels).inc()


def _after_call(**event: Any) -> None:
    labels = _finish(event.get("context"))
    if labels is None:
        return
    status = int(getattr(event.get("http_response"), "status_code", 200) or 200)
    if status >= 300:
        code = str((event.get("parsed") or {}).get("Error", {}).get("Code") or status)
        AWS_ERRORS.labels(*labels).inc()
        AWS_ERROR_CODES.labels(*labels[:2], code).inc()


def _after_call_error(**event: Any) -> None:
    # Also raised before any request was sent (e.g. the member credentials could not be fetched).
    labels = _finish(event.get("context"))
    if labels is None:
        return
    exception: BaseException = event["exception"]
    code = type(exception).__name__
    if isinstance(exception, ClientError):
        code = str(exception.response.get("Error", {}).get("Code") or code)
    AWS_ERRORS.labels(*labels).inc()
    AWS_ERROR_CODES.labels(*labels[:2], code).inc()


def _finish(context: dict[str, Any] | None) -> Labels | None:
    """Observe the call's latency; its labels, or None if _before_call did not see it."""
    labels = _labels(context)
    started = (context or {}).pop(_STARTED, None)
    if labels is not None and started is not None:
        service, operation, _, region = labels
        AWS_CALL_SECONDS.labels(service, operation, region).observe(time.monotonic() - started)
    return labels
