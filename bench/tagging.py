"""`python -m bench.tagging [--quick] --out bench/results/`: S2, the fleet tagging job.

On the simulator (latency; EC2's mutate token bucket per account-region): fleetstream sweeps
the estate once into its inventory, then Production=Yes goes onto every instance, by

* naive: the one-off script: per account AssumeRole, per region the DescribeInstances pages,
  then one CreateTags per instance, one after the other;
* fleetstream: `fleetstream act tag --execute` with one action planner and one actor process,
  from submission until the audit table holds every batch's outcome.

Both are measured from the outside: wall seconds, and the simulator's call, CreateTags and
throttle counts around each. Writes S2.md (or S2-quick.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from bench.run import HUB_ENV, stack_for
from bench.scenarios import Shape, sim_config, tagging_floor
from bench.simulator.process import SimulatorProcess
from bench.systems.common import (
    describe_pages,
    enabled_regions,
    member_session,
    organization_accounts,
    retry_config,
)
from devstack.submitter import dev_actions_config
from fleetstream.actions.audit import audit_log
from fleetstream.actions.models import Selector
from fleetstream.actions.selector import InventoryQuery
from fleetstream.actions.status import RequestStatus, request_status
from fleetstream.actions.submit import propose, signed_for_execution, submit
from fleetstream.apps.oneshot import run_sweep
from fleetstream.aws.accounts import active_account_ids
from fleetstream.aws.clients import AwsClients, dynamodb_client
from fleetstream.base.config import Settings, isolated_env, load_settings
from fleetstream.kafka import clients as kafka
from fleetstream.runtime.workers import WorkerPool

SHAPE = Shape(30, 16, 25)
QUICK_SHAPE = Shape(4, 2, 25)
Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class TaggingRun:
    """One way of tagging the whole estate, measured from the outside."""

    system: str
    tagged: int
    wall_s: float
    calls: int
    create_tags: int
    throttles: int
    note: str
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after


@dataclass(frozen=True, slots=True)
class TaggingResult:
    """S2 on one shape: the sweep that filled the inventory, then both runs."""

    shape: Shape
    swept: int
    runs: tuple[TaggingRun, ...]


def naive_loop(page_size: int = 1000) -> int:
    """The one-off script: serial, one CreateTags per instance; returns how many it tagged."""
    hub = boto3.Session(region_name="us-east-1")
    tagged = 0
    for account in organization_accounts(hub):
        member = member_session(hub, account)
        for region in enabled_regions(member):
            ec2 = member.client("ec2", region_name=region, config=retry_config())
            for items in describe_pages(ec2, page_size):
                for instance in items:
                    ec2.create_tags(
                        Resources=[instance["InstanceId"]],
                        Tags=[{"Key": "Production", "Value": "Yes"}],
                    )
                    tagged += 1
    return tagged


def fleetstream_job(settings: Settings, log_dir: Path, timeout_s: float) -> RequestStatus:
    """`fleetstream act tag --execute` through the action plane, until every batch is audited."""
    pool = WorkerPool(None, log_dir)
    try:
        pool.start("action-planner", 1)
        pool.start("actor", 1)
        for group in (settings.actions.planner_group_id, settings.actions.group_id):
            if not kafka.wait_for_group(settings.kafka, group, 1, 60):
                raise RuntimeError(f"consumer group {group} did not start")
        proposal = propose(
            "tag",
            Selector("ec2.instance"),
            {"Production": "Yes"},
            max_targets=10**7,
            key=f"bench-{uuid.uuid4().hex[:8]}",
            query=InventoryQuery(dynamodb_client(settings), settings.sink.table),
            accounts=lambda: active_account_ids(settings.accounts, AwsClients(settings.aws)),
        )
        submit(settings, signed_for_execution(proposal.request, settings.actions.submitter))
        audit = audit_log(settings)
        deadline = time.monotonic() + timeout_s
        status = request_status(audit, proposal.request.request_id)
        while not status.finished and time.monotonic() < deadline:
            pool.check()
            time.sleep(0.2)
            status = request_status(audit, proposal.request.request_id)
        return status
    finally:
        pool.stop()


@contextlib.contextmanager
def measured(sim: SimulatorProcess) -> Iterator[dict[str, float]]:
    """Wall seconds and simulator counters of the block (filled in when it ends)."""
    before, started = sim.stats(), time.monotonic()
    numbers: dict[str, float] = {"load_before": os.getloadavg()[0]}
    yield numbers
    after = sim.stats()
    numbers["load_after"] = os.getloadavg()[0]
    numbers["wall_s"] = time.monotonic() - started
    numbers["calls"] = after["calls"] - before["calls"]
    numbers["throttles"] = after["throttles"] - before["throttles"]
    numbers["create_tags"] = _action(after, "CreateTags") - _action(before, "CreateTags")


def _action(stats: dict[str, Any], action: str) -> int:
    return int(stats.get("by_action", {}).get(action, {}).get("calls", 0))


def fleetstream_env(url: str, endpoints: Any, tag: str) -> dict[str, str]:
    """This run's own topics, tables and groups on the stack; the simulator as AWS."""
    actions = dev_actions_config({"value": secrets.token_hex(32)}, max_targets=1_000_000)
    return {
        **HUB_ENV,
        "AWS_ENDPOINT_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
        "FLEETSTREAM_DYNAMODB_ENDPOINT": endpoints.dynamodb_endpoint,
        "FLEETSTREAM_KAFKA__PARTITIONS": "12",
        **isolated_env(tag, f"s2{tag}."),
        "FLEETSTREAM_DESCRIBER__PAGE_SIZE": "1000",
        "FLEETSTREAM_ACCOUNTS__SOURCE": "organizations",
        # A run's own submitter key; the planner's policy allows the whole estate to be tagged.
        "FLEETSTREAM_ACTIONS__SUBMITTER": json.dumps(actions["submitter"]),
        "FLEETSTREAM_ACTIONS__POLICY": json.dumps(actions["policy"]),
    }


def run_s2(shape: Shape, work: Path, timeout_s: float, echo: Echo) -> TaggingResult:
    """Sweep, then the naive loop, then fleetstream, all on one simulator."""
    with contextlib.ExitStack() as cleanup:
        endpoints, _pids = cleanup.enter_context(stack_for(work, echo))
        sim = cleanup.enter_context(SimulatorProcess(sim_config(shape), work / "simulator.log"))
        cleanup.enter_context(_environ(fleetstream_env(sim.url, endpoints, uuid.uuid4().hex[:8])))
        settings = load_settings(None)
        swept = run_sweep(
            settings,
            None,
            describers=2,
            sinks=1,
            timeout_s=timeout_s,
            log_dir=work / "logs",
            echo=echo,
        )
        if not swept.ok:
            raise RuntimeError(f"the inventory sweep did not complete: {swept.progress}")
        echo("naive loop ...")
        with measured(sim) as naive:
            tagged = naive_loop()
        echo(f"naive loop: {tagged} tagged in {naive['wall_s']:.1f}s")
        echo("fleetstream act ...")
        with measured(sim) as ours:
            status = fleetstream_job(settings, work / "logs", timeout_s)
        echo(f"fleetstream: {status.summary()} in {ours['wall_s']:.1f}s")
    runs = (
        _run(
            "naive loop",
            tagged,
            naive,
            "serial; DescribeInstances pages, then one CreateTags per instance",
        ),
        _run(
            "fleetstream act",
            status.outcomes.get("OK", 0),
            ours,
            f"{status.done}/{status.steps} batches audited; 1 planner, 1 actor (concurrency "
            f"{settings.actions.concurrency}); from submission, inventory already swept",
        ),
    )
    return TaggingResult(shape, swept.progress.resources, runs)


@contextlib.contextmanager
def _environ(overrides: dict[str, str]) -> Iterator[None]:
    """The worker processes read their settings from the environment; restore it after."""
    saved = dict(os.environ)
    os.environ.update(overrides)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _run(system: str, tagged: int, numbers: dict[str, float], note: str) -> TaggingRun:
    return TaggingRun(
        system,
        tagged,
        numbers["wall_s"],
        int(numbers["calls"]),
        int(numbers["create_tags"]),
        int(numbers["throttles"]),
        note,
        (numbers["load_before"], numbers["load_after"]),
    )


def markdown(result: TaggingResult, quick: bool) -> str:
    """The report of one S2 run."""
    shape = result.shape
    config = sim_config(shape)
    lat, mutate = config.latency, config.throttle.mutate
    floor = tagging_floor(config)
    lines = [
        f"# S2{' (quick)' if quick else ''}: the fleet tagging job",
        "",
        f"Production=Yes on every instance of {shape.label()} (accounts x regions x instances) "
        f"= {shape.total:,} instances, on the simulator: median {lat.other_median_ms:g} ms per "
        f"CreateTags, mutate bucket {mutate.burst:g} burst / {mutate.rate_per_s:g} per s per "
        f"account-region. The inventory was swept first ({result.swept:,} resources).",
        "",
        f"Rate-limit floor: {floor.explain()}.",
        "",
        "| system | tagged | wall s | x floor | AWS calls | CreateTags calls | throttles "
        "| load before / after | notes |",
        "|---|---|---|---|---|---|---|---|---|",
        *(
            f"| {r.system} | {r.tagged:,} | {r.wall_s:.1f} | {r.wall_s / floor.seconds:,.0f} | "
            f"{r.calls:,} | {r.create_tags:,} | {r.throttles:,} | "
            f"{r.load[0]:.2f} / {r.load[1]:.2f} | {r.note} |"
            for r in result.runs
        ),
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; load = the 1-minute load average when the run started "
        "and ended (other work on the machine shares its CPUs).",
        "",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line of `python -m bench.tagging`."""
    parser = argparse.ArgumentParser(prog="python -m bench.tagging", description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SHAPE.label()}, for CI")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--work", type=Path, help="logs and stack (default: a temp dir)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="per phase, s")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, echo: Echo = print) -> TaggingResult:
    """Run S2 and write its report; return the result (for tests)."""
    args = parse_args(argv)
    with contextlib.ExitStack() as cleanup:
        work = args.work or Path(cleanup.enter_context(tempfile.TemporaryDirectory("-s2")))
        work.mkdir(parents=True, exist_ok=True)
        result = run_s2(QUICK_SHAPE if args.quick else SHAPE, work, args.timeout, echo)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"S2{'-quick' if args.quick else ''}.md"
    report = markdown(result, args.quick)
    path.write_text(report)
    echo(report)
    echo(f"wrote {path}")
    return result


if __name__ == "__main__":
    main()
