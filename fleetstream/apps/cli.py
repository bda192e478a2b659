"""The `fleetstream` command."""

from __future__ import annotations

import faulthandler
import signal
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from consumers.lag.cli import lag_exporter_command
from fleetstream.apps.actions_cli import act_command, action_status_command
from fleetstream.apps.catalog_cli import iam_policy_command
from fleetstream.apps.config_cli import config_group, types_group
from fleetstream.apps.exits import exit_code_of, fail
from fleetstream.apps.global_options import hoist_global_options
from fleetstream.apps.inventory_cli import COMMANDS as INVENTORY_COMMANDS
from fleetstream.apps.sweeps_cli import sweeps_group
from fleetstream.base.config import Settings, load_settings
from fleetstream.base.errors import FleetstreamError
from fleetstream.base.exit_codes import ExitCode
from fleetstream.base.logs import configure

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

F = TypeVar("F", bound=Callable[..., Any])


def _one_line_errors(func: F) -> F:
    """Known failures print one line and exit with their ExitCode; only bugs show a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FleetstreamError as exc:
            fail(str(exc), exit_code_of(exc))

    return wrapper  # type: ignore[return-value]


def _log_level(ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """A bad level is a one-line usage error (exit 2), not logging's traceback at start-up."""
    level = value.upper()
    if level not in _LOG_LEVELS:
        click.echo(
            f"fleetstream: error: invalid --log-level {value!r}: choose from "
            f"{', '.join(_LOG_LEVELS)}",
            err=True,
        )
        ctx.exit(ExitCode.USAGE)
    return level


class _Cli(click.Group):
    """The `fleetstream` group: its options are accepted after the subcommand too."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(args))


class _Context:
    def __init__(self, config: Path | None) -> None:
        self.config = config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings

    def invoke_plan(self) -> None:
        """Issue one full sweep and print its id."""
        from fleetstream.apps.preflight import check_all
        from fleetstream.kafka import clients as kafka
        from producers.main import plan_sweep

        settings = self.pipeline
        check_all(settings)
        kafka.ensure_topics(settings.kafka)
        click.echo(plan_sweep(settings).sweep_id)

    @property
    def pipeline(self) -> Settings:
        """The settings of a command that reads or writes topic values: framing set up."""
        from fleetstream.serde.registry import configure as configure_serde

        settings = self.settings
        configure_serde(settings.serde, settings.kafka)
        return settings


@click.group(cls=_Cli)
@click.option(
    "--config",
    "-c",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="FLEETSTREAM_CONFIG",
    help="YAML config file (env FLEETSTREAM_CONFIG); env FLEETSTREAM_<SECTION>__<KEY> overrides.",
)
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    callback=_log_level,
    help=f"One of {', '.join(_LOG_LEVELS)} (any case).",
)
@click.version_option(package_name="fleetstream", prog_name="fleetstream")
@click.pass_context
def main(ctx: click.Context, config: Path | None, log_level: str) -> None:
    """fleetstream: a live inventory of a large AWS estate over Kafka."""
    configure(log_level)
    # `kill -USR1 <pid>` prints every thread's stack: how to see where a process is stuck.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    ctx.obj = _Context(config)


@main.command()
@click.pass_obj
@_one_line_errors
def describer(obj: _Context) -> None:
    """Run a describer (consumer group of the work topic) until SIGTERM."""
    from consumers.describer.main import run

    run(obj.pipeline)


@main.command()
@click.pass_obj
@_one_line_errors
def sink(obj: _Context) -> None:
    """Run a sink (consumer group of the resources topic) until SIGTERM."""
    from consumers.sink.main import run

    run(obj.pipeline)


@main.command()
@click.pass_obj
@_one_line_errors
def expiry(obj: _Context) -> None:
    """Read the inventory table's stream until SIGTERM: every removed item (TTL expiry or any
    DeleteItem) becomes a DELETED change and a state tombstone."""
    from consumers.sink.expiry.main import run

    run(obj.pipeline)


@main.command()
@click.pass_obj
@_one_line_errors
def notifier(obj: _Context) -> None:
    """Post a digest of the changes topic to a Slack-compatible webhook until SIGTERM."""
    from consumers.notifier.main import run

    run(obj.pipeline)


@main.command()
@click.option("--once", is_flag=True, help="Issue one full sweep and exit (same as `plan`).")
@click.pass_obj
@_one_line_errors
def planner(obj: _Context, once: bool) -> None:
    """Run the planner: sweeps per type on their cadence (planner.cadence_s) until SIGTERM."""
    if once:
        obj.invoke_plan()
        return
    from fleetstream.apps.preflight import check_all
    from producers.continuous import run

    settings = obj.pipeline
    check_all(settings)
    run(settings)


@main.command()
@click.pass_obj
@_one_line_errors
def router(obj: _Context) -> None:
    """Run the event router (AWS events -> targeted refreshes) until SIGTERM."""
    from producers.events.main import run

    run(obj.pipeline)


@main.command()
@click.pass_obj
@_one_line_errors
def plan(obj: _Context) -> None:
    """Issue one sweep (every shard's first page) and print its id."""
    obj.invoke_plan()


@main.command()
@click.option("--describers", default=2, show_default=True, help="Describer processes to run.")
@click.option("--sinks", default=1, show_default=True, help="Sink processes to run.")
@click.option("--timeout", "timeout_s", default=900.0, show_default=True, help="Seconds.")
@click.option(
    "--log-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(".fleetstream/logs"),
    show_default=True,
)
@click.pass_obj
@_one_line_errors
def sweep(obj: _Context, describers: int, sinks: int, timeout_s: float, log_dir: Path) -> None:
    """Run one full sweep through Kafka to completion and print a summary.

    Exits 1 if any shard failed or did not finish.
    """
    from fleetstream.apps.oneshot import run_sweep
    from fleetstream.apps.progress import TerminalProgress
    from fleetstream.inventory.report import sweep_summary

    result = run_sweep(
        obj.pipeline,
        obj.config,
        describers=describers,
        sinks=sinks,
        timeout_s=timeout_s,
        log_dir=log_dir,
        echo=click.echo,
        view=TerminalProgress() if sys.stdout.isatty() else None,
    )
    click.echo(sweep_summary(result.progress, result.elapsed_s))
    sys.exit(ExitCode.OK if result.ok else ExitCode.FAILED)


@main.command()
@click.argument("sweep_id")
@click.pass_obj
@_one_line_errors
def inventory(obj: _Context, sweep_id: str) -> None:
    """Count the resources in DynamoDB for every shard of a sweep."""
    from fleetstream.inventory.read import shard_counts
    from fleetstream.inventory.report import table

    counts = shard_counts(obj.settings, sweep_id)
    rows = [(s.account_id, s.region, s.resource_type, n) for s, n in counts]
    click.echo(table(("account", "region", "type", "items in DynamoDB"), rows))


@main.group()
def dlq() -> None:
    """The dead-letter topic."""


@dlq.command("replay")
@click.option(
    "--topic",
    "only_topic",
    help="Replay only dead letters from this topic (the others stay replayable).",
)
@click.option("--limit", type=int, help="Replay at most this many.")
@click.option("--dry-run", is_flag=True, help="Count what would be replayed; change nothing.")
@click.pass_obj
@_one_line_errors
def dlq_replay(obj: _Context, only_topic: str | None, limit: int | None, dry_run: bool) -> None:
    """Send dead letters back to their original topic (after the fix is deployed)."""
    from fleetstream.apps.dlq_replay import replay
    from fleetstream.kafka import clients as kafka

    kafka.preflight(obj.settings.kafka)
    report = replay(obj.settings.kafka, only_topic=only_topic, limit=limit, dry_run=dry_run)
    verb = "would replay" if dry_run else "replayed"
    for topic, count in sorted(report.replayed.items()):
        click.echo(f"{verb} {count} to {topic}")
    click.echo(f"{verb} {sum(report.replayed.values())} in total, skipped {report.skipped}")


@main.command("restore-from-state")
@click.option("--table", help="Table to write (default: sink.table); created if missing.")
@click.pass_obj
@_one_line_errors
def restore_from_state(obj: _Context, table: str | None) -> None:
    """Rebuild the inventory table from the compacted state topic (disaster recovery)."""
    from consumers.sink.restore import restore_from_state as restore
    from fleetstream.kafka import clients as kafka

    settings = obj.pipeline  # state values may be in the registry's framing
    kafka.preflight(settings.kafka)
    report = restore(settings, table)
    click.echo(
        f"read {report.records} state records: wrote {report.written} items, "
        f"deleted {report.deleted}"
    )


@main.group()
def deploy() -> None:
    """Deployment artefacts (deploy/aws/)."""


@deploy.command("render-member-role")
@click.option(
    "--configured",
    is_flag=True,
    help="Only the configured resource_types (default: every catalog type).",
)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Default: stdout.")
@click.pass_obj
@_one_line_errors
def render_member_role(obj: _Context, configured: bool, out: Path | None) -> None:
    """Write the member-account role's StackSet template, its policy generated from the catalog."""
    from fleetstream.apps.member_role import render_member_role as render
    from fleetstream.catalog import CATALOG

    types = list(obj.settings.resource_types) if configured else sorted(CATALOG)
    text = render(types)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text)
        click.echo(f"wrote {out} ({len(types)} resource types)")


@deploy.command("render-kafka-policies")
@click.option("--write", is_flag=True, help="Rewrite the generated blocks of hub.yaml in place.")
@click.option(
    "--template",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=Path("deploy/aws/hub.yaml"),
    show_default=True,
)
@_one_line_errors
def render_kafka_policies(write: bool, template: Path) -> None:
    """Generate hub.yaml's per-stage MSK IAM policies from fleetstream/kafka/acl.py's STAGES."""
    from fleetstream.kafka.iam import render_hub, write_hub

    if write:
        changed = write_hub(template)
        click.echo(f"{'wrote' if changed else 'unchanged:'} {template}")
    else:
        click.echo(render_hub(template.read_text()), nl=False)


@main.group()
def topics() -> None:
    """The pipeline's Kafka topics."""


@topics.command("ensure")
@click.pass_obj
@_one_line_errors
def topics_ensure(obj: _Context) -> None:
    """Create the missing topics (partitions, retention, compaction: kafka/clients.py)."""
    from fleetstream.kafka import clients as kafka

    kafka.preflight(obj.settings.kafka)
    kafka.ensure_topics(obj.settings.kafka)
    click.echo(", ".join(obj.settings.kafka.topic(name) for name in kafka.TOPICS))


@main.group()
def schemas() -> None:
    """The value schemas (schemas/) in a Confluent-compatible schema registry."""


@schemas.command("register")
@click.pass_obj
@_one_line_errors
def schemas_register(obj: _Context) -> None:
    """Register every schema version under "<topic>-value", compatibility BACKWARD_TRANSITIVE.

    For deployments whose processes may only read the registry (serde.auto_register false).
    """
    from fleetstream.base.errors import ConfigError
    from fleetstream.serde.registry import client, register_schemas

    settings = obj.settings
    if settings.serde.schema_registry_url is None:
        raise ConfigError("serde.schema_registry_url is not set (FLEETSTREAM_SCHEMA_REGISTRY_URL)")
    for subject, schema_id in register_schemas(client(settings.serde), settings.kafka).items():
        click.echo(f"{subject}: schema id {schema_id}")


@main.command()
@click.pass_obj
@_one_line_errors
def actor(obj: _Context) -> None:
    """Run an actor (consumer group of the action-work topics) until SIGTERM."""
    from consumers.actor.main import run

    run(obj.pipeline)


@main.command("action-planner")
@click.pass_obj
@_one_line_errors
def action_planner(obj: _Context) -> None:
    """Run an action planner (consumer group of the actions topic) until SIGTERM."""
    from consumers.action_planner.main import run

    run(obj.pipeline)


main.add_command(act_command)
main.add_command(action_status_command)
main.add_command(iam_policy_command)
main.add_command(lag_exporter_command)
main.add_command(types_group)
main.add_command(config_group)
main.add_command(sweeps_group)
for _command in INVENTORY_COMMANDS:  # query, export, resources, show, history
    main.add_command(_command)


def _add_stack_command() -> None:
    """`fleetstream stack up|down|status`: the local stack's commands, where it exists.

    devstack/ (the local stack: Kafka from Maven jars, DynamoDB Local, moto) is dev tooling in
    the repository, not in the runtime wheel; an installed fleetstream has no `stack` command.
    """
    try:
        from devstack.cli import cli as devstack_cli
    except ModuleNotFoundError as exc:
        if exc.name != "devstack":
            raise
        return
    main.add_command(devstack_cli, name="stack")


_add_stack_command()


@main.command()
@click.option("--home", type=click.Path(path_type=Path), default=Path(".fleetstream"))
@click.option("--accounts", default=3, show_default=True, help="Member accounts to create.")
@click.option("--keep-stack/--stop-stack", default=True, show_default=True)
@_one_line_errors
def demo(home: Path, accounts: int, keep_stack: bool) -> None:
    """Start the local stack, seed a multi-account estate in moto, sweep it, read it back."""
    try:
        from fleetstream.apps.demo import run_demo
    except ModuleNotFoundError as exc:
        if exc.name != "devstack":
            raise
        raise FleetstreamError(
            "the demo runs the local stack (devstack/), which is in the repository, not in "
            "an installed fleetstream: run ./dev demo from a checkout"
        ) from exc

    sys.exit(run_demo(home, accounts=accounts, keep_stack=keep_stack, echo=click.echo))
