"""`fleetstream resources`: filters turned into one parameterised query over a snapshot."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import duckdb
import jmespath
from jmespath.exceptions import JMESPathError

from fleetstream.catalog import CATALOG
from fleetstream.inventory.columns import table_name
from fleetstream.inventory.errors import BadQueryError, UnknownTypeError
from fleetstream.inventory.sql import Result, run

# What `resources` prints, in this order; sorted by the first five.
LISTED = ("resource_type", "account_id", "region", "resource_id", "arn", "account_name", "name")
JMESPATH_PREFIX = "jmespath:"


@dataclass(frozen=True, slots=True)
class Filters:
    """The search options of `fleetstream resources`."""

    types: tuple[str, ...] = ()  # globs: ec2.*, s3.bucket
    account: str | None = None  # id or name
    region: str | None = None
    tags: tuple[tuple[str, str], ...] = ()  # every K=V must match
    tags_missing: tuple[str, ...] = ()
    where: str | None = None  # SQL predicate, or "jmespath:<expression>" over attributes
    deleted: bool = False  # include tombstoned resources
    extra: tuple[str, ...] = field(default=())  # more columns to print


def match_types(globs: Sequence[str], known: Iterable[str]) -> list[str]:
    """The resource types the globs name; UnknownTypeError for a glob that names none."""
    names = sorted({*known, *CATALOG})
    matched: set[str] = set()
    for glob in globs:
        found = fnmatch.filter(names, glob)
        if not found:
            raise UnknownTypeError(
                f"--type {glob!r} matches no resource type (e.g. ec2.instance, ec2.*, s3.bucket)"
            )
        matched.update(found)
    return sorted(matched)


def _predicates(filters: Filters, types: list[str]) -> tuple[list[str], list[object]]:
    where: list[str] = []
    values: list[object] = []
    if not filters.deleted:
        where.append("deleted_at IS NULL")
    if filters.types:
        where.append(f"resource_type IN ({', '.join('?' for _ in types)})")
        values += types
    if filters.account is not None:
        where.append("(account_id = ? OR account_name = ?)")
        values += [filters.account, filters.account]
    if filters.region is not None:
        where.append("region = ?")
        values.append(filters.region)
    for key, value in filters.tags:
        where.append("list_contains(map_extract(tags, ?), ?)")
        values += [key, value]
    for key in filters.tags_missing:
        where.append("NOT list_contains(map_keys(tags), ?)")
        values.append(key)
    if filters.where and not filters.where.startswith(JMESPATH_PREFIX):
        where.append(f"({filters.where})")
    return where, values


def _jmespath(filters: Filters) -> jmespath.parser.ParsedResult | None:
    if not filters.where or not filters.where.startswith(JMESPATH_PREFIX):
        return None
    try:
        return jmespath.compile(filters.where.removeprefix(JMESPATH_PREFIX))
    except JMESPathError as error:
        first = str(error).splitlines()[0]  # the rest draws a caret under the expression
        raise BadQueryError(f"--where: bad JMESPath: {first}") from error


def search(db: duckdb.DuckDBPyConnection, filters: Filters, known: Iterable[str]) -> Result:
    """The resources the filters select (live only unless filters.deleted), sorted."""
    types = match_types(filters.types, known) if filters.types else []
    # One type: its own view, so --where can use its typed columns (InstanceType = ...).
    source = table_name(types[0]) if len(types) == 1 and types[0] in set(known) else "resources"
    expression = _jmespath(filters)
    columns = [*LISTED, "tags", *filters.extra]
    if expression is not None:
        columns.append("attributes")
    where, values = _predicates(filters, types)
    statement = (
        f"SELECT {', '.join(columns)} FROM {source}"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + f" ORDER BY {', '.join(LISTED[:5])}"
    )
    result = run(db, statement, values)
    if expression is None:
        return result
    kept = [row for row in result.rows if expression.search(json.loads(row[-1]))]
    return Result(result.columns[:-1], result.types[:-1], [row[:-1] for row in kept])
