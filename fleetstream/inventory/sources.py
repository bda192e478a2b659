"""Where an export reads (the inventory table, or the changes topic as of a time) and writes
(a local directory, or S3 by way of a local staging directory)."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from fleetstream.aws.clients import AwsClients, dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.inventory.changes import rows_as_of
from fleetstream.inventory.export import Exported, write_snapshot
from fleetstream.inventory.rows import scan_rows
from fleetstream.inventory.snapshot import MANIFEST
from fleetstream.kafka import topics


def _snapshot(settings: Settings, directory: Path, as_of: datetime | None) -> tuple[Exported, str]:
    configured = list(settings.resource_types)
    if as_of is None:
        rows = scan_rows(dynamodb_client(settings), settings.sink.table)
        table = settings.sink.table
        return write_snapshot(rows, directory, source=f"table {table}", types=configured), ""
    topic = topics.CHANGES.kafka_name(settings.kafka)
    replayed, oldest = rows_as_of(settings, as_of)
    note = (
        "the changes topic holds nothing"
        if oldest is None
        else f"the changes topic reaches back to {oldest.isoformat()}"
    )
    if oldest is not None and oldest > as_of:
        note += (
            f", after {as_of.isoformat()}: resources created earlier and unchanged since "
            "are missing"
        )
    exported = write_snapshot(
        replayed,
        directory,
        source=f"changes {topic} as of {as_of.isoformat()}",
        types=configured,
        as_of=as_of,
    )
    return exported, note


def _upload(settings: Settings, local: Path, target: str) -> None:
    bucket, _, prefix = target.removeprefix("s3://").partition("/")
    s3 = AwsClients(settings.aws).hub("s3")
    files = sorted(p for p in local.rglob("*.parquet") if not p.name.startswith("."))
    # Data files first, the manifest last: a reader following the manifest finds its files.
    for path in [*files, local / MANIFEST]:
        key = "/".join(part for part in (prefix.strip("/"), str(path.relative_to(local))) if part)
        s3.upload_file(str(path), bucket, key)


def export(settings: Settings, target: str, *, as_of: datetime | None = None) -> list[str]:
    """Write a snapshot to a directory or s3://bucket/prefix; return lines for the user."""
    if target.startswith("s3://"):
        with tempfile.TemporaryDirectory(prefix="fleetstream-export-") as staging:
            exported, note = _snapshot(settings, Path(staging), as_of)
            _upload(settings, Path(staging), target)
    else:
        exported, note = _snapshot(settings, Path(target), as_of)
    lines = [
        f"{name}: {f.rows} rows ({f.live} live) -> {f.path}"
        for name, f in sorted(exported.manifest.types.items())
    ]
    lines.append(f"exported {exported.rows} rows from {exported.manifest.source} to {target}")
    if note:
        lines.append(note)
    return lines
