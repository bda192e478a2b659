"""Parsing `--where` / `--set`, and resolving a selector against the inventory in DynamoDB."""

from __future__ import annotations

import json
import re
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from fleetstream.actions.models import Selector, Target
from fleetstream.actions.registry import ActionError
from fleetstream.aws.errors import error_code
from fleetstream.base.models import ShardKey
from fleetstream.catalog import CATALOG
from fleetstream.inventory.dynamodb import ACCOUNT_INDEX, SHARD_INDEX, chunks

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_ARN = re.compile(r"^arn:[\w-]+:[\w-]+:([a-z0-9-]*):(\d{12}):(.+)$")


def parse_where(text: str) -> Selector:
    """`type=ec2.instance,tag:Env=prod,attr:State.Name=running,account=...,region=...,arn=...`.

    account, region and arn may repeat (or list values with |); anything else is an error
    with one line naming the bad term.
    """
    resource_type = ""
    tags: dict[str, str] = {}
    attributes: dict[str, str] = {}
    accounts: list[str] = []
    regions: list[str] = []
    arns: list[str] = []
    for term in _terms(text):
        key, sep, value = term.partition("=")
        key = key.strip()
        if not sep or not key or not value:
            raise ActionError(f"malformed selector term {term!r}: expected key=value")
        if key == "type":
            resource_type = value
        elif key.startswith("tag:") and len(key) > 4:
            tags[key[4:]] = value
        elif key.startswith("attr:") and len(key) > 5:
            attributes[key[5:]] = value
        elif key == "account":
            accounts += _checked(value.split("|"), _ACCOUNT, "an account id (12 digits)")
        elif key == "region":
            regions += _checked(value.split("|"), _REGION, "a region name")
        elif key == "arn":
            arns += _checked(value.split("|"), _ARN, "an ARN")
        else:
            raise ActionError(
                f"unknown selector key {key!r} (use type, tag:K, attr:Path, account, region, arn)"
            )
    if not resource_type:
        raise ActionError("the selector needs type=<resource type>, e.g. type=ec2.instance")
    if resource_type not in CATALOG:
        raise ActionError(f"unknown resource type {resource_type!r} (see docs/catalog.md)")
    return Selector(
        resource_type=resource_type,
        arns=tuple(dict.fromkeys(arns)),
        tags=tags,
        attributes=attributes,
        accounts=tuple(dict.fromkeys(accounts)),
        regions=tuple(dict.fromkeys(regions)),
    )


def parse_set(pairs: Iterable[str]) -> dict[str, str]:
    """`--set Key=Value` (repeatable) -> {Key: Value}; `--set Key` -> {Key: ""}."""
    params: dict[str, str] = {}
    for pair in pairs:
        key, _sep, value = pair.partition("=")
        if not key.strip():
            raise ActionError(f"malformed --set {pair!r}: expected Key=Value")
        params[key.strip()] = value
    return params


def _terms(text: str) -> Iterator[str]:
    # ARNs contain no commas, tag values rarely do; a term is everything between commas.
    for term in text.split(","):
        if term.strip():
            yield term.strip()


def _checked(values: list[str], pattern: re.Pattern[str], what: str) -> list[str]:
    for value in values:
        if not pattern.match(value):
            raise ActionError(f"malformed selector: {value!r} is not {what}")
    return values


@dataclass(frozen=True, slots=True)
class Plan:
    """The targets of a request, grouped by (account, region), in a stable order."""

    targets: Mapping[tuple[str, str], tuple[Target, ...]]

    @property
    def total(self) -> int:
        return sum(len(t) for t in self.targets.values())

    def batches(self, size: int) -> Iterator[tuple[str, str, int, tuple[Target, ...]]]:
        """(account, region, n, targets) chunks of at most size targets."""
        for (account, region), targets in sorted(self.targets.items()):
            for n, chunk in enumerate(chunks(targets, size)):
                yield account, region, n, tuple(chunk)


def arn_identity(arn: str) -> tuple[str, str, str]:
    """(account, region, resource id) of an ARN: the id is the last ':' or '/' segment."""
    match = _ARN.match(arn)
    if match is None:
        raise ActionError(f"{arn!r} is not an ARN")
    region, account, resource = match.groups()
    return account, region, re.split(r"[:/]", resource)[-1]


class InventoryQuery:
    """Resolves selectors through the inventory table's indexes (never a scan)."""

    _PROJECTION = (
        "arn, account_id, #region, resource_id, tags, attributes, attributes_z, deleted_at_ms"
    )

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def plan(self, selector: Selector, accounts: Sequence[str]) -> Plan:
        """Every live target of the selector; accounts is the estate when it names none."""
        try:
            return self._plan(selector, accounts)
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            raise ActionError(
                f"the inventory table {self._table} does not exist: run a sweep first "
                "(or set sink.table)"
            ) from None

    def _plan(self, selector: Selector, accounts: Sequence[str]) -> Plan:
        grouped: dict[tuple[str, str], list[Target]] = defaultdict(list)
        if selector.arns:
            for arn in selector.arns:
                account, region, resource_id = arn_identity(arn)
                grouped[(account, region)].append(Target(arn, resource_id))
        else:
            for item in self._items(selector, selector.accounts or tuple(accounts)):
                target = Target(item["arn"]["S"], item["resource_id"]["S"])
                grouped[_account_region(item)].append(target)
        return Plan({k: tuple(sorted(v, key=lambda t: t.arn)) for k, v in grouped.items()})

    def _items(self, selector: Selector, accounts: Sequence[str]) -> Iterator[dict[str, Any]]:
        # by_shard projects arn and resource_id: with regions and no tag or attribute filter,
        # the index answers alone; otherwise the items are read for their region and tags.
        read_items = bool(selector.tags or selector.attributes) or not selector.regions
        for account in accounts:
            if selector.regions:
                found = [
                    item
                    for region in selector.regions
                    for item in self._by_shard(f"{account}/{region}/{selector.resource_type}")
                ]
            else:
                found = list(self._by_account(account, selector.resource_type))
            if not read_items:
                yield from found
                continue
            for item in self._get([i["arn"]["S"] for i in found]):
                if _matches(item, selector):
                    yield item

    def _by_shard(self, shard: str) -> Iterator[dict[str, Any]]:
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=SHARD_INDEX,
            KeyConditionExpression="#shard = :s",
            ExpressionAttributeNames={"#shard": "shard"},
            ExpressionAttributeValues={":s": {"S": shard}},
        )
        for page in pages:
            for item in page["Items"]:
                if "deleted_at_ms" not in item:
                    yield item

    def _by_account(self, account: str, resource_type: str) -> Iterator[dict[str, Any]]:
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=ACCOUNT_INDEX,
            KeyConditionExpression="account_id = :a AND resource_type = :t",
            ExpressionAttributeValues={":a": {"S": account}, ":t": {"S": resource_type}},
        )
        for page in pages:
            yield from page["Items"]

    def _get(self, arns: list[str]) -> Iterator[dict[str, Any]]:
        """The items themselves (tags and attributes are not in the indexes), 100 per call."""
        for chunk in chunks(sorted(arns), 100):
            request: dict[str, Any] = {
                self._table: {
                    "Keys": [{"arn": {"S": arn}} for arn in chunk],
                    "ProjectionExpression": self._PROJECTION,
                    "ExpressionAttributeNames": {"#region": "region"},
                }
            }
            while request:
                response = self._client.batch_get_item(RequestItems=request)
                yield from response["Responses"].get(self._table, [])
                request = response.get("UnprocessedKeys") or {}


def _account_region(item: dict[str, Any]) -> tuple[str, str]:
    """Where an item lives: from the item itself, or from its by_shard key."""
    if "account_id" in item and "region" in item:
        return item["account_id"]["S"], item["region"]["S"]
    shard = ShardKey.parse(item["shard"]["S"])
    return shard.account_id, shard.region


def _matches(item: dict[str, Any], selector: Selector) -> bool:
    if "deleted_at_ms" in item:
        return False
    if selector.regions and item["region"]["S"] not in selector.regions:
        return False
    tags = {k: v["S"] for k, v in item.get("tags", {}).get("M", {}).items()}
    if any(tags.get(k) != v for k, v in selector.tags.items()):
        return False
    if selector.attributes:
        attributes = _attributes(item)
        return all(_path_value(attributes, p) == v for p, v in selector.attributes.items())
    return True


def _attributes(item: dict[str, Any]) -> Any:
    if "attributes" in item:
        return json.loads(item["attributes"]["S"])
    if "attributes_z" in item:
        return json.loads(zlib.decompress(item["attributes_z"]["B"]))
    return {}


def _path_value(attributes: Any, path: str) -> str | None:
    """The value at a dotted path as text (booleans lower-case, like JSON), or None."""
    value = attributes
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)
