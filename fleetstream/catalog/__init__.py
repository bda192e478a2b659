"""The catalog of resource types fleetstream can describe: one module per AWS service."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from fleetstream.base.errors import ConfigError
from fleetstream.catalog import (
    acm,
    autoscaling,
    cloudformation,
    cloudfront,
    dynamodb,
    ec2,
    ecr,
    ecs,
    efs,
    eks,
    elasticache,
    elbv2,
    events,
    iam,
    kafka,
    kinesis,
    kms,
    lambda_,
    logs,
    rds,
    route53,
    s3,
    secretsmanager,
    sns,
    sqs,
    ssm,
    stepfunctions,
)
from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Parent, Refresh, TagStyle

SERVICE_MODULES = (
    ec2,
    s3,
    iam,
    lambda_,
    rds,
    dynamodb,
    ecs,
    eks,
    elbv2,
    sqs,
    sns,
    kms,
    cloudformation,
    route53,
    cloudfront,
    ecr,
    secretsmanager,
    ssm,
    autoscaling,
    kinesis,
    kafka,
    stepfunctions,
    events,
    logs,
    efs,
    elasticache,
    acm,
)

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
