"""The chaos trials' attribute check: each stored instance's attributes equal moto's own
describe output, field by field, the catalog's volatile fields aside.

Ids and tags alone would miss an item written from a half-read or stale page, or attributes
mangled on the way (redaction, compression, the DynamoDB round trip).
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from consumers.sink.changes import without_volatile
from devstack.seed import Estate
from fleetstream.catalog import CATALOG
from fleetstream.catalog.observe import canonical_json, partition_of, redact
from fleetstream.catalog.relations import RELATIONSHIPS_KEY, resolve
from tests.integration.helpers import member_client

INSTANCE_TYPE = "ec2.instance"


def described_instances(aws_endpoint: str, estate: Estate, key: bytes) -> dict[str, Any]:
    """Instance id -> moto's describe output, redacted (under the trial's redaction key), with
    the relationships resolved from it, serialized as the describer does."""
    entry = CATALOG[INSTANCE_TYPE]
    found: dict[str, Any] = {}
    for account in estate.accounts:
        if not account.assumable:
            continue
        for region in estate.regions:
            ec2 = member_client(aws_endpoint, account.account_id, "ec2", region)
            pages = ec2.get_paginator("describe_instances").paginate(**entry.request_params)
            for page in pages:
                for reservation in page["Reservations"]:
                    for instance in reservation["Instances"]:
                        described = redact(instance, entry.sensitive_fields, key)
                        # The edges the describer resolves from the same output (subnet, VPC,
                        # security groups, ...): compared too, not skipped.
                        edges = resolve(
                            entry,
                            instance,
                            partition=partition_of(region),
                            region=region,
                            account_id=account.account_id,
                        )
                        if edges:
                            described = {**described, RELATIONSHIPS_KEY: edges}
                        found[instance["InstanceId"]] = json.loads(canonical_json(described))
    return found


def stored_attributes(item: dict[str, Any]) -> Any:
    """An inventory item's attributes as JSON, however the sink stored them."""
    if "attributes" in item:
        return json.loads(item["attributes"]["S"])
    if "attributes_z" in item:
        return json.loads(zlib.decompress(item["attributes_z"]["B"]).decode())
    return None


def differing_attributes(items: dict[str, dict[str, Any]], truth: dict[str, Any]) -> list[str]:
    """'id: first differing path' of each live item whose attributes differ from moto's (items
    moto no longer lists, such as one kept from a failed shard, are the deletion checks'
    business)."""
    volatile = CATALOG[INSTANCE_TYPE].volatile_fields
    differing = []
    for resource_id, item in sorted(items.items()):
        if "deleted_at" in item or resource_id not in truth:
            continue
        stored = without_volatile(stored_attributes(item), volatile)
        described = without_volatile(truth[resource_id], volatile)
        if stored != described:
            differing.append(f"{resource_id}: {first_difference(stored, described)}")
    return differing


def first_difference(stored: Any, described: Any, path: str = "") -> str:
    """The first path where two JSON documents differ, and both values there."""
    if isinstance(stored, dict) and isinstance(described, dict):
        for key in sorted(set(stored) | set(described)):
            if stored.get(key) != described.get(key):
                return first_difference(stored.get(key), described.get(key), f"{path}.{key}")
    if isinstance(stored, list) and isinstance(described, list) and len(stored) == len(described):
        for index, (left, right) in enumerate(zip(stored, described, strict=True)):
            if left != right:
                return first_difference(left, right, f"{path}[{index}]")
    return f"{path.lstrip('.') or '$'} stored {stored!r:.80} described {described!r:.80}"
