"""Detail calls: complete listed items with per-item or batched describe calls (same client)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore import xform_name
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from fleetstream.aws_errors import error_code
from fleetstream.catalog.entry import Detail
from fleetstream.catalog.paths import search

Item = dict[str, Any]
_ABSENT = object()  # the detail found nothing for the item


def _store(item: Item, detail: Detail, value: Any) -> Item:
    if detail.into is not None:
        return {**item, detail.into: value}
    if isinstance(value, dict):
        return {**item, **value}
    return item


def _call(client: BaseClient, detail: Detail, params: dict[str, Any]) -> Any:
    """The response, or _ABSENT when AWS answers with one of the detail's absent codes."""
    try:
        return getattr(client, xform_name(detail.operation))(
            **detail.static_params, **{k: v for k, v in params.items() if v is not None}
        )
    except ClientError as error:
        if error_code(error) in detail.absent_codes:
            return _ABSENT
        raise


def _extras(detail: Detail, response: Any) -> dict[str, Any]:
    return {key: search(path, response) for key, path in detail.extra.items()}


def _per_item(client: BaseClient, detail: Detail, items: list[Item]) -> Iterator[Item]:
    for item in items:
        response = _call(
            client, detail, {p: search(path, item) for p, path in detail.params.items()}
        )
        if response is _ABSENT:
            if not detail.required:
                yield item
            continue
        value = search(detail.result_path, response)
        yield {**_store(item, detail, value), **_extras(detail, response)}


def _batches(detail: Detail, items: list[Item]) -> Iterator[tuple[dict[str, Any], list[Item]]]:
    """Items grouped by the detail's scalar params, then cut into batch_size chunks."""
    groups: dict[tuple[Any, ...], tuple[dict[str, Any], list[Item]]] = {}
    for item in items:
        scalars = {
            p: search(path, item) for p, path in detail.params.items() if p != detail.batch_param
        }
        key = tuple(str(v) for v in scalars.values())
        groups.setdefault(key, (scalars, []))[1].append(item)
    for scalars, members in groups.values():
        for start in range(0, len(members), detail.batch_size):
            yield scalars, members[start : start + detail.batch_size]


def _batched(client: BaseClient, detail: Detail, items: list[Item]) -> Iterator[Item]:
    assert detail.batch_param is not None and detail.match is not None
    item_path, element_path = detail.match
    values_path = detail.params[detail.batch_param]
    for scalars, chunk in _batches(detail, items):
        values = [search(values_path, item) for item in chunk]
        response = _call(client, detail, {**scalars, detail.batch_param: values})
        elements = [] if response is _ABSENT else search(detail.result_path, response) or []
        found = {str(search(element_path, element)): element for element in elements}
        for item in chunk:
            element = found.get(str(search(item_path, item)))
            if element is None:
                if not detail.required:
                    yield item
                continue
            yield _store(item, detail, search(detail.value_path, element))


def apply_detail(client: BaseClient, detail: Detail, items: list[Item]) -> list[Item]:
    """The items completed by one detail; items it proves gone or filters out are dropped."""
    if not items:
        return items
    run = _batched if detail.batch_param is not None else _per_item
    completed = list(run(client, detail, items))
    if detail.keep_if is None:
        return completed
    return [item for item in completed if search(detail.keep_if, item)]
