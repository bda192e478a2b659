"""`fleetstream export`: write a Parquet snapshot of the inventory, one file per type and date.

Rows stream from the source (the inventory table, or the changes topic replayed to a time)
into one raw file per type, in batches, so memory does not grow with the estate; DuckDB then
adds the typed columns and writes the final file. The manifest is replaced last: a reader
sees the previous snapshot until the new one is complete.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from fleetstream.catalog import CATALOG
from fleetstream.inventory.columns import COMMON_COLUMNS, typed_columns
from fleetstream.inventory.rows import ROW_SCHEMA, Row, record_batch
from fleetstream.inventory.snapshot import Manifest, TypeFile, type_path, write_manifest

_BATCH_ROWS = 5_000


@dataclass(frozen=True, slots=True)
class Exported:
    """What an export wrote."""

    directory: str
    manifest: Manifest

    @property
    def rows(self) -> int:
        """Rows over every type (tombstones included)."""
        return sum(f.rows for f in self.manifest.types.values())


class _RawFiles:
    """One raw Parquet file per resource type, written a batch at a time."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._pending: dict[str, list[Row]] = {}

    def add(self, row: Row) -> None:
        pending = self._pending.setdefault(row["resource_type"], [])
        pending.append(row)
        if len(pending) >= _BATCH_ROWS:
            self._flush(row["resource_type"])

    def path(self, type_name: str) -> Path:
        return self.directory / f"{type_name}.parquet"

    def _flush(self, type_name: str) -> None:
        writer = self._writers.get(type_name)
        if writer is None:
            writer = pq.ParquetWriter(self.path(type_name), ROW_SCHEMA)
            self._writers[type_name] = writer
        writer.write_batch(record_batch(self._pending.pop(type_name, [])))

    def close(self, also: Iterable[str]) -> list[str]:
        """Finish every file (an empty one for each type in `also`); return the types."""
        for type_name in {*self._pending, *also}:
            self._flush(type_name)
        for writer in self._writers.values():
            writer.close()
        return sorted(self._writers)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def typed_select(type_name: str, source: str) -> str:
    """SELECT the common columns and the type's typed columns from a raw file.

    json_transform parses each document once into a struct of every typed column (leniently:
    a value that does not fit is NULL); one json_extract per column would parse it 60 times.
    """
    entry = CATALOG.get(type_name)
    typed = typed_columns(entry) if entry is not None else ()
    parts = [_identifier(name) for name in COMMON_COLUMNS]
    read = f"read_parquet({_literal(source)})"
    if not typed:
        return f"SELECT {', '.join(parts)} FROM {read}"
    spec = json.dumps({c.name: c.sql_type for c in typed})
    for column in typed:
        field = f"_typed.{_identifier(column.name)}"
        if column.sql_type == "JSON":  # plain text in the file: every reader takes it
            field = f"CAST({field} AS VARCHAR)"
        parts.append(f"{field} AS {_identifier(column.name)}")
    return (
        f"SELECT {', '.join(parts)} FROM "
        f"(SELECT *, json_transform(attributes, {_literal(spec)}) AS _typed FROM {read})"
    )


def write_snapshot(
    rows: Iterable[Row],
    directory: Path,
    *,
    source: str,
    types: Iterable[str] = (),
    as_of: datetime | None = None,
    now: datetime | None = None,
) -> Exported:
    """Write rows as a snapshot into a local directory; `types` get a file even when empty."""
    exported_at = now or datetime.now(UTC)
    day = (as_of or exported_at).date().isoformat()
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=directory))
    try:
        raw = _RawFiles(staging)
        for row in rows:
            raw.add(row)
        written: dict[str, TypeFile] = {}
        with duckdb.connect() as db:
            # Stream the copy (no ordering kept), bounded, and never draw a progress bar.
            db.execute("SET preserve_insertion_order = false")
            db.execute("SET memory_limit = '512MB'")
            db.execute("SET enable_progress_bar = false")
            for type_name in raw.close(types):
                relative = type_path(type_name, day)
                final = staging / "final.parquet"
                db.execute(
                    f"COPY ({typed_select(type_name, str(raw.path(type_name)))}) "
                    f"TO {_literal(str(final))} (FORMAT parquet, COMPRESSION zstd)"
                )
                counted = db.execute(
                    "SELECT count(*), count(*) FILTER (WHERE deleted_at IS NULL) "
                    f"FROM read_parquet({_literal(str(final))})"
                ).fetchone()
                assert counted is not None
                target = directory / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(final, target)
                written[type_name] = TypeFile(relative, int(counted[0]), int(counted[1]))
        manifest = Manifest(exported_at, source, written, as_of)
        write_manifest(directory, manifest)
        return Exported(str(directory), manifest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
