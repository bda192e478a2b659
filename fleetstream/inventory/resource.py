"""`fleetstream show` and `fleetstream history`: one resource, from the table and the topic."""

from __future__ import annotations

import json
from typing import Any

from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.inventory.changes import history
from fleetstream.inventory.errors import NotFoundError
from fleetstream.inventory.rows import row_of_item
from fleetstream.inventory.sql import Result
from fleetstream.kafka import topics
from fleetstream.serde.wire import ChangeEvent

HISTORY_COLUMNS = ["observed_at", "change_type", "sweep_id", "changed_paths", "change_id"]
SHOWN_CHANGES = 5


def current(settings: Settings, arn: str) -> dict[str, Any] | None:
    """The resource's item in the inventory table as a row (tombstones too), or None."""
    response = dynamodb_client(settings).get_item(
        TableName=settings.sink.table, Key={"arn": {"S": arn}}, ConsistentRead=True
    )
    item = response.get("Item")
    return None if item is None else row_of_item(item)


def changes_result(events: list[ChangeEvent]) -> Result:
    """Changes as a result (oldest first), for the renderers."""
    rows = [
        (e.observed_at, e.change_type.value, e.sweep_id, list(e.changed_paths), e.change_id)
        for e in events
    ]
    return Result(
        HISTORY_COLUMNS, ["TIMESTAMPTZ", "VARCHAR", "VARCHAR", "VARCHAR[]", "VARCHAR"], rows
    )


def resource_history(settings: Settings, arn: str) -> Result:
    """Every change of the ARN the changes topic still holds; NotFoundError when none."""
    events = history(settings, arn)
    if not events:
        raise NotFoundError(f"no changes of {arn} in {topics.CHANGES.kafka_name(settings.kafka)}")
    return changes_result(events)


def show(settings: Settings, arn: str) -> tuple[Result, Result]:
    """The resource's current state (one row, attributes as JSON) and its last changes."""
    row = current(settings, arn)
    events = history(settings, arn)[-SHOWN_CHANGES:]
    if row is None and not events:
        raise NotFoundError(f"no resource {arn} in {settings.sink.table} or the changes topic")
    state = Result(["field", "value"], ["VARCHAR", "JSON"], [])
    if row is not None:
        row["tags"] = dict(row["tags"])
        state = Result(
            list(row),
            ["JSON" if name == "attributes" else "" for name in row],
            [tuple(row.values())],
        )
    return state, changes_result(events)


def pretty_state(state: Result) -> str:
    """One 'field: value' line per column; attributes as indented JSON."""
    if not state.rows:
        return "(not in the inventory table)"
    lines = []
    for name, value in zip(state.columns, state.rows[0], strict=True):
        if name == "attributes":
            text = json.dumps(json.loads(value), indent=2, sort_keys=True)
            lines.append(f"{name}:\n" + "\n".join("  " + line for line in text.splitlines()))
        elif name == "tags":
            lines.append(f"{name}: " + ", ".join(f"{k}={v}" for k, v in sorted(value.items())))
        else:
            lines.append(f"{name}: {'' if value is None else value}")
    return "\n".join(lines)
