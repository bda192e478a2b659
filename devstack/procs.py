"""Process and port helpers for the local stack: spawn, probe, wait and stop children."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from devstack.errors import StackError


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Return True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def url_open(url: str, timeout: float = 0.5) -> bool:
    """Return True when the host and port of an http(s) URL accept TCP connections."""
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return port_open(parts.hostname or "127.0.0.1", parts.port or default, timeout)


def pid_alive(pid: int) -> bool:
    """Return True when pid is a live process (zombies count as dead)."""
    # Reap it if it is our own exited child, or kill(pid, 0) would still succeed on the zombie.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def spawn(
    argv: Sequence[str], log: Path, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start argv in its own session with stdout and stderr appended to log."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        # A new session lets the child outlive the CLI that started it, and lets stop()
        # signal the whole process group.
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def run_logged(argv: Sequence[str], log: Path, cwd: Path, what: str, timeout: float) -> None:
    """Run a short command to completion with output appended to log; StackError on failure."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        try:
            done = subprocess.run(
                list(argv),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise StackError(f"{what} timed out after {timeout:.0f}s; see {log}") from None
    if done.returncode != 0:
        raise StackError(f"{what} failed with exit code {done.returncode}; see {log}")


def wait_ready(
    name: str, probe: Callable[[], bool], pid: int | None, timeout: float, log: Path | None
) -> None:
    """Poll probe until it passes; StackError if pid dies first or timeout passes."""
    where = f"; see {log}" if log else ""
    deadline = time.monotonic() + timeout
    while True:
        if pid is not None and not pid_alive(pid):
            raise StackError(f"{name} exited during start{where}")
        if probe():
            return
        if time.monotonic() > deadline:
            raise StackError(f"{name} did not become ready within {timeout:g}s{where}")
        time.sleep(0.25)


def terminate(pid: int, grace: float = 10.0) -> None:
    """SIGTERM pid's process group, wait up to grace seconds, then SIGKILL it."""
    if not _signal(pid, signal.SIGTERM):
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.1)
    _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _signal(pid: int, sig: signal.Signals) -> bool:
    """Signal pid's group (our children lead their own sessions); False if already gone."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        os.kill(pid, sig)
    return True
