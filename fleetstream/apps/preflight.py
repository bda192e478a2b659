"""Start-up checks: every unreachable dependency is one actionable line within seconds."""

from __future__ import annotations

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
)

from fleetstream.base.config import Settings
from fleetstream.base.errors import ConfigError, UnavailableError
from fleetstream.kafka import clients as kafka

# Nothing answered at all: an outage (or a wrong endpoint) that a retry may get past.
_UNREACHABLE = (EndpointConnectionError, ConnectTimeoutError)
_FAST = Config(retries={"max_attempts": 1}, connect_timeout=3, read_timeout=5)


def check_aws(settings: Settings) -> None:
    """The hub identity works against the configured AWS endpoint."""
    where = settings.aws.endpoint_url or "AWS"
    try:
        sts = boto3.Session(region_name=settings.aws.region).client(
            "sts", endpoint_url=settings.aws.endpoint_url, config=_FAST
        )
        sts.get_caller_identity()
    except NoCredentialsError:
        raise ConfigError(
            "no AWS credentials for the hub identity; set AWS_PROFILE or AWS_ACCESS_KEY_ID"
        ) from None
    except (ClientError, BotoCoreError) as exc:
        error = UnavailableError if isinstance(exc, _UNREACHABLE) else ConfigError
        raise error(
            f"cannot use AWS at {where}: {exc}; check aws.endpoint_url / AWS_ENDPOINT_URL"
        ) from None


def check_dynamodb(settings: Settings) -> None:
    """The DynamoDB endpoint answers."""
    endpoint = settings.sink.dynamodb_endpoint or settings.aws.endpoint_url
    try:
        boto3.Session(region_name=settings.aws.region).client(
            "dynamodb", endpoint_url=endpoint, config=_FAST
        ).list_tables(Limit=1)
    except (ClientError, BotoCoreError) as exc:
        error = UnavailableError if isinstance(exc, _UNREACHABLE) else ConfigError
        raise error(
            f"cannot use DynamoDB at {endpoint or 'AWS'}: {exc}; check sink.dynamodb_endpoint "
            "/ FLEETSTREAM_DYNAMODB_ENDPOINT"
        ) from None


def check_all(settings: Settings) -> None:
    """Kafka, AWS and DynamoDB, in the order a sweep needs them."""
    kafka.preflight(settings.kafka)
    check_aws(settings)
    check_dynamodb(settings)
