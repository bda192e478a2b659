"""Amazon MQ resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh, TagStyle

BROKER = CatalogEntry(
    type_name="mq.broker",
    operation="ListBrokers",
    result_path="BrokerSummaries[]",
    id_path="BrokerId",
    arn_path="BrokerArn",
    arn_template="",  # the ARN holds the name and the id
    name_path="BrokerName",
    tag_style=TagStyle.MAP,
    details=(
        Detail(
            "ListTags",
            {"ResourceArn": "BrokerArn"},
            "Tags",
            into="Tags",
            absent_codes=("NotFoundException",),
        ),
    ),
    volatile_fields=("BrokerState",),
    refresh=Refresh(
        events=(
            EventRule(
                "mq.amazonaws.com",
                ("UpdateBroker", "DeleteBroker", "RebootBroker"),
                "requestParameters.brokerId",
            ),
        ),
    ),
)

ENTRIES = (BROKER,)
