"""The catalog of resource types fleetstream can describe."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from fleetstream.catalog import ec2
from fleetstream.catalog.entry import CatalogEntry, TagStyle
from fleetstream.errors import ConfigError

CATALOG: Mapping[str, CatalogEntry] = MappingProxyType(
    {entry.type_name: entry for entry in (*ec2.ENTRIES,)}
)


def entries_for(type_names: Iterable[str]) -> tuple[CatalogEntry, ...]:
    """The entries of the configured types; an unknown name is a ConfigError."""
    selected = []
    for name in type_names:
        entry = CATALOG.get(name)
        if entry is None:
            known = ", ".join(sorted(CATALOG))
            raise ConfigError(f"unknown resource type {name!r}; known types: {known}")
        selected.append(entry)
    return tuple(selected)


__all__ = ["CATALOG", "CatalogEntry", "TagStyle", "entries_for"]
