"""`fleetstream sweeps list`: the recent sweeps of the sweeps table, newest first."""

from __future__ import annotations

import json
from typing import Any

import click

from fleetstream.apps.inventory_cli import one_line_failures


@click.group("sweeps")
def sweeps_group() -> None:
    """The sweeps recorded in DynamoDB (sink.sweeps_table)."""


@sweeps_group.command("list")
@click.option("--limit", default=20, show_default=True, help="At most this many sweeps.")
@click.option(
    "--output", "-o", type=click.Choice(("table", "json")), default="table", show_default=True
)
@click.pass_obj
@one_line_failures
def sweeps_list(obj: Any, limit: int, output: str) -> None:
    """Recent sweeps, newest first: shards per status (COMPLETE, FAILED, ACCOUNT_GONE, PENDING)
    and the resources of the complete shards."""
    from datetime import timedelta  # noqa: PLC0415

    from fleetstream.aws.clients import dynamodb_client  # noqa: PLC0415
    from fleetstream.inventory.report import table  # noqa: PLC0415
    from fleetstream.inventory.sweeps import SweepStore  # noqa: PLC0415

    settings = obj.settings
    store = SweepStore(
        dynamodb_client(settings),
        settings.sink.sweeps_table,
        timedelta(days=settings.sink.ttl_days),
    )
    rows: list[dict[str, Any]] = [
        {
            "sweep_id": progress.sweep_id,
            "started_at": started.isoformat(),
            "shards": progress.total_shards,
            **progress.status_counts(),
            "resources": progress.resources,
        }
        for started, progress in store.recent(limit)
    ]
    if output == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    headers = ("sweep", "started", "shards", "complete", "failed", "gone", "pending", "resources")
    keys = ("sweep_id", "started_at", "shards", "COMPLETE", "FAILED", "ACCOUNT_GONE", "PENDING")
    click.echo(table(headers, [[*(row[k] for k in keys), row["resources"]] for row in rows]))
