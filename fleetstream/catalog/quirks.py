"""Per-item fixes for the quirks declarations cannot express; each one says why it exists."""

from __future__ import annotations

from typing import Any

from fleetstream.catalog.entry import Quirk

# GetBucketLocation answers null for us-east-1 and "EU" for buckets made long ago in eu-west-1.
_LEGACY_LOCATIONS = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}


def bucket_region(item: dict[str, Any]) -> dict[str, Any]:
    """BucketRegion as a real region name (left out when GetBucketLocation was refused)."""
    if "BucketRegion" not in item:
        return item  # unknown is not us-east-1
    location = item.get("BucketRegion")
    return {**item, "BucketRegion": _LEGACY_LOCATIONS.get(location, location)}


def last_segment(source: str, target: str, separator: str = "/") -> Quirk:
    """A quirk that names an item after the last segment of a URL, ARN or path it has."""

    def add(item: dict[str, Any]) -> dict[str, Any]:
        value = item.get(source)
        return {**item, target: None if value is None else str(value).rsplit(separator, 1)[-1]}

    return add


def formatted(target: str, template: str) -> Quirk:
    """A quirk that adds target = template filled from the item's keys: the id of a child
    whose own name is unique only within its parent (an API Gateway stage)."""

    def add(item: dict[str, Any]) -> dict[str, Any]:
        return {**item, target: template.format_map(item)}

    return add
