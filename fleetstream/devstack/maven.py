"""Resolve a runnable Java classpath from a pom once per machine, cached on disk."""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path

from fleetstream.devstack.errors import StackError
from fleetstream.devstack.procs import run_logged

# Written last, so a lib dir without it is a half-finished copy and is redone.
MARKER = ".fleetstream-complete"


def resolve_classpath(pom: Path, lib: Path, log: Path, timeout: float = 600.0) -> bool:
    """Copy pom's dependencies into lib unless already complete; True if mvn had to run."""
    if (lib / MARKER).exists():
        return False
    lib.parent.mkdir(parents=True, exist_ok=True)
    # Two stacks starting at once (parallel test sessions) must not interleave copies.
    with (lib.parent / f".{lib.parent.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (lib / MARKER).exists():
            return False
        mvn = shutil.which("mvn")
        if mvn is None:
            raise StackError(f"mvn not found on PATH; it is needed once to fill {lib}")
        shutil.rmtree(lib, ignore_errors=True)
        argv = [
            mvn,
            "-q",
            "-B",
            "-Dstyle.color=never",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={lib}",
        ]
        run_logged(
            argv, log, cwd=pom.parent, what=f"mvn resolving {pom.name} into {lib}", timeout=timeout
        )
        (lib / MARKER).write_text("ok\n")
    return True
