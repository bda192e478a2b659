"""kafka.security: validation, the librdkafka properties of each mode, secrets and MSK IAM."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

from fleetstream.base.config import KafkaSettings, load_settings
from fleetstream.base.errors import ConfigError
from fleetstream.base.msk import msk_region
from fleetstream.kafka import clients as kafka
from fleetstream.kafka.auth import resolve_secret

pytestmark = pytest.mark.unit

SECRET = "s3cr3t-do-not-print"
MSK = ",".join(f"b-{n}.fs.abc123.c2.kafka.eu-west-1.amazonaws.com:9098" for n in (1, 2))
SERVERLESS = "boot-abcd1234.c1.kafka-serverless.us-east-2.amazonaws.com:9098"


def kafka_settings(security: dict[str, Any], bootstrap: str = "127.0.0.1:9092") -> KafkaSettings:
    """Settings as the environment gives them (FLEETSTREAM_KAFKA__SECURITY as JSON)."""
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "FLEETSTREAM_KAFKA__SECURITY": json.dumps(security),
    }
    return load_settings(None, env=env).kafka


def config_error(security: dict[str, Any], bootstrap: str = "127.0.0.1:9092") -> str:
    with pytest.raises(ConfigError) as caught:
        kafka_settings(security, bootstrap)
    return str(caught.value)


def pem_files(tmp_path: Path) -> dict[str, str]:
    """Placeholder certificate files: only their existence is checked before librdkafka."""
    files = {}
    for name in ("ca_file", "certificate_file", "key_file"):
        path = tmp_path / f"{name}.pem"
        path.write_text("-----BEGIN X-----\n")
        files[name] = str(path)
    return files


def test_plaintext_is_the_default_and_adds_nothing() -> None:
    settings = load_settings(None, env={}).kafka
    assert settings.security.mode == "plaintext"
    assert "security.protocol" not in kafka.client_config(settings)


def test_mtls_properties_with_a_key_password_from_a_file(tmp_path: Path) -> None:
    files = pem_files(tmp_path)
    (tmp_path / "key-password").write_text(SECRET + "\n")
    settings = kafka_settings(
        {"mode": "mtls", **files, "key_password": {"file": str(tmp_path / "key-password")}}
    )
    conf = kafka.client_config(settings)
    assert conf["security.protocol"] == "SSL"
    assert conf["ssl.ca.location"] == files["ca_file"]
    assert conf["ssl.certificate.location"] == files["certificate_file"]
    assert conf["ssl.key.location"] == files["key_file"]
    assert conf["ssl.key.password"] == SECRET  # the trailing newline dropped


def test_scram_properties_with_a_password_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_SCRAM_PASSWORD", SECRET)
    settings = kafka_settings(
        {"mode": "scram", "username": "app", "password": {"env": "KAFKA_SCRAM_PASSWORD"}}
    )
    conf = kafka.client_config(settings)
    assert conf["security.protocol"] == "SASL_SSL"
    assert conf["sasl.mechanisms"] == "SCRAM-SHA-512"
    assert (conf["sasl.username"], conf["sasl.password"]) == ("app", SECRET)
    assert "ssl.ca.location" not in conf  # the system trust store


def test_client_passthrough_still_wins_and_hostname_check_can_be_disabled() -> None:
    settings = load_settings(
        None,
        env={
            "FLEETSTREAM_KAFKA__SECURITY": '{"mode": "tls", "verify_hostname": false}',
            "FLEETSTREAM_KAFKA__CLIENT": '{"ssl.endpoint.identification.algorithm": "https"}',
        },
    ).kafka
    assert kafka.client_config(settings)["ssl.endpoint.identification.algorithm"] == "https"
    from_security = kafka.client_config(settings.model_copy(update={"client": {}}))
    assert from_security["ssl.endpoint.identification.algorithm"] == "none"


def test_msk_iam_callback_returns_the_expiry_in_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def signer(region: str, aws_debug_creds: bool = False) -> tuple[str, int]:
        asked.append(region)
        return "signed-token", 1_700_000_900_000  # epoch milliseconds, as the signer returns

    monkeypatch.setattr(MSKAuthTokenProvider, "generate_auth_token", signer)
    conf = kafka.client_config(kafka_settings({"mode": "msk_iam"}, MSK))
    assert conf["security.protocol"] == "SASL_SSL"
    assert conf["sasl.mechanisms"] == "OAUTHBEARER"
    token, expiry = conf["oauth_cb"]("")
    assert (token, expiry) == ("signed-token", 1_700_000_900.0)
    assert asked == ["eu-west-1"]  # read from the broker host names


def test_msk_iam_region_given_for_brokers_behind_other_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        MSKAuthTokenProvider, "generate_auth_token", lambda region, **_: (region, 1000)
    )
    settings = kafka_settings({"mode": "msk_iam", "region": "ap-south-1"}, "kafka.internal:9098")
    assert kafka.client_config(settings)["oauth_cb"]("") == ("ap-south-1", 1.0)


def test_msk_region_from_host_names() -> None:
    assert msk_region(MSK) == "eu-west-1"
    assert msk_region(SERVERLESS) == "us-east-2"
    assert msk_region("b-1.x.y.c1.kafka.cn-north-1.amazonaws.com.cn:9098") == "cn-north-1"
    assert msk_region("127.0.0.1:9092") is None


@pytest.mark.parametrize(
    ("security", "bootstrap", "expected"),
    [
        ({"mode": "msk_iam"}, "10.0.0.1:9098", "msk_iam needs security.region"),
        ({"mode": "msk_iam", "region": "moon-1"}, MSK, "not an AWS region name"),
        ({"mode": "msk_iam", "region": "us-east-1"}, MSK, "differs from the brokers' eu-west-1"),
        ({"mode": "scram", "username": "a", "password": "b"}, MSK, "port 9096 or 9196, not 9098"),
        ({"mode": "msk_iam"}, MSK.replace("9098", "9092"), "port 9098 or 9198, not 9092"),
        ({"mode": "tls"}, SERVERLESS, "accepts only IAM auth"),
        ({"mode": "mtls"}, "h:9094", "needs certificate_file and key_file"),
        ({"mode": "scram", "username": "a"}, "h:9096", "needs password"),
        ({"mode": "tls", "username": "a"}, "h:9094", "username not used in mode tls"),
        ({"mode": "plaintext", "verify_hostname": False}, "h:1", "verify_hostname not used"),
        ({"mode": "kerberos"}, "h:1", "kafka.security.mode"),
        ({"mode": "scram", "username": "a", "password": {}}, "h:1", "exactly one of"),
        (
            {"mode": "scram", "username": "a", "password": {"env": "X", "file": "/y"}},
            "h:1",
            "exactly one of",
        ),
        (
            {"mode": "scram", "username": "a", "password": {"env": "X", "json_key": "p"}},
            "h:1",
            "apply only to a secrets_manager secret",
        ),
        (
            {"mode": "scram", "username": "a", "password": {"env": "X", "region": "us-east-1"}},
            "h:1",
            "apply only to a secrets_manager secret",
        ),
        ({"mode": "scram", "username": "a", "password": 123456}, "h:1", "must be a quoted string"),
    ],
)
def test_invalid_security_is_one_line(
    security: dict[str, Any], bootstrap: str, expected: str
) -> None:
    message = config_error(security, bootstrap)
    assert expected in message
    assert "\n" not in message


def test_secrets_never_show_in_errors_or_repr(tmp_path: Path) -> None:
    # A validation error elsewhere in the section must not echo the inline password.
    message = config_error({"mode": "scram", "password": SECRET, "region": "x"}, "h:1")
    assert SECRET not in message
    settings = kafka_settings({"mode": "scram", "username": "a", "password": SECRET})
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings.model_dump())


def test_unreadable_secret_sources_name_the_source_not_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    settings = kafka_settings(
        {"mode": "scram", "username": "a", "password": {"env": "NOT_SET_ANYWHERE"}}
    )
    with pytest.raises(ConfigError, match="environment variable NOT_SET_ANYWHERE is not set"):
        kafka.client_config(settings)
    missing = tmp_path / "nope"
    settings = kafka_settings(
        {"mode": "scram", "username": "a", "password": {"file": str(missing)}}
    )
    with pytest.raises(ConfigError, match=f"cannot read file {missing}"):
        kafka.client_config(settings)
    files = pem_files(tmp_path) | {"key_file": str(tmp_path / "absent.key")}
    with pytest.raises(
        ConfigError, match=r"kafka\.security\.key_file: .*absent\.key is not a file"
    ):
        kafka.client_config(kafka_settings({"mode": "mtls", **files}))


def test_inline_value_is_the_secret() -> None:
    settings = kafka_settings({"mode": "scram", "username": "a", "password": SECRET})
    assert settings.security.password is not None
    assert resolve_secret(settings.security.password, "password") == SECRET
    assert settings.security.password.describe() == "inline value"
