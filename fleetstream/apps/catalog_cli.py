"""`fleetstream iam-policy`: the member role's least-privilege policy for the catalog types."""

from __future__ import annotations

import json
from typing import Any

import click

from fleetstream.base.errors import FleetstreamError
from fleetstream.base.exit_codes import ExitCode


@click.command("iam-policy")
@click.option(
    "--all", "all_types", is_flag=True, help="Every catalog type, not only the configured ones."
)
@click.option(
    "--actions",
    "with_actions",
    is_flag=True,
    help="Add the permissions of every action of the action plane (fleetstream act).",
)
@click.pass_context
def iam_policy_command(ctx: click.Context, all_types: bool, with_actions: bool) -> None:
    """Print the read-only IAM policy (JSON) the member role needs for the resource types."""
    # Imported here so `fleetstream --help` does not load botocore's models.
    from fleetstream.actions.registry import action_permissions  # noqa: PLC0415
    from fleetstream.catalog import CATALOG  # noqa: PLC0415
    from fleetstream.catalog.policy import iam_policy  # noqa: PLC0415

    obj: Any = ctx.obj
    try:
        names = sorted(CATALOG) if all_types else list(obj.settings.resource_types)
        policy = iam_policy(names, action_permissions() if with_actions else ())
    except FleetstreamError as exc:
        click.echo(f"fleetstream: error: {exc}", err=True)
        ctx.exit(ExitCode.USAGE)
    click.echo(json.dumps(policy, indent=2))
