"""Resolve a runnable Java classpath from a pom once per machine, cached on disk."""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Callable
from pathlib import Path

from devstack.errors import StackError
from devstack.procs import run_logged

# Written last, so a lib dir without it is a half-finished copy and is redone.
MARKER = ".fleetstream-complete"


def resolve_classpath(pom: Path, lib: Path, log: Path, timeout: float = 600.0) -> bool:
    """Copy pom's dependencies into lib unless already complete; True if mvn had to run."""
    goals = ["-f", str(pom), "dependency:copy-dependencies", f"-DoutputDirectory={lib}"]
    return _once(
        lib,
        log,
        goals,
        cwd=pom.parent,
        what=f"mvn resolving {pom.name} into {lib}",
        timeout=timeout,
    )


def build_project(project: Path, out: Path, log: Path, timeout: float = 900.0) -> bool:
    """Build a Maven project (a copy of it, under out) unless already built; True if mvn ran.

    The build's target/ ends up in out/target, so the repository's tree stays clean.
    """

    def copy_sources() -> None:
        shutil.copytree(project, out, ignore=shutil.ignore_patterns("target"))

    return _once(
        out,
        log,
        ["-DskipTests", "package"],
        cwd=out,
        what=f"mvn building {project.name}",
        timeout=timeout,
        before=copy_sources,
    )


def _once(
    out: Path,
    log: Path,
    goals: list[str],
    *,
    cwd: Path,
    what: str,
    timeout: float,
    before: Callable[[], None] | None = None,
) -> bool:
    """Run mvn with goals to fill out, once per machine, under a lock; marker written last."""
    if (out / MARKER).exists():
        return False
    out.parent.mkdir(parents=True, exist_ok=True)
    # Two stacks starting at once (parallel test sessions) must not interleave builds.
    with (out.parent / f".{out.parent.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (out / MARKER).exists():
            return False
        mvn = shutil.which("mvn")
        if mvn is None:
            raise StackError(f"mvn not found on PATH; it is needed once to fill {out}")
        shutil.rmtree(out, ignore_errors=True)
        if before is not None:
            before()
        argv = [mvn, "-q", "-B", "-Dstyle.color=never", *goals]
        run_logged(argv, log, cwd=cwd, what=what, timeout=timeout)
        (out / MARKER).write_text("ok\n")
    return True
