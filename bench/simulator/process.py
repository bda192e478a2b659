"""Run the simulator as a child process (its CPU is its own, not the system under test's)."""

from __future__ import annotations

import contextlib
import json
import select
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.simulator.config import SimConfig

READY_PREFIX = "SIMULATOR "


class SimulatorProcess:
    """`with SimulatorProcess(config) as sim:` starts it, sim.url, sim.stats(), stops on exit."""

    def __init__(self, config: SimConfig, log_path: Path | None = None) -> None:
        self.config = config
        self.log_path = log_path
        self.url = ""
        self._process: subprocess.Popen[str] | None = None

    def start(self, timeout_s: float = 30.0) -> str:
        """Spawn, wait for the announced URL, return it."""
        command = [sys.executable, "-m", "bench.simulator", "--config", self.config.to_json()]
        with contextlib.ExitStack() as files:
            stderr = (
                files.enter_context(self.log_path.open("a"))
                if self.log_path
                else subprocess.DEVNULL
            )
            self._process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=stderr, text=True, bufsize=1
            )
        assert self._process.stdout is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._process.stdout], [], [], 0.2)
            if ready:
                line = self._process.stdout.readline()
                if line.startswith(READY_PREFIX):
                    self.url = line[len(READY_PREFIX) :].strip()
                    return self.url
            if self._process.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"the simulator did not start within {timeout_s:g}s")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def stats(self) -> dict[str, Any]:
        """The simulator's /_sim/stats."""
        with urllib.request.urlopen(f"{self.url}/_sim/stats", timeout=10) as response:
            data: dict[str, Any] = json.loads(response.read())
        return data

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit within 10 s."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process = None

    def __enter__(self) -> SimulatorProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
