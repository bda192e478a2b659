"""The generic engine: call one page of a list operation and complete its items.

One fetch_page is one unit of work of a describer: the list call (for a child type: a page of
its parents, then the children of one parent after the other), then the entry's detail calls
for the items of that page. observe() turns each item into an Observation.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.client import BaseClient

from fleetstream.aws.botocore_data import new_session
from fleetstream.catalog.details import apply_detail
from fleetstream.catalog.entry import CatalogEntry, Pagination
from fleetstream.catalog.observe import canonical_json, extract_tags, observe, partition_of
from fleetstream.catalog.paths import search

# A child type's page visits parents until it has page_size items or made this many calls.
MAX_LIST_CALLS_PER_PAGE = 10


@dataclass(frozen=True, slots=True)
class PaginationSpec:
    """botocore's paginator model of one operation (input/output tokens, page size key)."""

    input_tokens: tuple[str, ...]
    output_tokens: tuple[str, ...]
    limit_key: str | None
    more_results: str | None
    limit_is_string: bool = False  # Route 53 and CloudFront take MaxItems as a string
    limit_range: tuple[int | None, int | None] = (None, None)  # from the input shape model


@dataclass(frozen=True, slots=True)
class Page:
    """One page of raw items and the token of the next page, if any."""

    items: list[dict[str, Any]]
    next_token: dict[str, Any] | None


def _as_tuple(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@cache
def _botocore_session() -> botocore.session.Session:
    return new_session()


# functools.cache lets concurrent first calls all compute: sixteen describer threads would
# each parse a service model of tens of MB at once (the describers' peak memory).
_SPEC_LOCK = threading.Lock()


def pagination_spec(service: str, operation: str) -> PaginationSpec | None:
    """The paginator model botocore ships for an operation, or None if it has none."""
    with _SPEC_LOCK:
        return _pagination_spec(service, operation)


@cache
def _pagination_spec(service: str, operation: str) -> PaginationSpec | None:
    session = _botocore_session()
    try:
        config = session.get_paginator_model(service).get_paginator(operation)
    except ValueError:
        return None
    limit_key = config.get("limit_key")
    limit_is_string, limit_range = False, (None, None)
    if limit_key:
        model = session.get_service_model(service).operation_model(operation)
        assert model.input_shape is not None  # a paginator's operation has input
        shape = model.input_shape.members[limit_key]
        limit_is_string = shape.type_name == "string"
        limit_range = (shape.metadata.get("min"), shape.metadata.get("max"))
    return PaginationSpec(
        input_tokens=_as_tuple(config["input_token"]),
        output_tokens=_as_tuple(config["output_token"]),
        limit_key=limit_key,
        more_results=config.get("more_results"),
        limit_is_string=limit_is_string,
        limit_range=limit_range,
    )


def entry_pagination_spec(entry: CatalogEntry, operation: str) -> PaginationSpec | None:
    """The paging of one of the entry's list operations: the entry's own declaration for its
    list operation (see entry.Pagination), otherwise botocore's paginator model."""
    declared = entry.pagination
    if declared is None or operation != entry.operation:
        return pagination_spec(entry.service, operation)
    return _declared_spec(entry.service, operation, declared)


@cache
def _declared_spec(service: str, operation: str, declared: Pagination) -> PaginationSpec:
    limit_is_string, limit_range = False, (None, None)
    if declared.limit_key:
        with _SPEC_LOCK:
            model = _botocore_session().get_service_model(service).operation_model(operation)
        assert model.input_shape is not None  # a paged operation has input
        shape = model.input_shape.members[declared.limit_key]
        limit_is_string = shape.type_name == "string"
        limit_range = (shape.metadata.get("min"), shape.metadata.get("max"))
    return PaginationSpec(
        input_tokens=(declared.input_token,),
        output_tokens=(declared.output_token,),
        limit_key=declared.limit_key,
        more_results=None,
        limit_is_string=limit_is_string,
        limit_range=limit_range,
    )


def _limit(spec: PaginationSpec, page_size: int, declared: tuple[int, int] | None) -> int | str:
    low, high = declared or spec.limit_range
    size = max(page_size, low or 1)
    size = min(size, high) if high else size
    return str(size) if spec.limit_is_string else size


def _list_page(
    client: BaseClient,
    entry: CatalogEntry,
    operation: str,
    result_path: str,
    params: Mapping[str, object],
    token: Mapping[str, object] | None,
    page_size: int | None,
    *,
    paginated: bool = True,
    limits: tuple[int, int] | None = None,
) -> Page:
    request: dict[str, Any] = dict(params)
    spec = entry_pagination_spec(entry, operation) if paginated else None
    if spec is not None:
        if token:
            request.update(token)
        if spec.limit_key and page_size:
            request[spec.limit_key] = _limit(spec, page_size, limits)
    response = getattr(client, xform_name(operation))(**request)
    items = search(result_path, response) or []
    return Page(items=list(items), next_token=_next_token(spec, response, token))


def _next_token(
    spec: PaginationSpec | None, response: dict[str, Any], previous: Mapping[str, object] | None
) -> dict[str, Any] | None:
    if spec is None:
        return None
    if spec.more_results and not search(spec.more_results, response):
        return None
    values = [search(expression, response) for expression in spec.output_tokens]
    if not any(values):
        return None
    token = {name: value for name, value in zip(spec.input_tokens, values, strict=True) if value}
    # Some APIs echo the last token forever; botocore stops the same way.
    return None if previous is not None and token == dict(previous) else token


def _as_item(entry: CatalogEntry, raw: Any) -> dict[str, Any]:
    if entry.item_key is not None and not isinstance(raw, dict):
        return {entry.item_key: raw}
    return dict(raw)


def _children(
    client: BaseClient, entry: CatalogEntry, token: Mapping[str, Any] | None, page_size: int | None
) -> Page:
    """Children of one parent after the other; the token holds the parents still to visit."""
    assert entry.parent is not None
    parent, size = entry.parent, page_size or 100
    state = dict(token or {})
    pending = [str(p) for p in state.get("parents", [])]
    parents_next, child = state.get("parents_next"), state.get("child")
    listed, items, calls = token is not None, list[dict[str, Any]](), 0
    while calls < MAX_LIST_CALLS_PER_PAGE and len(items) < size:
        calls += 1
        if not pending:
            if listed and parents_next is None:
                break
            page = _list_page(
                client,
                entry,
                parent.operation,
                parent.result_path,
                parent.request_params,
                parents_next,
                size,
            )
            listed, parents_next = True, page.next_token
            pending = [str(search(parent.id_path, p)) for p in page.items]
            continue
        page = _list_page(
            client,
            entry,
            entry.operation,
            entry.result_path,
            {**entry.request_params, parent.param: pending[0]},
            child,
            size - len(items),
            paginated=entry.paginated,
            limits=entry.page_size_limits,
        )
        items += [{parent.into: pending[0], **_as_item(entry, raw)} for raw in page.items]
        child = page.next_token
        if child is None:
            pending.pop(0)
    if listed and not pending and parents_next is None:
        return Page(items, None)
    return Page(items, {"parents": pending, "parents_next": parents_next, "child": child})


def targeted_params(entry: CatalogEntry, ids: Sequence[str]) -> dict[str, object]:
    """The list call's parameters for a refresh of just these ids (see catalog.Refresh)."""
    refresh = entry.refresh
    if refresh is None:
        raise ValueError(f"{entry.type_name} has no targeted refresh")
    base = entry.request_params if refresh.request_params is None else refresh.request_params
    params = dict(base)
    if refresh.ids_param is not None:
        params[refresh.ids_param] = list(ids)
    elif refresh.filter_name is not None:
        existing = params.get("Filters")
        filters = list(existing) if isinstance(existing, list) else []
        params["Filters"] = [*filters, {"Name": refresh.filter_name, "Values": list(ids)}]
    return params


def fetch_page(
    client: BaseClient,
    entry: CatalogEntry,
    token: Mapping[str, object] | None,
    page_size: int | None,
    ids: Sequence[str] | None = None,
) -> Page:
    """Call ONE page of the entry's list operation, resuming at token (botocore's semantics).

    With ids (a targeted refresh), only those resources: the API filters them where it can,
    otherwise the listed items are narrowed to them before any detail call. The page's items
    come back completed by the entry's detail calls and quirk.
    """
    if entry.parent is not None:
        page = _children(client, entry, token, page_size)
    else:
        page = _list_page(
            client,
            entry,
            entry.operation,
            entry.result_path,
            entry.request_params if ids is None else targeted_params(entry, ids),
            token,
            # EC2 refuses MaxResults next to an id list (InvalidParameterCombination).
            None if ids is not None and entry.refresh and entry.refresh.ids_param else page_size,
            paginated=entry.paginated,
            limits=entry.page_size_limits,
        )
    items = [_as_item(entry, raw) for raw in page.items]
    if ids is not None:
        wanted = set(ids)
        items = [item for item in items if str(search(entry.id_path, item)) in wanted]
    if entry.prepare is not None:
        items = [entry.prepare(item) for item in items]
    for detail in entry.details:
        items = apply_detail(client, detail, items)
    if entry.quirk is not None:
        items = [entry.quirk(item) for item in items]
    return Page(items=items, next_token=page.next_token)


__all__ = [
    "Page",
    "PaginationSpec",
    "canonical_json",
    "entry_pagination_spec",
    "extract_tags",
    "fetch_page",
    "observe",
    "pagination_spec",
    "partition_of",
    "search",
    "targeted_params",
]
