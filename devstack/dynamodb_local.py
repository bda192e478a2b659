"""DynamoDB Local 3.1.0 from Maven Central jars, in memory, one shared database."""

from __future__ import annotations

import time
from collections.abc import Mapping

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from devstack.component import DEPLOY_LOCAL, Launch, Paths, java
from devstack.maven import resolve_classpath
from devstack.procs import url_open

DYNAMODB_LOCAL_VERSION = "3.1.0"
POM = DEPLOY_LOCAL / "dynamodb" / "pom.xml"
MAIN = "software.amazon.dynamodb.services.local.main.ServerRunner"
# Probes must fail fast; botocore's default retries would hide a dead server for seconds.
PROBE_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 1})


class DynamoDBLocal:
    """DynamoDB Local; -sharedDb so every region and credential sees the same tables."""

    name = "dynamodb"
    port_names: tuple[str, ...] = ("http",)

    def prepare(self, paths: Paths, ports: Mapping[str, int], fresh: bool) -> Launch:
        """Resolve the jars (with the sqlite4java native libraries) and build the command."""
        began = time.monotonic()
        lib = paths.cache / f"dynamodb-local-{DYNAMODB_LOCAL_VERSION}" / "lib"
        cold = resolve_classpath(POM, lib, paths.log)
        paths.data.mkdir(parents=True, exist_ok=True)
        argv = [
            java(),
            "-Xmx256m",
            f"-Djava.library.path={lib}",
            "-cp",
            f"{lib}/*",
            MAIN,
            "-inMemory",
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(ports["http"]),
        ]
        return Launch(
            argv=argv,
            endpoint=f"http://127.0.0.1:{ports['http']}",
            cold=cold,
            resolve_seconds=time.monotonic() - began,
        )

    def ready(self, endpoint: str) -> bool:
        """Return True when ListTables succeeds."""
        if not url_open(endpoint):
            return False
        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=PROBE_CONFIG,
        )
        try:
            client.list_tables(Limit=1)
        except (BotoCoreError, ClientError):
            return False
        return True
