"""Query results as a text table, JSON, JSON lines or CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from fleetstream.inventory.report import table
from fleetstream.inventory.sql import Result


class Output(StrEnum):
    """The --output choices."""

    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"


def _plain(value: Any, sql_type: str) -> Any:
    """A value JSON can carry: maps as objects, times as ISO text, JSON columns parsed."""
    if value is None:
        return None
    if sql_type == "JSON" and isinstance(value, str):
        return json.loads(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v, "") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, "") for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _cell(value: Any, sql_type: str) -> str:
    """A value as one line of text (table and CSV cells)."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return ",".join(f"{k}={v}" for k, v in sorted(value.items()))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    return json.dumps(_plain(value, sql_type), sort_keys=True, separators=(",", ":"))


def records(result: Result) -> list[dict[str, Any]]:
    """The rows as {column: JSON-ready value}."""
    return [
        {
            name: _plain(value, t)
            for name, t, value in zip(result.columns, result.types, row, strict=True)
        }
        for row in result.rows
    ]


def render(result: Result, output: Output) -> str:
    """The whole result in one format (no trailing newline)."""
    if output is Output.JSON:
        return json.dumps(records(result), indent=2, sort_keys=False)
    if output is Output.JSONL:
        return "\n".join(json.dumps(r, separators=(",", ":")) for r in records(result))
    cells = [[_cell(v, t) for v, t in zip(row, result.types, strict=True)] for row in result.rows]
    if output is Output.CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows(cells)
        return buffer.getvalue().rstrip("\n")
    return table(result.columns, cells)
