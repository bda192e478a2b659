"""`python -m bench.run --scenario S1 [--quick] --out bench/results/`: every system, one simulator.

Per estate shape: start the simulator, compute its critical path, run each system as its own
process against it (serial loop, director/worker, c7n-org when installed, fleetstream end to
end on the local stack), measure each from the outside, write <scenario>.md and a PNG.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from bench.measure import SystemRun, run_system
from bench.report import ShapeResult, chart, markdown
from bench.scenarios import SCENARIOS, Scenario, Shape, critical_path, sim_config
from bench.simulator.process import SimulatorProcess
from bench.sweep_report import markdown as sweeps_report
from bench.systems.common import SystemParams
from devstack import LocalStack, StackEndpoints
from fleetstream.base.config import isolated_env

ALL_SYSTEMS = ("serial", "director", "c7n-org", "fleetstream")
C7N_VENV = Path.home() / ".cache" / "fleetstream" / "c7n-venv"
# The hub identity the systems run as; the simulator accepts any signature.
HUB_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
Echo = Callable[[str], None]


def find_c7n_org() -> str | None:
    """c7n-org from $BENCH_C7N_ORG, PATH, or the bench's own virtualenv (c7n pins boto3)."""
    configured = os.environ.get("BENCH_C7N_ORG")
    if configured:
        return configured
    found = shutil.which("c7n-org")
    if found:
        return found
    candidate = C7N_VENV / "bin" / "c7n-org"
    return str(candidate) if candidate.exists() else None


@contextlib.contextmanager
def stack_for(work: Path, echo: Echo) -> Iterator[tuple[StackEndpoints, list[int]]]:
    """Kafka and DynamoDB Local: started in work/stack (or the BYO endpoints in the env)."""
    stack = LocalStack(work / "stack")
    try:
        endpoints = stack.start(("kafka", "dynamodb"))
        pids = [s.state.pid for s in stack.status() if s.state.pid is not None]
        echo(f"stack: kafka {endpoints.kafka_bootstrap}, dynamodb {endpoints.dynamodb_endpoint}")
        yield endpoints, pids
    finally:
        stack.stop()


def _params(
    system: str,
    url: str,
    regions: Sequence[str],
    work: Path,
    args: argparse.Namespace,
    infra_pids: Sequence[int] = (),
) -> SystemParams:
    tag = uuid.uuid4().hex[:8]
    if system == "c7n-org":
        return SystemParams(
            url, tuple(regions), work_dir=str(work), tag=tag, extra={"c7n_org": args.c7n_org}
        )
    if system == "fleetstream":
        return SystemParams(
            url,
            work_dir=str(work),
            tag=tag,
            processes=args.describers,
            sinks=args.sinks,
            timeout_s=args.timeout,
            extra={
                "sweeps": str(args.sweeps),
                "terminate": str(args.terminate),
                "infra_pids": ",".join(map(str, infra_pids)),
            },
        )
    return SystemParams(
        url,
        dynamodb_endpoint=args.dynamodb_endpoint if system == "director" else None,
        work_dir=str(work),
        tag=tag,
        processes=args.director_processes,
        timeout_s=args.timeout,
    )


def _env(system: str, url: str, params: SystemParams, args: argparse.Namespace) -> dict[str, str]:
    env = {**HUB_ENV, "AWS_ENDPOINT_URL": url}
    if system == "fleetstream":
        tag = params.tag
        env |= {
            "KAFKA_BOOTSTRAP_SERVERS": args.kafka_bootstrap,
            "FLEETSTREAM_DYNAMODB_ENDPOINT": args.dynamodb_endpoint,
            "FLEETSTREAM_KAFKA__PARTITIONS": str(args.partitions),
            "FLEETSTREAM_METRICS__STATS_INTERVAL_MS": "500",
            "FLEETSTREAM_DESCRIBER__PAGE_SIZE": str(args.page_size),
            "FLEETSTREAM_ACCOUNTS__SOURCE": "organizations",
            "FLEETSTREAM_SINK__SKIP_UNCHANGED": str(args.skip_unchanged).lower(),
            **isolated_env(tag, f"bench{tag}."),
        }
    return env


def run_scenario(
    scenario: Scenario,
    *,
    quick: bool,
    systems: Sequence[str],
    work: Path,
    args: argparse.Namespace,
    infra_pids: Sequence[int],
    echo: Echo,
) -> list[ShapeResult]:
    """Every shape of the scenario, every requested system on the same simulator."""
    results: list[ShapeResult] = []
    for listed in scenario.shapes_for(quick):
        shape = Shape(listed.accounts, args.regions, listed.instances) if args.regions else listed
        config = sim_config(shape, seed=args.seed)
        critical = critical_path(config)
        echo(f"{scenario.name} {shape.label()}: critical path {critical.explain()}")
        runs: list[SystemRun] = []
        skipped: list[str] = []
        shape_dir = work / shape.label()
        shape_dir.mkdir(parents=True, exist_ok=True)
        with SimulatorProcess(config, shape_dir / "simulator.log") as sim:
            for system in systems:
                if system == "c7n-org" and not args.c7n_org:
                    skipped.append("c7n-org: not installed (set BENCH_C7N_ORG)")
                    continue
                if system == "fleetstream" and not args.kafka_bootstrap:
                    skipped.append("fleetstream: no Kafka (stack not started)")
                    continue
                params = _params(
                    system, sim.url, config.estate.regions, shape_dir, args, infra_pids
                )
                env = _env(system, sim.url, params, args)
                echo(f"  {system} ...")
                run = run_system(
                    system,
                    params,
                    env,
                    sim,
                    config.estate.live_instances,
                    infra_pids,
                    shape_dir / f"{system}.log",
                )
                echo(
                    f"  {system}: found {run.found}/{run.expected} in {run.wall_s:.1f}s, "
                    f"cpu {run.cpu_s:.1f}s, sim cpu {run.sim_cpu_s:.1f}s, "
                    f"calls {run.calls}, throttles {run.throttles}, "
                    f"peak rss {run.peak_rss_mb:.0f} MB"
                )
                runs.append(run)
        results.append(ShapeResult(shape, config, critical, runs, skipped))
    return results


def sweeps_suffix(sweeps: int) -> str:
    return "second-sweep" if sweeps == 2 else f"{sweeps}-sweeps"


def sweeps_markdown(
    scenario: Scenario, args: argparse.Namespace, results: Sequence[ShapeResult]
) -> str:
    """The multi-sweep report: every shape's fleetstream run, sweep by sweep."""
    parts: list[str] = []
    for result in results:
        for run in result.runs:
            if not run.sweeps:
                parts.append(f"{result.shape.label()}: no sweeps measured: {'; '.join(run.notes)}")
                continue
            sim = {
                "describe median ms": result.config.latency.describe_median_ms,
                "describe bucket": f"{result.config.throttle.describe.burst:g} burst / "
                f"{result.config.throttle.describe.rate_per_s:g} per s",
            }
            notes = [
                *run.notes,
                f"sink.skip_unchanged {args.skip_unchanged}; {args.terminate} instances "
                "terminated before every later sweep",
                f"command: python -m bench.run --scenario {scenario.name}"
                f"{' --quick' if args.quick else ''} --systems fleetstream --sweeps {args.sweeps}"
                + (f" --terminate {args.terminate}" if args.terminate else ""),
            ]
            parts.append(
                sweeps_report(
                    f"{scenario.name}{' (quick)' if args.quick else ''}: {args.sweeps} sweeps of "
                    "one estate",
                    f"{result.shape.label()} (accounts x regions x instances) = "
                    f"{result.shape.total:,} instances",
                    run.sweeps,
                    notes,
                    sim,
                )
            )
    return "\n".join(parts)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line of `python -m bench.run`."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="S1")
    parser.add_argument("--quick", action="store_true", help="small shapes, for CI")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--systems", default=",".join(ALL_SYSTEMS))
    parser.add_argument("--describers", type=int, default=2, help="fleetstream describers")
    parser.add_argument("--sinks", type=int, default=1, help="fleetstream sinks")
    parser.add_argument("--partitions", type=int, default=12, help="fleetstream topics")
    parser.add_argument("--page-size", type=int, default=1000, help="fleetstream MaxResults")
    parser.add_argument("--director-processes", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--regions",
        type=int,
        help="regions per account for every shape (a smaller S4 keeps 25 instances per shard)",
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="per system run, s")
    parser.add_argument("--work", type=Path, help="logs and stack (default: a temp dir)")
    parser.add_argument("--no-stack", action="store_true", help="no Kafka/DynamoDB Local")
    parser.add_argument(
        "--sweeps",
        type=int,
        default=1,
        help="fleetstream only: sweeps through one pool, each measured; writes "
        "<scenario>-second-sweep.md (2) or <scenario>-<N>-sweeps.md instead of <scenario>.md",
    )
    parser.add_argument(
        "--terminate",
        type=int,
        default=0,
        help="with --sweeps: instances the simulator terminates before every later sweep",
    )
    parser.add_argument(
        "--skip-unchanged",
        action=argparse.BooleanOptionalAction,
        help="fleetstream's sink.skip_unchanged (default: on with --sweeps > 1, else off)",
    )
    args = parser.parse_args(argv)
    if args.skip_unchanged is None:
        args.skip_unchanged = args.sweeps > 1
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(args.systems) - set(ALL_SYSTEMS)
    if unknown:
        parser.error(f"unknown systems {sorted(unknown)}; known: {', '.join(ALL_SYSTEMS)}")
    if args.sweeps > 1 and args.systems != ["fleetstream"]:
        parser.error("--sweeps > 1 measures fleetstream only: add --systems fleetstream")
    args.c7n_org = find_c7n_org()
    return args


def main(argv: Sequence[str] | None = None, echo: Echo = print) -> list[ShapeResult]:
    """Run one scenario and write its report; return the results (for tests)."""
    args = parse_args(argv)
    scenario = SCENARIOS[args.scenario]
    with contextlib.ExitStack() as cleanup:
        work = args.work or Path(cleanup.enter_context(tempfile.TemporaryDirectory("-bench")))
        work.mkdir(parents=True, exist_ok=True)
        args.kafka_bootstrap = args.dynamodb_endpoint = None
        infra_pids: list[int] = []
        if not args.no_stack and {"fleetstream", "director"} & set(args.systems):
            endpoints, infra_pids = cleanup.enter_context(stack_for(work, echo))
            args.kafka_bootstrap = endpoints.kafka_bootstrap
            args.dynamodb_endpoint = endpoints.dynamodb_endpoint
        results = run_scenario(
            scenario,
            quick=args.quick,
            systems=args.systems,
            work=work,
            args=args,
            infra_pids=infra_pids,
            echo=echo,
        )
    args.out.mkdir(parents=True, exist_ok=True)
    name = f"{scenario.name}{'-quick' if args.quick else ''}"
    if args.sweeps > 1:
        path = args.out / f"{name}-{sweeps_suffix(args.sweeps)}.md"
        path.write_text(sweeps_markdown(scenario, args, results))
        echo(path.read_text())
        echo(f"wrote {path}")
        return results
    report = markdown(scenario, args.quick, results)
    problem = chart(scenario, results, args.out / f"{name}.png")
    if problem:
        report += f"\n{problem}\n"
    (args.out / f"{name}.md").write_text(report)
    echo(report)
    echo(f"wrote {args.out / (name + '.md')}")
    return results


if __name__ == "__main__":
    main()
    sys.exit(0)
