"""pytest plugin: a real Prometheus (Debian's `prometheus` package) scraping test processes.

Load it from conftest.py with `pytest_plugins = [..., "tests.prometheus_fixtures"]`.

- `prometheus_factory`: start(targets, rule_files) -> Prometheus on 127.0.0.1 and a free port,
  scraping every target each second, with a throw-away TSDB under tmp_path; every server it
  started is stopped at the end of the test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
import yaml

from fleetstream.runtime.workers import free_port

PROMETHEUS = "prometheus"
PROMTOOL = "promtool"


def binary(name: str) -> str:
    """Path of a Prometheus binary; fails (never skips) when it is not installed."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} not found: install Debian's `prometheus` package "
            "(apt-get install -y prometheus; ./dev does it)",
            pytrace=False,
        )
    return path


@dataclass
class Prometheus:
    """A running Prometheus and its HTTP API."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def api(self, path: str, **params: str) -> Any:
        """GET /api/v1/<path>; the `data` of a successful answer."""
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=10) as response:
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant query; the result vector (a scalar becomes one unlabeled sample)."""
        data = self.api("query", query=expr)
        if data["resultType"] in {"scalar", "string"}:
            return [{"metric": {}, "value": data["result"]}]
        result: list[dict[str, Any]] = data["result"]
        return result

    def values(self, expr: str) -> dict[str, float]:
        """Instant query as {rendered labels: value}."""
        return {
            ",".join(f"{k}={v}" for k, v in sorted(s["metric"].items())): float(s["value"][1])
            for s in self.query(expr)
        }

    def alerts(self) -> list[dict[str, Any]]:
        """Every pending or firing alert."""
        alerts: list[dict[str, Any]] = self.api("alerts")["alerts"]
        return alerts

    def targets(self) -> list[dict[str, Any]]:
        """The active scrape targets with their health."""
        targets: list[dict[str, Any]] = self.api("targets")["activeTargets"]
        return targets

    def wait_until(self, what: str, check: Any, timeout_s: float = 60.0) -> Any:
        """Poll check() until it returns something truthy; fail with `what` otherwise."""
        deadline = time.monotonic() + timeout_s
        last: Any = None
        while time.monotonic() < deadline:
            last = check()
            if last:
                return last
            time.sleep(0.5)
        pytest.fail(f"timed out after {timeout_s:g}s waiting for {what}; last: {last!r}")

    def stop(self) -> None:
        """Terminate, then kill if it does not exit."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class PrometheusFactory(Protocol):
    def __call__(
        self, targets: Mapping[str, Sequence[str]], rule_files: Sequence[Path] = ()
    ) -> Prometheus: ...


@pytest.fixture
def prometheus_factory(tmp_path: Path) -> Iterator[PrometheusFactory]:
    """Start Prometheus servers scraping {job: ["127.0.0.1:port", ...]}; stop them afterwards."""
    started: list[Prometheus] = []

    def start(targets: Mapping[str, Sequence[str]], rule_files: Sequence[Path] = ()) -> Prometheus:
        home = tmp_path / f"prometheus-{len(started)}"
        home.mkdir()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(path) for path in rule_files],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": list(addresses)}]}
                for job, addresses in targets.items()
            ],
        }
        config_path = home / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config))
        port = free_port()
        log_path = home / "prometheus.log"
        with log_path.open("wb") as out:
            process = subprocess.Popen(
                [
                    binary(PROMETHEUS),
                    f"--config.file={config_path}",
                    f"--storage.tsdb.path={home / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--web.enable-lifecycle",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = Prometheus(f"http://127.0.0.1:{port}", process, log_path)
        started.append(server)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"prometheus exited: {log_path.read_text()[-2000:]}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{server.url}/-/ready", timeout=2):
                    return server
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"prometheus not ready in 30s; see {log_path}", pytrace=False)

    yield start
    for server in started:
        server.stop()
