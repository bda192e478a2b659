"""The columns of the snapshot: common to every type, and typed ones per type from botocore.

A type's typed columns are the top-level members of the item its list call returns (and of
what its details add), named and typed by botocore's output shapes: EC2's Instance has
InstanceType (string), LaunchTime (timestamp), Placement (structure) ... Scalars get a SQL
type; structures, lists and maps stay JSON text. Every value is still in `attributes`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape

from fleetstream.catalog import CATALOG
from fleetstream.catalog.entry import CatalogEntry

# name -> DuckDB type of the columns every type's table has (the snapshot's Parquet schema).
COMMON_COLUMNS: dict[str, str] = {
    "arn": "VARCHAR",
    "account_id": "VARCHAR",
    "account_name": "VARCHAR",
    "region": "VARCHAR",
    "resource_type": "VARCHAR",
    "resource_id": "VARCHAR",
    "name": "VARCHAR",
    "tags": "MAP(VARCHAR, VARCHAR)",
    "attributes": "JSON",
    "observed_at": "TIMESTAMPTZ",
    "deleted_at": "TIMESTAMPTZ",
}

_SCALARS = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "long": "BIGINT",
    "boolean": "BOOLEAN",
    "float": "DOUBLE",
    "double": "DOUBLE",
    "timestamp": "TIMESTAMPTZ",
}


@dataclass(frozen=True, slots=True)
class Column:
    """A typed top-level attribute: its name in the item and its SQL type."""

    name: str
    sql_type: str  # VARCHAR, BIGINT, ... or JSON for structures, lists and maps


def table_name(type_name: str) -> str:
    """The SQL table (view) of a resource type: ec2.instance -> ec2_instance."""
    return type_name.replace(".", "_").replace("-", "_")


_FILTER = re.compile(r"\[\?[^\]]*\]")


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


def _output(service: str, operation: str) -> Shape | None:
    model = _session().get_service_model(service).operation_model(operation)
    return model.output_shape


def _follow(shape: Shape | None, path: str) -> Shape | None:
    """The shape a simple JMESPath (a.b[].c[], as the catalog writes them) selects; a filter
    (Aliases[?...]) selects elements of the same shape as a plain projection."""
    for segment in _FILTER.sub("[]", path).split("."):
        name = segment.removesuffix("[]")
        if not isinstance(shape, StructureShape) or name not in shape.members:
            return None
        shape = shape.members[name]
        if segment.endswith("[]"):
            shape = shape.member if isinstance(shape, ListShape) else None
    while isinstance(shape, ListShape):  # "Buckets" without [] still names a list of items
        shape = shape.member
    return shape


def _sql_type(shape: Shape) -> str:
    if isinstance(shape, StructureShape | ListShape | MapShape):
        return "JSON"
    return _SCALARS.get(shape.type_name, "JSON")


def _members(entry: CatalogEntry) -> Iterator[tuple[str, Shape | None]]:
    item = _follow(_output(entry.service, entry.operation), entry.result_path)
    if entry.item_key is not None:
        yield entry.item_key, item
    elif isinstance(item, StructureShape):
        yield from item.members.items()
    for detail in entry.details:
        found = _follow(_output(entry.service, detail.operation), detail.result_path)
        if detail.batch_param is not None and detail.value_path != "@":
            found = None  # a part of each element: too varied to type
        if detail.into is not None:
            yield detail.into, found
        elif isinstance(found, StructureShape):
            yield from found.members.items()
    for name in entry.quirk_fields:
        yield name, None


def typed_columns(entry: CatalogEntry) -> tuple[Column, ...]:
    """The typed columns of a type, in botocore's member order, unique case-insensitively.

    Members that would shadow a common column (Tags, Name ...) are left out: their values are
    in the common column or in `attributes`.
    """
    return _typed_columns(entry.type_name)


@cache
def _typed_columns(type_name: str) -> tuple[Column, ...]:
    entry = CATALOG[type_name]
    taken = {name.lower() for name in COMMON_COLUMNS}
    columns: list[Column] = []
    for name, shape in _members(entry):
        if name.lower() in taken or name.startswith("fleetstream:"):
            continue
        taken.add(name.lower())
        columns.append(Column(name, "JSON" if shape is None else _sql_type(shape)))
    return tuple(columns)


def describe(columns: tuple[Column, ...]) -> dict[str, Any]:
    """{name: sql type}: for docs and error messages."""
    return {c.name: c.sql_type for c in columns}
