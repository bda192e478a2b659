"""Change detection, pure: fingerprints without volatile fields, changed paths, change events.

A resource's fingerprint is the sha256 of its canonical attributes after removing the paths its
catalog entry declares volatile (counters, sizes, last-used times), so re-describing an
unchanged estate changes no fingerprint and emits no change event. Tags are compared as well:
a tag change is a MODIFIED event with `tags.<key>` paths, even for a type whose attributes do
not carry its tags.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from fleetstream.base.models import Observation, ShardOutcome
from fleetstream.catalog import CATALOG
from fleetstream.catalog.observe import canonical_json
from fleetstream.serde.wire import ChangeEvent, ChangeType, ResourceState

UNKNOWN_PATHS = ("*",)  # the old attributes are not available (truncated): the whole item


def volatile_fields(resource_type: str) -> tuple[str, ...]:
    """The paths change detection ignores for a type (none for a type the catalog lacks)."""
    entry = CATALOG.get(resource_type)
    return entry.volatile_fields if entry is not None else ()


def _remove(node: Any, parts: list[str]) -> None:
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        children = node.get(head[:-2]) if isinstance(node, dict) else None
        if isinstance(children, list):
            for child in children:
                if rest:
                    _remove(child, rest)
            if not rest:
                node.pop(head[:-2])
    elif isinstance(node, dict) and head in node:
        if rest:
            _remove(node[head], rest)
        else:
            del node[head]


def without_volatile(document: Any, paths: tuple[str, ...]) -> Any:
    """A copy of document without the values at each dotted path (a[].b forms)."""
    if not paths:
        return document
    copied = copy.deepcopy(document)
    for path in paths:
        _remove(copied, path.split("."))
    return copied


def _parse(attributes_json: str) -> Any:
    try:
        return json.loads(attributes_json)
    except ValueError:
        return attributes_json  # never happens for the describer's output; hash it as it is


def fingerprint(attributes_json: str, volatile: tuple[str, ...]) -> str:
    """sha256 hex of the canonical attributes without the volatile paths."""
    stable = without_volatile(_parse(attributes_json), volatile)
    return hashlib.sha256(canonical_json(stable).encode()).hexdigest()


def observation_fingerprint(observation: Observation) -> str:
    """The fingerprint of an observation's attributes, with its type's volatile fields."""
    return fingerprint(observation.attributes_json, volatile_fields(observation.resource_type))


def changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Paths where two JSON documents differ: a.b for objects, a[2] for lists of equal length;
    a list whose length changed, or a value whose type changed, is one path."""
    if isinstance(old, dict) and isinstance(new, dict):
        paths: list[str] = []
        for key in sorted(old.keys() | new.keys()):
            child = f"{prefix}.{key}" if prefix else str(key)
            if key not in old or key not in new:
                paths.append(child)
            else:
                paths.extend(changed_paths(old[key], new[key], child))
        return paths
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            path
            for index, (a, b) in enumerate(zip(old, new, strict=True))
            for path in changed_paths(a, b, f"{prefix}[{index}]")
        ]
    return [] if old == new else [prefix or "$"]


def attribute_paths(old_json: str | None, new_json: str, volatile: tuple[str, ...]) -> list[str]:
    """Changed attribute paths, volatile ones ignored; ["*"] when the old ones are unknown."""
    if old_json is None:
        return list(UNKNOWN_PATHS)
    old = without_volatile(_parse(old_json), volatile)
    new = without_volatile(_parse(new_json), volatile)
    return changed_paths(old, new)


def tag_paths(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """tags.<key> for every tag added, removed or changed."""
    return [f"tags.{k}" for k in sorted(old.keys() | new.keys()) if old.get(k) != new.get(k)]


def change_id(
    arn: str,
    change_type: ChangeType,
    old_fingerprint: str | None,
    new_fingerprint: str | None,
    observed_ms: int,
) -> str:
    """Deterministic: the same change emitted again (after a crash) has the same id."""
    parts = (arn, change_type.value, old_fingerprint or "", new_fingerprint or "", observed_ms)
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, the unit of every *_ms attribute."""
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    """The inverse of epoch_ms (UTC)."""
    return datetime.fromtimestamp(ms / 1000, UTC)


@dataclass(frozen=True, slots=True)
class StoredHead:
    """What the sink reads of an item before writing (the first, small BatchGetItem)."""

    observed_ms: int | None = None
    absent_since_ms: int | None = None
    deleted: bool = False
    fingerprint: str | None = None  # None: written before change detection existed
    tags: Mapping[str, str] = field(default_factory=dict)
    emitted_ms: int | None = None  # the observation whose write last emitted records
    legacy: bool = False  # holds a TTL or a gone-account mark that a write must clear

    @property
    def evidence_ms(self) -> int:
        """The newest evidence about the resource: an older observation never replaces it."""
        return max(self.observed_ms or -1, self.absent_since_ms or -1)


class Verdict(StrEnum):
    """What a fresh observation is, before the old attributes are read."""

    CREATED = "CREATED"  # no live item: none, or a tombstone
    UNCHANGED = "UNCHANGED"
    TAGS_CHANGED = "TAGS_CHANGED"  # same fingerprint, other tags: no need for old attributes
    COMPARE = "COMPARE"  # fingerprint differs (or unknown): read the old attributes


def judge(head: StoredHead | None, observation: Observation, new_fingerprint: str) -> Verdict:
    """Classify a fresh observation against the stored item."""
    if head is None or head.deleted or head.observed_ms is None:
        return Verdict.CREATED
    if head.fingerprint is None or head.fingerprint != new_fingerprint:
        return Verdict.COMPARE
    if dict(head.tags) != dict(observation.tags):
        return Verdict.TAGS_CHANGED
    return Verdict.UNCHANGED


@dataclass(frozen=True, slots=True)
class Emitted:
    """What writing one observation emitted, kept on the item (`emitted`, `emitted_ms`) so that
    a redelivered batch can emit it again: change_type None means a state record only."""

    change_type: ChangeType | None
    changed_paths: tuple[str, ...] = ()
    old_fingerprint: str | None = None
    previous_observed_ms: int | None = None

    def to_json(self) -> str:
        """Compact JSON for the item's `emitted` attribute."""
        return json.dumps(
            {
                "type": self.change_type.value if self.change_type else None,
                "paths": list(self.changed_paths),
                "old": self.old_fingerprint,
                "prev_ms": self.previous_observed_ms,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Emitted:
        """Inverse of to_json."""
        data = json.loads(text)
        return cls(
            ChangeType(data["type"]) if data["type"] else None,
            tuple(data["paths"]),
            data["old"],
            data["prev_ms"],
        )


def compare(
    head: StoredHead,
    observation: Observation,
    new_fingerprint: str,
    old_attributes_json: str | None,
) -> Emitted | None:
    """After reading the old attributes: MODIFIED with its paths, or None when unchanged.

    An item written before change detection has no stored fingerprint; it is computed from its
    attributes, and an unchanged one gets a state record (to fill the state topic) but no event.
    """
    volatile = volatile_fields(observation.resource_type)
    old_fingerprint = head.fingerprint
    if old_fingerprint is None and old_attributes_json is not None:
        old_fingerprint = fingerprint(old_attributes_json, volatile)
    tags = tag_paths(head.tags, observation.tags)
    if old_fingerprint == new_fingerprint and not tags:
        return Emitted(None) if head.fingerprint is None else None
    paths: list[str] = []
    if old_fingerprint != new_fingerprint:
        paths = attribute_paths(old_attributes_json, observation.attributes_json, volatile)
    return Emitted(ChangeType.MODIFIED, tuple(paths + tags), old_fingerprint, head.observed_ms)


@dataclass(frozen=True, slots=True)
class SinkOutput:
    """Records for one ARN: a change event and/or its state (none and DELETED: a tombstone)."""

    arn: str
    change: ChangeEvent | None = None
    state: ResourceState | None = None

    @property
    def deleted(self) -> bool:
        """The state topic gets a tombstone (null value) for this ARN."""
        return self.change is not None and self.change.change_type is ChangeType.DELETED


def output_for(observation: Observation, new_fingerprint: str, emitted: Emitted) -> SinkOutput:
    """The records of a write that emitted something (a change and the new state)."""
    state = ResourceState(observation, new_fingerprint)
    if emitted.change_type is None:
        return SinkOutput(observation.arn, None, state)
    observed_ms = epoch_ms(observation.observed_at)
    previous = emitted.previous_observed_ms
    event = ChangeEvent(
        change_id=change_id(
            observation.arn,
            emitted.change_type,
            emitted.old_fingerprint,
            new_fingerprint,
            observed_ms,
        ),
        change_type=emitted.change_type,
        arn=observation.arn,
        account_id=observation.account_id,
        account_name=observation.account_name,
        region=observation.region,
        resource_type=observation.resource_type,
        resource_id=observation.resource_id,
        name=observation.name,
        sweep_id=observation.sweep_id,
        observed_at=observation.observed_at,
        previous_observed_at=None if previous is None else from_ms(previous),
        changed_paths=emitted.changed_paths,
        old_fingerprint=emitted.old_fingerprint,
        new_fingerprint=new_fingerprint,
        tags=dict(observation.tags),
        attributes_json=observation.attributes_json,
    )
    return SinkOutput(observation.arn, event, state)


@dataclass(frozen=True, slots=True)
class Deletion:
    """A tombstone the sink wrote: what the DELETED event says about the item."""

    arn: str
    account_id: str
    account_name: str
    region: str
    resource_type: str
    resource_id: str
    name: str | None
    sweep_id: str
    deleted_at: datetime
    old_fingerprint: str | None
    previous_observed_ms: int | None
    # Why: absent (a complete sweep did not see it), expired, removed, stale, account_gone.
    reason: str = "absent"


def deletion_of(
    arn: str, old: Mapping[str, Any], outcome: ShardOutcome, deleted_at: datetime, reason: str
) -> Deletion:
    """The Deletion of a conditional tombstone, from the item as it was (UpdateItem's
    ALL_OLD: the condition pinned its observed_at_ms), the outcome filling what it lacks."""

    def text(name: str) -> str | None:
        return str(old[name]["S"]) if name in old else None

    return Deletion(
        arn=arn,
        account_id=text("account_id") or outcome.account_id,
        account_name=text("account_name") or outcome.account_name,
        region=text("region") or outcome.region,
        resource_type=text("resource_type") or outcome.resource_type,
        resource_id=text("resource_id") or arn,
        name=text("name"),
        sweep_id=outcome.sweep_id,
        deleted_at=deleted_at,
        old_fingerprint=text("fingerprint"),
        previous_observed_ms=int(old["observed_at_ms"]["N"]) if "observed_at_ms" in old else None,
        reason=reason,
    )


def deleted_output(deletion: Deletion) -> SinkOutput:
    """The DELETED event and the state tombstone of a deleted resource."""
    at_ms = epoch_ms(deletion.deleted_at)
    previous = deletion.previous_observed_ms
    event = ChangeEvent(
        change_id=change_id(
            deletion.arn, ChangeType.DELETED, deletion.old_fingerprint, None, at_ms
        ),
        change_type=ChangeType.DELETED,
        arn=deletion.arn,
        account_id=deletion.account_id,
        account_name=deletion.account_name,
        region=deletion.region,
        resource_type=deletion.resource_type,
        resource_id=deletion.resource_id,
        name=deletion.name,
        sweep_id=deletion.sweep_id,
        observed_at=deletion.deleted_at,
        previous_observed_at=None if previous is None else from_ms(previous),
        old_fingerprint=deletion.old_fingerprint,
        reason=deletion.reason,
    )
    return SinkOutput(deletion.arn, event, None)
