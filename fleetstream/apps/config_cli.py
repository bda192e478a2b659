"""`fleetstream types list` and `fleetstream config show|validate`."""

from __future__ import annotations

import json
from typing import Any

import click
import yaml

from fleetstream.apps.exits import exit_code_of, fail
from fleetstream.base.errors import FleetstreamError

_FORMATS = ("table", "json")


@click.group("types")
def types_group() -> None:
    """The resource types of the catalog."""


@types_group.command("list")
@click.option("--output", "-o", type=click.Choice(_FORMATS), default="table", show_default=True)
def types_list(output: str) -> None:
    """Every catalog type: its name, the API operation that lists it, and its scope."""
    # Imported here so `fleetstream --help` does not load botocore's models.
    from fleetstream.catalog import CATALOG  # noqa: PLC0415
    from fleetstream.inventory.report import table  # noqa: PLC0415

    rows = [
        {
            "type": name,
            "operation": entry.operation,
            "scope": "global" if entry.global_resource else "regional",
        }
        for name, entry in sorted(CATALOG.items())
    ]
    if output == "json":
        click.echo(json.dumps(rows, indent=2))
    else:
        click.echo(table(("type", "operation", "scope"), [tuple(r.values()) for r in rows]))


@click.group("config")
def config_group() -> None:
    """The effective settings: the config file, then the environment's overrides."""


@config_group.command("show")
@click.option("--output", "-o", type=click.Choice(("yaml", "json")), default="yaml")
@click.pass_context
def config_show(ctx: click.Context, output: str) -> None:
    """Print the effective settings; secrets are masked (********)."""
    settings = _settings(ctx)
    # pydantic's JSON mode renders every SecretStr as "**********": nothing secret is printed.
    data = settings.model_dump(mode="json")
    if output == "json":
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        click.echo(yaml.safe_dump(data, sort_keys=True), nl=False)


@config_group.command("validate")
@click.pass_context
def config_validate(ctx: click.Context) -> None:
    """Exit 0 if the settings load; otherwise print the one-line config error and exit 2."""
    _settings(ctx)
    click.echo("config ok")


def _settings(ctx: click.Context) -> Any:
    obj: Any = ctx.obj
    try:
        return obj.settings
    except FleetstreamError as exc:
        fail(str(exc), exit_code_of(exc))
