"""Which resources an event touched, from the catalog's declarative EventRules."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from fleetstream.base.models import GLOBAL_REGION
from fleetstream.catalog import CatalogEntry, EventRule
from fleetstream.catalog.paths import search
from producers.events.envelope import ApiCallEvent

# CloudTrail names some operations with their API version: CreateFunction20150331,
# UpdateFunctionConfiguration20150331v2.
_VERSION_SUFFIX = re.compile(r"\d{8}(v\d+)?$")


def operation_name(event_name: str) -> str:
    """The API operation behind a CloudTrail eventName."""
    return _VERSION_SUFFIX.sub("", event_name)


@dataclass(frozen=True, slots=True)
class Target:
    """Resources of one shard an event touched."""

    account_id: str
    region: str
    resource_type: str
    ids: tuple[str, ...]


class Routes:
    """(eventSource, operation) -> the catalog entries and rules that care."""

    def __init__(self, entries: Iterable[CatalogEntry]) -> None:
        self._rules: dict[tuple[str, str], list[tuple[CatalogEntry, EventRule]]] = {}
        for entry in entries:
            if entry.refresh is None:
                continue
            for rule in entry.refresh.events:
                for name in rule.names:
                    self._rules.setdefault((rule.source, name), []).append((entry, rule))

    def __len__(self) -> int:
        return len(self._rules)

    def known(self, event: ApiCallEvent) -> bool:
        """Some configured type declares this event."""
        return (event.source, operation_name(event.name)) in self._rules

    def targets(self, event: ApiCallEvent) -> list[Target]:
        """The resources the event touched, per type (empty when it names none)."""
        found: list[Target] = []
        for entry, rule in self._rules.get((event.source, operation_name(event.name)), []):
            ids = _ids(search(rule.ids, event.detail), rule.id_prefix)
            if ids:
                region = GLOBAL_REGION if entry.global_resource else event.region
                found.append(Target(event.account_id, region, entry.type_name, ids))
        return found


def _ids(value: object, prefix: str | None) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    ids = [v for v in values if isinstance(v, str) and v]
    if prefix is not None:
        ids = [v for v in ids if v.startswith(prefix)]
    return tuple(dict.fromkeys(ids))
