"""EventBridge resource types (rules of the default event bus, buses, API destinations)."""

from __future__ import annotations

from fleetstream.catalog.entry import (
    CatalogEntry,
    EventRule,
    Pagination,
    Refresh,
    TagStyle,
    tags_detail,
)

_EVENTS = "events.amazonaws.com"
# The list calls omit tags.
_TAGS = tags_detail("ListTagsForResource", "ResourceARN", "Arn", "ResourceNotFoundException")

RULE = CatalogEntry(
    type_name="events.rule",
    operation="ListRules",
    result_path="Rules[]",
    id_path="Name",
    arn_path="Arn",
    arn_template="",
    name_path="Name",
    details=(_TAGS,),
)

EVENT_BUS = CatalogEntry(
    type_name="events.event_bus",
    operation="ListEventBuses",
    # ListEventBuses returns NextToken but botocore has no paginator for it.
    pagination=Pagination("NextToken", "NextToken", "EventBuses", limit_key="Limit"),
    result_path="EventBuses[]",
    id_path="Name",
    arn_path="Arn",
    arn_template="arn:{partition}:events:{region}:{account_id}:event-bus/{id}",
    name_path="Name",
    details=(_TAGS,),
    refresh=Refresh(
        events=(
            EventRule(
                _EVENTS,
                ("CreateEventBus", "UpdateEventBus", "DeleteEventBus", "PutPermission"),
                "requestParameters.name || requestParameters.eventBusName",
            ),
        ),
    ),
)

API_DESTINATION = CatalogEntry(
    type_name="events.api_destination",
    operation="ListApiDestinations",
    # ListApiDestinations returns NextToken but botocore has no paginator for it.
    pagination=Pagination("NextToken", "NextToken", "ApiDestinations", limit_key="Limit"),
    result_path="ApiDestinations[]",
    id_path="Name",
    arn_path="ApiDestinationArn",
    # The ARN ends in a generated UUID, so it cannot be built from the name.
    arn_template="",
    name_path="Name",
    tags_path=None,  # API destinations take no tags
    tag_style=TagStyle.NONE,
    volatile_fields=("ApiDestinationState", "LastModifiedTime"),
    refresh=Refresh(
        events=(
            EventRule(
                _EVENTS,
                ("CreateApiDestination", "UpdateApiDestination", "DeleteApiDestination"),
                "requestParameters.name",
            ),
        ),
    ),
)

ENTRIES = (RULE, EVENT_BUS, API_DESTINATION)
