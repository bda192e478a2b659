"""`python -m bench.profile --under PID --role describer --out FILE.md`: where the CPU goes.

Attaches py-spy (`py-spy record --format raw`, active threads only) to the `fleetstream ROLE`
processes that descend from PID (a running `bench.run` or `bench.tagging`, so other
pipelines on the machine are left alone) for a while, then summarizes the collapsed stacks as
markdown: per process, the functions that hold the most samples (inclusive: anywhere on the
stack, and self: at the top of it) and the self samples grouped by package.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

TOP = 15
TRUNK = 0.95  # inclusive table: leave out the frames nearly every sample passes through
# Pipeline stages: a sample counts for a stage if any frame of its stack matches (inclusive,
# so stages nest: response parsing is inside the AWS call, client creation inside the refresh).
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("AWS calls, all of it (BaseClient._make_api_call)", ("BaseClient._make_api_call (",)),
    ("boto3 client creation (ClientCreator.create_client)", ("ClientCreator.create_client (",)),
    ("AssumeRole credential refresh", ("AssumeRoleCredentialFetcher._get_credentials (",)),
    ("response parsing (botocore parsers)", ("ResponseParser.parse (",)),
    ("timestamp parsing (dateutil)", ("(dateutil/",)),
    ("Avro encode / decode (fleetstream/serde/avro.py)", ("(fleetstream/serde/avro.py)",)),
    (
        "Kafka client (confluent_kafka, fleetstream/kafka/clients.py)",
        ("(confluent_kafka/", "(fleetstream/kafka/clients.py)"),
    ),
    ("DynamoDB inventory writes (consumers/sink/store.py)", ("(consumers/sink/store.py)",)),
    ("change detection (consumers/sink/changes.py)", ("(consumers/sink/changes.py)",)),
    ("deletion sweep (consumers/sink/deletions.py)", ("(consumers/sink/deletions.py)",)),
    ("sweep outcomes (fleetstream/inventory/sweeps.py)", ("(fleetstream/inventory/sweeps.py)",)),
)


@dataclass(slots=True)
class Profile:
    """The collapsed stacks of one process: samples per function, inclusive and self."""

    name: str
    samples: int = 0
    inclusive: Counter[str] = field(default_factory=Counter)
    leaf: Counter[str] = field(default_factory=Counter)
    packages: Counter[str] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)


def _function(frame: str) -> tuple[str, str]:
    """`name (pkg/file.py:123)` -> (`name (pkg/file.py)`, `pkg`), without the line number.

    py-spy prints paths relative to their sys.path entry, so the first component is the
    package (botocore, fastavro, json, ...) or the module of a top-level file.
    """
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0].rstrip(")")
    package = path.split("/", 1)[0].removesuffix(".py") or "?"
    return f"{name} ({path})", package


def parse_collapsed(name: str, lines: Iterable[str]) -> Profile:
    """py-spy's raw format: `frame;frame;...;leaf COUNT`, the root first."""
    profile = Profile(name)
    for line in lines:
        stack, _, count_text = line.strip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_function(f) for f in stack.split(";") if " (" in f]
        if not frames:
            continue
        profile.samples += count
        for function in {f for f, _ in frames}:
            profile.inclusive[function] += count
        profile.leaf[frames[-1][0]] += count
        profile.packages[frames[-1][1]] += count
        for stage, patterns in STAGES:
            if any(p in function for p in patterns for function, _ in frames):
                profile.stages[stage] += count
    return profile


def _table(title: str, counts: Counter[str], total: int) -> list[str]:
    rows = [f"| {title} | samples | % |", "|---|---|---|"]
    rows += [f"| `{k}` | {v:,} | {100 * v / total:.1f} |" for k, v in counts.most_common(TOP)]
    return rows


def markdown(profiles: Sequence[Profile], header: str) -> str:
    """Per process: top inclusive functions, top self functions, self samples by package."""
    lines = [header, ""]
    for p in profiles:
        lines += [f"## {p.name}: {p.samples:,} active samples", ""]
        if not p.samples:
            lines += ["(no samples)", ""]
            continue
        stages = Counter({k: v for k, v in p.stages.items() if v})
        branches = Counter({k: v for k, v in p.inclusive.items() if v < TRUNK * p.samples})
        lines += [*_table("pipeline stage (inclusive; stages nest)", stages, p.samples), ""]
        lines += [*_table("self, by package", p.packages, p.samples), ""]
        lines += [*_table("self (top of stack)", p.leaf, p.samples), ""]
        lines += [*_table(f"inclusive, below {TRUNK:.0%} of samples", branches, p.samples), ""]
    return "\n".join(lines)


def find_workers(ancestor: int, role: str) -> list[psutil.Process]:
    """The `fleetstream ROLE` processes below ancestor."""
    found = []
    for proc in psutil.Process(ancestor).children(recursive=True):
        try:
            cmd = proc.cmdline()
        except psutil.Error:
            continue
        if cmd[-3:] == ["-m", "fleetstream", role]:
            found.append(proc)
    return found


def record(pid: int, seconds: float, rate: int, out: Path) -> subprocess.Popen[bytes]:
    """Start py-spy on one process (raw collapsed stacks into out)."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds))]
    command += ["--rate", str(rate), "--format", "raw", "--nonblocking", "--output", str(out)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: Sequence[str] | None = None) -> None:
    """Wait for the workers to appear, profile them all at once, write the summary."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--under", type=int, help="pid of the benchmark run")
    parser.add_argument("--raw", type=Path, nargs="+", help="summarize these raw files instead")
    parser.add_argument("--role", action="append", default=[], help="describer, sink, ...")
    parser.add_argument("--delay", type=float, default=0.0, help="s after they appear")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of sampling")
    parser.add_argument("--rate", type=int, default=50, help="samples per second")
    parser.add_argument("--wait", type=float, default=600.0, help="for the workers, s")
    parser.add_argument("--out", type=Path, required=True, help="the markdown summary")
    parser.add_argument("--header", default="# Profile")
    args = parser.parse_args(argv)
    if args.raw:
        found = [parse_collapsed(f.stem, f.read_text().splitlines()) for f in args.raw]
        args.out.write_text(markdown(found, args.header))
        return
    if args.under is None:
        parser.error("--under PID or --raw FILE ... is required")
    deadline = time.monotonic() + args.wait
    workers: list[tuple[str, psutil.Process]] = []
    while time.monotonic() < deadline:
        workers = [(r, p) for r in args.role for p in find_workers(args.under, r)]
        if {r for r, _ in workers} == set(args.role):
            break
        time.sleep(1)
    if not workers:
        raise SystemExit(f"no {args.role} processes under {args.under}")
    time.sleep(args.delay)  # past their start-up (imports, group join), into the sweep
    raw_dir = args.out.parent / (args.out.stem + "-raw")
    raw_dir.mkdir(parents=True, exist_ok=True)
    runs = []
    for index, (role, proc) in enumerate(workers):
        path = raw_dir / f"{role}-{index}-{proc.pid}.txt"
        runs.append(
            (f"{role} (pid {proc.pid})", path, record(proc.pid, args.duration, args.rate, path))
        )
    profiles = []
    for name, path, process in runs:
        process.wait()
        lines = path.read_text().splitlines() if path.exists() else []
        profiles.append(parse_collapsed(name, lines))
    args.out.write_text(markdown(profiles, args.header))
    print(f"wrote {args.out} (raw stacks in {raw_dir})")


if __name__ == "__main__":
    main()
