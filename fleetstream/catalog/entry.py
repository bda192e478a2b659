"""A resource type is one declarative entry; the generic engine pages and extracts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class TagStyle(StrEnum):
    """How a service spells tags in its describe output."""

    KEY_VALUE_LIST = "key_value_list"  # [{"Key": k, "Value": v}] (EC2, RDS, ...)
    MAP = "map"  # {"k": "v"} (Lambda, ...)
    NONE = "none"


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """How to list one resource type and turn each listed item into an observation."""

    type_name: str  # "<service>.<kind>", the value of WorkItem.resource_type
    service: str  # boto3 client name
    operation: str  # API operation name, e.g. DescribeInstances
    result_path: str  # JMESPath from the response to the list of items
    id_path: str  # JMESPath from an item to its identifier
    arn_template: str  # {partition} {region} {account_id} {id}, or "" when arn_path is used
    permissions: tuple[str, ...]  # IAM actions the describe needs
    arn_path: str | None = None  # JMESPath to an ARN the API returns itself
    name_path: str | None = None  # JMESPath to a display name; "tag:Name" reads a tag
    tags_path: str | None = "Tags"
    tag_style: TagStyle = TagStyle.KEY_VALUE_LIST
    global_resource: bool = False  # listed once per account, region "global"
    paginated: bool = True
    request_params: Mapping[str, object] = field(default_factory=dict)
    volatile_fields: tuple[str, ...] = ()  # ignored by change detection
