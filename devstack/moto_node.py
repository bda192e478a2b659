"""The AWS control plane: moto's server with AssumeRole trust checks (see aws_server)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from devstack.component import DEPLOY_LOCAL, Launch, Paths
from devstack.procs import url_open

REPO_ROOT = DEPLOY_LOCAL.parents[1]
PROBE_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 1})


class MotoNode:
    """moto in a child Python process, so its in-memory state outlives test processes."""

    name = "aws"
    port_names: tuple[str, ...] = ("http",)

    def prepare(self, paths: Paths, ports: Mapping[str, int], fresh: bool) -> Launch:
        """Build the command; the child imports fleetstream from this source tree."""
        paths.data.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        # The repo may not be pip-installed; make `-m fleetstream...` importable regardless.
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        # A BYO endpoint in our environment must not leak into the server itself.
        env.pop("AWS_ENDPOINT_URL", None)
        argv = [
            sys.executable,
            "-m",
            "devstack.aws_server",
            "--host",
            "127.0.0.1",
            "--port",
            str(ports["http"]),
        ]
        return Launch(argv=argv, endpoint=f"http://127.0.0.1:{ports['http']}", cold=False, env=env)

    def ready(self, endpoint: str) -> bool:
        """Return True when STS GetCallerIdentity answers."""
        if not url_open(endpoint):
            return False
        client = boto3.client(
            "sts",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=PROBE_CONFIG,
        )
        try:
            client.get_caller_identity()
        except (BotoCoreError, ClientError):
            return False
        return True
