"""Observability on the real stack: rules under promtool, the dashboard against a real Prometheus,
and the lag exporter's lag, status and alert through a stopped and restarted sink.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import start_http_server

from devstack import StackEndpoints
from devstack.seed import EstateSpec, seed_estate
from fleetstream.aws.clients import AwsClients, dynamodb_client
from fleetstream.aws.metrics import instrument_session
from fleetstream.base.config import Settings
from fleetstream.base.metrics import export_sweep_progress
from fleetstream.inventory.dynamodb import Tables
from fleetstream.inventory.sweeps import SweepProgress, SweepStore
from fleetstream.kafka import clients as kafka
from fleetstream.runtime.workers import Worker, WorkerPool, free_port
from producers.main import plan_sweep
from tests.dashboards import assert_importable, queries_without_data
from tests.integration.helpers import produce_raw, settings_for
from tests.prometheus_fixtures import PROMTOOL, Prometheus, PrometheusFactory, binary

pytestmark = pytest.mark.integration

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
RECORDING = DEPLOY / "prometheus" / "recording.yml"
RULE_TESTS = sorted((DEPLOY / "prometheus" / "tests").glob("*.yml"))
DASHBOARD = DEPLOY / "grafana" / "fleetstream.json"
EXPORTER_JOB = "fleetstream-lag-exporter"
# Exporter timing for the test: poll every second, STALL/STOP after 5 s without progress.
INTERVAL_S, WINDOW_S, STOP_AFTER_S = 1, 5, 15
# Grafana's built-in variables, as Grafana would fill them for a 1 s scrape interval.
STALLED = "FleetstreamConsumerStalled"


# --- rules and dashboard, no stack needed -------------------------------------------------------


def _alert_names() -> set[str]:
    rules = yaml.safe_load(ALERTS.read_text())
    return {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}


def test_promtool_checks_the_rules_and_runs_their_unit_tests() -> None:
    promtool = binary(PROMTOOL)
    check = subprocess.run(
        [promtool, "check", "rules", str(ALERTS), str(RECORDING)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert RULE_TESTS
    tested = subprocess.run(
        [promtool, "test", "rules", *map(str, RULE_TESTS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    # Every alert has a case where it fires and one where it does not.
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check_ in case.get("alert_rule_test", []):
                (firing if check_.get("exp_alerts") else quiet).add(check_["alertname"])
    assert _alert_names() <= firing, _alert_names() - firing
    assert _alert_names() <= quiet, _alert_names() - quiet


def test_dashboard_is_importable_as_is() -> None:
    assert_importable(
        json.loads(DASHBOARD.read_text()), {"datasource", "group", "topic", "account", "region"}
    )


def panels_without_data(prom: Prometheus) -> list[str]:
    """Every expression of the dashboard, variables filled in; those that return nothing."""
    return queries_without_data(prom, json.loads(DASHBOARD.read_text()))


# --- the end-to-end test ------------------------------------------------------------------------


def _rules_with_short_for(tmp_path: Path) -> Path:
    """alerts.yml with every `for:` at 1s, so the test sees alerts fire within seconds."""
    rules = yaml.safe_load(ALERTS.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = "1s"
    path = tmp_path / "alerts-fast.yml"
    path.write_text(yaml.safe_dump(rules))
    return path


def _start_exporter(settings: Settings, port: int, log_dir: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "fleetstream",
        "lag-exporter",
        "--group",
        settings.describer.group_id,
        "--group",
        settings.sink.group_id,
        "--interval",
        str(INTERVAL_S),
        "--window",
        str(WINDOW_S),
        "--stop-after",
        str(STOP_AFTER_S),
        "--port",
        str(port),
    ]
    with (log_dir / "lag-exporter.log").open("ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


def _wait_sweep(pool: WorkerPool, sweeps: SweepStore, sweep_id: str) -> SweepProgress:
    """What `fleetstream sweep` does: poll the progress and export it, until finished."""
    deadline = time.monotonic() + 120
    while True:
        progress = sweeps.progress(sweep_id)
        export_sweep_progress(progress)
        if progress.finished or time.monotonic() > deadline:
            return progress
        pool.check()
        time.sleep(0.25)


def _stalled_alerts(prom: Prometheus, group: str) -> list[dict[str, Any]]:
    return [
        a
        for a in prom.alerts()
        if a["labels"]["alertname"] == STALLED
        and a["labels"].get("group") == group
        and a["state"] == "firing"
    ]


def _one(prom: Prometheus, expr: str) -> float | None:
    found = prom.values(expr)
    return next(iter(found.values())) if len(found) == 1 else None


def test_prometheus_scrapes_every_process_and_the_exporter_sees_a_stopped_sink(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
    tmp_path: Path,
    prometheus_factory: PrometheusFactory,
) -> None:
    endpoint = local_stack.aws_endpoint
    assert endpoint
    estate = seed_estate(
        endpoint,
        EstateSpec(
            member_accounts=2,
            unassumable_accounts=1,
            regions=("us-east-1", "eu-west-1"),
            paged_instances=12,
        ),
    )
    settings = settings_for(monkeypatch, estate, FLEETSTREAM_DESCRIBER__PAGE_SIZE="5")
    kafka.ensure_topics(settings.kafka)
    ddb = dynamodb_client(settings)
    Tables(ddb, settings.sink.table, settings.sink.sweeps_table).ensure()
    # Poison on both input topics gives the DLQ panels something to show.
    poison: list[tuple[bytes | None, bytes]] = [(b"1/us-east-1/ec2.instance", b"\x00garbage")]
    produce_raw(settings, settings.kafka.topic("work"), poison)
    produce_raw(settings, settings.kafka.topic("resources"), poison)

    # This process plays `fleetstream sweep`: it plans, polls progress and serves its metrics.
    run = Run(settings, AwsClients(settings.aws), WorkerPool(None, log_dir))
    instrument_session(run.clients._core)
    sweep_server, sweep_thread = start_http_server(0, addr="127.0.0.1")
    exporter_port = free_port()
    exporter: subprocess.Popen[bytes] | None = None
    try:
        run.pool.start("describer", 1)
        run.pool.start("sink", 1)
        exporter = _start_exporter(settings, exporter_port, log_dir)
        run.prom = prometheus_factory(
            {
                EXPORTER_JOB: [f"127.0.0.1:{exporter_port}"],
                "fleetstream-describer": [_address(w) for w in run.pool.workers[:1]],
                "fleetstream-sink": [_address(w) for w in run.pool.workers[1:]],
                "fleetstream-sweep": [f"127.0.0.1:{sweep_server.server_port}"],
            },
            rule_files=[RECORDING, _rules_with_short_for(tmp_path)],
        )
        sweeps = SweepStore(ddb, settings.sink.sweeps_table, timedelta(days=1))
        run.sweep_drains_and_every_panel_has_data(sweeps)
        run.stopped_sink_lags_stalls_and_alerts()
        run.restarted_sink_catches_up_and_recovers()
    finally:
        run.pool.stop()
        if exporter is not None:
            exporter.terminate()
            try:
                exporter.wait(15)
            except subprocess.TimeoutExpired:
                exporter.kill()
                exporter.wait()
        sweep_server.shutdown()
        sweep_thread.join(5)
    assert exporter.returncode == 0, (log_dir / "lag-exporter.log").read_text()[-2000:]


@dataclass
class Run:
    """The phases of the end-to-end test, on one pipeline, pool and Prometheus."""

    settings: Settings
    clients: AwsClients
    pool: WorkerPool
    prom: Prometheus | None = None

    @property
    def p(self) -> Prometheus:
        assert self.prom is not None
        return self.prom

    def _sink(self, metric: str, agg: str = "max") -> float | None:
        return _one(self.p, f'{agg}({metric}{{group="{self.settings.sink.group_id}"}})')

    def sweep_drains_and_every_panel_has_data(self, sweeps: SweepStore) -> None:
        groups = (self.settings.describer.group_id, self.settings.sink.group_id)
        for group in groups:
            assert kafka.wait_for_group(self.settings.kafka, group, 1, 60), f"{group} unsettled"
        planned = plan_sweep(self.settings, self.clients)
        progress = _wait_sweep(self.pool, sweeps, planned.sweep_id)
        assert progress.finished
        assert progress.failed, "the unassumable account's shards fail"
        # Every process is scraped, and the drained pipeline shows lag 0 and status OK.
        self.p.wait_until(
            "every target up",
            lambda: [t["health"] for t in self.p.targets()] == ["up"] * 4,
        )
        self.p.wait_until(
            "lag 0 and status OK for both groups",
            lambda: (
                self.p.values(
                    "max by (group) (fleetstream_lag_group_status) == 0 and on (group) "
                    "sum by (group) (fleetstream_lag_offsets) == 0"
                ).keys()
                == {f"group={g}" for g in groups}
            ),
        )
        assert self._sink("fleetstream_lag_group_committed") == 1
        # Rates need two scrapes after the sweep's last increments.
        time.sleep(3)
        empty = panels_without_data(self.p)
        assert not empty, "dashboard queries without data:\n" + "\n".join(empty)

    def stopped_sink_lags_stalls_and_alerts(self) -> None:
        sink = next(w for w in self.pool.workers if w.role == "sink")
        sink.process.terminate()
        sink.process.wait(30)
        self.pool.workers.remove(sink)
        stopped_at = time.time()
        # Another sweep: its resources pile up on the resources topic, unread.
        plan_sweep(self.settings, self.clients)
        self.p.wait_until(
            "sink lag in records", lambda: (self._sink("fleetstream_lag_offsets", "sum") or 0) > 0
        )
        first = self.p.wait_until(
            "sink lag in seconds", lambda: self._sink("fleetstream_lag_seconds")
        )
        self.p.wait_until(
            "sink status STALL or STOP",
            lambda: (self._sink("fleetstream_lag_group_status") or 0) >= 3,
            timeout_s=45,
        )
        sink_group = self.settings.sink.group_id
        self.p.wait_until(f"{STALLED} firing", lambda: _stalled_alerts(self.p, sink_group))
        seconds = self._sink("fleetstream_lag_seconds") or 0
        assert first < seconds <= time.time() - stopped_at + 5, "time lag grows while unread"
        assert self._sink("fleetstream_lag_group_members") == 0
        assert not _stalled_alerts(self.p, self.settings.describer.group_id)

    def restarted_sink_catches_up_and_recovers(self) -> None:
        self.pool.start("sink", 1)
        self.p.wait_until(
            "sink lag back to 0",
            lambda: (
                self._sink("fleetstream_lag_offsets", "sum") == 0
                and self._sink("fleetstream_lag_seconds") == 0
            ),
        )
        self.p.wait_until("sink status OK", lambda: self._sink("fleetstream_lag_group_status") == 0)
        self.p.wait_until(
            f"{STALLED} resolved", lambda: not _stalled_alerts(self.p, self.settings.sink.group_id)
        )


def _address(worker: Worker) -> str:
    return f"127.0.0.1:{worker.metrics_port}"
