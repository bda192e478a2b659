"""Start, health-check and stop the local stack (Kafka, DynamoDB Local, moto) without Docker."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from devstack.component import Component, Paths
from devstack.dynamodb_local import DynamoDBLocal
from devstack.errors import StackError
from devstack.kafka_node import KafkaNode
from devstack.moto_node import MotoNode
from devstack.procs import pid_alive, spawn, terminate, wait_ready
from devstack.schema_registry import SchemaRegistry
from devstack.state import (
    BYO_ENV,
    ComponentState,
    ComponentStatus,
    StackEndpoints,
    endpoints_of,
    load_states,
    save_states,
)

ALL_COMPONENTS = ("kafka", "dynamodb", "aws")
# Started only when asked for by name (the schema-registry tests, `stack up --component`).
OPTIONAL_COMPONENTS = ("schema-registry",)
COMPONENTS: dict[str, Component] = {
    "kafka": KafkaNode(),
    "dynamodb": DynamoDBLocal(),
    "aws": MotoNode(),
    "schema-registry": SchemaRegistry(),
}


def default_cache(environ: Mapping[str, str]) -> Path:
    """Return the jar cache: $FLEETSTREAM_CACHE or ~/.cache/fleetstream."""
    configured = environ.get("FLEETSTREAM_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "fleetstream"


def free_ports(count: int) -> list[int]:
    """Return count distinct free ports on 127.0.0.1 (all held open until all are picked)."""
    with contextlib.ExitStack() as held:
        socks = [held.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


class LocalStack:
    """The local stack rooted at home: state in stack.json, logs in logs/, data per component."""

    def __init__(
        self,
        home: Path,
        *,
        cache: Path | None = None,
        environ: Mapping[str, str] | None = None,
        # A JVM (Kafka, DynamoDB Local) starting on a loaded 2-core machine can take well over
        # a minute; a dead one still fails at once (its process exits, procs.wait_ready).
        ready_timeout: float = 180.0,
        components: Mapping[str, Component] | None = None,
    ) -> None:
        self.home = home.resolve()
        self.environ = dict(os.environ if environ is None else environ)
        self.cache = cache or default_cache(self.environ)
        self.ready_timeout = ready_timeout
        self.state_file = self.home / "stack.json"
        # Components replaced for this stack (e.g. a Kafka with TLS listeners for auth tests).
        self.components = {**COMPONENTS, **(components or {})}
        # Children this object spawned; kept so they are reaped, not left as zombies.
        self._procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, components: Sequence[str] = ALL_COMPONENTS) -> StackEndpoints:
        """Start every component not already running and healthy; return all endpoints."""
        unknown = set(components) - set(self.components)
        if unknown:
            known = ALL_COMPONENTS + OPTIONAL_COMPONENTS
            raise StackError(f"unknown components {sorted(unknown)}; known: {known}")
        with self._locked():
            states = load_states(self.state_file)
            todo = [name for name in components if not self._reusable(name, states.get(name))]
            ports = self._ports_for(todo, states)
            errors: list[StackError] = []
            with ThreadPoolExecutor(max_workers=max(len(todo), 1)) as pool:
                futures = {
                    name: pool.submit(self._start_one, name, ports[name], fresh=name not in states)
                    for name in todo
                }
                for name, future in futures.items():
                    try:
                        states[name] = future.result()
                    except StackError as error:
                        errors.append(error)
                        if name in states:  # keep its ports and data for the next attempt
                            states[name] = replace(states[name], pid=None)
            save_states(self.state_file, states)
        if errors:
            raise StackError("; ".join(str(error) for error in errors))
        return endpoints_of({name: states[name] for name in components})

    def stop(self) -> None:
        """Stop every component this stack started and forget the stack (stack.json)."""
        with self._locked():
            states = load_states(self.state_file)
            with ThreadPoolExecutor(max_workers=max(len(states), 1)) as pool:
                list(pool.map(self._stop_one, states))
            self.state_file.unlink(missing_ok=True)

    def stop_component(self, name: str) -> None:
        """Stop one component, keeping its ports and data for start_component."""
        with self._locked():
            states = load_states(self.state_file)
            if name not in states:
                return
            self._stop_one(name)
            states[name] = replace(states[name], pid=None)
            save_states(self.state_file, states)

    def start_component(self, name: str) -> str:
        """(Re)start one component on its recorded ports and data; return its endpoint."""
        with self._locked():
            states = load_states(self.state_file)
            previous = states.get(name)
            if self._reusable(name, previous):
                assert previous is not None
                return previous.endpoint
            self._stop_one(name)  # alive but unhealthy: do not leave it holding the port
            ports = self._ports_for([name], states)[name]
            states[name] = self._start_one(name, ports, fresh=previous is None)
            save_states(self.state_file, states)
            return states[name].endpoint

    def status(self) -> list[ComponentStatus]:
        """Return each recorded component with whether it is running and healthy now."""
        result = []
        for name, state in load_states(self.state_file).items():
            running = state.external or (state.pid is not None and pid_alive(state.pid))
            healthy = running and self.components[name].ready(state.endpoint)
            result.append(ComponentStatus(name, state, running, healthy))
        return result

    def ports(self, name: str) -> dict[str, int]:
        """The ports a started component listens on, by name (broker, ssl, ...)."""
        state = load_states(self.state_file).get(name)
        if state is None:
            raise StackError(f"{name} is not part of the stack at {self.home}")
        return dict(state.ports)

    def endpoints(self) -> StackEndpoints:
        """Return the endpoints recorded in stack.json."""
        return endpoints_of(load_states(self.state_file))

    def _reusable(self, name: str, state: ComponentState | None) -> bool:
        """Return True when the recorded component can be used as it is."""
        if state is None or self.environ.get(BYO_ENV[name]):
            return False  # BYO endpoints are re-checked (cheaply) on every start
        alive = state.pid is not None and pid_alive(state.pid)
        return alive and self.components[name].ready(state.endpoint)

    def _ports_for(
        self, names: Sequence[str], states: Mapping[str, ComponentState]
    ) -> dict[str, dict[str, int]]:
        """Reuse recorded ports (Kafka's metadata names them); pick new ones otherwise."""
        needed = sum(len(self.components[n].port_names) for n in names if n not in states)
        fresh = iter(free_ports(needed))
        return {
            name: dict(states[name].ports)
            if name in states
            else {port: next(fresh) for port in self.components[name].port_names}
            for name in names
        }

    def _start_one(self, name: str, ports: dict[str, int], *, fresh: bool) -> ComponentState:
        """Start (or, for a BYO endpoint, just check) one component and wait until ready."""
        component = self.components[name]
        began = time.monotonic()
        byo = self.environ.get(BYO_ENV[name])
        if byo:
            wait_ready(
                f"{name} at {byo} (from {BYO_ENV[name]})",
                lambda: component.ready(byo),
                None,
                self.ready_timeout,
                None,
            )
            return ComponentState(
                endpoint=byo, external=True, start_seconds=time.monotonic() - began
            )
        log = self.home / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as out:
            out.write(f"\n=== fleetstream devstack: starting {name} at {time.ctime()} ===\n")
        launch = component.prepare(
            Paths(log=log, data=self.home / name, cache=self.cache), ports, fresh
        )
        proc = spawn(launch.argv, log, cwd=self.home / name, env=launch.env)
        self._procs[name] = proc
        try:
            wait_ready(
                name, lambda: component.ready(launch.endpoint), proc.pid, self.ready_timeout, log
            )
        except StackError:
            self._stop_one(name, pid=proc.pid)
            raise
        return ComponentState(
            endpoint=launch.endpoint,
            pid=proc.pid,
            ports=ports,
            log=str(log),
            cold=launch.cold,
            start_seconds=round(time.monotonic() - began, 3),
            resolve_seconds=round(launch.resolve_seconds, 3),
        )

    def _stop_one(self, name: str, pid: int | None = None) -> None:
        """Terminate a component's process (never a BYO server) and reap it if ours."""
        if pid is None:
            state = load_states(self.state_file).get(name)
            pid = state.pid if state else None
        if pid is not None:
            terminate(pid)
        proc = self._procs.pop(name, None)
        if proc is not None:
            proc.poll()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialize start/stop across processes sharing this home."""
        self.home.mkdir(parents=True, exist_ok=True)
        with (self.home / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
