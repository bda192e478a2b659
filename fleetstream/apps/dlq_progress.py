"""What a `dlq replay` group has replayed on one DLQ partition, kept in its commit metadata.

A filtered replay (`--topic A`) must not commit past the dead letters of other topics, or they
could never be replayed again. So the committed offset only says "everything below was handled",
and the commit's metadata carries one mark per original topic that a filtered run got further
with: "every dead letter of A below this offset was replayed". A later run, filtered or not,
replays a dead letter only when it lies at or beyond its topic's mark.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum

from fleetstream.base.errors import FleetstreamError

# Kafka refuses commit metadata above offset.metadata.max.bytes (4096 by default).
MAX_METADATA_BYTES = 4000
_VERSION = 1


class Verdict(StrEnum):
    """What a replay does with one dead letter."""

    REPLAY = "replay"
    ALREADY = "already"  # replayed by an earlier run (below its topic's mark)
    HELD = "held"  # another topic's, and the run is filtered: left for a later run
    UNROUTABLE = "unroutable"  # no fs.original.topic header: nowhere to send it


@dataclass(slots=True)
class PartitionProgress:
    """One DLQ partition: what earlier runs committed and how far this run has read."""

    committed: int
    marks: dict[str, int] = field(default_factory=dict)
    position: int = -1  # the next offset this run would read
    first_held: int | None = None

    def __post_init__(self) -> None:
        if self.position < 0:
            self.position = self.committed

    def take(self, offset: int, target: str | None, only_topic: str | None) -> Verdict:
        """Decide about the dead letter at offset, which this run has now read."""
        self.position = offset + 1
        if target is None:
            return Verdict.UNROUTABLE
        if offset < self.marks.get(target, self.committed):
            return Verdict.ALREADY
        if only_topic is not None and target != only_topic:
            if self.first_held is None:
                self.first_held = offset
            return Verdict.HELD
        return Verdict.REPLAY

    def commit_point(self, only_topic: str | None) -> tuple[int, dict[str, int]]:
        """The offset and marks to commit once everything REPLAYed so far is delivered."""
        offset = self.position if self.first_held is None else self.first_held
        marks = dict(self.marks)
        if only_topic is not None:
            marks[only_topic] = max(marks.get(only_topic, 0), self.position)
        return offset, {topic: mark for topic, mark in marks.items() if mark > offset}


def encode_marks(marks: dict[str, int]) -> str:
    """The commit metadata holding marks ("" when there are none)."""
    if not marks:
        return ""
    text = json.dumps({"v": _VERSION, "marks": marks}, sort_keys=True, separators=(",", ":"))
    if len(text.encode()) > MAX_METADATA_BYTES:
        raise FleetstreamError(
            f"replay progress of {len(marks)} topics does not fit in Kafka's commit metadata; "
            "replay without --topic to settle them"
        )
    return text


def decode_marks(metadata: str | None, where: str) -> dict[str, int]:
    """The marks in a commit's metadata; unreadable marks stop the replay (never guess)."""
    if not metadata:
        return {}
    try:
        data = json.loads(metadata)
        marks = data["marks"] if data.get("v") == _VERSION else None
        if isinstance(marks, dict):
            return {str(topic): int(mark) for topic, mark in marks.items()}
        problem = f"not version {_VERSION}"
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        problem = str(error)
    raise FleetstreamError(
        f"the replay group's progress on {where} is unreadable ({problem}): {metadata[:200]!r}"
    )
