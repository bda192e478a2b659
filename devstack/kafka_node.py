"""Apache Kafka 4.1.1 as one KRaft node (broker + controller) from Maven Central jars."""

from __future__ import annotations

import base64
import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from devstack.component import DEPLOY_LOCAL, Launch, Paths, java
from devstack.maven import resolve_classpath
from devstack.procs import port_open, run_logged

KAFKA_VERSION = "4.1.1"
POM = DEPLOY_LOCAL / "kafka" / "pom.xml"
LOG4J2 = DEPLOY_LOCAL / "kafka" / "log4j2.properties"
HEAP = ["-Xms256m", "-Xmx512m"]


@dataclass(frozen=True)
class SecureListeners:
    """Two extra listeners for auth tests: SSL requiring client certificates, SASL_SSL SCRAM.

    The broker's key and certificates are PEM text (Kafka's ssl.keystore.type=PEM), so no
    keytool or JKS is needed; SCRAM-SHA-512 users are written into the metadata at format time.
    """

    ca_pem: str  # the CA that signed the broker's and the accepted clients' certificates
    certificate_chain_pem: str  # the broker's certificate (SAN 127.0.0.1) and its chain
    key_pem: str  # the broker's private key, unencrypted PKCS#8
    scram_users: Mapping[str, str] = field(default_factory=dict)
    # Kafka's StandardAuthorizer: a SCRAM or certificate user may do only what ACLs allow
    # (fleetstream/kafka/acl.py generates them). The PLAINTEXT and controller listeners stay
    # unauthenticated, so their principal (ANONYMOUS) is the super user: the broker itself and
    # the admin that creates topics and ACLs, on 127.0.0.1 only.
    authorize: bool = False


def render_server_properties(
    broker_port: int,
    controller_port: int,
    log_dir: Path,
    secure: SecureListeners | None = None,
    secure_ports: Mapping[str, int] | None = None,
) -> str:
    """Return server.properties for a single-node KRaft cluster on 127.0.0.1."""
    listeners = {"PLAINTEXT": broker_port}
    if secure is not None:
        assert secure_ports is not None
        listeners |= {"SSL": secure_ports["ssl"], "SASL_SSL": secure_ports["sasl_ssl"]}
    broker_listeners = ",".join(f"{name}://127.0.0.1:{port}" for name, port in listeners.items())
    protocols = ",".join(f"{name}:{name}" for name in listeners)
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "listeners": f"{broker_listeners},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": broker_listeners,
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": f"{protocols},CONTROLLER:PLAINTEXT",
        "controller.quorum.bootstrap.servers": f"127.0.0.1:{controller_port}",
        "log.dirs": str(log_dir),
        # One node: every internal topic must accept a replication factor of 1.
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "num.partitions": "1",
        # Tests start consumers often; waiting 3s for more group members only slows them.
        "group.initial.rebalance.delay.ms": "0",
        # Topics are declared by the application; a typo must fail, not create a topic.
        "auto.create.topics.enable": "false",
        # Chaos tests kill transactional producers; abort their leftovers quickly.
        "transaction.abort.timed.out.transaction.cleanup.interval.ms": "5000",
    }
    if secure is not None:
        settings |= _secure_properties(secure)
    return "".join(f"{key}={_escape(value)}\n" for key, value in settings.items())


def _secure_properties(secure: SecureListeners) -> dict[str, str]:
    """TLS for both extra listeners; client certificates on SSL, SCRAM on SASL_SSL."""
    return {
        "inter.broker.listener.name": "PLAINTEXT",
        "ssl.keystore.type": "PEM",
        "ssl.keystore.certificate.chain": secure.certificate_chain_pem,
        "ssl.keystore.key": secure.key_pem,
        "ssl.truststore.type": "PEM",
        "ssl.truststore.certificates": secure.ca_pem,
        "listener.name.ssl.ssl.client.auth": "required",
        "sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": (
            "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        ),
    } | (_AUTHORIZER if secure.authorize else {})


_AUTHORIZER = {
    "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "super.users": "User:ANONYMOUS",
    "allow.everyone.if.no.acl.found": "false",
}


def _escape(value: str) -> str:
    """A java.util.Properties value on one line (PEM text spans several)."""
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def new_cluster_id() -> str:
    """Return a random Kafka cluster id: a UUID as 22 base64url characters."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        # Kafka refuses ids that start with "-" because they read as command-line flags.
        if not text.startswith("-"):
            return text


def formatted(log_dir: Path) -> bool:
    """Return True when log_dir already holds formatted KRaft storage."""
    return (log_dir / "meta.properties").exists()


class KafkaNode:
    """Kafka in KRaft combined mode; storage survives stop/start of the component."""

    name = "kafka"

    def __init__(self, secure: SecureListeners | None = None) -> None:
        self.secure = secure
        self.port_names: tuple[str, ...] = ("broker", "controller")
        if secure is not None:
            self.port_names += ("ssl", "sasl_ssl")

    def prepare(self, paths: Paths, ports: Mapping[str, int], fresh: bool) -> Launch:
        """Resolve jars, write server.properties and format storage if needed."""
        began = time.monotonic()
        lib = paths.cache / f"kafka-{KAFKA_VERSION}" / "lib"
        cold = resolve_classpath(POM, lib, paths.log)
        resolve_seconds = time.monotonic() - began
        log_dir = paths.data / "data"
        if fresh:
            # New ports mean a new controller address; old metadata would point elsewhere.
            shutil.rmtree(log_dir, ignore_errors=True)
        paths.data.mkdir(parents=True, exist_ok=True)
        props = paths.data / "server.properties"
        props.write_text(
            render_server_properties(
                ports["broker"], ports["controller"], log_dir, self.secure, ports
            )
        )
        base = [
            java(),
            *HEAP,
            f"-Dlog4j2.configurationFile={LOG4J2}",
            f"-Dfleetstream.log.dir={paths.log.parent}",
            "-cp",
            f"{lib}/*",
        ]
        if not formatted(log_dir):
            run_logged(
                [
                    *base,
                    "kafka.tools.StorageTool",
                    "format",
                    "--standalone",
                    "-t",
                    new_cluster_id(),
                    "-c",
                    str(props),
                    *self._scram_arguments(),
                ],
                paths.log,
                cwd=paths.data,
                what="kafka storage format",
                timeout=120,
            )
        return Launch(
            argv=[*base, "kafka.Kafka", str(props)],
            endpoint=f"127.0.0.1:{ports['broker']}",
            cold=cold,
            resolve_seconds=resolve_seconds,
        )

    def _scram_arguments(self) -> list[str]:
        """StorageTool flags that create the SCRAM users in the new cluster's metadata."""
        users = self.secure.scram_users if self.secure else {}
        return [
            argument
            for name, password in users.items()
            for argument in ("--add-scram", f"SCRAM-SHA-512=[name={name},password={password}]")
        ]

    def ready(self, endpoint: str) -> bool:
        """Return True when the broker answers a metadata request."""
        host, _, port = endpoint.split(",", maxsplit=1)[0].rpartition(":")
        # A TCP check first keeps librdkafka from logging connection errors while the JVM boots.
        if not port_open(host, int(port)):
            return False
        admin = AdminClient({"bootstrap.servers": endpoint, "log_level": 3})
        try:
            admin.list_topics(timeout=3)
        except KafkaException:
            return False
        return True
