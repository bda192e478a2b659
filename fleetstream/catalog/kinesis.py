"""Kinesis Data Streams resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail

STREAM = CatalogEntry(
    type_name="kinesis.stream",
    operation="ListStreams",
    result_path="StreamSummaries[]",
    id_path="StreamName",
    arn_path="StreamARN",
    arn_template="arn:{partition}:kinesis:{region}:{account_id}:stream/{id}",
    name_path="StreamName",
    details=(
        Detail(
            "ListTagsForStream",
            {"StreamName": "StreamName"},
            "Tags",
            into="Tags",
            absent_codes=("ResourceNotFoundException",),
        ),
    ),
)

ENTRIES = (STREAM,)
