"""CloudWatch resource types (metric alarms)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail

ALARM = CatalogEntry(
    type_name="cloudwatch.alarm",
    operation="DescribeAlarms",
    request_params={"AlarmTypes": ["MetricAlarm"]},
    result_path="MetricAlarms[]",
    id_path="AlarmName",
    arn_path="AlarmArn",
    arn_template="arn:{partition}:cloudwatch:{region}:{account_id}:alarm:{id}",
    name_path="AlarmName",
    details=(
        Detail(
            "ListTagsForResource",
            {"ResourceARN": "AlarmArn"},
            "Tags",
            into="Tags",
            absent_codes=("ResourceNotFound", "ResourceNotFoundException"),
        ),
    ),
    # An alarm's state follows its metric; the inventory records its configuration.
    volatile_fields=(
        "StateValue",
        "StateReason",
        "StateReasonData",
        "StateUpdatedTimestamp",
        "StateTransitionedTimestamp",
    ),
    # No refresh: CloudTrail records these calls as monitoring.amazonaws.com while EventBridge
    # delivers them as aws.cloudwatch, which the member rule's aws.<prefix> sources miss.
)

ENTRIES = (ALARM,)
