"""A snapshot directory: Parquet per resource type and date, and the manifest naming them.

Layout (readable unchanged by Athena, DuckDB, pandas/pyarrow with hive partitioning):
  DIR/type=ec2.instance/snapshot_date=2026-12-02/part-0.parquet
  DIR/_fleetstream_snapshot.json   which file is the current one of each type
A type's file holds the common columns then the type's typed columns (columns.py). Deleted
resources the table still holds as tombstones are rows with deleted_at set.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fleetstream.inventory.errors import SnapshotMissingError

MANIFEST = "_fleetstream_snapshot.json"
PART = "part-0.parquet"


@dataclass(frozen=True, slots=True)
class TypeFile:
    """The current Parquet file of one resource type."""

    path: str  # relative to the snapshot directory
    rows: int
    live: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a snapshot holds and where it came from."""

    exported_at: datetime
    source: str  # "table <name>" or "changes <topic> as of <time>"
    types: dict[str, TypeFile]
    as_of: datetime | None = None

    def to_json(self) -> str:
        """The manifest file's text."""
        return json.dumps(
            {
                "format": 1,
                "exported_at": self.exported_at.isoformat(),
                "source": self.source,
                "as_of": None if self.as_of is None else self.as_of.isoformat(),
                "types": {
                    name: {"path": f.path, "rows": f.rows, "live": f.live}
                    for name, f in sorted(self.types.items())
                },
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse a manifest file's text."""
        data: dict[str, Any] = json.loads(text)
        as_of = data.get("as_of")
        return cls(
            exported_at=datetime.fromisoformat(data["exported_at"]),
            source=data["source"],
            types={name: TypeFile(**f) for name, f in data["types"].items()},
            as_of=None if as_of is None else datetime.fromisoformat(as_of),
        )


def type_path(type_name: str, day: str) -> str:
    """Where a type's file of a snapshot date goes, relative to the snapshot directory."""
    return f"type={type_name}/snapshot_date={day}/{PART}"


def write_manifest(directory: Path, manifest: Manifest) -> None:
    """Replace the manifest atomically: readers see the old snapshot or the new one."""
    temporary = directory / f".{MANIFEST}.tmp"
    temporary.write_text(manifest.to_json())
    os.replace(temporary, directory / MANIFEST)


def read_manifest(directory: Path) -> Manifest:
    """The manifest of a snapshot directory; SnapshotMissingError when there is none."""
    path = directory / MANIFEST
    if not path.is_file():
        raise SnapshotMissingError(
            f"no inventory snapshot in {directory}: run `fleetstream export` first "
            "(or pass --snapshot DIR)"
        )
    try:
        return Manifest.from_json(path.read_text())
    except (ValueError, KeyError, TypeError) as error:
        raise SnapshotMissingError(f"unreadable snapshot manifest {path}: {error}") from error
