"""librdkafka's security properties for each kafka.security.mode, secrets resolved at build time.

Secrets are read when a client is built (never at import or settings time), so a rotated
SCRAM password is picked up by the next process start, and a settings object never holds one.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from aws_msk_iam_sasl_signer import MSKAuthTokenProvider
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from fleetstream.base.config import KafkaSettings, SecretSource
from fleetstream.base.errors import ConfigError
from fleetstream.base.msk import msk_region

_FAST = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3, read_timeout=5)
_ARN_REGION = re.compile(r"^arn:aws[\w-]*:secretsmanager:(?P<region>[a-z0-9-]+):")
OAuthCallback = Callable[[str], tuple[str, float]]


def security_config(settings: KafkaSettings) -> dict[str, Any]:
    """The security.protocol, ssl.* and sasl.* properties of the configured mode."""
    security = settings.security
    if security.mode == "plaintext":
        return {}
    conf: dict[str, Any] = {
        "security.protocol": "SSL" if security.mode in ("tls", "mtls") else "SASL_SSL"
    }
    if security.ca_file is not None:
        conf["ssl.ca.location"] = _existing(security.ca_file, "ca_file")
    if not security.verify_hostname:
        conf["ssl.endpoint.identification.algorithm"] = "none"
    if security.mode == "mtls":
        assert security.certificate_file is not None and security.key_file is not None
        conf["ssl.certificate.location"] = _existing(security.certificate_file, "certificate_file")
        conf["ssl.key.location"] = _existing(security.key_file, "key_file")
        if security.key_password is not None:
            conf["ssl.key.password"] = resolve_secret(security.key_password, "key_password")
    elif security.mode == "scram":
        assert security.password is not None
        conf["sasl.mechanisms"] = "SCRAM-SHA-512"
        conf["sasl.username"] = security.username
        conf["sasl.password"] = resolve_secret(security.password, "password")
    elif security.mode == "msk_iam":
        region = security.region or msk_region(settings.bootstrap_servers)
        assert region is not None  # the settings' validator demands one
        conf["sasl.mechanisms"] = "OAUTHBEARER"
        conf["oauth_cb"] = msk_iam_oauth_cb(region)
    return conf


def msk_iam_oauth_cb(region: str) -> OAuthCallback:
    """librdkafka's token callback for MSK IAM: a SigV4-signed token and its expiry.

    The signer returns the expiry in epoch milliseconds; confluent-kafka wants epoch seconds.
    librdkafka calls this again at 80% of the token's lifetime (15 minutes by default), from
    its background thread (confluent-kafka >= 2.13), so long-idle clients stay authenticated.
    """

    def oauth_cb(_oauthbearer_config: str) -> tuple[str, float]:
        token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
        return token, expiry_ms / 1000

    return oauth_cb


def resolve_secret(source: SecretSource, field: str, section: str = "kafka.security") -> str:
    """The secret's value; a ConfigError that names where it was looked for, never the value."""
    what = f"{section}.{field}"
    if source.value is not None:
        return source.value.get_secret_value()
    if source.env is not None:
        value = os.environ.get(source.env)
        if not value:
            raise ConfigError(f"{what}: environment variable {source.env} is not set")
        return value
    if source.file is not None:
        try:
            return source.file.read_text().rstrip("\r\n")
        except OSError as exc:
            raise ConfigError(f"{what}: cannot read {source.describe()} ({exc.strerror})") from None
    return _from_secrets_manager(source, what)


def _from_secrets_manager(source: SecretSource, what: str) -> str:
    """Read a secret (or one JSON field of it) with the standard AWS credential chain."""
    assert source.secrets_manager is not None
    arn = _ARN_REGION.match(source.secrets_manager)
    region = source.region or (arn["region"] if arn else None)
    where = source.describe()
    try:
        # The endpoint follows AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL if set.
        client = boto3.Session(region_name=region).client("secretsmanager", config=_FAST)
        response = client.get_secret_value(SecretId=source.secrets_manager)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise ConfigError(f"{what}: cannot read {where} ({code})") from None
    except BotoCoreError as exc:
        raise ConfigError(f"{what}: cannot read {where} ({exc})") from None
    text = response.get("SecretString")
    if text is None:
        text = response["SecretBinary"].decode()
    if source.json_key is None:
        return text
    try:
        document = json.loads(text)
    except ValueError:
        raise ConfigError(f"{what}: {where} is not JSON but json_key is set") from None
    value = document.get(source.json_key) if isinstance(document, dict) else None
    if not isinstance(value, str):
        raise ConfigError(f"{what}: {where} has no string field {source.json_key!r}")
    return value


def _existing(path: Path, field: str) -> str:
    """The path as librdkafka wants it, after checking it is a readable file."""
    if not path.is_file():
        raise ConfigError(f"kafka.security.{field}: {path} is not a file")
    return str(path)
