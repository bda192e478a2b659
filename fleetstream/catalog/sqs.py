"""SQS resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, TagStyle
from fleetstream.catalog.quirks import last_segment

_GONE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")

QUEUE = CatalogEntry(
    type_name="sqs.queue",
    operation="ListQueues",
    result_path="QueueUrls",
    item_key="QueueUrl",
    id_path="QueueName",
    arn_path="QueueArn",
    arn_template="arn:{partition}:sqs:{region}:{account_id}:{id}",
    name_path="QueueName",
    tag_style=TagStyle.MAP,
    details=(
        Detail(
            "GetQueueAttributes",
            {"QueueUrl": "QueueUrl"},
            "Attributes",
            static_params={"AttributeNames": ["All"]},
            absent_codes=_GONE,
            required=True,
        ),
        Detail("ListQueueTags", {"QueueUrl": "QueueUrl"}, "Tags", into="Tags", absent_codes=_GONE),
    ),
    # Only the URL names the queue; its last segment is the name.
    quirk=last_segment("QueueUrl", "QueueName"),
    quirk_fields=("QueueName",),
    volatile_fields=(
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ),
)

ENTRIES = (QUEUE,)
