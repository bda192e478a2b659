"""A resource type is one declarative entry; the generic engine pages and extracts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fleetstream.catalog.iam_actions import iam_action

# A per-item fix-up for a quirk no declaration can express (e.g. S3's "EU" location).
Quirk = Callable[[dict[str, Any]], dict[str, Any]]


class TagStyle(StrEnum):
    """How a service spells tags in its describe output."""

    KEY_VALUE_LIST = "key_value_list"  # [{"Key": k, "Value": v}] (EC2, RDS, ...)
    LOWER_KEY_VALUE_LIST = "lower_key_value_list"  # [{"key": k, "value": v}] (ECS, Step Functions)
    TAG_KEY_VALUE_LIST = "tag_key_value_list"  # [{"TagKey": k, "TagValue": v}] (KMS)
    MAP = "map"  # {"k": "v"} (Lambda, ...)
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Detail:
    """A call made after the list call, with the same client, to complete each listed item.

    Per item (batch_param None): one call per item, params read from the item; the value at
    result_path is stored under `into`, or merged into the item when `into` is None.
    Batched (batch_param set): one call per batch_size items that agree on the other params;
    batch_param gets the list of their values, result_path selects a list of elements and
    `match` = (item path, element path) pairs each element with its item; value_path selects
    what of the element is stored (or merged).
    """

    operation: str
    params: Mapping[str, str]  # request parameter -> JMESPath over the item
    result_path: str  # JMESPath over the response
    into: str | None = None  # item key for the value; None merges a mapping into the item
    static_params: Mapping[str, object] = field(default_factory=dict)
    extra: Mapping[str, str] = field(default_factory=dict)  # more item keys <- response paths
    batch_param: str | None = None
    batch_size: int = 1
    match: tuple[str, str] | None = None
    value_path: str = "@"
    # Error codes that mean "nothing for this item" (NoSuchTagSet, ResourceNotFoundException).
    absent_codes: tuple[str, ...] = ()
    # True: an item the detail finds nothing for vanished since the list call and is dropped.
    required: bool = False
    keep_if: str | None = None  # JMESPath predicate after this detail; falsy drops the item


def tags_detail(
    operation: str, param: str, arn_path: str, *absent_codes: str, result_path: str = "Tags"
) -> Detail:
    """The common detail of types whose list call omits tags: one call per item, its ARN (or
    id) at arn_path as param, the tags at result_path stored under "Tags"."""
    return Detail(operation, {param: arn_path}, result_path, into="Tags", absent_codes=absent_codes)


@dataclass(frozen=True, slots=True)
class Pagination:
    """How a list operation pages where botocore ships no paginator for it (Athena's
    ListWorkGroups, EventBridge's ListEventBuses, ...): the API returns a next token, and
    without this the engine would read the first page only. The engine uses it exactly like
    a botocore paginator model (input_token, output_token, limit_key, result_key)."""

    input_token: str  # the request member that takes the token (NextToken)
    output_token: str  # JMESPath to the token in the response (NextToken)
    result_key: str  # the response member the items come from (the entry's result_path)
    limit_key: str | None = None  # the request member that takes the page size (MaxResults)


@dataclass(frozen=True, slots=True)
class Parent:
    """The resource type a child type is listed under (ECS services per cluster).

    The engine lists a page of parents, then the children of one parent after the other, and
    carries the parents still to visit in the page token, so a page never rescans.
    """

    operation: str
    result_path: str  # JMESPath from the parent list response to the parent items
    id_path: str  # JMESPath from a parent item to the value the child list call takes
    param: str  # the child list operation's parameter that takes it
    into: str  # the child item key the parent's id is stored under
    request_params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventRule:
    """CloudTrail management events that change resources of a type, and where their ids are.

    An event matches when detail.eventSource == source and detail.eventName is one of names
    (CloudTrail appends an API version to some names, e.g. Lambda's CreateFunction20150331:
    a name matches that name followed by digits and an optional "v<digits>").
    """

    source: str  # "ec2.amazonaws.com"
    names: tuple[str, ...]  # API operation names
    ids: str  # JMESPath over the event's detail to one id or a list of ids
    id_prefix: str | None = None  # keep only ids with this prefix (CreateTags: "i-" ...)


@dataclass(frozen=True, slots=True)
class Refresh:
    """How a targeted refresh describes only the given ids of a type, and which events ask.

    ids_param: a list parameter of the list operation that takes ids (InstanceIds);
    filter_name: an EC2-style filter (Filters=[{Name, Values}]) that takes them; neither: the
    list operation runs as in a sweep and only items with those ids are kept (S3, Lambda).
    """

    events: tuple[EventRule, ...]
    ids_param: str | None = None
    filter_name: str | None = None
    max_ids: int = 100  # ids per targeted work item (the APIs' id lists are bounded)
    # Replaces the entry's request_params for targeted describes (e.g. to see an instance in
    # its terminal state, which sweeps filter out).
    request_params: Mapping[str, object] | None = None


class RelationName(StrEnum):
    """The edge names (AWS Config's): the source's view of its target."""

    CONTAINS = "contains"
    IS_CONTAINED_IN = "is_contained_in"
    IS_ASSOCIATED_WITH = "is_associated_with"
    IS_ATTACHED_TO = "is_attached_to"


@dataclass(frozen=True, slots=True)
class Relation:
    """An edge from each item of a type to the resources named at path.

    path is a JMESPath over the final item to one id or ARN or a list of them; an id becomes
    an ARN through the target type's arn_template (with the source's partition, region and
    account). Declared on one side only: the reverse edge is derived by whoever reads them.
    """

    name: RelationName
    path: str
    target_type: str  # a catalog type_name


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """How to list one resource type and turn each listed item into an observation."""

    # "<service>.<kind>", the value of WorkItem.resource_type; <service> is the boto3 client
    # name and the entry lives in fleetstream/catalog/<service>.py ("-" spelled "_").
    type_name: str
    operation: str  # API operation name, e.g. DescribeInstances
    result_path: str  # JMESPath from the response to the list of items
    id_path: str  # JMESPath from an item to its identifier
    # {partition} {region} {account_id} {id} ({id_path}: id without a leading "/"); "" when
    # arn_path always finds the ARN. Used when arn_path finds none.
    arn_template: str
    arn_path: str | None = None  # JMESPath to an ARN the API returns itself
    name_path: str | None = None  # JMESPath to a display name; "tag:Name" reads a tag
    tags_path: str | None = "Tags"
    tag_style: TagStyle = TagStyle.KEY_VALUE_LIST
    global_resource: bool = False  # listed once per account, region "global"
    paginated: bool = True
    # Declared paging for a list operation botocore has no paginator for (see Pagination).
    pagination: Pagination | None = None
    request_params: Mapping[str, object] = field(default_factory=dict)
    volatile_fields: tuple[str, ...] = ()  # ignored by change detection
    # Values replaced by "<redacted:hmac-sha256:...>" before anything leaves the describer.
    sensitive_fields: tuple[str, ...] = ()
    item_key: str | None = None  # list items are plain strings: each becomes {item_key: s}
    details: tuple[Detail, ...] = ()
    parent: Parent | None = None
    # (min, max) page size the list call accepts where botocore's model does not say.
    page_size_limits: tuple[int, int] | None = None
    prepare: Quirk | None = None  # applied to each listed item before the details
    quirk: Quirk | None = None  # applied to each item after the details
    quirk_fields: tuple[str, ...] = ()  # top-level item keys prepare and quirk add
    refresh: Refresh | None = None  # event-driven refresh (issue: continuous inventory)
    relations: tuple[Relation, ...] = ()  # edges to other types (see relations.py)

    @property
    def service(self) -> str:
        """The boto3 client name: the part of type_name before the dot."""
        return self.type_name.partition(".")[0]

    @property
    def permissions(self) -> tuple[str, ...]:
        """The IAM actions the entry's calls need, in call order; derived, never declared, so
        the member role grants exactly what the entry calls."""
        return tuple(dict.fromkeys(iam_action(self.service, op) for op in self.operations()))

    @property
    def kind(self) -> str:
        """The part of type_name after the service."""
        return self.type_name.partition(".")[2]

    def operations(self) -> tuple[str, ...]:
        """Every API operation the entry calls: parent list, list, details (in call order)."""
        parent = (self.parent.operation,) if self.parent else ()
        return (*parent, self.operation, *(d.operation for d in self.details))
