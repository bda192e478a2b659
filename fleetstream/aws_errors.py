"""Classification of AWS errors into the one path each kind takes."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from fleetstream.errors import ShardFailedError

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
        "ExpiredToken",
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
