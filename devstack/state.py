"""The stack's record on disk (<home>/stack.json) and the endpoints it hands out."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

# The environment variables a user sets to bring their own server, by component.
BYO_ENV = {
    "kafka": "KAFKA_BOOTSTRAP_SERVERS",
    "dynamodb": "FLEETSTREAM_DYNAMODB_ENDPOINT",
    "aws": "AWS_ENDPOINT_URL",
    "schema-registry": "FLEETSTREAM_SCHEMA_REGISTRY_URL",
}


@dataclass(frozen=True)
class ComponentState:
    """One component as last started: process, ports, endpoint, log and start timing."""

    endpoint: str
    pid: int | None = None
    ports: dict[str, int] = field(default_factory=dict)
    log: str | None = None
    external: bool = False
    cold: bool = False
    start_seconds: float = 0.0
    resolve_seconds: float = 0.0


@dataclass(frozen=True)
class ComponentStatus:
    """A component's recorded state plus whether it is alive and answering now."""

    name: str
    state: ComponentState
    running: bool
    healthy: bool


@dataclass(frozen=True)
class StackEndpoints:
    """Where to reach each component; None for components not started."""

    kafka_bootstrap: str | None = None
    dynamodb_endpoint: str | None = None
    aws_endpoint: str | None = None
    schema_registry_url: str | None = None

    def as_env(self) -> dict[str, str]:
        """Return the endpoints as the environment variables fleetstream reads."""
        values = {
            "kafka": self.kafka_bootstrap,
            "dynamodb": self.dynamodb_endpoint,
            "aws": self.aws_endpoint,
            "schema-registry": self.schema_registry_url,
        }
        return {BYO_ENV[name]: value for name, value in values.items() if value}


def endpoints_of(states: dict[str, ComponentState]) -> StackEndpoints:
    """Build StackEndpoints from recorded component states."""

    def get(name: str) -> str | None:
        return states[name].endpoint if name in states else None

    return StackEndpoints(get("kafka"), get("dynamodb"), get("aws"), get("schema-registry"))


def load_states(path: Path) -> dict[str, ComponentState]:
    """Read stack.json; an absent file is an empty stack."""
    if not path.exists():
        return {}
    raw = json.loads(path.read_text())
    return {name: ComponentState(**entry) for name, entry in raw["components"].items()}


def save_states(path: Path, states: dict[str, ComponentState]) -> None:
    """Write stack.json atomically, so a crash never leaves half a record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    body = {"components": {name: asdict(state) for name, state in states.items()}}
    tmp.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
