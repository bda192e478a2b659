"""SES (v1 API) resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, TagStyle

CONFIGURATION_SET = CatalogEntry(
    type_name="ses.configuration_set",
    operation="ListConfigurationSets",
    result_path="ConfigurationSets[]",
    id_path="Name",
    arn_template="arn:{partition}:ses:{region}:{account_id}:configuration-set/{id}",
    name_path="Name",
    tags_path=None,  # the v1 API returns no tags
    tag_style=TagStyle.NONE,
    details=(
        Detail(
            "DescribeConfigurationSet",
            {"ConfigurationSetName": "Name"},
            "DeliveryOptions",
            into="DeliveryOptions",
            static_params={
                "ConfigurationSetAttributeNames": [
                    "eventDestinations",
                    "trackingOptions",
                    "deliveryOptions",
                    "reputationOptions",
                ]
            },
            extra={
                "EventDestinations": "EventDestinations",
                "TrackingOptions": "TrackingOptions",
                "ReputationOptions": "ReputationOptions",
            },
            absent_codes=("ConfigurationSetDoesNotExist",),
            required=True,
        ),
    ),
)

ENTRIES = (CONFIGURATION_SET,)
