"""Local worker processes (describers, sinks) for a one-shot sweep."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fleetstream.base.errors import FleetstreamError

log = logging.getLogger(__name__)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Worker:
    """One consumer-group process started by fleetstream."""

    role: str
    index: int
    process: subprocess.Popen[bytes]
    log_path: Path
    metrics_port: int
    # Its own environment on top of the pool's (e.g. a Kafka user per stage under ACLs).
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def peak_rss_mb(self) -> float | None:
        """Peak resident memory so far (Linux VmHWM), or None when unknown."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None

    def tail(self, lines: int = 5) -> str:
        """The last lines of its log, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class WorkerPool:
    """Starts `fleetstream <consumer group>` child processes and stops them cleanly."""

    def __init__(self, config: Path | None, log_dir: Path, max_restarts: int = 5) -> None:
        self._config = config
        self._log_dir = log_dir
        self.workers: list[Worker] = []
        self.max_restarts = max_restarts
        self.restarts = 0

    def start(self, role: str, count: int, env: Mapping[str, str] | None = None) -> None:
        """Start count processes of one consumer group (env: overrides for these only)."""
        taken = {w.index for w in self.workers if w.role == role}
        indexes = [i for i in range(count + len(taken)) if i not in taken][:count]
        self.workers.extend(self._spawn(role, index, env or {}) for index in indexes)

    def restart(self, worker: Worker) -> Worker:
        """Replace a (dead or killed) worker with a new process of the same role and index."""
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()
        replacement = self._spawn(worker.role, worker.index, worker.env)
        self.workers[self.workers.index(worker)] = replacement
        return replacement

    def _spawn(self, role: str, index: int, overrides: Mapping[str, str]) -> Worker:
        self._log_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        log_path = self._log_dir / f"{role}-{index}.log"
        command = [sys.executable, "-m", "fleetstream"]
        if self._config is not None:
            command += ["--config", str(self._config)]
        command.append(role)
        env = {
            **os.environ,
            "FLEETSTREAM_METRICS__PORT": str(port),
            # The same index after a restart: the new describer fences the old transaction.
            "FLEETSTREAM_DESCRIBER__INSTANCE_ID": f"{role}-{index}",
            "FLEETSTREAM_ACTIONS__INSTANCE_ID": f"{role}-{index}",
            **overrides,
        }
        with log_path.open("ab") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        return Worker(role, index, process, log_path, port, overrides)

    def check(self) -> None:
        """Restart a worker that died, as a supervisor would; raise once they keep dying."""
        for worker in list(self.workers):
            code = worker.process.poll()
            if code is None:
                continue
            if self.restarts >= self.max_restarts:
                raise FleetstreamError(
                    f"{worker.role} exited with code {code} (after {self.restarts} restarts); "
                    f"see {worker.log_path}:\n{worker.tail()}"
                )
            log.warning("%s-%d exited with code %d; restarting it", worker.role, worker.index, code)
            self.restart(worker)
            self.restarts += 1

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM every worker (they commit and exit), SIGKILL stragglers."""
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for worker in self.workers:
            try:
                worker.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", worker.role)
                worker.process.kill()
                worker.process.wait()
