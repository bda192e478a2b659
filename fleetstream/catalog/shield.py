"""Shield Advanced resource types (global: listed once per account, through us-east-1)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, tags_detail

PROTECTION = CatalogEntry(
    type_name="shield.protection",
    operation="ListProtections",
    result_path="Protections[]",
    id_path="Id",
    arn_path="ProtectionArn",
    arn_template="arn:{partition}:shield::{account_id}:protection/{id}",
    name_path="Name",
    global_resource=True,
    details=(
        tags_detail(
            "ListTagsForResource", "ResourceARN", "ProtectionArn", "ResourceNotFoundException"
        ),
    ),
)

ENTRIES = (PROTECTION,)
