"""Detail calls: complete listed items with per-item or batched describe calls (same client).

A detail call AWS refuses (a bucket policy denying GetBucketLocation to the member role, a key
policy denying DescribeKey) degrades only the items it was for: they are kept without that
detail and marked under DETAIL_ERRORS ({operation: error code}), so the shard still completes,
its other items stay fresh and the refused ones are never taken for gone. Throttling and
transient errors still raise: the page is retried, never degraded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore import xform_name
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from fleetstream.aws.errors import ErrorKind, classify, error_code
from fleetstream.catalog.entry import Detail
from fleetstream.catalog.paths import search

Item = dict[str, Any]
_ABSENT = object()  # the detail found nothing for the item
# The item attribute naming the detail calls AWS refused for the item, with their error codes.
DETAIL_ERRORS = "fleetstream:detail_errors"


class _Refused:
    """AWS refused the call (access denied): the items it was for are kept, marked."""

    def __init__(self, code: str) -> None:
        self.code = code


def _refused(item: Item, detail: Detail, code: str) -> Item:
    return {**item, DETAIL_ERRORS: {**item.get(DETAIL_ERRORS, {}), detail.operation: code}}


def refused_calls(item: Item) -> dict[str, str]:
    """The detail calls refused for an item: {operation: error code}."""
    found: dict[str, str] = item.get(DETAIL_ERRORS, {})
    return found


def _store(item: Item, detail: Detail, value: Any) -> Item:
    if detail.into is not None:
        return {**item, detail.into: value}
    if isinstance(value, dict):
        return {**item, **value}
    return item


def _call(client: BaseClient, detail: Detail, params: dict[str, Any]) -> Any:
    """The response; _ABSENT when AWS answers with one of the detail's absent codes, _Refused
    when it denies the call."""
    try:
        return getattr(client, xform_name(detail.operation))(
            **detail.static_params, **{k: v for k, v in params.items() if v is not None}
        )
    except ClientError as error:
        if error_code(error) in detail.absent_codes:
            return _ABSENT
        if classify(error) is ErrorKind.DENIED:
            return _Refused(error_code(error))
        raise


def _extras(detail: Detail, response: Any) -> dict[str, Any]:
    return {key: search(path, response) for key, path in detail.extra.items()}


def _per_item(client: BaseClient, detail: Detail, items: list[Item]) -> Iterator[Item]:
    for item in items:
        response = _call(
            client, detail, {p: search(path, item) for p, path in detail.params.items()}
        )
        if isinstance(response, _Refused):
            yield _refused(item, detail, response.code)  # kept even when required: not gone
            continue
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
        if isinstance(response, _Refused):
            yield from (_refused(item, detail, response.code) for item in chunk)
            continue
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
    """The items completed by one detail; items it proves gone or filters out are dropped
    (an item the detail was refused for is kept: nothing proves it gone or filtered out)."""
    if not items:
        return items
    run = _batched if detail.batch_param is not None else _per_item
    completed = list(run(client, detail, items))
    if detail.keep_if is None:
        return completed
    return [
        item
        for item in completed
        if detail.operation in refused_calls(item) or search(detail.keep_if, item)
    ]
