"""GuardDuty resource types (one detector per account and region)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh, TagStyle

DETECTOR = CatalogEntry(
    type_name="guardduty.detector",
    operation="ListDetectors",
    result_path="DetectorIds",
    item_key="DetectorId",
    id_path="DetectorId",
    arn_template="arn:{partition}:guardduty:{region}:{account_id}:detector/{id}",
    name_path="DetectorId",
    tag_style=TagStyle.MAP,
    details=(
        Detail(
            "GetDetector",
            {"DetectorId": "DetectorId"},
            "Tags",
            into="Tags",
            # The configuration, member by member: the response's root holds ResponseMetadata.
            extra={
                name: name
                for name in (
                    "Status",
                    "ServiceRole",
                    "FindingPublishingFrequency",
                    "DataSources",
                    "Features",
                    "CreatedAt",
                    "UpdatedAt",
                )
            },
            absent_codes=("BadRequestException",),
            required=True,
        ),
    ),
    volatile_fields=("UpdatedAt",),
    refresh=Refresh(
        events=(
            EventRule(
                "guardduty.amazonaws.com",
                ("UpdateDetector", "DeleteDetector"),
                "requestParameters.detectorId",
            ),
        ),
    ),
)

ENTRIES = (DETECTOR,)
