"""Wires the lag exporter: poll Kafka every interval, serve the result on /metrics."""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass
from types import FrameType

from confluent_kafka import KafkaException
from prometheus_client import start_http_server

from consumers.lag.collector import LagCollector, Watch
from consumers.lag.export import ExporterMetrics
from consumers.lag.status import Rules
from fleetstream.base.config import KafkaSettings
from fleetstream.kafka import admin as kafka_admin
from fleetstream.kafka import clients as kafka

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ExporterOptions:
    """The exporter's own options (its command line)."""

    watch: Watch
    rules: Rules
    interval_s: float
    host: str
    port: int


def run(settings: KafkaSettings, options: ExporterOptions) -> None:
    """Run the exporter until SIGTERM/SIGINT."""
    kafka.preflight(settings)
    metrics = ExporterMetrics()
    server, thread = start_http_server(options.port, addr=options.host, registry=metrics.registry)
    log.info("lag exporter metrics at http://%s:%d/metrics", options.host, server.server_port)
    stopping = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    reader = kafka_admin.fetch_consumer(settings)
    collector = LagCollector(
        kafka_admin.admin_client(settings),
        reader,
        options.watch,
        options.rules,
        timeout_s=max(settings.connect_timeout_s, 5.0),
    )
    try:
        while not stopping.is_set():
            started = time.monotonic()
            poll_once(collector, metrics)
            stopping.wait(max(0.0, options.interval_s - (time.monotonic() - started)))
    finally:
        reader.close()
        server.shutdown()
        thread.join(5)


def poll_once(collector: LagCollector, metrics: ExporterMetrics) -> None:
    """One poll; a Kafka failure is counted and logged, and the last snapshot stays served."""
    with metrics.poll_seconds.time():
        try:
            snapshot = collector.poll()
        except KafkaException as exc:
            metrics.polls.labels("error").inc()
            log.warning("poll failed: %s", exc.args[0])
            return
    metrics.snapshot.update(snapshot)
    metrics.polls.labels("ok").inc()
    metrics.last_success.set(snapshot.at)
    for group in snapshot.groups:
        log.debug(
            "%s %s: %s, lag %d",
            group.info.group,
            group.info.state,
            group.status.name,
            sum(p.sample.pending for p in group.partitions),
        )
