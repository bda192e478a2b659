"""The chaos harness: a real pipeline of separate processes, one injected fault per trial,
and a check of the final DynamoDB table against moto's ground truth.

Each trial seeds its own estate (3 member accounts + 1 whose role cannot be assumed), runs a
clean sweep, then deletes one instance in a healthy shard (it must be tombstoned) and one in a
shard made to fail with AccessDenied (it must NOT be), and runs a second sweep under the
trial's fault: SIGKILLed workers, a broker restart, DynamoDB unreachable for 20 s, AWS
throttling and 5xx, or poison messages written onto the pipeline's topics.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from confluent_kafka import Message

from fleetstream import kafka
from fleetstream.aws import dynamodb_client
from fleetstream.config import Settings, load_settings
from fleetstream.devstack import LocalStack, StackEndpoints, StackError
from fleetstream.devstack.seed import Estate, EstateSpec, collect_truth, seed_estate
from fleetstream.errors import PoisonMessageError
from fleetstream.models import Observation, ResourceEvent
from fleetstream.sweeps import SweepProgress, SweepStore
from fleetstream.wire import decode_resource_event
from fleetstream.workers import WorkerPool
from tests.chaos.proxy import CuttableProxy
from tests.integration.helpers import (
    inventory_facts,
    inventory_items,
    member_client,
    produce_raw,
    read_topic,
    set_faults,
)

FAULTS = ("kill", "broker", "dynamodb", "aws", "poison")
REGIONS = ("us-east-1", "eu-west-1")
SWEEP_TIMEOUT_S = 180.0


@dataclass
class TrialResult:
    """One trial's fault and what the checks found."""

    trial: int
    fault: str
    seconds: float = 0.0
    lost: int = -1
    stale: int = -1
    wrongly_deleted: int = -1
    missing_tombstones: int = -1
    failed_shards_as_expected: bool = False
    dlq_expected: int = 0
    dlq_found: int = -1
    duplicates: int = -1
    restarts: int = 0
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
        )


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


def restart_kafka(stack: LocalStack, attempts: int = 3) -> None:
    """Start the stopped broker again; on a loaded machine the JVM may need a second try."""
    for attempt in range(1, attempts + 1):
        try:
            stack.start_component("kafka")
        except StackError:
            if attempt == attempts:
                raise
            stack.stop_component("kafka")
        else:
            return


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

    def __init__(self, stack: LocalStack, number: int, fault: str, workdir: Path) -> None:
        self.stack = stack
        self.endpoints = stack.endpoints()
        self.result = TrialResult(number, fault)
        self.rng = random.Random(f"{number}-{fault}")
        self.workdir = workdir
        self.tag = uuid.uuid4().hex[:8]

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
        proxy = CuttableProxy(target[0].removeprefix("http://"), int(target[1]))
        env = pipeline_env(self.endpoints, self.tag, estate, proxy.endpoint)
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
                self._sweeps(estate, settings, direct, pool, proxy)
            finally:
                set_faults(aws, {})
                proxy.close()
                pool.stop()
        self.result.seconds = time.monotonic() - started
        return self.result

    def _sweeps(
        self,
        estate: Estate,
        settings: Settings,
        direct: Settings,
        pool: WorkerPool,
        proxy: CuttableProxy,
    ) -> None:
        aws = self.endpoints.aws_endpoint
        assert aws
        kafka.ensure_topics(settings.kafka)
        pool.start("describer", 2)
        pool.start("sink", 2)
        for group in (settings.describer.group_id, settings.sink.group_id):
            kafka.wait_for_group(settings.kafka, group, 2, 60)
        first = self._wait(direct, self._plan(), pool, lambda: None)
        if not first.finished:
            self.result.notes.append("the clean sweep did not finish")
            return
        assumable = [a.account_id for a in estate.accounts if a.assumable]
        healthy, failing = assumable[0], assumable[1]
        gone = estate.instances_of(healthy, "us-east-1")[0].instance_id
        kept = estate.instances_of(failing, "eu-west-1")[0].instance_id
        member_client(aws, healthy, "ec2", "us-east-1").terminate_instances(InstanceIds=[gone])
        member_client(aws, failing, "ec2", "eu-west-1").terminate_instances(InstanceIds=[kept])
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
            rules += [
                {"action": "DescribeInstances", "rate": 0.3, "code": "RequestLimitExceeded"},
                {
                    "action": "DescribeInstances",
                    "rate": 0.15,
                    "code": "InternalError",
                    "status": 500,
                },
            ]
        set_faults(aws, {"errors": rules})
        if self.result.fault == "poison":
            self.result.dlq_expected = self._poison(settings)
        second = self._wait(direct, self._plan(), pool, lambda: self._inject(pool, proxy))
        set_faults(aws, {})
        self._check(estate, direct, second, gone, kept, failing)

    def _plan(self) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "fleetstream", "plan"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"fleetstream plan failed: {done.stderr.strip()}")
        return done.stdout.strip().splitlines()[-1]

    def _inject(self, pool: WorkerPool, proxy: CuttableProxy) -> None:
        fault = self.result.fault
        if fault == "kill":
            for _ in range(3):
                time.sleep(self.rng.uniform(0.2, 2.0))
                victim = self.rng.choice(pool.workers)
                victim.process.send_signal(signal.SIGKILL)
                victim.process.wait()
                pool.restart(victim)
                self.result.restarts += 1
                self.result.notes.append(f"killed {victim.role}-{victim.index}")
        elif fault == "broker":
            time.sleep(self.rng.uniform(0.5, 2.0))
            self.stack.stop_component("kafka")
            time.sleep(4)
            restart_kafka(self.stack)
        elif fault == "dynamodb":
            time.sleep(self.rng.uniform(0.2, 1.0))
            proxy.cut()
            time.sleep(20)
            proxy.restore()

    def _wait(
        self, direct: Settings, sweep_id: str, pool: WorkerPool, inject: Callable[[], None]
    ) -> SweepProgress:
        sweeps = SweepStore(dynamodb_client(direct), direct.sink.sweeps_table, timedelta(days=1))
        inject()
        deadline = time.monotonic() + SWEEP_TIMEOUT_S
        progress = sweeps.progress(sweep_id)
        while not progress.finished and time.monotonic() < deadline:
            # A supervisor (ECS, Kubernetes) restarts what dies; so does the harness.
            for worker in list(pool.workers):
                if worker.process.poll() is not None:
                    self.result.notes.append(
                        f"{worker.role}-{worker.index} exited {worker.process.returncode}"
                    )
                    pool.restart(worker)
                    self.result.restarts += 1
            time.sleep(0.5)
            progress = sweeps.progress(sweep_id)
        if not progress.finished:
            # Leave every worker's thread stacks in its log, for the post-mortem.
            for worker in pool.workers:
                if worker.process.poll() is None:
                    worker.process.send_signal(signal.SIGUSR1)
            time.sleep(1)
        return progress

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
        tombstoned = {rid for rid, item in inventory_items(direct).items() if "deleted_at" in item}
        result.wrongly_deleted = len(tombstoned - {gone})
        result.missing_tombstones = len({gone} - tombstoned)
        dead = read_topic(direct, direct.kafka.topic("dlq"), idle_s=2)
        result.dlq_found = len(dead)
        messages = read_topic(direct, direct.kafka.topic("resources"), idle_s=2)
        observations = [e for e in map(_decoded, messages) if isinstance(e, Observation)]
        counts = Counter((o.arn, o.sweep_id) for o in observations)
        result.duplicates = sum(n - 1 for n in counts.values())


def _decoded(message: Message) -> ResourceEvent | None:
    try:
        return decode_resource_event(message.value())
    except PoisonMessageError:
        return None  # the poison this trial wrote itself


def report_table(results: list[TrialResult]) -> str:
    """A markdown table: trial -> fault -> outcome."""
    lines = [
        "| trial | fault | outcome | seconds | lost | stale | wrongly deleted | missing tombstones "
        "| DLQ (expected/found) | duplicates | restarts | notes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.trial} | {r.fault} | {'ok' if r.ok else 'FAIL'} | {r.seconds:.0f} | {r.lost} "
            f"| {r.stale} | {r.wrongly_deleted} | {r.missing_tombstones} "
            f"| {r.dlq_expected}/{r.dlq_found} | {r.duplicates} | {r.restarts} "
            f"| {'; '.join(r.notes)} |"
        )
    return "\n".join(lines)
