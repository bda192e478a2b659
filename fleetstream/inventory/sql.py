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

# One row per edge of a live resource (attributes.relationships, see catalog/relations.py).
# Edges are declared one way; the reverse edge is the same row read target -> source.
RELATIONSHIPS_VIEW = """
CREATE VIEW relationships AS
SELECT r.arn AS source_arn, r.resource_type AS source_type, e.key AS relationship,
       json_extract_string(t.value, '$.target_arn') AS target_arn,
       json_extract_string(t.value, '$.target_type') AS target_type
FROM resources r, json_each(r.attributes, '$.relationships') e, json_each(e.value) t
WHERE r.deleted_at IS NULL
"""

# Issue 18's relationship question: instances in a public subnet (its route table, explicit
# or else the VPC's main one, sends 0.0.0.0/0 to an internet gateway) with a security group
# open to the world (ingress from 0.0.0.0/0 or ::/0).
PUBLIC_EXPOSURE_QUESTION = """
WITH live AS (SELECT * FROM resources WHERE deleted_at IS NULL),
public_tables AS (
  SELECT arn FROM live WHERE resource_type = 'ec2.route_table'
    AND len(list_filter(json_extract(attributes, '$.Routes[*]'), lambda r:
        (r->>'DestinationCidrBlock') = '0.0.0.0/0' AND (r->>'GatewayId') LIKE 'igw-%')) > 0
),
main_tables AS (
  SELECT v.target_arn AS vpc_arn, t.arn AS table_arn
  FROM live t JOIN relationships v ON v.source_arn = t.arn AND v.target_type = 'ec2.vpc'
  WHERE t.resource_type = 'ec2.route_table'
    AND list_contains(json_extract_string(t.attributes, '$.Associations[*].Main'), 'true')
),
explicit_tables AS (
  SELECT target_arn AS subnet_arn, source_arn AS table_arn FROM relationships
  WHERE source_type = 'ec2.route_table' AND target_type = 'ec2.subnet'
),
public_subnets AS (
  SELECT s.arn FROM live s
  JOIN relationships v ON v.source_arn = s.arn AND v.target_type = 'ec2.vpc'
  LEFT JOIN explicit_tables e ON e.subnet_arn = s.arn
  LEFT JOIN main_tables m ON m.vpc_arn = v.target_arn
  WHERE s.resource_type = 'ec2.subnet'
    AND coalesce(e.table_arn, m.table_arn) IN (SELECT arn FROM public_tables)
),
open_groups AS (
  SELECT arn FROM live WHERE resource_type = 'ec2.security_group' AND (
    list_contains(json_extract_string(attributes, '$.IpPermissions[*].IpRanges[*].CidrIp'),
                  '0.0.0.0/0')
    OR list_contains(
      json_extract_string(attributes, '$.IpPermissions[*].Ipv6Ranges[*].CidrIpv6'), '::/0'))
)
SELECT DISTINCT i.account_name, i.region, i.resource_id, i.name
FROM live i
JOIN relationships s ON s.source_arn = i.arn AND s.target_type = 'ec2.subnet'
JOIN relationships g ON g.source_arn = i.arn AND g.target_type = 'ec2.security_group'
WHERE i.resource_type = 'ec2.instance'
  AND s.target_arn IN (SELECT arn FROM public_subnets)
  AND g.target_arn IN (SELECT arn FROM open_groups)
ORDER BY i.account_name, i.region, i.resource_id
"""


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
    db.execute(RELATIONSHIPS_VIEW)
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
