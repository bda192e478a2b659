"""Typed errors: each one carries the decision the caller must take."""

from __future__ import annotations


class FleetstreamError(Exception):
    """Base of every error fleetstream raises on purpose."""


class ConfigError(FleetstreamError):
    """Invalid configuration or an unusable endpoint; the message is one actionable line."""


class UnavailableError(ConfigError):
    """A dependency (Kafka, an AWS endpoint, DynamoDB) cannot be reached: retrying may succeed.

    A ConfigError too, since a wrong endpoint looks the same from here; commands exit
    ExitCode.UNAVAILABLE for it so that scripts can tell an outage from a bad config.
    """


class PoisonMessageError(FleetstreamError):
    """A message that can never be processed (undecodable, wrong schema): send it to the DLQ."""


class ShardFailedError(FleetstreamError):
    """A shard cannot be described (access denied, role not assumable, region disabled).

    The shard is reported FAILED with the reason; it never deletes or reports zero resources.
    """

    def __init__(self, error_code: str, reason: str) -> None:
        super().__init__(f"{error_code}: {reason}")
        self.error_code = error_code
        self.reason = reason


class RetryBatchError(FleetstreamError):
    """A whole batch must be redone later (the store is throttling or unavailable)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
