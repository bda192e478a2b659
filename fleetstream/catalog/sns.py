"""SNS resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, Relation, TagStyle
from fleetstream.catalog.entry import RelationName as R
from fleetstream.catalog.quirks import last_segment

TOPIC = CatalogEntry(
    type_name="sns.topic",
    operation="ListTopics",
    result_path="Topics[]",
    id_path="TopicName",
    arn_path="TopicArn",
    arn_template="",
    name_path="TopicName",
    details=(
        Detail(
            "GetTopicAttributes",
            {"TopicArn": "TopicArn"},
            "Attributes",
            absent_codes=("NotFound",),
            required=True,
        ),
        Detail(
            "ListTagsForResource",
            {"ResourceArn": "TopicArn"},
            "Tags",
            into="Tags",
            absent_codes=("ResourceNotFound", "NotFound"),
        ),
    ),
    # Only the ARN names the topic; its last segment is the name.
    quirk=last_segment("TopicArn", "TopicName", ":"),
    quirk_fields=("TopicName",),
    volatile_fields=("SubscriptionsConfirmed", "SubscriptionsPending", "SubscriptionsDeleted"),
)

SUBSCRIPTION = CatalogEntry(
    type_name="sns.subscription",
    operation="ListSubscriptions",
    # An unconfirmed subscription's "ARN" is the word PendingConfirmation: nothing to key.
    result_path="Subscriptions[?starts_with(SubscriptionArn, 'arn:')]",
    id_path="SubscriptionArn",
    arn_path="SubscriptionArn",
    arn_template="",
    name_path="Endpoint",
    tags_path=None,  # subscriptions take no tags
    tag_style=TagStyle.NONE,
    relations=(Relation(R.IS_ASSOCIATED_WITH, "TopicArn", "sns.topic"),),
)

ENTRIES = (TOPIC, SUBSCRIPTION)
