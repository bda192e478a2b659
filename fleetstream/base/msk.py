"""What Amazon MSK's broker host names and ports say about the auth mode and the region."""

from __future__ import annotations

import re

# Broker ports of an MSK cluster by auth mode: inside the VPC, then with public access.
# mTLS and unauthenticated TLS share the TLS listener. MSK Serverless has IAM on 9098 only.
MSK_PORTS: dict[str, tuple[int, ...]] = {
    "plaintext": (9092,),
    "tls": (9094, 9194),
    "mtls": (9094, 9194),
    "scram": (9096, 9196),
    "msk_iam": (9098, 9198),
}
# b-1.name.abc123.c2.kafka.eu-west-1.amazonaws.com, boot-x.c1.kafka-serverless.<region>...
_MSK_HOST = re.compile(
    r"\.kafka(?P<serverless>-serverless)?\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)"
    r"\.amazonaws\.com(?:\.cn)?$"
)


def _brokers(bootstrap_servers: str) -> list[tuple[str, int | None]]:
    """Split 'host:port,host:port' (a port may be missing)."""
    brokers = []
    for entry in bootstrap_servers.split(","):
        host, _, port = entry.strip().rpartition(":")
        if not host:
            host, port = port, ""
        brokers.append((host.lower(), int(port) if port.isdigit() else None))
    return brokers


def msk_region(bootstrap_servers: str) -> str | None:
    """The region in the MSK broker host names, or None when they are not MSK's."""
    for host, _port in _brokers(bootstrap_servers):
        found = _MSK_HOST.search(host)
        if found:
            return found["region"]
    return None


def check_msk_endpoint(bootstrap_servers: str, mode: str, region: str | None) -> None:
    """Raise ValueError when MSK brokers are addressed on the wrong port or region for a mode.

    A client on the wrong MSK port does not get a clear refusal: it times out or fails the
    handshake much later, so this is checked when the settings are read.
    """
    for host, port in _brokers(bootstrap_servers):
        found = _MSK_HOST.search(host)
        if not found:
            continue
        if found["serverless"] and mode != "msk_iam":
            raise ValueError("MSK Serverless accepts only IAM auth: set security.mode to msk_iam")
        if port is not None and port not in MSK_PORTS[mode]:
            wanted = " or ".join(str(p) for p in MSK_PORTS[mode])
            raise ValueError(f"MSK serves {mode} on port {wanted}, not {port} ({host})")
        if region is not None and region != found["region"]:
            raise ValueError(
                f"security.region {region} differs from the brokers' {found['region']}"
            )
    if mode == "msk_iam" and region is None and msk_region(bootstrap_servers) is None:
        raise ValueError(
            "msk_iam needs security.region when bootstrap_servers are not MSK host names"
        )
