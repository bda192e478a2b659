"""Inventory rows: the common columns of one resource, from a table item or a change event."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

# The Parquet schema every type's file starts with (typed columns follow, see columns.py).
ROW_SCHEMA = pa.schema(
    [
        ("arn", pa.string()),
        ("account_id", pa.string()),
        ("account_name", pa.string()),
        ("region", pa.string()),
        ("resource_type", pa.string()),
        ("resource_id", pa.string()),
        ("name", pa.string()),
        ("tags", pa.map_(pa.string(), pa.string())),
        ("attributes", pa.string()),
        ("observed_at", pa.timestamp("ms", tz="UTC")),
        ("deleted_at", pa.timestamp("ms", tz="UTC")),
    ]
)

Row = dict[str, Any]


def _time_ms(item: dict[str, Any], name: str) -> datetime | None:
    if name not in item:
        return None
    return datetime.fromtimestamp(int(item[name]["N"]) / 1000, tz=UTC)


def attributes_of(item: dict[str, Any]) -> str:
    """The attributes JSON of a table item: inline, zlib-packed, or "null" when truncated."""
    if "attributes" in item:
        text: str = item["attributes"]["S"]
        return text
    if "attributes_z" in item:
        return zlib.decompress(item["attributes_z"]["B"]).decode()
    return "null"  # larger than DynamoDB's item limit: identity and tags only


def row_of_item(item: dict[str, Any]) -> Row:
    """One inventory table item (low-level attribute values) as a row."""

    def text(name: str) -> str | None:
        return item[name]["S"] if name in item else None

    return {
        "arn": item["arn"]["S"],
        "account_id": text("account_id"),
        "account_name": text("account_name"),
        "region": text("region"),
        "resource_type": text("resource_type"),
        "resource_id": text("resource_id"),
        "name": text("name"),
        "tags": sorted((k, v["S"]) for k, v in item.get("tags", {}).get("M", {}).items()),
        "attributes": attributes_of(item),
        "observed_at": _time_ms(item, "observed_at_ms"),
        "deleted_at": _time_ms(item, "deleted_at_ms"),
    }


def scan_rows(client: Any, table: str, *, segments: int = 1) -> Iterator[Row]:
    """Every item of the inventory table as a row (consistent scan, page by page)."""
    paginator = client.get_paginator("scan")
    for segment in range(segments):
        pages = paginator.paginate(
            TableName=table, ConsistentRead=True, Segment=segment, TotalSegments=segments
        )
        for page in pages:
            for item in page["Items"]:
                yield row_of_item(item)


def record_batch(rows: list[Row]) -> pa.RecordBatch:
    """Rows -> an Arrow batch of ROW_SCHEMA."""
    return pa.RecordBatch.from_pylist(rows, schema=ROW_SCHEMA)
