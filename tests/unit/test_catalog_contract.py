"""Every catalog entry against botocore's service models: operations, paths, permissions."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import botocore.session
import jmespath
import pytest
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from botocore.validate import ParamValidator

from fleetstream.catalog import CATALOG, SERVICE_MODULES, CatalogEntry, TagStyle
from fleetstream.catalog.engine import entry_pagination_spec
from fleetstream.catalog.entry import Detail
from fleetstream.catalog.policy import required_actions

pytestmark = pytest.mark.unit
ENTRIES = list(CATALOG.values())
IDS = list(CATALOG)
SESSION = botocore.session.get_session()
TAG_MEMBERS = {
    TagStyle.KEY_VALUE_LIST: ("Key", "Value"),
    TagStyle.LOWER_KEY_VALUE_LIST: ("key", "value"),
    TagStyle.TAG_KEY_VALUE_LIST: ("TagKey", "TagValue"),
}
PERMISSION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$")
TYPE_NAME = re.compile(r"^[a-z0-9-]+\.[a-z][a-z_]*$")


class PathError(AssertionError):
    """A JMESPath does not fit the shape it is applied to."""


@dataclass(frozen=True)
class Many:
    """What a projection yields: a list of values of one shape."""

    of: Node


@dataclass
class Item:
    """An item as the engine builds it: listed element, named keys, merged detail results."""

    named: dict[str, Node] = field(default_factory=dict)
    merged: list[Shape] = field(default_factory=list)  # structures or maps merged into it


Node = Shape | Many | Item | None  # None: anything (a quirk's field, a map key's value)


def _field(node: Node, name: str) -> Node:
    if node is None:
        return None
    if isinstance(node, Item):
        if name in node.named:
            return node.named[name]
        for shape in node.merged:
            if isinstance(shape, StructureShape) and name in shape.members:
                return shape.members[name]
            if isinstance(shape, MapShape):
                return shape.value
        raise PathError(f"item has no field {name!r}")
    if isinstance(node, Many):
        raise PathError(f"field {name!r} of a projection needs []")
    if isinstance(node, StructureShape):
        if name not in node.members:
            raise PathError(f"{node.name} has no member {name!r}")
        return node.members[name]
    if isinstance(node, MapShape):
        return node.value
    raise PathError(f"{node.name} ({node.type_name}) has no field {name!r}")


def _elements(node: Node) -> Node:
    if isinstance(node, Many):
        return node.of
    if isinstance(node, ListShape):
        return node.member
    raise PathError(f"[] of something that is not a list: {node}")


def walk(node: Node, ast: dict[str, Any]) -> Node:
    """The shape an expression yields from node, or PathError. Only the forms entries use."""
    kind, children = ast["type"], ast["children"]
    if kind == "field":
        return _field(node, ast["value"])
    if kind in ("current", "identity"):
        return node
    if kind == "subexpression":
        return walk(walk(node, children[0]), children[1])
    if kind == "flatten":
        inner = _elements(walk(node, children[0]))
        return Many(_elements(inner) if isinstance(inner, ListShape | Many) else inner)
    if kind == "projection":
        return Many(walk(_elements(walk(node, children[0])), children[1]))
    if kind == "comparator" and ast["value"] == "eq" and children[1]["type"] == "literal":
        compared = walk(node, children[0])
        enum = getattr(compared, "enum", None)
        if enum and children[1]["value"] not in enum:
            raise PathError(f"{children[1]['value']!r} is not one of {enum}")
        return None
    if kind == "comparator":  # a comparison inside a filter: both sides must exist
        for child in children:
            walk(node, child)
        return None
    if kind == "filter_projection":  # Aliases[?cond]: the condition's fields must exist too
        elements = _elements(walk(node, children[0]))
        walk(elements, children[2])
        return Many(walk(elements, children[1]))
    if kind in ("function_expression", "not_expression", "and_expression", "or_expression"):
        for child in children:
            walk(node, child)
        return None
    if kind == "literal":
        return None
    raise PathError(f"unsupported expression node {kind!r}")


def path(node: Node, expression: str) -> Node:
    """Walk a JMESPath expression over a shape."""
    parsed: dict[str, Any] = jmespath.compile(expression).parsed  # type: ignore[assignment]
    return walk(node, parsed)


def operation(entry: CatalogEntry, name: str) -> OperationModel:
    model = SESSION.get_service_model(entry.service)
    assert name in model.operation_names, f"{entry.service} has no operation {name}"
    return model.operation_model(name)


def dummy(shape: Shape) -> Any:
    """A value botocore's validator accepts for a shape (list of one string, etc.)."""
    if isinstance(shape, ListShape):
        return [dummy(shape.member)]
    if shape.type_name == "string":
        return "x" * max(1, int(shape.metadata.get("min", 1)))
    return {"integer": 1, "long": 1, "boolean": True}.get(shape.type_name, "x")


def assert_valid_request(op: OperationModel, params: dict[str, Any], fed: set[str]) -> None:
    """Static params validate; params fed from items exist; required members are all given."""
    assert op.input_shape is not None, f"{op.name} takes no input"
    members = op.input_shape.members
    for name in fed:
        assert name in members, f"{op.name} takes no parameter {name!r}"
    request = {**params, **{name: dummy(members[name]) for name in fed}}
    report = ParamValidator().validate(request, op.input_shape)
    assert not report.has_errors(), f"{op.name}: {report.generate_report()}"


def listed_item(entry: CatalogEntry) -> Item:
    """The item after the list call: the result element, item_key and the parent's key."""
    element = path(operation(entry, entry.operation).output_shape, entry.result_path)
    assert isinstance(element, Many | ListShape), f"result_path {entry.result_path} is no list"
    shape = _elements(element)
    item = Item()
    if entry.item_key is not None:
        assert isinstance(shape, Shape) and shape.type_name == "string", "item_key: strings"
        item.named[entry.item_key] = shape
    else:
        assert isinstance(shape, StructureShape), f"items are {shape}, not structures"
        item.merged.append(shape)
    if entry.parent is not None:
        item.named[entry.parent.into] = None
    item.named.update(dict.fromkeys(entry.quirk_fields))
    return item


def apply(entry: CatalogEntry, detail: Detail, item: Item) -> None:
    """Check one detail against the item so far, then add what it stores."""
    op = operation(entry, detail.operation)
    for expression in detail.params.values():
        path(item, expression)
    assert_valid_request(op, dict(detail.static_params), set(detail.params))
    value = path(op.output_shape, detail.result_path)
    if detail.batch_param is not None:
        assert detail.match is not None and detail.batch_size >= 1
        assert op.input_shape is not None
        assert isinstance(op.input_shape.members[detail.batch_param], ListShape)
        element = _elements(value)
        path(item, detail.match[0])
        path(element, detail.match[1])
        value = path(element, detail.value_path)
    for key, expression in detail.extra.items():
        item.named[key] = path(op.output_shape, expression)
    if detail.into is not None:
        item.named[detail.into] = value
    else:
        assert isinstance(value, StructureShape | MapShape), f"cannot merge {value}"
        item.merged.append(value)
    if detail.keep_if is not None:
        path(item, detail.keep_if)


def completed_item(entry: CatalogEntry) -> Item:
    item = listed_item(entry)
    for detail in entry.details:
        apply(entry, detail, item)
    return item


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_list_operation_and_pagination_match_the_model(entry: CatalogEntry) -> None:
    op = operation(entry, entry.operation)
    spec = entry_pagination_spec(entry, entry.operation)
    # A paginated operation read without its token would silently stop at the first page.
    assert entry.paginated == (spec is not None), f"paginated={entry.paginated}, paginator={spec}"
    fed = {entry.parent.param} if entry.parent else set()
    assert_valid_request(op, dict(entry.request_params), fed)
    if spec is not None:
        if entry.pagination is not None:
            # Declared paging: its tokens and page size are members of the operation.
            declared = entry.pagination
            with pytest.raises(ValueError, match="Paginator for operation does not exist"):
                # botocore has a paginator now: the declaration goes.
                SESSION.get_paginator_model(entry.service).get_paginator(entry.operation)
            inputs = op.input_shape.members if op.input_shape else {}
            assert declared.input_token in inputs
            assert declared.limit_key is None or declared.limit_key in inputs
            path(op.output_shape, declared.output_token)
            keys = [declared.result_key]
        else:
            config = SESSION.get_paginator_model(entry.service).get_paginator(entry.operation)
            keys = config["result_key"]
        keys = [keys] if isinstance(keys, str) else keys
        # The items come from the key the paginator pages.
        assert any(entry.result_path.startswith(key) for key in keys), (entry.result_path, keys)
    if entry.parent is not None:
        parent = operation(entry, entry.parent.operation)
        parents = path(parent.output_shape, entry.parent.result_path)
        path(_elements(parents), entry.parent.id_path)
        assert_valid_request(parent, dict(entry.parent.request_params), set())


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_item_paths_fit_the_output_shapes(entry: CatalogEntry) -> None:
    item = completed_item(entry)
    for expression in (entry.id_path, entry.arn_path, entry.name_path):
        if expression is not None and not expression.startswith("tag:"):
            path(item, expression)
    for expression in (*entry.volatile_fields, *entry.sensitive_fields):
        path(item, expression)
    if entry.tag_style is not TagStyle.NONE:
        assert entry.tags_path is not None
        tags = path(item, entry.tags_path)
        if entry.tag_style is TagStyle.MAP:
            assert isinstance(tags, MapShape), f"{entry.tags_path} is {tags}, not a map"
        else:
            assert isinstance(tags, ListShape) and isinstance(tags.member, StructureShape)
            assert set(TAG_MEMBERS[entry.tag_style]) <= set(tags.member.members), tags.member
    assert entry.arn_path or entry.arn_template, "no way to an ARN"
    if entry.arn_template:
        assert entry.arn_template.startswith("arn:{partition}:")
        entry.arn_template.format(partition="aws", region="r", account_id="1", id="i", id_path="i")


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_permissions_are_exactly_the_actions_of_the_calls(entry: CatalogEntry) -> None:
    for permission in entry.permissions:
        assert PERMISSION.match(permission), permission
    assert len(set(entry.permissions)) == len(entry.permissions), "duplicate permissions"
    assert set(entry.permissions) == required_actions(entry)


@pytest.mark.parametrize(
    ("type_name", "permissions"),
    [
        ("sqs.queue", ("sqs:ListQueues", "sqs:GetQueueAttributes", "sqs:ListQueueTags")),
        ("s3.bucket", ("s3:ListAllMyBuckets", "s3:GetBucketLocation", "s3:GetBucketTagging")),
        ("ecs.service", ("ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices")),
        ("stepfunctions.state_machine", ("states:ListStateMachines", "states:ListTagsForResource")),
    ],
)
def test_permissions_follow_the_calls(type_name: str, permissions: tuple[str, ...]) -> None:
    # Derived from the calls in call order (parent list, list, details), under the IAM
    # prefix (states, not stepfunctions) and action name (ListAllMyBuckets) AWS authorizes.
    assert CATALOG[type_name].permissions == permissions


def test_type_names_are_unique_service_kind_pairs_in_their_service_module() -> None:
    names = Counter(e.type_name for m in SERVICE_MODULES for e in m.ENTRIES)
    assert [n for n, count in names.items() if count > 1] == []
    assert len(names) == len(CATALOG)
    for module in SERVICE_MODULES:
        service = module.__name__.rsplit(".", 1)[1].rstrip("_").replace("_", "-")
        for entry in module.ENTRIES:
            assert TYPE_NAME.match(entry.type_name), entry.type_name
            assert entry.service == service, (module.__name__, entry.type_name)
            assert entry.type_name == f"{entry.service}.{entry.kind}"


def test_the_catalog_is_broad() -> None:
    assert len(CATALOG) >= 40
    assert len({entry.service for entry in ENTRIES}) >= 15


def test_the_walker_rejects_what_does_not_fit() -> None:
    output = SESSION.get_service_model("ec2").operation_model("DescribeInstances").output_shape
    assert isinstance(_elements(path(output, "Reservations[].Instances[]")), StructureShape)
    for wrong in (
        "Reservations[].Instance[]",
        "Reservations.Instances",
        "Nothing[]",
        "Reservations[?!starts_with(Owner, 'x')]",
    ):
        with pytest.raises(PathError):
            path(output, wrong)
    key = SESSION.get_service_model("kms").operation_model("DescribeKey").output_shape
    with pytest.raises(PathError, match="not one of"):
        path(key, "KeyMetadata.KeyManager == 'CUSTOMERS'")


def broken_entries() -> dict[str, CatalogEntry]:
    """One deliberate mistake of each kind the contract must catch."""
    instance, table = CATALOG["ec2.instance"], CATALOG["dynamodb.table"]
    service, key = CATALOG["ecs.service"], CATALOG["kms.key"]
    bad_param = dataclasses.replace(table.details[0], params={"Table": "TableName"})
    bad_filter = dataclasses.replace(key.details[0], keep_if="KeyMetadata.KeyManager == 'ME'")
    return {
        "operation": dataclasses.replace(instance, operation="DescribeInstance"),
        "id_path": dataclasses.replace(instance, id_path="InstanceID"),
        "result_path": dataclasses.replace(instance, result_path="Reservations[]"),
        "tags_path": dataclasses.replace(CATALOG["rds.db_instance"], tags_path="Tags"),
        "tag_style": dataclasses.replace(
            CATALOG["lambda.function"], tag_style=TagStyle.KEY_VALUE_LIST
        ),
        "paginated": dataclasses.replace(CATALOG["ec2.elastic_ip"], paginated=True),
        "unpaginated": dataclasses.replace(instance, paginated=False),
        "request_params": dataclasses.replace(instance, request_params={"Owner": "self"}),
        # A permission can no longer be missing or extra: entries derive them from their
        # calls (test_permissions_follow_the_calls); a wrong call still fails the contract.
        "detail operation": dataclasses.replace(
            service, details=(dataclasses.replace(service.details[0], operation="Describe"),)
        ),
        "detail param": dataclasses.replace(table, details=(bad_param, *table.details[1:])),
        "keep_if literal": dataclasses.replace(key, details=(bad_filter, *key.details[1:])),
        "volatile": dataclasses.replace(instance, volatile_fields=("LaunchTimes",)),
        "sensitive": dataclasses.replace(instance, sensitive_fields=("UserData",)),
    }


@pytest.mark.parametrize(("mistake", "entry"), list(broken_entries().items()))
def test_the_contract_catches(mistake: str, entry: CatalogEntry) -> None:
    checks = (
        test_list_operation_and_pagination_match_the_model,
        test_item_paths_fit_the_output_shapes,
        test_permissions_are_exactly_the_actions_of_the_calls,
    )
    failures = 0
    for check in checks:
        try:
            check(entry)
        except AssertionError:
            failures += 1
    assert failures, f"a wrong {mistake} went unnoticed"
