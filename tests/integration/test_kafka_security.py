"""mTLS and SASL/SCRAM-SHA-512 against a real broker with TLS listeners and a throwaway CA.

The module starts its own Kafka (SSL listener with ssl.client.auth=required, SASL_SSL listener
with SCRAM users) and a moto server for Secrets Manager, and stops both at the end; the
session's default stack stays plaintext.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from confluent_kafka import TopicPartition

from devstack import LocalStack, StackError
from devstack.kafka_node import KafkaNode, SecureListeners
from fleetstream.base.config import KafkaSettings, load_settings
from fleetstream.base.errors import ConfigError
from fleetstream.kafka import clients as kafka
from tests.tls_certs import CertificateAuthority

pytestmark = pytest.mark.integration

SCRAM_USER = "fleetstream-app"
SCRAM_PASSWORD = "scram-" + uuid.uuid4().hex
KEY_PASSWORD = "key-" + uuid.uuid4().hex
WRONG_PASSWORD = "wrong-" + uuid.uuid4().hex
SECRETS = (SCRAM_PASSWORD, KEY_PASSWORD, WRONG_PASSWORD)


@dataclass(frozen=True)
class SecureBroker:
    """Where the secured broker listens and the certificate files a client may use."""

    ssl: str
    sasl_ssl: str
    aws_endpoint: str
    certs: Path


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    """A Kafka with SSL (client certificates required) and SCRAM listeners, plus moto."""
    certs = tmp_path_factory.mktemp("certs")
    ca = CertificateAuthority("fleetstream test CA")
    stranger_ca = CertificateAuthority("some other CA")
    broker = ca.issue("kafka-broker", server=True)
    files = {
        "ca.pem": ca.pem,
        "key-password": KEY_PASSWORD + "\n",
    }
    client = ca.issue("fleetstream-client", server=False, key_password=KEY_PASSWORD)
    stranger = stranger_ca.issue("fleetstream-client", server=False)
    for name, issued in {"client": client, "stranger": stranger}.items():
        files[f"{name}.pem"] = issued.certificate_pem
        files[f"{name}.key"] = issued.key_pem
    for name, text in files.items():
        (certs / name).write_text(text)
    node = KafkaNode(
        SecureListeners(
            ca.pem, broker.certificate_pem, broker.key_pem, {SCRAM_USER: SCRAM_PASSWORD}
        )
    )
    # Our own broker and moto, never a bring-your-own server named in the environment.
    environ = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS",)}
    environ.pop("AWS_ENDPOINT_URL", None)
    stack = LocalStack(
        tmp_path_factory.mktemp("secure-stack"), environ=environ, components={"kafka": node}
    )
    try:
        endpoints = stack.start(["kafka", "aws"])
        ports = stack.ports("kafka")
        assert endpoints.aws_endpoint is not None
        yield SecureBroker(
            ssl=f"127.0.0.1:{ports['ssl']}",
            sasl_ssl=f"127.0.0.1:{ports['sasl_ssl']}",
            aws_endpoint=endpoints.aws_endpoint,
            certs=certs,
        )
    except StackError as error:
        pytest.fail(f"secured Kafka did not start: {error}", pytrace=False)
    finally:
        stack.stop()


def settings_for(bootstrap: str, security: dict[str, Any]) -> KafkaSettings:
    """Kafka settings as a deployment gives them: the security section from the environment."""
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "FLEETSTREAM_KAFKA__TOPIC_PREFIX": f"sec{uuid.uuid4().hex[:8]}.",
        "FLEETSTREAM_KAFKA__PARTITIONS": "1",
        "FLEETSTREAM_KAFKA__SECURITY": json.dumps(security),
    }
    return load_settings(None, env=env).kafka


def round_trip(settings: KafkaSettings) -> bytes:
    """Create the DLQ topic, produce one record and read it back, all through fleetstream."""
    kafka.preflight(settings)
    kafka.ensure_topics(settings, ["dlq"])
    topic = settings.topic("dlq")
    producer = kafka.make_producer(settings)
    producer.produce(topic, key=b"k", value=b"over " + settings.security.mode.encode())
    assert producer.flush(30) == 0
    consumer = kafka.make_consumer(settings, f"sec-{uuid.uuid4().hex[:8]}")
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        for _ in range(60):
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                return message.value() or b""
    finally:
        consumer.close()
    raise AssertionError(f"nothing read back from {topic}")


def refusal(settings: KafkaSettings) -> str:
    """The one-line ConfigError preflight gives for a client the broker refuses."""
    with pytest.raises(ConfigError) as caught:
        kafka.preflight(settings)
    return str(caught.value)


def capture_logs_as_fleetstream_does(caplog: pytest.LogCaptureFixture) -> None:
    """Everything at DEBUG, except what fleetstream.base.logs.configure holds back at any level.

    botocore logs request and response bodies at DEBUG (a GetSecretValue's secret included),
    which is why fleetstream keeps it at WARNING.
    """
    caplog.set_level(logging.DEBUG)
    for name in ("botocore", "urllib3", "fleetstream.librdkafka"):
        caplog.set_level(logging.WARNING, logger=name)


def assert_no_secret(*texts: str) -> None:
    """No password of this module appears in any of the texts."""
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def test_mtls_client_works_end_to_end_and_others_are_refused(
    secure_broker: SecureBroker, caplog: pytest.LogCaptureFixture
) -> None:
    capture_logs_as_fleetstream_does(caplog)
    certs = secure_broker.certs
    trusted = {"mode": "mtls", "ca_file": str(certs / "ca.pem")}
    client = trusted | {
        "certificate_file": str(certs / "client.pem"),
        "key_file": str(certs / "client.key"),
        "key_password": {"file": str(certs / "key-password")},
    }
    assert round_trip(settings_for(secure_broker.ssl, client)) == b"over mtls"

    # A long timeout proves the refusals are recognised, not waited out.
    no_certificate = refusal(
        settings_for(
            secure_broker.ssl, {"mode": "tls", "ca_file": str(certs / "ca.pem")}
        ).model_copy(update={"connect_timeout_s": 60.0})
    )
    assert "refused the TLS client certificate" in no_certificate
    stranger = refusal(
        settings_for(
            secure_broker.ssl,
            trusted
            | {
                "certificate_file": str(certs / "stranger.pem"),
                "key_file": str(certs / "stranger.key"),
            },
        ).model_copy(update={"connect_timeout_s": 60.0})
    )
    assert "refused the TLS client certificate" in stranger
    untrusted_broker = refusal(settings_for(secure_broker.ssl, client | {"ca_file": None}))
    assert "TLS handshake" in untrusted_broker and "certificate verify failed" in untrusted_broker
    wrong_key_password = refusal(
        settings_for(secure_broker.ssl, client | {"key_password": WRONG_PASSWORD})
    )
    assert "key_password" in wrong_key_password
    for message in (no_certificate, stranger, untrusted_broker, wrong_key_password):
        assert "\n" not in message
    assert_no_secret(no_certificate, stranger, untrusted_broker, wrong_key_password, caplog.text)


def test_scram_password_from_secrets_manager_works_and_a_wrong_one_is_refused(
    secure_broker: SecureBroker, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    capture_logs_as_fleetstream_does(caplog)
    monkeypatch.setenv("AWS_ENDPOINT_URL", secure_broker.aws_endpoint)
    # MSK's SCRAM secrets are JSON with username and password, named AmazonMSK_*.
    secret_name = f"AmazonMSK_fleetstream_{uuid.uuid4().hex[:8]}"
    secret = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name=secret_name,
        SecretString=json.dumps({"username": SCRAM_USER, "password": SCRAM_PASSWORD}),
    )
    scram = {
        "mode": "scram",
        "ca_file": str(secure_broker.certs / "ca.pem"),
        "username": SCRAM_USER,
    }
    from_arn = scram | {"password": {"secrets_manager": secret["ARN"], "json_key": "password"}}
    assert round_trip(settings_for(secure_broker.sasl_ssl, from_arn)) == b"over scram"

    monkeypatch.setenv("KAFKA_PASSWORD_UNDER_TEST", WRONG_PASSWORD)
    wrong = settings_for(
        secure_broker.sasl_ssl, scram | {"password": {"env": "KAFKA_PASSWORD_UNDER_TEST"}}
    ).model_copy(update={"connect_timeout_s": 60.0})
    message = refusal(wrong)
    assert "refused authentication" in message and "SCRAM-SHA-512" in message
    assert "\n" not in message
    missing = refusal(
        settings_for(
            secure_broker.sasl_ssl,
            scram | {"password": {"secrets_manager": secret_name + "-gone", "region": "us-east-1"}},
        )
    )
    assert "ResourceNotFoundException" in missing and secret_name in missing
    assert_no_secret(message, missing, caplog.text, repr(wrong), str(wrong.model_dump()))
