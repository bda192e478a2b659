"""`fleetstream lag-exporter`: the click command (registered in fleetstream/apps/cli.py)."""

from __future__ import annotations

import sys
from typing import Any

import click

from fleetstream.base.errors import FleetstreamError


@click.command("lag-exporter")
@click.option(
    "--group",
    "groups",
    multiple=True,
    help="Consumer group to watch (repeatable). Default: the describer and sink groups.",
)
@click.option("--group-prefix", default=None, help="Also watch every group with this prefix.")
@click.option("--max-groups", default=50, show_default=True, help="Cardinality cap.")
@click.option("--interval", "interval_s", default=30.0, show_default=True, help="Poll, seconds.")
@click.option(
    "--window", "window_s", default=300.0, show_default=True, help="Status window, seconds."
)
@click.option(
    "--stop-after",
    "stop_after_s",
    default=900.0,
    show_default=True,
    help="Seconds without progress (lag > 0) after which a partition is STOP.",
)
@click.option("--host", default=None, help="Listen address. Default: metrics.host.")
@click.option("--port", default=9308, show_default=True, help="Port of /metrics.")
@click.pass_context
def lag_exporter_command(
    ctx: click.Context,
    groups: tuple[str, ...],
    group_prefix: str | None,
    max_groups: int,
    interval_s: float,
    window_s: float,
    stop_after_s: float,
    host: str | None,
    port: int,
) -> None:
    """Export consumer-group lag (offsets and seconds) and status for Prometheus."""
    # Imported here so that `fleetstream --help` does not load the exporter.
    from consumers.lag.collector import Watch  # noqa: PLC0415
    from consumers.lag.main import ExporterOptions, run  # noqa: PLC0415
    from consumers.lag.status import Rules  # noqa: PLC0415

    try:
        settings: Any = ctx.obj.settings
        if not groups and group_prefix is None:
            groups = (settings.describer.group_id, settings.sink.group_id)
        if not 0 < window_s <= stop_after_s:
            raise click.BadParameter("need 0 < --window <= --stop-after")
        options = ExporterOptions(
            watch=Watch(groups, group_prefix, max_groups),
            rules=Rules(window_s, stop_after_s),
            interval_s=interval_s,
            host=host or settings.metrics.host,
            port=port,
        )
        run(settings.kafka, options)
    except FleetstreamError as exc:
        click.echo(f"fleetstream: error: {exc}", err=True)
        sys.exit(2)
