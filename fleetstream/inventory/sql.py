"""DuckDB over a snapshot: a view per resource type and `resources` across all of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from fleetstream.inventory.columns import COMMON_COLUMNS, table_name
from fleetstream.inventory.errors import BadQueryError
from fleetstream.inventory.snapshot import Manifest, read_manifest

# The example question, shown by the demo and the README.
OWNER_TAG_QUESTION = (
    "SELECT account_name, region, resource_id, name FROM ec2_instance "
    "WHERE tags['Environment'] = 'prod' AND tags['Owner'] IS NULL AND deleted_at IS NULL "
    "ORDER BY account_name, region, resource_id"
)


@dataclass(frozen=True, slots=True)
class Result:
    """A query's column names, their DuckDB types, and its rows."""

    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect(directory: Path) -> tuple[duckdb.DuckDBPyConnection, Manifest]:
    """An in-memory DuckDB whose views read the snapshot's Parquet files."""
    manifest = read_manifest(directory)
    db = duckdb.connect()
    db.execute("SET TimeZone = 'UTC'")  # times print in UTC, whatever the machine's zone
    db.execute("SET enable_progress_bar = false")  # stdout carries the result only
    common = ", ".join(_quoted(c) for c in COMMON_COLUMNS)
    selects = []
    for type_name, file in sorted(manifest.types.items()):
        path = _literal(str(directory / file.path))
        # attributes is JSON text in the file: typed as JSON here so ->> and json_* read it.
        db.execute(
            f"CREATE VIEW {_quoted(table_name(type_name))} AS SELECT * REPLACE "
            f"(CAST(attributes AS JSON) AS attributes) FROM read_parquet({path})"
        )
        selects.append(f"SELECT {common} FROM {_quoted(table_name(type_name))}")
    if not selects:  # a snapshot of nothing still answers queries, with no rows
        types = ", ".join(f"CAST(NULL AS {t}) AS {_quoted(c)}" for c, t in COMMON_COLUMNS.items())
        selects.append(f"SELECT {types} WHERE false")
    db.execute("CREATE VIEW resources AS " + " UNION ALL ".join(selects))
    return db, manifest


def run(
    db: duckdb.DuckDBPyConnection, statement: str, parameters: list[object] | None = None
) -> Result:
    """Run one statement; any DuckDB error is a BadQueryError with DuckDB's first line."""
    try:
        cursor = db.execute(statement, parameters)
        if cursor.description is None:
            return Result([], [], [])
        names = [d[0] for d in cursor.description]
        types = [str(d[1]) for d in cursor.description]
        # Through Arrow: DuckDB's own fetch of TIMESTAMPTZ needs pytz; Arrow's uses zoneinfo.
        table = cursor.to_arrow_table()
    except duckdb.Error as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise BadQueryError(first) from error
    columns = [column.to_pylist(maps_as_pydicts="strict") for column in table.columns]
    return Result(names, types, list(zip(*columns, strict=True)))
