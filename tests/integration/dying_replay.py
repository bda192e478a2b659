"""A `dlq replay` that SIGKILLs itself right after its Nth replayed message was delivered.

Run as `python -m tests.integration.dying_replay N` with the pipeline's environment: the
worst moment for a replay to die, its output durably on the broker and its progress maybe not.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from confluent_kafka import Producer

from fleetstream.apps.dlq_replay import replay
from fleetstream.base.config import load_settings
from fleetstream.kafka import clients as kafka

CHUNK = 100  # dead letters per transaction of the replay under test


class DyingProducer:
    """Passes everything to a real producer; dies by SIGKILL after the Nth produce."""

    def __init__(self, inner: Producer, kill_after: int) -> None:
        self._inner = inner
        self._kill_after = kill_after
        self._produced = 0

    def produce(self, *args: Any, **kwargs: Any) -> None:
        """Produce, and after the Nth message flush it to the broker and die."""
        self._inner.produce(*args, **kwargs)
        self._produced += 1
        if self._produced == self._kill_after:
            self._inner.flush(30)
            os.kill(os.getpid(), signal.SIGKILL)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def main() -> None:
    """Replay the isolated pipeline's DLQ until the kill."""
    kill_after = int(sys.argv[1])
    make_producer = kafka.make_producer

    def dying(*args: Any, **kwargs: Any) -> Any:
        return DyingProducer(make_producer(*args, **kwargs), kill_after)

    kafka.make_producer = dying
    replay(load_settings(None).kafka, chunk=CHUNK)


if __name__ == "__main__":
    main()
