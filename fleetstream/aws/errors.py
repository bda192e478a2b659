"""Classification of AWS errors into the one path each kind takes."""

from __future__ import annotations

from enum import StrEnum

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    NoCredentialsError,
)

from fleetstream.base.errors import ShardFailedError


class ErrorKind(StrEnum):
    """The one path each AWS error takes."""

    THROTTLED = "throttled"  # retry later with backoff; slows the shard, never fails it early
    TRANSIENT = "transient"  # 5xx, connection trouble, expired credentials: retry later
    DENIED = "denied"  # the shard fails with the reason; other shards go on
    PERMANENT = "permanent"  # a request AWS will never accept: the shard fails


# The caller may not do this here: the shard fails with the reason; other shards go on.
DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthFailure",
        "OptInRequired",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SubscriptionRequiredException",
    }
)

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)


TRANSIENT_CODES = frozenset(
    {"InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable", "RequestTimeout"}
)


def classify(error: ClientError | BotoCoreError) -> ErrorKind:
    """Which path an AWS error that survived botocore's own retries takes."""
    if isinstance(error, NoCredentialsError):
        return ErrorKind.DENIED
    if isinstance(error, ConnectionError | HTTPClientError):
        return ErrorKind.TRANSIENT
    if isinstance(error, BotoCoreError):
        return ErrorKind.PERMANENT
    code = error_code(error)
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in THROTTLING_CODES or status == 429:
        return ErrorKind.THROTTLED
    if code == "ExpiredToken" or code in TRANSIENT_CODES or status >= 500:
        return ErrorKind.TRANSIENT
    if code in DENIED_CODES or error.operation_name == "AssumeRole":
        return ErrorKind.DENIED
    return ErrorKind.PERMANENT


def error_code(error: ClientError) -> str:
    """The AWS error code of a ClientError ('Unknown' if the response had none)."""
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def shard_failure(error: ClientError | BotoCoreError, role_arn: str) -> ShardFailedError:
    """Map an AWS error that survived botocore's retries to the reason a shard failed."""
    if isinstance(error, BotoCoreError):
        return ShardFailedError(type(error).__name__, str(error))
    code = error_code(error)
    message = str(error.response.get("Error", {}).get("Message", error))
    if error.operation_name == "AssumeRole":
        return ShardFailedError("RoleNotAssumable", f"cannot assume {role_arn}: {code}: {message}")
    if code in THROTTLING_CODES:
        return ShardFailedError("Throttled", f"still throttled after retries: {code}: {message}")
    if code in DENIED_CODES:
        return ShardFailedError(code, message)
    return ShardFailedError(code, f"{error.operation_name} failed: {message}")
