"""CLI: `fleetstream stack up|down|status [--home DIR]` (also `python -m devstack`).

`up` prints the endpoints as KEY=VALUE lines on stdout (so `eval "$(... up)"` works) and the
per-component timing on stderr.
"""

from __future__ import annotations

from pathlib import Path

import click

from devstack.errors import StackError
from devstack.stack import ALL_COMPONENTS, OPTIONAL_COMPONENTS, LocalStack
from devstack.state import StackEndpoints

home_option = click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".fleetstream") / "stack",
    show_default=True,
    help="Directory for the stack's state (stack.json), logs and data.",
)


@click.group()
def cli() -> None:
    """Start, inspect and stop the local fleetstream stack (no Docker needed)."""


@cli.command()
@home_option
@click.option(
    "--component",
    "components",
    multiple=True,
    type=click.Choice(ALL_COMPONENTS + OPTIONAL_COMPONENTS),
    help="Start only these components (repeatable); default all but the schema registry.",
)
def up(home: Path, components: tuple[str, ...]) -> None:
    """Start the stack (idempotent) and print its endpoints."""
    stack = LocalStack(home)
    before = {item.name: item.state.pid for item in stack.status() if item.healthy}
    try:
        endpoints = stack.start(components or ALL_COMPONENTS)
    except StackError as error:
        raise click.ClickException(str(error)) from error
    for status in stack.status():
        state = status.state
        how = "external" if state.external else ("cold" if state.cold else "warm")
        if before.get(status.name) == state.pid and not state.external:
            how = "already running; earlier " + how
        click.echo(
            f"{status.name}: {how} start {state.start_seconds:.1f}s, "
            f"pid {state.pid}, log {state.log}",
            err=True,
        )
    _print_env(endpoints)


@cli.command()
@home_option
def down(home: Path) -> None:
    """Stop every component and forget the stack."""
    stack = LocalStack(home)
    if not stack.status():
        # Say so: a wrong --home would otherwise look like a stack that was stopped.
        click.echo(f"no stack recorded in {stack.state_file}; nothing to stop", err=True)
        return
    stack.stop()
    click.echo("stopped", err=True)


@cli.command()
@home_option
def status(home: Path) -> None:
    """Show each component's process, health and endpoint."""
    stack = LocalStack(home)
    statuses = stack.status()
    if not statuses:
        click.echo(f"no stack recorded in {stack.state_file}")
        return
    for item in statuses:
        health = "healthy" if item.healthy else ("running" if item.running else "stopped")
        click.echo(
            f"{item.name:9} {health:8} pid={item.state.pid} {item.state.endpoint} "
            f"log={item.state.log}"
        )
    _print_env(stack.endpoints())


def _print_env(endpoints: StackEndpoints) -> None:
    for key, value in endpoints.as_env().items():
        click.echo(f"{key}={value}")


if __name__ == "__main__":
    cli()
