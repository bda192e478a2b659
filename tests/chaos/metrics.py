"""Read the workers' own Prometheus metrics: the chaos trials' proof that a retry path ran."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterable

from prometheus_client.parser import text_string_to_metric_families

from fleetstream.runtime.workers import Worker


def scrape(workers: Iterable[Worker], sample: str, **labels: str) -> float:
    """The sum over live workers of one sample (e.g. a counter's `..._total`) whose labels
    include these; a worker that does not answer counts 0 (the trial fails elsewhere)."""
    total = 0.0
    for worker in workers:
        if worker.process.poll() is not None:
            continue
        try:
            with urllib.request.urlopen(worker.metrics_url, timeout=10) as response:
                text = response.read().decode()
        except OSError:
            continue
        for family in text_string_to_metric_families(text):
            for found in family.samples:
                if found.name == sample and labels.items() <= found.labels.items():
                    total += found.value
    return total
