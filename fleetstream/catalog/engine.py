"""The generic engine: call one page of a list operation and extract observations from it."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import botocore.session
import jmespath
from botocore import xform_name
from botocore.client import BaseClient
from jmespath.parser import ParsedResult

from fleetstream.catalog.entry import CatalogEntry, TagStyle
from fleetstream.models import Observation


@dataclass(frozen=True, slots=True)
class PaginationSpec:
    """botocore's paginator model of one operation (input/output tokens, page size key)."""

    input_tokens: tuple[str, ...]
    output_tokens: tuple[str, ...]
    limit_key: str | None
    more_results: str | None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of raw items and the token of the next page, if any."""

    items: list[dict[str, Any]]
    next_token: dict[str, Any] | None


def _as_tuple(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@cache
def _botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def pagination_spec(service: str, operation: str) -> PaginationSpec | None:
    """The paginator model botocore ships for an operation, or None if it has none."""
    model = _botocore_session().get_paginator_model(service)
    try:
        config = model.get_paginator(operation)
    except ValueError:
        return None
    return PaginationSpec(
        input_tokens=_as_tuple(config["input_token"]),
        output_tokens=_as_tuple(config["output_token"]),
        limit_key=config.get("limit_key"),
        more_results=config.get("more_results"),
    )


@cache
def _compiled(expression: str) -> ParsedResult:
    return jmespath.compile(expression)


def search(expression: str, data: object) -> Any:
    """JMESPath search with compiled expressions cached process-wide."""
    return _compiled(expression).search(data)


def fetch_page(
    client: BaseClient,
    entry: CatalogEntry,
    token: Mapping[str, object] | None,
    page_size: int | None,
) -> Page:
    """Call ONE page of the entry's list operation, resuming at token (botocore's semantics)."""
    params: dict[str, Any] = dict(entry.request_params)
    spec = pagination_spec(entry.service, entry.operation) if entry.paginated else None
    if spec is not None:
        if token:
            params.update(token)
        if spec.limit_key and page_size:
            params[spec.limit_key] = page_size
    response = getattr(client, xform_name(entry.operation))(**params)
    items = search(entry.result_path, response) or []
    return Page(items=list(items), next_token=_next_token(spec, response, token))


def _next_token(
    spec: PaginationSpec | None, response: dict[str, Any], previous: Mapping[str, object] | None
) -> dict[str, Any] | None:
    if spec is None:
        return None
    if spec.more_results and not search(spec.more_results, response):
        return None
    values = [search(expression, response) for expression in spec.output_tokens]
    if not any(values):
        return None
    token = {name: value for name, value in zip(spec.input_tokens, values, strict=True) if value}
    # Some APIs echo the last token forever; botocore stops the same way.
    return None if previous is not None and token == dict(previous) else token


def partition_of(region: str) -> str:
    """The ARN partition of a region name."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if hasattr(value, "read"):  # a StreamingBody is never inventory
        return None
    raise TypeError(f"cannot serialise {type(value).__name__}")


def canonical_json(item: object) -> str:
    """Stable JSON (sorted keys, no whitespace): equal items give equal strings."""
    return json.dumps(item, sort_keys=True, separators=(",", ":"), default=_json_default)


def extract_tags(entry: CatalogEntry, item: Mapping[str, Any]) -> dict[str, str]:
    """The item's tags as a plain string map."""
    if entry.tag_style is TagStyle.NONE or entry.tags_path is None:
        return {}
    raw = search(entry.tags_path, item)
    if not raw:
        return {}
    if entry.tag_style is TagStyle.MAP:
        return {str(key): str(value) for key, value in raw.items()}
    return {str(tag["Key"]): str(tag.get("Value", "")) for tag in raw if "Key" in tag}


def observe(
    entry: CatalogEntry,
    item: dict[str, Any],
    *,
    account_id: str,
    account_name: str,
    region: str,
    sweep_id: str,
    observed_at: datetime,
) -> Observation:
    """Turn one raw listed item into an Observation."""
    resource_id = str(search(entry.id_path, item))
    tags = extract_tags(entry, item)
    if entry.arn_path:
        arn = str(search(entry.arn_path, item))
    else:
        arn = entry.arn_template.format(
            partition=partition_of(region), region=region, account_id=account_id, id=resource_id
        )
    name: str | None
    if entry.name_path and entry.name_path.startswith("tag:"):
        name = tags.get(entry.name_path[4:])
    else:
        found = search(entry.name_path, item) if entry.name_path else None
        name = None if found is None else str(found)
    return Observation(
        arn=arn,
        account_id=account_id,
        account_name=account_name,
        region=region,
        resource_type=entry.type_name,
        resource_id=resource_id,
        name=name,
        tags=tags,
        attributes_json=canonical_json(item),
        observed_at=observed_at,
        sweep_id=sweep_id,
    )
