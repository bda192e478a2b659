"""What every system process shares: its parameters, its output line, memory and AWS helpers."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

LIVE_STATES = ["pending", "running", "shutting-down", "stopping", "stopped"]
ROLE_NAME = "FleetstreamReadOnly"
OUTPUT_PREFIX = "BENCH-RESULT "


@dataclass(frozen=True, slots=True)
class SystemParams:
    """The inputs of one system run (JSON on the command line)."""

    endpoint: str
    regions: tuple[str, ...] = ()
    dynamodb_endpoint: str | None = None
    work_dir: str = "."
    tag: str = "bench"
    page_size: int = 1000
    processes: int = 16  # director: worker processes at a time; fleetstream: describers
    sinks: int = 1
    timeout_s: float = 1800.0
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str) -> SystemParams:
        raw = json.loads(text)
        raw["regions"] = tuple(raw.get("regions", ()))
        return cls(**raw)

    def to_json(self) -> str:
        return json.dumps(asdict(self))


@dataclass(slots=True)
class SystemOutput:
    """What a system reports: found resources, pages, per-process peak RSS, notes."""

    found: int
    pages: int = 0
    failed_shards: int = 0
    rss_mb: list[tuple[str, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sweeps: list[dict[str, Any]] = field(default_factory=list)  # per sweep, when several

    def emit(self) -> None:
        """Print the result line bench.run looks for."""
        print(OUTPUT_PREFIX + json.dumps(asdict(self)), flush=True)

    @classmethod
    def parse(cls, stdout: str) -> SystemOutput | None:
        """The last result line of a system's stdout, if any."""
        for line in reversed(stdout.splitlines()):
            if line.startswith(OUTPUT_PREFIX):
                raw: dict[str, Any] = json.loads(line[len(OUTPUT_PREFIX) :])
                raw["rss_mb"] = [(str(n), float(v)) for n, v in raw.get("rss_mb", [])]
                return cls(**raw)
        return None


def parse_params(argv: list[str] | None = None) -> SystemParams:
    """`--params JSON` of a system module."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--params", required=True)
    return SystemParams.from_json(parser.parse_args(argv).params)


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory (Linux VmHWM) of a process, in MB; 0 when unknown."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def retry_config(pool: int = 10) -> Config:
    """What a careful hand-written sweep uses: standard retries, enough attempts to ride out
    throttling."""
    return Config(retries={"mode": "standard", "max_attempts": 10}, max_pool_connections=pool)


def organization_accounts(session: boto3.Session) -> list[str]:
    """Account ids from Organizations ListAccounts (NextToken loop via the paginator)."""
    org = session.client("organizations", config=retry_config())
    return [
        a["Id"]
        for page in org.get_paginator("list_accounts").paginate()
        for a in page["Accounts"]
        if a.get("Status") == "ACTIVE"
    ]


def member_session(hub: boto3.Session, account: str) -> boto3.Session:
    """A session in a member account through its role (one AssumeRole)."""
    sts = hub.client("sts", config=retry_config())
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ROLE_NAME}", RoleSessionName="bench"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=hub.region_name,
    )


def enabled_regions(session: boto3.Session) -> list[str]:
    """Regions enabled in the account (DescribeRegions without AllRegions)."""
    ec2 = session.client("ec2", config=retry_config())
    return sorted(r["RegionName"] for r in ec2.describe_regions()["Regions"])


def describe_pages(ec2: Any, page_size: int) -> Iterator[list[dict[str, Any]]]:
    """Every page of live instances (NextToken pattern through botocore's paginator)."""
    pages = ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "instance-state-name", "Values": LIVE_STATES}],
        PaginationConfig={"PageSize": page_size},
    )
    for page in pages:
        yield [i for r in page["Reservations"] for i in r["Instances"]]


def stored_count(ddb: Any, table: str) -> tuple[int, str]:
    """Items in a DynamoDB table: DynamoDB Local's DescribeTable ItemCount.

    DynamoDB Local keeps ItemCount exact and current (AWS refreshes it about every 6 hours).
    No COUNT scan: DynamoDB Local (256 MB heap in the devstack) answered every one over 48,000
    to 50,000 items with InternalFailure, after retries the measured wall time paid for.
    """
    try:
        return int(ddb.describe_table(TableName=table)["Table"]["ItemCount"]), "ItemCount"
    except (ClientError, BotoCoreError) as exc:
        return -1, f"DescribeTable failed: {exc}"


def fail(message: str) -> None:
    """Report a system that could not run at all, and exit 1."""
    SystemOutput(found=-1, notes=[message]).emit()
    sys.exit(1)
