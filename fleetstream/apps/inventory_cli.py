"""`fleetstream query|export|resources|show|history`: the inventory read back as data.

query and resources read a local snapshot (DIR, default .fleetstream/inventory) that
`fleetstream export` writes; show and history read the live table and the changes topic.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from fleetstream.apps.exits import exit_code_of, fail
from fleetstream.inventory.errors import InventoryCommandError

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_SNAPSHOT = Path(".fleetstream/inventory")
_OUTPUTS = ("table", "json", "jsonl", "csv")


def one_line_failures(func: F) -> F:
    """An inventory refusal prints one line and exits with its own ExitCode (3 bad query, 4
    unknown type, 5 no snapshot, 6 not found); an unreachable dependency found by a preflight
    exits 75; other known failures, and AWS or Kafka refusing mid-command, exit 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415
        from confluent_kafka import KafkaException  # noqa: PLC0415

        from fleetstream.base.errors import FleetstreamError  # noqa: PLC0415

        try:
            return func(*args, **kwargs)
        except InventoryCommandError as exc:
            click.echo(f"fleetstream: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except FleetstreamError as exc:
            fail(str(exc), exit_code_of(exc))
        except (BotoCoreError, ClientError) as exc:  # no credentials, no table, no endpoint
            fail(f"AWS refused or could not be reached: {exc}")
        except KafkaException as exc:
            fail(f"Kafka: {exc}")

    return wrapper  # type: ignore[return-value]


_snapshot_option = click.option(
    "--snapshot",
    "snapshot",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="FLEETSTREAM_SNAPSHOT",
    default=DEFAULT_SNAPSHOT,
    show_default=True,
    help="Snapshot directory written by `fleetstream export` (env FLEETSTREAM_SNAPSHOT).",
)
_output_option = click.option(
    "--output", "-o", type=click.Choice(_OUTPUTS), default="table", show_default=True
)


def _echo(text: str) -> None:
    if text:
        click.echo(text)


@click.command("query")
@click.argument("statement")
@_snapshot_option
@_output_option
@one_line_failures
def query_command(statement: str, snapshot: Path, output: str) -> None:
    """Run SQL (DuckDB) over the snapshot: one table per type (ec2_instance ...) and `resources`.

    Every table has arn, account_id, account_name, region, resource_type, resource_id, name,
    tags (MAP), attributes (JSON), observed_at, deleted_at; type tables add botocore's
    top-level fields (InstanceType, State ...). Example, instances without an Owner tag in
    production:

      fleetstream query "SELECT account_name, region, resource_id FROM ec2_instance
      WHERE tags['Environment'] = 'prod' AND NOT map_contains(tags, 'Owner')"
    """
    from fleetstream.inventory.render import Output, render  # noqa: PLC0415
    from fleetstream.inventory.sql import connect, run  # noqa: PLC0415

    db, _ = connect(snapshot)
    with db:
        _echo(render(run(db, statement), Output(output)))


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["parquet"]), default="parquet")
@click.option(
    "--to",
    "target",
    default=str(DEFAULT_SNAPSHOT),
    show_default=True,
    help="A directory, or s3://bucket/prefix (uploaded with the hub's credentials).",
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(
        ["%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]
    ),
    help="Rebuild the inventory at this time (UTC unless given) from the changes topic.",
)
@click.pass_context
@one_line_failures
def export_command(ctx: click.Context, fmt: str, target: str, as_of: datetime | None) -> None:
    """Write a Parquet snapshot: DIR/type=<type>/snapshot_date=<date>/part-0.parquet."""
    from fleetstream.inventory.sources import export  # noqa: PLC0415

    obj: Any = ctx.obj
    moment = None if as_of is None else (as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC))
    settings = obj.pipeline if moment is not None else obj.settings
    done = export(settings, target, as_of=moment)
    for line in done:
        click.echo(line)


@click.command("resources")
@click.option("--type", "types", multiple=True, help="Resource type or glob (ec2.*); repeatable.")
@click.option("--account", help="Account id or name.")
@click.option("--region")
@click.option("--tag", "tags", multiple=True, help="K=V: the tag K has value V; repeatable.")
@click.option("--tag-missing", "tags_missing", multiple=True, help="K: no tag K; repeatable.")
@click.option(
    "--where",
    help="SQL predicate (State->>'Name' = 'running') or jmespath:<expression> over attributes.",
)
@click.option("--deleted", is_flag=True, help="Include deleted resources (tombstones).")
@_snapshot_option
@_output_option
@one_line_failures
def resources_command(
    types: tuple[str, ...],
    account: str | None,
    region: str | None,
    tags: tuple[str, ...],
    tags_missing: tuple[str, ...],
    where: str | None,
    deleted: bool,
    snapshot: Path,
    output: str,
) -> None:
    """List resources of the snapshot, filtered; live ones only unless --deleted."""
    from fleetstream.inventory.errors import BadQueryError  # noqa: PLC0415
    from fleetstream.inventory.render import Output, render  # noqa: PLC0415
    from fleetstream.inventory.search import Filters, search  # noqa: PLC0415
    from fleetstream.inventory.sql import connect  # noqa: PLC0415

    pairs = []
    for text in tags:
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise BadQueryError(f"--tag {text!r}: expected KEY=VALUE")
        pairs.append((key, value))
    filters = Filters(
        types=types,
        account=account,
        region=region,
        tags=tuple(pairs),
        tags_missing=tags_missing,
        where=where,
        deleted=deleted,
    )
    db, manifest = connect(snapshot)
    with db:
        _echo(render(search(db, filters, manifest.types), Output(output)))


@click.command("show")
@click.argument("arn")
@_output_option
@click.pass_context
@one_line_failures
def show_command(ctx: click.Context, arn: str, output: str) -> None:
    """A resource's current state (inventory table) and its last changes (changes topic)."""
    import json  # noqa: PLC0415

    from fleetstream.inventory.render import Output, records, render  # noqa: PLC0415
    from fleetstream.inventory.resource import pretty_state, show  # noqa: PLC0415

    obj: Any = ctx.obj
    state, changes = show(obj.pipeline, arn)
    if output == "table":
        click.echo(pretty_state(state))
        click.echo("\nlast changes:")
        _echo(render(changes, Output.TABLE))
    elif output in ("json", "jsonl"):
        found = records(state)
        document = {"resource": found[0] if found else None, "changes": records(changes)}
        click.echo(json.dumps(document, indent=2 if output == "json" else None))
    else:
        _echo(render(changes, Output.CSV))


@click.command("history")
@click.argument("arn")
@_output_option
@click.pass_context
@one_line_failures
def history_command(ctx: click.Context, arn: str, output: str) -> None:
    """What changed on a resource and when, oldest first, as far back as the changes topic holds."""
    from fleetstream.inventory.render import Output, render  # noqa: PLC0415
    from fleetstream.inventory.resource import resource_history  # noqa: PLC0415

    obj: Any = ctx.obj
    _echo(render(resource_history(obj.pipeline, arn), Output(output)))


COMMANDS = (query_command, export_command, resources_command, show_command, history_command)
