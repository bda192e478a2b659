"""The chaos harness: a real pipeline of separate processes, one injected fault per trial,
and a check of the final DynamoDB table against moto's ground truth.

Each trial seeds its own estate (3 member accounts + 1 whose role cannot be assumed), runs a
clean sweep, then deletes one instance in a healthy shard (it must be tombstoned) and one in a
shard made to fail with AccessDenied (it must NOT be), stops one (its attributes must follow),
and runs a second sweep under the trial's fault (FAULTS): SIGKILLed workers; the broker restarted,
SIGKILLed or frozen (SIGSTOP: connections open, nothing answers); DynamoDB cut for 20 s, busy
(throttling, UnprocessedItems/UnprocessedKeys) or hanging, through dynamodb_faults.py; AWS
throttling and 5xx; poison messages on the pipeline's topics; a rebalance storm; or skewed clocks.

A trial passes only if, besides an exact inventory (ids, tags, and attributes equal to moto's
describe output): every observation reached the resources topic exactly once, every kind of
fault it injected really happened while the sweep was in flight (each page of the faulted sweep
is slowed by PAGE_LATENCY_MS so that it is), and no worker exited that the harness did not
kill. Its random choices come from the run's seed, so a run is replayed with the same seed.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from confluent_kafka import Message, Producer

from consumers.describer.main import redaction_key
from devstack import LocalStack, StackEndpoints, StackError
from devstack.procs import wait_ready
from devstack.seed import Estate, EstateSpec, collect_truth, seed_estate
from devstack.state import load_states
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings, load_settings
from fleetstream.base.errors import PoisonMessageError
from fleetstream.base.models import CLOCK_OFFSET_ENV, Observation, ResourceEvent
from fleetstream.inventory.sweeps import SweepProgress, SweepStore
from fleetstream.kafka import clients as kafka
from fleetstream.runtime.workers import Worker, WorkerPool
from fleetstream.serde.wire import decode_resource_event
from tests.chaos.attributes import described_instances, differing_attributes
from tests.chaos.dynamodb_faults import DynamoDBFaults
from tests.chaos.metrics import scrape
from tests.chaos.proxy import CuttableProxy
from tests.integration.helpers import (
    aws_calls,
    inventory_facts,
    inventory_items,
    member_client,
    produce_raw,
    read_topic,
    set_faults,
)

FAULTS = (
    "kill",
    "broker",
    "broker-kill",
    "broker-freeze",
    "dynamodb",
    "dynamodb-busy",
    "dynamodb-hang",
    "aws",
    "poison",
    "rebalance",
    "clock",
)
BROKER_FAULTS = ("broker", "broker-kill", "broker-freeze")
# `./dev test` runs one trial of every kind (ci_faults). broker-freeze, dynamodb, dynamodb-busy and
# rebalance once waited outside it, each having failed once on a check not about the data; each
# check is now deterministic: the fault layer's first eligible batch of each operation is always
# partial, a worker the harness asked to leave is the harness's whatever its exit code, a broker
# fault ends only once the broker takes a write again, and the sink retries a cut connection.
CI_FAULTS_ENV = "FLEETSTREAM_CHAOS_FAULTS"


def ci_faults(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The kinds `./dev test` runs: every kind, or those $FLEETSTREAM_CHAOS_FAULTS names (a
    comma-separated list; "all" is every kind too)."""
    wanted = environ.get(CI_FAULTS_ENV, "").strip()
    if not wanted or wanted == "all":
        return FAULTS
    names = tuple(n.strip() for n in wanted.split(",") if n.strip())
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise ValueError(f"{CI_FAULTS_ENV}: unknown fault kinds {unknown}; known: {FAULTS}")
    return names


# Trials whose sink reaches DynamoDB through the HTTP fault layer (dynamodb_faults.py).
FAULT_LAYER_TRIALS = ("dynamodb-busy", "dynamodb-hang")
BUSY_WINDOW_S = 10.0  # throttling and partial batches last this long (or the whole sweep)
HANG_S = 15.0  # longer than HANG_READ_TIMEOUT_S: the sink's own timeout must end requests
HANG_READ_TIMEOUT_S = "4"
BROKER_DOWN_S = 4.0
BROKER_HEALTHY_S = 180.0  # a loaded machine: generous
# A describer's clock offset stays inside sink.clock_skew_margin_ms (2 s by default): the
# guarantee holds within that margin; the planner's clock is never trusted, so it may be off
# by a minute either way.
DESCRIBER_OFFSET_S = 1.5
PLANNER_OFFSET_S = 60.0
AWS_FAULTS = ("RequestLimitExceeded", "InternalError")
EXIT_LOG_LINES = 8
SEED_ENV = "FLEETSTREAM_CHAOS_SEED"
PAGE_LATENCY_MS = 1000  # per DescribeInstances call of the faulted sweep
InFlight = Callable[[], bool]  # is the trial's sweep still running?
REGIONS = ("us-east-1", "eu-west-1")
SWEEP_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class WorkerExit:
    """A worker that exited without the harness killing it, and what it logged last."""

    worker: str
    code: int
    log_tail: tuple[str, ...]

    def __str__(self) -> str:
        # One table cell: the log's messages joined, pipes escaped.
        lines = " / ".join(self.log_tail).replace("|", "\\|")
        return f"{self.worker} exited {self.code}: {lines}"


def log_messages(text: str) -> tuple[str, ...]:
    """A worker log's lines, each JSON record shortened to 'LEVEL logger: message'."""
    messages = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
            messages.append(f"{record['level']} {record['logger']}: {record['message']}")
        except (ValueError, KeyError, TypeError):
            messages.append(line)
    return tuple(messages)


@dataclass
class TrialResult:
    """One trial's fault and what the checks found."""

    trial: int
    fault: str
    seed: int = 0
    seconds: float = 0.0
    lost: int = -1
    stale: int = -1
    wrongly_deleted: int = -1
    missing_tombstones: int = -1
    failed_shards_as_expected: bool = False
    dlq_expected: int = 0
    dlq_found: int = -1
    duplicates: int = -1
    attributes_differ: int = -1
    restarts: int = 0
    # Fault kind -> how many times it was injected while the sweep was in flight.
    injected: dict[str, int] = field(default_factory=dict)
    # Fault kinds the trial meant to inject that did not happen, or not during the sweep.
    missed: list[str] = field(default_factory=list)
    # Workers that exited without the harness killing them, each with its log's tail.
    unexpected_exits: list[WorkerExit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.stale == 0
            and self.wrongly_deleted == 0
            and self.missing_tombstones == 0
            and self.failed_shards_as_expected
            and self.dlq_found == self.dlq_expected
            and self.duplicates == 0
            and self.attributes_differ == 0
            and not self.missed
            and not self.unexpected_exits
        )

    def count(self, kind: str, in_flight: bool) -> None:
        """Record one injected fault; one that hit no sweep in flight proves nothing."""
        if in_flight:
            self.injected[kind] = self.injected.get(kind, 0) + 1
        else:
            self.missed.append(f"{kind} after the sweep had finished")


def pipeline_env(endpoints: StackEndpoints, tag: str, estate: Estate, ddb: str) -> dict[str, str]:
    """Environment of every process of one trial: isolated topics, tables and groups."""
    assert endpoints.kafka_bootstrap and endpoints.aws_endpoint
    return {
        "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
        "AWS_ENDPOINT_URL": endpoints.aws_endpoint,
        "FLEETSTREAM_DYNAMODB_ENDPOINT": ddb,
        "FLEETSTREAM_KAFKA__TOPIC_PREFIX": f"chaos{tag}.",
        "FLEETSTREAM_KAFKA__PARTITIONS": "4",
        "FLEETSTREAM_SINK__TABLE": f"chaos-inventory-{tag}",
        "FLEETSTREAM_SINK__SWEEPS_TABLE": f"chaos-sweeps-{tag}",
        "FLEETSTREAM_DESCRIBER__GROUP_ID": f"chaos-describer-{tag}",
        "FLEETSTREAM_SINK__GROUP_ID": f"chaos-sink-{tag}",
        "FLEETSTREAM_DESCRIBER__PAGE_SIZE": "5",
        "FLEETSTREAM_DESCRIBER__RETRY_BASE_S": "0.2",
        "FLEETSTREAM_DESCRIBER__RETRY_MAX_ATTEMPTS": "60",
        "FLEETSTREAM_AWS__MAX_ATTEMPTS": "2",
        "FLEETSTREAM_DESCRIBER__COMMIT_WATCHDOG_S": "30",
        "FLEETSTREAM_ACCOUNTS__INCLUDE": str([a.account_id for a in estate.accounts]),
        "FLEETSTREAM_REGIONS__INCLUDE": str(list(REGIONS)),
        # The describer does not start without one (describer.redaction_key).
        "FLEETSTREAM_DESCRIBER__REDACTION_KEY": f"chaos-redaction-key-{tag}",
    }


def restart_kafka(stack: LocalStack, attempts: int = 3, ready_timeout_s: float = 180.0) -> None:
    """Start the stopped broker again; on a loaded machine the JVM may need a second try, and
    longer than a cold start's timeout (log recovery after a SIGKILL)."""
    default_timeout = stack.ready_timeout
    stack.ready_timeout = max(default_timeout, ready_timeout_s)
    try:
        for attempt in range(1, attempts + 1):
            try:
                stack.start_component("kafka")
            except StackError:
                if attempt == attempts:
                    raise
                stack.stop_component("kafka")
            else:
                return
    finally:
        stack.ready_timeout = default_timeout


@dataclass(frozen=True)
class Faults:
    """The trial's two ways to DynamoDB Local: a cuttable TCP proxy, an HTTP fault layer."""

    proxy: CuttableProxy
    layer: DynamoDBFaults


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for this process and its children, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Trial:
    """One chaos trial on a running local stack."""

    def __init__(
        self, stack: LocalStack, number: int, fault: str, workdir: Path, seed: int
    ) -> None:
        self.stack = stack
        self.endpoints = stack.endpoints()
        self.result = TrialResult(number, fault, seed)
        self.rng = random.Random(f"{seed}-{number}-{fault}")
        self.workdir = workdir
        self.tag = uuid.uuid4().hex[:8]
        self._frozen: int | None = None  # the broker's pid while SIGSTOPped

    def run(self) -> TrialResult:
        """Seed, sweep clean, mutate, sweep under the fault, check."""
        started = time.monotonic()
        aws = self.endpoints.aws_endpoint
        assert aws and self.endpoints.dynamodb_endpoint
        estate = seed_estate(
            aws,
            EstateSpec(
                member_accounts=3,
                unassumable_accounts=1,
                regions=REGIONS,
                instances_per_region=4,
                paged_region="eu-west-1",
                paged_instances=16,
            ),
        )
        target = self.endpoints.dynamodb_endpoint.rsplit(":", 1)
        host, port = target[0].removeprefix("http://"), int(target[1])
        proxy = CuttableProxy(host, port)
        layer = DynamoDBFaults(host, port, self.rng.randrange(2**32))
        fault = self.result.fault
        ddb = layer.endpoint if fault in FAULT_LAYER_TRIALS else proxy.endpoint
        env = pipeline_env(self.endpoints, self.tag, estate, ddb)
        if fault == "dynamodb-hang":
            # Short enough that a hung request ends by the sink's own timeout, not the heal.
            env["FLEETSTREAM_AWS__READ_TIMEOUT_S"] = HANG_READ_TIMEOUT_S
        with environment(env):
            settings = load_settings(None)
            direct = load_settings(
                None,
                env={
                    **os.environ,
                    "FLEETSTREAM_DYNAMODB_ENDPOINT": self.endpoints.dynamodb_endpoint,
                },
            )
            pool = WorkerPool(None, self.workdir / f"trial-{self.result.trial}")
            try:
                self._sweeps(estate, settings, direct, pool, Faults(proxy, layer))
            finally:
                set_faults(aws, {})
                proxy.close()
                layer.close()
                self._resume_broker()
                pool.stop()
            if fault in BROKER_FAULTS:
                self._await_broker(settings)
        self.result.seconds = time.monotonic() - started
        return self.result

    def _sweeps(
        self,
        estate: Estate,
        settings: Settings,
        direct: Settings,
        pool: WorkerPool,
        faults: Faults,
    ) -> None:
        aws = self.endpoints.aws_endpoint
        assert aws
        kafka.ensure_topics(settings.kafka)
        pool.start("describer", 2)
        pool.start("sink", 2)
        for group in (settings.describer.group_id, settings.sink.group_id):
            kafka.wait_for_group(settings.kafka, group, 2, 60)
        first = self._wait(direct, self._plan(), pool, lambda _: None)
        if not first.finished:
            self.result.notes.append("the clean sweep did not finish")
            return
        assumable = [a.account_id for a in estate.accounts if a.assumable]
        healthy, failing = assumable[0], assumable[1]
        gone = estate.instances_of(healthy, "us-east-1")[0].instance_id
        kept = estate.instances_of(failing, "eu-west-1")[0].instance_id
        member_client(aws, healthy, "ec2", "us-east-1").terminate_instances(InstanceIds=[gone])
        member_client(aws, failing, "ec2", "eu-west-1").terminate_instances(InstanceIds=[kept])
        # Same id, same tags, other attributes: only the attribute check sees whether the
        # second sweep really rewrote it.
        stopped = estate.instances_of(healthy, "eu-west-1")[0].instance_id
        member_client(aws, healthy, "ec2", "eu-west-1").stop_instances(InstanceIds=[stopped])
        rules: list[dict[str, object]] = [
            {
                "action": "DescribeInstances",
                "account": failing,
                "region": "eu-west-1",
                "rate": 1.0,
                "code": "UnauthorizedOperation",
                "status": 403,
            },
        ]
        if self.result.fault == "aws":
            # Rates high enough that both kinds happen in a sweep of ~15 pages.
            rules += [
                {"action": "DescribeInstances", "rate": 0.3, "code": AWS_FAULTS[0]},
                {"action": "DescribeInstances", "rate": 0.3, "code": AWS_FAULTS[1], "status": 500},
            ]
        # A second of latency per page keeps the sweep in flight (its paged shards take 4 pages
        # one after another) past every fault's start: on an idle machine the unslowed sweep
        # finished before the first SIGKILL or the broker stop, which then proved nothing.
        latency = {"DescribeInstances": PAGE_LATENCY_MS}
        seed = self.rng.randrange(2**32)
        set_faults(aws, {"errors": rules, "latency_ms": latency, "seed": seed})
        if self.result.fault == "poison":
            self.result.dlq_expected = self._poison(settings)
            # Written before the plan, read by workers busy with the sweep; the DLQ count
            # (dlq_found == dlq_expected) proves every one was met and dead-lettered.
            self.result.injected["poison records"] = self.result.dlq_expected
        since = time.time()
        planner_offset = 0.0
        if self.result.fault == "clock":
            planner_offset = self.rng.choice((-1, 1)) * PLANNER_OFFSET_S
            # The planner's clock starts the sweep: it is injected before the sweep, by design.
            self.result.injected[f"planner clock {planner_offset:+.0f}s"] = 1
            self._skew_a_describer(pool, settings)
        second = self._wait(
            direct,
            self._plan(planner_offset),
            pool,
            lambda in_flight: self._inject(pool, faults, in_flight),
        )
        set_faults(aws, {})
        faults.layer.heal()
        if self.result.fault == "aws":
            self._count_aws_faults(estate, since)
        self._prove_retries(pool, faults.layer)
        self._check(estate, direct, second, gone, kept, failing)
        self._restart_the_dead(pool, restart=False)  # and none died while it was checked

    def _count_aws_faults(self, estate: Estate, since: float) -> None:
        aws = self.endpoints.aws_endpoint
        assert aws
        accounts = {a.account_id for a in estate.accounts}
        codes = Counter(
            str(call.get("injected"))
            for call in aws_calls(aws)
            if call["at"] >= since and call["account"] in accounts
        )
        for kind in AWS_FAULTS:
            # Every injected error answered a describer's call of this sweep: work in flight.
            if codes[kind]:
                self.result.injected[kind] = codes[kind]
            else:
                self.result.missed.append(f"no {kind} injected")

    def _plan(self, clock_offset_s: float = 0.0) -> str:
        env = {**os.environ, CLOCK_OFFSET_ENV: str(clock_offset_s)}
        done = subprocess.run(
            [sys.executable, "-m", "fleetstream", "plan"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=env,
        )
        if done.returncode != 0:
            raise RuntimeError(f"fleetstream plan failed: {done.stderr.strip()}")
        return done.stdout.strip().splitlines()[-1]

    def _inject(self, pool: WorkerPool, faults: Faults, in_flight: InFlight) -> None:
        inject = {
            "kill": self._kill_workers,
            "broker": self._restart_broker,
            "broker-kill": self._kill_broker,
            "broker-freeze": self._freeze_broker,
            "dynamodb": self._cut_dynamodb,
            "dynamodb-busy": self._busy_dynamodb,
            "dynamodb-hang": self._hang_dynamodb,
            "rebalance": self._rebalance_storm,
        }.get(self.result.fault)
        if inject is not None:  # aws, poison and clock are set up before the sweep starts
            inject(pool, faults, in_flight)

    def _kill_workers(self, pool: WorkerPool, _faults: Faults, in_flight: InFlight) -> None:
        for _ in range(3):
            time.sleep(self.rng.uniform(0.1, 0.8))
            victim = self.rng.choice(pool.workers)
            self.result.count("SIGKILL", in_flight())
            victim.process.send_signal(signal.SIGKILL)
            victim.process.wait()
            pool.restart(victim)
            self.result.restarts += 1
            self.result.notes.append(f"killed {victim.role}-{victim.index}")

    def _restart_broker(self, _pool: WorkerPool, _faults: Faults, in_flight: InFlight) -> None:
        time.sleep(self.rng.uniform(0.2, 1.5))
        self.result.count("broker stopped", in_flight())
        self.stack.stop_component("kafka")
        time.sleep(BROKER_DOWN_S)
        restart_kafka(self.stack)

    def _kill_broker(self, _pool: WorkerPool, _faults: Faults, in_flight: InFlight) -> None:
        time.sleep(self.rng.uniform(0.2, 1.5))
        self.result.count("broker SIGKILLed", in_flight())
        self._signal_broker(signal.SIGKILL)
        self.stack.stop_component("kafka")  # reaps it and forgets its pid
        time.sleep(BROKER_DOWN_S)
        restart_kafka(self.stack)

    def _cut_dynamodb(self, _pool: WorkerPool, faults: Faults, in_flight: InFlight) -> None:
        time.sleep(self.rng.uniform(0.2, 1.0))
        self.result.count("DynamoDB cut", in_flight())
        faults.proxy.cut()
        time.sleep(20)
        faults.proxy.restore()

    def _busy_dynamodb(self, _pool: WorkerPool, faults: Faults, in_flight: InFlight) -> None:
        time.sleep(self.rng.uniform(0.2, 1.0))
        self.result.count("DynamoDB busy", in_flight())
        faults.layer.busy(throttle_rate=0.2, unprocessed_rate=0.5)
        window_ends = time.monotonic() + BUSY_WINDOW_S
        while time.monotonic() < window_ends and in_flight():
            time.sleep(0.5)
        faults.layer.heal()

    def _hang_dynamodb(self, _pool: WorkerPool, faults: Faults, in_flight: InFlight) -> None:
        time.sleep(self.rng.uniform(0.2, 1.0))
        self.result.count("DynamoDB hang", in_flight())
        faults.layer.hang()
        time.sleep(HANG_S)
        faults.layer.heal()

    def _skew_a_describer(self, pool: WorkerPool, settings: Settings) -> None:
        """Before the second sweep, restart describer-0 with its clock off: the whole sweep
        runs with one skewed describer (restarted mid-sweep, a graceful stop outlasted it)."""
        victim = next(w for w in pool.workers if w.role == "describer")
        offset = self.rng.choice((-1, 1)) * DESCRIBER_OFFSET_S
        victim.process.send_signal(signal.SIGTERM)  # gracefully: not a kill fault
        victim.process.wait()
        victim.env = {**victim.env, CLOCK_OFFSET_ENV: str(offset)}
        pool.restart(victim)
        kafka.wait_for_group(settings.kafka, settings.describer.group_id, 2, 120)
        # Proven in flight by what it handled (_prove_retries).
        self.result.injected[f"describer clock {offset:+.1f}s"] = 1
        self.result.notes.append(f"{victim.role}-{victim.index} clock {offset:+.1f}s")

    def _broker_pid(self) -> int:
        pid = load_states(self.stack.state_file)["kafka"].pid
        assert pid is not None, "the broker is not running"
        return pid

    def _signal_broker(self, sig: signal.Signals, pid: int | None = None) -> None:
        # The broker leads its own process group (devstack.procs.spawn).
        os.killpg(self._broker_pid() if pid is None else pid, sig)

    def _freeze_broker(self, _pool: WorkerPool, _faults: Faults, in_flight: InFlight) -> None:
        """A partition as the clients see it: every connection stays open and nothing answers
        (SIGSTOP); then it heals (SIGCONT) and the broker finds its sessions expired."""
        time.sleep(self.rng.uniform(0.2, 1.5))
        self.result.count("broker frozen", in_flight())
        self._frozen = self._broker_pid()
        self._signal_broker(signal.SIGSTOP, self._frozen)
        time.sleep(self.rng.uniform(8.0, 15.0))
        self._resume_broker()

    def _resume_broker(self) -> None:
        """Thaw a frozen broker (also when the trial failed mid-freeze)."""
        if self._frozen is not None:
            self._signal_broker(signal.SIGCONT, self._frozen)
            self._frozen = None

    def _await_broker(self, settings: Settings) -> None:
        """The next trial runs on this stack: after a broker fault, wait until the broker
        answers metadata requests and takes an acks=all write again (a thawed or restarted
        broker may still be electing leaders), so a trial's fault cannot spill into the next
        one's; StackError if it does not within BROKER_HEALTHY_S."""
        endpoint = self.endpoints.kafka_bootstrap
        assert endpoint
        kafka_node = self.stack.components["kafka"]
        topic = settings.kafka.topic("work")  # this trial's: nobody reads it any more
        wait_ready(
            "kafka after the fault",
            lambda: kafka_node.ready(endpoint) and _takes_a_write(endpoint, topic),
            self._broker_pid(),
            BROKER_HEALTHY_S,
            None,
        )

    def _rebalance_storm(self, pool: WorkerPool, _faults: Faults, in_flight: InFlight) -> None:
        """Describers and sinks join and leave (gracefully) while the sweep runs."""
        # Up to 3 rounds, while the sweep lasts: a storm that outlives the sweep proves nothing
        # (_prove_retries requires at least one join and one leave in flight).
        for _ in range(3):
            time.sleep(self.rng.uniform(0.3, 1.0))
            if not in_flight():
                return
            role = self.rng.choice(("describer", "sink"))
            pool.start(role, 1)
            self.result.count(f"{role} joined", in_flight=True)
            time.sleep(self.rng.uniform(0.5, 1.5))
            if not in_flight():
                return
            role = self.rng.choice(("describer", "sink"))
            leaving = self.rng.choice([w for w in pool.workers if w.role == role])
            if ask_to_leave(pool, leaving, self.result):
                self.result.count(f"{role} left", in_flight=True)
            else:
                self._restart_the_dead(pool)  # it died on its own: the trial fails

    def _prove_retries(self, pool: WorkerPool, layer: DynamoDBFaults) -> None:
        """What the fault layer served, against what the workers' metrics say they met."""
        fault = self.result.fault
        served = layer.served
        if fault == "dynamodb-busy":
            throttled = sum(n for kind, n in served.items() if kind.startswith("throttled"))
            met = scrape(pool.workers, "fleetstream_aws_api_throttles_total", service="dynamodb")
            self._served_and_met("DynamoDB throttles", throttled, met)
            for what, operation in (
                ("unprocessed items", "batch_write_item"),
                ("unprocessed keys", "batch_get_item"),
            ):
                met = scrape(
                    pool.workers, "fleetstream_sink_unprocessed_items_total", operation=operation
                )
                self._served_and_met(what, served[what], met)
        elif fault == "dynamodb-hang":
            hung = sum(n for kind, n in served.items() if kind.startswith("hung "))
            abandoned = served["hung requests abandoned by the client"]
            self.result.injected["requests hung"] = hung
            self.result.injected["hung requests timed out by the client"] = abandoned
            if not hung or not abandoned:
                self.result.missed.append(f"hung {hung}, timed out by the client {abandoned}")
        elif fault == "rebalance":
            for move in ("joined", "left"):
                if not any(kind.endswith(move) for kind in self.result.injected):
                    self.result.missed.append(f"no worker {move} during the sweep")
            revoked = scrape(pool.workers, "fleetstream_consumer_rebalances_total", kind="revoke")
            self.result.injected["revocations seen by the workers"] = int(revoked)
            if not revoked:
                self.result.missed.append("no worker saw its partitions revoked")
        elif fault == "clock":
            skewed = [w for w in pool.workers if CLOCK_OFFSET_ENV in w.env]
            handled = scrape(skewed, "fleetstream_messages_processed_total")
            self.result.injected["messages the skewed describer handled"] = int(handled)
            if not handled:
                self.result.missed.append("the skewed describer handled no message")

    def _served_and_met(self, what: str, served: int, met: float) -> None:
        """The layer served it during the sweep, and the workers' retry path met it.

        Met may fall short of served by a response the layer counted after the workers' last
        scrape (a long run saw unprocessed keys served 9, met 8, every data check clean): the
        proof is that the retry path ran at all and met nothing the layer did not serve.
        """
        self.result.injected[f"{what} (served/met by the sink)"] = served
        self.result.notes.append(f"{what}: layer served {served}, workers met {met:.0f}")
        if not served:
            self.result.missed.append(f"no {what} served")
        elif not met or met > served:
            self.result.missed.append(f"{what}: layer served {served}, workers met {met:.0f}")

    def _wait(
        self,
        direct: Settings,
        sweep_id: str,
        pool: WorkerPool,
        inject: Callable[[InFlight], None],
    ) -> SweepProgress:
        sweeps = SweepStore(dynamodb_client(direct), direct.sink.sweeps_table, timedelta(days=1))
        inject(lambda: not sweeps.progress(sweep_id).finished)
        deadline = time.monotonic() + SWEEP_TIMEOUT_S
        progress = sweeps.progress(sweep_id)
        while not progress.finished and time.monotonic() < deadline:
            self._restart_the_dead(pool)
            time.sleep(0.5)
            progress = sweeps.progress(sweep_id)
        self._restart_the_dead(pool)
        if not progress.finished:
            # Leave every worker's thread stacks in its log, for the post-mortem.
            for worker in pool.workers:
                if worker.process.poll() is None:
                    worker.process.send_signal(signal.SIGUSR1)
            time.sleep(1)
        return progress

    def _restart_the_dead(self, pool: WorkerPool, *, restart: bool = True) -> None:
        """A supervisor (ECS, Kubernetes) restarts what dies; so does the harness. But the
        harness restarts at once what it kills itself, so a dead worker here exited on its own:
        the trial fails, with the worker's last log lines."""
        for worker in list(pool.workers):
            code = worker.process.poll()
            if code is not None:
                self.result.unexpected_exits.append(
                    WorkerExit(
                        f"{worker.role}-{worker.index}",
                        code,
                        log_messages(worker.tail(EXIT_LOG_LINES)),
                    )
                )
                if restart:
                    pool.restart(worker)

    def _poison(self, settings: Settings) -> int:
        junk = [
            (b"k", b""),
            (b"k", b"\x00\x01garbage"),
            (b"k", b"\xc3\x01" + os.urandom(8) + b"\x02\x04"),
            (None, os.urandom(64)),
        ]
        for topic in ("work", "resources"):
            produce_raw(settings, settings.kafka.topic(topic), junk)
        return 2 * len(junk)

    def _check(
        self,
        estate: Estate,
        direct: Settings,
        progress: SweepProgress,
        gone: str,
        kept: str,
        failing: str,
    ) -> None:
        result = self.result
        aws = self.endpoints.aws_endpoint
        assert aws
        if not progress.finished:
            result.notes.append(f"second sweep unfinished: {len(progress.shards)} shards")
        unassumable = {a.account_id for a in estate.accounts if not a.assumable}
        expected_failed = {(failing, "eu-west-1")} | {(u, r) for u in unassumable for r in REGIONS}
        actual_failed = {(s.account_id, s.region) for s in progress.failed}
        result.failed_shards_as_expected = progress.finished and actual_failed == expected_failed
        if actual_failed != expected_failed:
            result.notes.append(f"failed shards {sorted(actual_failed)}")
        truth = collect_truth(aws, estate)
        kept_fact = next(i.fact() for i in estate.instances if i.instance_id == kept)
        expected_live = {f for f in truth if f[0] not in unassumable} | {kept_fact}
        live = inventory_facts(direct)
        result.lost = len(expected_live - live)
        result.stale = len(live - expected_live)
        items = inventory_items(direct)
        tombstoned = {rid for rid, item in items.items() if "deleted_at" in item}
        described = described_instances(aws, estate, redaction_key(direct.describer))
        differing = differing_attributes(items, described)
        result.attributes_differ = len(differing)
        if differing:
            result.notes.append(f"attributes differ from moto's: {'; '.join(differing[:3])}")
        result.wrongly_deleted = len(tombstoned - {gone})
        result.missing_tombstones = len({gone} - tombstoned)
        dead = read_topic(direct, direct.kafka.topic("dlq"), idle_s=2)
        result.dlq_found = len(dead)
        messages = read_topic(direct, direct.kafka.topic("resources"), idle_s=2)
        observations = [e for e in map(_decoded, messages) if isinstance(e, Observation)]
        counts = Counter((o.arn, o.sweep_id) for o in observations)
        result.duplicates = sum(n - 1 for n in counts.values())


def ask_to_leave(pool: WorkerPool, leaving: Worker, result: TrialResult) -> bool:
    """SIGTERM a worker and take it out of the pool. Its exit is the harness's whatever its
    code (noted, not an unexpected exit): one just started exits -15 when the signal beats its
    handler, and the data checks judge what it left behind. False, and the worker stays in the
    pool, if it had already exited: that exit was its own."""
    if leaving.process.poll() is not None:
        return False
    name = f"{leaving.role}-{leaving.index}"
    leaving.process.send_signal(signal.SIGTERM)
    try:
        code = leaving.process.wait(60)
    except subprocess.TimeoutExpired:
        leaving.process.kill()
        code = leaving.process.wait()
        result.notes.append(f"{name} ignored SIGTERM")
    pool.workers.remove(leaving)
    if code != 0:
        result.notes.append(f"{name}, asked to leave, exited {code}")
    return True


def _takes_a_write(bootstrap: str, topic: str) -> bool:
    """One record written with acks=all within a few seconds."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "log_level": 3})
    producer.produce(topic, key=b"chaos-health", value=b"")
    return producer.flush(5) == 0


def _decoded(message: Message) -> ResourceEvent | None:
    try:
        return decode_resource_event(message.value())
    except PoisonMessageError:
        return None  # the poison this trial wrote itself


def new_seed() -> int:
    """The run's seed: FLEETSTREAM_CHAOS_SEED to replay a run, else a fresh one."""
    given = os.environ.get(SEED_ENV)
    return int(given) if given else random.SystemRandom().randrange(2**31)


def report_table(results: list[TrialResult]) -> str:
    """A markdown table: trial -> fault -> outcome."""
    lines = [
        "| trial | fault | outcome | seconds | lost | stale | wrongly deleted | missing tombstones "
        "| DLQ (expected/found) | duplicates | attributes differ | injected in flight | missed "
        "| restarts | unexpected exits | notes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        injected = ", ".join(f"{kind} x{n}" for kind, n in r.injected.items())
        exits = "; ".join(map(str, r.unexpected_exits))
        lines.append(
            f"| {r.trial} | {r.fault} | {'ok' if r.ok else 'FAIL'} | {r.seconds:.0f} | {r.lost} "
            f"| {r.stale} | {r.wrongly_deleted} | {r.missing_tombstones} "
            f"| {r.dlq_expected}/{r.dlq_found} | {r.duplicates} | {r.attributes_differ} "
            f"| {injected} | {'; '.join(r.missed)} | {r.restarts} | {exits} "
            f"| {'; '.join(r.notes)} |"
        )
    return "\n".join(lines)
