"""What every local stack component provides: how to launch it and how to probe it."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from devstack.errors import StackError

# deploy/local holds the poms and config files; this package lives two levels below the repo.
DEPLOY_LOCAL = Path(__file__).resolve().parents[1] / "deploy" / "local"


@dataclass(frozen=True)
class Paths:
    """Where one component keeps its logs, its data and the shared jar cache."""

    log: Path
    data: Path
    cache: Path


@dataclass(frozen=True)
class Launch:
    """A prepared component: the command to run and the endpoint it will serve."""

    argv: list[str]
    endpoint: str
    cold: bool
    env: Mapping[str, str] | None = None
    resolve_seconds: float = 0.0


class Component(Protocol):
    """A child process of the stack, bound to 127.0.0.1 on ports picked at first start."""

    name: str
    port_names: tuple[str, ...]

    def prepare(self, paths: Paths, ports: Mapping[str, int], fresh: bool) -> Launch:
        """Make everything ready to spawn (classpath, config, formatted storage)."""
        ...

    def ready(self, endpoint: str) -> bool:
        """Return True when endpoint answers real requests."""
        ...


def java() -> str:
    """Return the java executable, or raise StackError naming what is missing."""
    found = shutil.which("java")
    if found is None:
        raise StackError("java not found on PATH; Kafka and DynamoDB Local need a JDK 17+")
    return found
