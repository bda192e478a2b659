"""CloudFront resource types (global: listed once per account)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail

DISTRIBUTION = CatalogEntry(
    type_name="cloudfront.distribution",
    operation="ListDistributions",
    result_path="DistributionList.Items[]",
    id_path="Id",
    arn_path="ARN",
    arn_template="arn:{partition}:cloudfront::{account_id}:distribution/{id}",
    name_path="DomainName",
    global_resource=True,
    page_size_limits=(1, 100),
    details=(
        Detail(
            "ListTagsForResource",
            {"Resource": "ARN"},
            "Tags.Items",
            into="Tags",
            absent_codes=("NoSuchResource",),
        ),
    ),
)

ENTRIES = (DISTRIBUTION,)
