"""The catalog of resource types fleetstream can describe: one module per AWS service."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Mapping
from types import MappingProxyType, ModuleType

from fleetstream.base.errors import ConfigError
from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Parent, Refresh, TagStyle
from fleetstream.catalog.iam_actions import boto3_services


def service_of(module_name: str) -> str | None:
    """The boto3 service a catalog module is named after (lambda_: lambda, cognito_idp:
    cognito-idp), or None for the engine's own modules."""
    service = module_name.rstrip("_").replace("_", "-")
    return service if service in boto3_services() else None


def _service_modules() -> tuple[ModuleType, ...]:
    # Every module named after a boto3 service is a service module: a new one needs no
    # registration anywhere, so adding a type is one entry and nothing else.
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if service_of(m.name))
    return tuple(importlib.import_module(f"{__name__}.{name}") for name in names)


SERVICE_MODULES = _service_modules()

CATALOG: Mapping[str, CatalogEntry] = MappingProxyType(
    {entry.type_name: entry for module in SERVICE_MODULES for entry in module.ENTRIES}
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


__all__ = [
    "CATALOG",
    "SERVICE_MODULES",
    "CatalogEntry",
    "Detail",
    "EventRule",
    "Parent",
    "Refresh",
    "TagStyle",
    "entries_for",
]
