"""From one listed (and detailed) item to an Observation: ARN, name, tags, redacted attributes."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fleetstream.base.models import Observation
from fleetstream.catalog.entry import CatalogEntry, TagStyle
from fleetstream.catalog.paths import search
from fleetstream.catalog.relations import RELATIONSHIPS_KEY, resolve

_TAG_KEYS = {
    TagStyle.KEY_VALUE_LIST: ("Key", "Value"),
    TagStyle.LOWER_KEY_VALUE_LIST: ("key", "value"),
    TagStyle.TAG_KEY_VALUE_LIST: ("TagKey", "TagValue"),
}


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


def redacted(value: object, key: bytes) -> str:
    """A stand-in that hides a value but changes when it changes.

    Keyed (HMAC-SHA256 under the deployment's describer.redaction_key): a plain hash of a
    low-entropy secret is recovered by hashing a dictionary, and equal secrets would match
    across deployments. The same key gives the same stand-in every sweep, so changes show.
    """
    text = value if isinstance(value, str) else canonical_json(value)
    digest = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:16]
    return f"<redacted:hmac-sha256:{digest}>"


def _redact_all(node: Any, key: bytes) -> Any:
    """Every leaf value redacted; keys, lists and nulls stay, so the structure is visible."""
    if isinstance(node, dict):
        return {name: _redact_all(value, key) for name, value in node.items()}
    if isinstance(node, list):
        return [_redact_all(value, key) for value in node]
    return None if node is None else redacted(node, key)


def _redact_path(node: Any, parts: list[str], key: bytes) -> Any:
    if not parts:
        return _redact_all(node, key)
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        head = head[:-2]
        if isinstance(node, dict) and isinstance(node.get(head), list):
            node[head] = [_redact_path(element, rest, key) for element in node[head]]
    elif isinstance(node, dict) and head in node:
        node[head] = _redact_path(node[head], rest, key)
    return node


def redact(item: dict[str, Any], paths: tuple[str, ...], key: bytes) -> dict[str, Any]:
    """A copy of item with the values under each dotted path (a[].b forms) redacted."""
    if not paths:
        return item
    copied = copy.deepcopy(item)
    for path in paths:
        _redact_path(copied, path.split("."), key)
    return copied


def extract_tags(entry: CatalogEntry, item: Mapping[str, Any]) -> dict[str, str]:
    """The item's tags as a plain string map."""
    if entry.tag_style is TagStyle.NONE or entry.tags_path is None:
        return {}
    raw = search(entry.tags_path, item)
    if not raw:
        return {}
    if entry.tag_style is TagStyle.MAP:
        return {str(key): str(value) for key, value in raw.items()}
    key, value = _TAG_KEYS[entry.tag_style]
    return {str(tag[key]): str(tag.get(value) or "") for tag in raw if key in tag}


def _arn(
    entry: CatalogEntry, item: Mapping[str, Any], region: str, account_id: str, rid: str
) -> str:
    found = search(entry.arn_path, item) if entry.arn_path else None
    if found:
        return str(found)
    if not entry.arn_template:
        raise ValueError(f"{entry.type_name} item {rid!r} has no ARN at {entry.arn_path!r}")
    return entry.arn_template.format(
        partition=partition_of(region),
        region=region,
        account_id=account_id,
        id=rid,
        id_path=rid.lstrip("/"),
    )


def observe(
    entry: CatalogEntry,
    item: dict[str, Any],
    *,
    account_id: str,
    account_name: str,
    region: str,
    sweep_id: str,
    observed_at: datetime,
    redaction_key: bytes,
) -> Observation:
    """Turn one raw listed item into an Observation (sensitive values redacted under
    redaction_key, the deployment's secret)."""
    resource_id = str(search(entry.id_path, item))
    tags = extract_tags(entry, item)
    name: str | None
    if entry.name_path and entry.name_path.startswith("tag:"):
        name = tags.get(entry.name_path[4:])
    else:
        found = search(entry.name_path, item) if entry.name_path else None
        name = None if found is None else str(found)
    attributes = redact(item, entry.sensitive_fields, redaction_key)
    # Resolved from the item before redaction; part of the attributes, so of the fingerprint
    # and the change paths (relationships.<name>). No key when the item has no edge.
    edges = resolve(
        entry, item, partition=partition_of(region), region=region, account_id=account_id
    )
    if edges:
        attributes = {**attributes, RELATIONSHIPS_KEY: edges}
    return Observation(
        arn=_arn(entry, item, region, account_id, resource_id),
        account_id=account_id,
        account_name=account_name,
        region=region,
        resource_type=entry.type_name,
        resource_id=resource_id,
        name=name,
        tags=tags,
        attributes_json=canonical_json(attributes),
        observed_at=observed_at,
        sweep_id=sweep_id,
    )
