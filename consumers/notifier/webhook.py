"""POST a JSON message to an incoming webhook: paced, retried, and never logging the URL.

The URL of an incoming webhook is its credential, so no message, log line or exception raised
here contains it. Outcomes:
- 2xx: posted.
- 429: wait the Retry-After seconds the server asked for (capped), then try again.
- 5xx, a timeout or a connection error: exponential backoff with jitter, then try again,
  for as long as it takes (the caller's wait() returns False to give up on shutdown).
- any other status (400 bad payload, 403/404/410 a revoked or deleted webhook):
  WebhookRejectedError.
"""

from __future__ import annotations

import json
import logging
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from pydantic import SecretStr

from fleetstream.base.errors import FleetstreamError
from fleetstream.base.metrics import NOTIFIER_POSTS
from fleetstream.base.retry import RetryPolicy as Backoff

log = logging.getLogger(__name__)

# wait(seconds) -> False when the process is stopping and the post should be abandoned.
Wait = Callable[[float], bool]


class WebhookRejectedError(FleetstreamError):
    """The webhook refused the message for good (a 4xx other than 429)."""

    def __init__(self, status: int, answer: str) -> None:
        super().__init__(
            f"the webhook answered {answer[:200]!r}; the digest was not posted "
            "and its offsets were not committed: fix the webhook (notifier.webhook_url) and "
            "restart, the changes are re-read from Kafka"
        )
        self.status = status


class PostAbandonedError(FleetstreamError):
    """The process is stopping while a post still waits for a retry."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """The pace of posts and the backoff of transient failures (fleetstream.base.retry's
    policy, attempts counted from 1)."""

    base_s: float = 1.0
    max_backoff_s: float = 60.0
    retry_after_max_s: float = 900.0
    min_interval_s: float = 1.0  # 60 / max posts per minute
    timeout_s: float = 10.0


class Webhook:
    """One webhook URL and its pace; post() returns once the message is accepted."""

    def __init__(
        self,
        url: SecretStr,
        policy: RetryPolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._policy = policy
        self._clock = clock
        self._next_allowed = 0.0
        self._backoff = Backoff(base_s=policy.base_s, max_backoff_s=policy.max_backoff_s)

    def post(self, payload: dict[str, Any], wait: Wait) -> int:
        """POST payload until accepted; return the attempts it took."""
        body = json.dumps(payload).encode()
        attempt = 0
        while True:
            attempt += 1
            # The pace holds for retries too: each attempt is a request the webhook counts.
            self._pause(self._next_allowed - self._clock(), wait)
            self._next_allowed = self._clock() + self._policy.min_interval_s
            status, text, retry_after = self._send(body)
            if 200 <= status < 300:
                NOTIFIER_POSTS.labels("posted").inc()
                return attempt
            if status == 429:
                NOTIFIER_POSTS.labels("rate_limited").inc()
                delay = min(retry_after or self._delay_s(attempt), self._policy.retry_after_max_s)
                log.warning("webhook rate limited (429); retrying in %.1fs", delay)
            elif status >= 500 or status == 0:
                NOTIFIER_POSTS.labels("retried").inc()
                delay = self._delay_s(attempt)
                log.warning("webhook post failed (%s); retry %d in %.1fs", text, attempt, delay)
            else:
                NOTIFIER_POSTS.labels("rejected").inc()
                raise WebhookRejectedError(status, text)
            self._pause(delay, wait)
            # A server that asked for a pause gets it before any other request.
            self._next_allowed = max(self._next_allowed, self._clock())

    def _pause(self, seconds: float, wait: Wait) -> None:
        if seconds > 0 and not wait(seconds):
            raise PostAbandonedError("stopping while the digest waits to be posted")

    def _delay_s(self, attempt: int) -> float:
        # Attempts count from 1 here: the first retry waits about base_s.
        return self._backoff.backoff_s(attempt - 1, random.random())

    def _send(self, body: bytes) -> tuple[int, str, float | None]:
        """(status, short description, Retry-After seconds); status 0 = no HTTP answer."""
        request = urllib.request.Request(
            self._url.get_secret_value(),
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self._policy.timeout_s) as response:
                return response.status, "ok", None
        except urllib.error.HTTPError as exc:
            # Only the status and the server's short answer: the exception carries the URL.
            text = exc.read(500).decode("utf-8", "replace").strip() or str(exc.reason)
            return (
                exc.code,
                f"HTTP {exc.code}: {text}",
                retry_after_seconds(exc.headers.get("Retry-After")),
            )
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            return 0, f"{type(reason).__name__}: {reason}", None


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header (delta-seconds or an HTTP date) in seconds; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
