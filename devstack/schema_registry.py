"""A schema registry with Confluent's REST API: Apicurio Registry 2.4.2 (in-memory storage),
built once from the central Maven repository (deploy/local/schema-registry) and run as a JVM.

Optional: the stack starts it only when asked (`--component schema-registry`, or the
`schema_registry` test fixture). Its endpoint is the Confluent-compatible API, the URL that
serde.schema_registry_url takes.
"""

from __future__ import annotations

import hashlib
import time
import urllib.error
import urllib.request
from collections.abc import Mapping

from devstack.component import DEPLOY_LOCAL, Launch, Paths, java
from devstack.maven import build_project

APICURIO_VERSION = "2.4.2.Final"
PROJECT = DEPLOY_LOCAL / "schema-registry"
RUNNER = "schema-registry-runtime-1-runner.jar"
CCOMPAT_PATH = "/apis/ccompat/v7"


def project_digest() -> str:
    """A short hash of the build's sources: a changed pom builds anew instead of reusing."""
    digest = hashlib.sha256()
    for path in sorted(p for p in PROJECT.rglob("*") if p.is_file()):
        digest.update(path.relative_to(PROJECT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


class SchemaRegistry:
    """Apicurio Registry; its data lives in memory, so every start is an empty registry."""

    name = "schema-registry"
    port_names: tuple[str, ...] = ("http",)

    def prepare(self, paths: Paths, ports: Mapping[str, int], fresh: bool) -> Launch:
        """Build the Quarkus application once (cached), then the java command."""
        began = time.monotonic()
        build = paths.cache / f"apicurio-registry-{APICURIO_VERSION}-{project_digest()}"
        cold = build_project(PROJECT, build, paths.log)
        paths.data.mkdir(parents=True, exist_ok=True)
        argv = [
            java(),
            "-Xmx256m",
            "-Dquarkus.http.host=127.0.0.1",
            f"-Dquarkus.http.port={ports['http']}",
            # No UI, no metrics or OpenTelemetry exporters: a registry for tests.
            "-Dquarkus.log.level=WARN",
            "-jar",
            str(build / "target" / RUNNER),
        ]
        return Launch(
            argv=argv,
            endpoint=f"http://127.0.0.1:{ports['http']}{CCOMPAT_PATH}",
            cold=cold,
            resolve_seconds=time.monotonic() - began,
        )

    def ready(self, endpoint: str) -> bool:
        """Return True when the Confluent-compatible API lists subjects."""
        try:
            with urllib.request.urlopen(f"{endpoint}/subjects", timeout=3) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False
