"""`fleetstream demo`: the whole pipeline on the local stack over a seeded multi-account estate."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import yaml

from devstack.seed import EstateSpec, reset_moto, seed_estate
from devstack.stack import LocalStack
from devstack.state import StackEndpoints
from devstack.submitter import (
    dev_actions_config,
    dev_redaction_key,
    dev_submitter_key,
)
from fleetstream.apps.oneshot import run_sweep
from fleetstream.apps.progress import TerminalProgress
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings, load_settings
from fleetstream.inventory.export import write_snapshot
from fleetstream.inventory.read import shard_counts
from fleetstream.inventory.render import Output, render
from fleetstream.inventory.report import sweep_summary, table
from fleetstream.inventory.rows import scan_rows
from fleetstream.inventory.sql import OWNER_TAG_QUESTION, connect, run

DEMO_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


def demo_config(
    endpoints: StackEndpoints, hub_account: str, submitter_key: Path, redaction_key: Path
) -> dict[str, object]:
    """The config the demo writes: the local stack's endpoints, a small page size, the local
    redaction key, and the local submitter key so that `fleetstream act --execute` works on
    the demo estate."""
    return {
        "kafka": {"bootstrap_servers": endpoints.kafka_bootstrap, "partitions": 6},
        "aws": {"endpoint_url": endpoints.aws_endpoint, "member_role_name": "FleetstreamReadOnly"},
        # The management account runs fleetstream; only the members carry the read-only role.
        "accounts": {"source": "organizations", "exclude": [hub_account]},
        "regions": {"include": list(DEMO_REGIONS)},
        "resource_types": ["ec2.instance"],
        # Small pages so that the busy region spans several pages, as a large estate would.
        "describer": {"page_size": 5, "redaction_key": {"file": str(redaction_key)}},
        "sink": {"dynamodb_endpoint": endpoints.dynamodb_endpoint},
        "metrics": {"stats_interval_ms": 1000},
        "actions": dev_actions_config({"file": str(submitter_key)}),
    }


def run_demo(home: Path, *, accounts: int, keep_stack: bool, echo: Callable[[str], None]) -> int:
    """Start the stack, seed moto, sweep, and read the result back from DynamoDB."""
    # moto accepts any credentials; the demo never talks to real AWS.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    stack = LocalStack(home / "stack")
    echo("starting the local stack (Kafka KRaft, DynamoDB Local, moto) ...")
    endpoints = stack.start()
    try:
        echo(
            f"  Kafka {endpoints.kafka_bootstrap}  DynamoDB {endpoints.dynamodb_endpoint}  "
            f"AWS (moto) {endpoints.aws_endpoint}"
        )
        aws = endpoints.aws_endpoint
        assert aws is not None, "the demo starts its own moto"
        reset_moto(aws)
        estate = seed_estate(aws, EstateSpec(member_accounts=accounts, regions=DEMO_REGIONS))
        echo(
            f"seeded {len(estate.accounts)} member accounts x {len(DEMO_REGIONS)} regions, "
            f"{len(estate.instances)} EC2 instances"
        )
        config_path = home / "demo.yaml"
        config = demo_config(
            endpoints, estate.hub_account_id, dev_submitter_key(home), dev_redaction_key(home)
        )
        config_path.write_text(yaml.safe_dump(config))
        settings = load_settings(config_path)
        result = run_sweep(
            settings,
            config_path,
            describers=2,
            sinks=1,
            timeout_s=600,
            log_dir=home / "logs",
            echo=echo,
            view=TerminalProgress() if sys.stdout.isatty() else None,
        )
        echo("")
        echo(sweep_summary(result.progress, result.elapsed_s))
        truth = Counter((i.account_id, i.region) for i in estate.instances)
        rows = []
        matched = True
        for record, count in shard_counts(settings, result.progress.sweep_id):
            expected = truth.get((record.account_id, record.region), 0)
            matched &= count == expected
            rows.append(
                (
                    record.account_id,
                    record.account_name,
                    record.region,
                    expected,
                    count,
                    "yes" if count == expected else "NO",
                )
            )
        echo("")
        echo("read back from DynamoDB:")
        echo(table(("account", "name", "region", "in moto", "in DynamoDB", "match"), rows))
        echo("")
        _query_the_inventory(settings, home / "inventory", config_path, echo)
        echo("")
        echo("consumer metrics (served while the workers ran):")
        for url in result.metrics_urls:
            echo(f"  {url}")
        for line in result.lag_lines:
            echo(f"  {line}")
        echo("peak memory: " + ", ".join(f"{name} {mb:.0f} MB" for name, mb in result.peak_rss_mb))
        echo(
            f"\nconfig: {config_path}  logs: {home / 'logs'}  "
            f"rerun: fleetstream --config {config_path} sweep"
        )
        return 0 if result.ok and matched else 1
    finally:
        if not keep_stack:
            stack.stop()


def _query_the_inventory(
    settings: Settings, snapshot: Path, config_path: Path, echo: Callable[[str], None]
) -> None:
    """Export the table to a Parquet snapshot and ask it the Owner-tag question in SQL."""
    rows = scan_rows(dynamodb_client(settings), settings.sink.table)
    exported = write_snapshot(
        rows, snapshot, source=f"table {settings.sink.table}", types=settings.resource_types
    )
    echo(f"exported {exported.rows} resources to {snapshot} (Parquet, one file per type)")
    db, _ = connect(snapshot)
    with db:
        answer = run(db, OWNER_TAG_QUESTION)
    echo(f"production instances without an Owner tag ({len(answer.rows)}):")
    echo(f'  fleetstream query "{OWNER_TAG_QUESTION}"')
    echo(render(answer, Output.TABLE))
    echo(
        "more: fleetstream resources --tag-missing Owner, fleetstream show ARN, "
        f"fleetstream --config {config_path} history ARN"
    )
