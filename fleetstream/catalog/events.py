"""EventBridge resource types (rules of the default event bus)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail

RULE = CatalogEntry(
    type_name="events.rule",
    operation="ListRules",
    result_path="Rules[]",
    id_path="Name",
    arn_path="Arn",
    arn_template="",
    name_path="Name",
    details=(
        Detail(
            "ListTagsForResource",
            {"ResourceARN": "Arn"},
            "Tags",
            into="Tags",
            absent_codes=("ResourceNotFoundException",),
        ),
    ),
)

ENTRIES = (RULE,)
