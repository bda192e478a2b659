"""Edges as data: resolve an entry's declared relations over one item to target ARNs.

The edges are stored in the item's attributes under RELATIONSHIPS_KEY as
{name: [{"target_type", "target_arn"}, ...]}, names and targets sorted, so an unchanged
estate gives byte-equal attributes (no flaps) and a changed edge is a MODIFIED change with a
`relationships.<name>` path like any other attribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetstream.catalog import CATALOG
from fleetstream.catalog.entry import CatalogEntry, Relation
from fleetstream.catalog.paths import search

RELATIONSHIPS_KEY = "relationships"

Edges = dict[str, list[dict[str, str]]]


def _values(found: object) -> list[str]:
    """The non-empty strings a relation's path found (one value or a list, nulls skipped)."""
    items = found if isinstance(found, list) else [found]
    return [value for value in items if isinstance(value, str) and value]


def target_arn(
    relation: Relation, value: str, *, partition: str, region: str, account_id: str
) -> str | None:
    """The target's ARN: the value itself when it is one, else the target type's template.

    None for an id of a type without a template (its ARN holds a random suffix, elbv2): the
    edge is dropped rather than the whole page failed over one unexpected value.
    """
    if value.startswith("arn:"):
        return value
    target = CATALOG[relation.target_type]
    if not target.arn_template:
        return None
    return target.arn_template.format(
        partition=partition,
        region=region,
        account_id=account_id,
        id=value,
        id_path=value.lstrip("/"),
    )


def resolve(
    entry: CatalogEntry, item: Mapping[str, Any], *, partition: str, region: str, account_id: str
) -> Edges:
    """Every edge of one item, deterministically sorted (names, then type and ARN)."""
    edges: dict[str, set[tuple[str, str]]] = {}
    for relation in entry.relations:
        for value in _values(search(relation.path, item)):
            arn = target_arn(
                relation, value, partition=partition, region=region, account_id=account_id
            )
            if arn is not None:
                edges.setdefault(str(relation.name), set()).add((relation.target_type, arn))
    return {
        name: [{"target_type": kind, "target_arn": arn} for kind, arn in sorted(pairs)]
        for name, pairs in sorted(edges.items())
    }
