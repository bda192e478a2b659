"""A digest of change events, pure: counts per account, type and kind, the first N changes,
rendered as a Slack-compatible incoming-webhook message ({"text": ..., "blocks": [...]})."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fleetstream.serde.wire import ChangeEvent, ChangeType

# Slack's limits: 50 blocks per message, 3000 characters in a section's text, 150 in a header.
SECTION_CHARS = 3000
MAX_LISTED = 40  # listed changes, one block each, plus at most 5 summary blocks


def escape(text: str) -> str:
    """Slack mrkdwn control characters (&, <, >) as entities, so a name cannot inject links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass
class Digest:
    """The changes of one window; a change repeated by an at-least-once redelivery counts once."""

    first_n: int
    counts: Counter[tuple[str, str, ChangeType]] = field(default_factory=Counter)
    listed: list[ChangeEvent] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    first_at: datetime | None = None
    last_at: datetime | None = None

    def add(self, event: ChangeEvent) -> None:
        """Count one change (and list it while fewer than first_n are listed)."""
        if event.change_id in self.seen:
            return
        self.seen.add(event.change_id)
        account = _account(event)
        self.counts[(account, event.resource_type, event.change_type)] += 1
        if len(self.listed) < self.first_n:
            self.listed.append(event)
        self.first_at = min(self.first_at or event.observed_at, event.observed_at)
        self.last_at = max(self.last_at or event.observed_at, event.observed_at)

    @property
    def total(self) -> int:
        """Distinct changes in the digest."""
        return len(self.seen)

    def payload(self) -> dict[str, Any]:
        """The webhook body: a plain-text summary (notifications) and Block Kit blocks."""
        headline = f"fleetstream: {self.total} change{'s' if self.total != 1 else ''}"
        by_kind: Counter[ChangeType] = Counter()
        for (_account, _type, kind), count in self.counts.items():
            by_kind[kind] += count
        summary = f"{headline} ({_kinds(by_kind)})"
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": headline[:150]}},
            _section("*By account, type and change*\n" + "\n".join(self._count_lines())),
        ]
        blocks.extend(_section(_change_line(event)) for event in self.listed)
        context = [f"window {_window(self.first_at, self.last_at)}"]
        if self.total > len(self.listed):
            context.insert(0, f"first {len(self.listed)} of {self.total} listed")
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "; ".join(context)}]}
        )
        return {"text": summary, "blocks": blocks}

    def _count_lines(self) -> list[str]:
        rows: dict[tuple[str, str], Counter[ChangeType]] = {}
        for (account, resource_type, kind), count in self.counts.items():
            rows.setdefault((account, resource_type), Counter())[kind] += count
        lines = [
            f"`{escape(account)}` {escape(resource_type)}: {_kinds(kinds)}"
            for (account, resource_type), kinds in sorted(rows.items())
        ]
        return _fit(lines, SECTION_CHARS - 40)


def _account(event: ChangeEvent) -> str:
    return f"{event.account_id} ({event.account_name})" if event.account_name else event.account_id


def _kinds(by_kind: Counter[ChangeType]) -> str:
    return ", ".join(f"{by_kind[k]} {k.value.lower()}" for k in ChangeType if by_kind[k])


def _change_line(event: ChangeEvent) -> str:
    name = f" ({escape(event.name)})" if event.name else ""
    line = (
        f"*{event.change_type.value}* {escape(event.resource_type)} "
        f"`{escape(event.resource_id)}`{name} in {escape(event.account_id)}/"
        f"{escape(event.region)}"
    )
    if event.change_type is ChangeType.MODIFIED and event.changed_paths:
        paths = ", ".join(f"`{escape(p)}`" for p in event.changed_paths[:10])
        more = len(event.changed_paths) - 10
        line += f"\nchanged: {paths}" + (f" and {more} more" if more > 0 else "")
    return line[:SECTION_CHARS]


def _fit(lines: list[str], limit: int) -> list[str]:
    """As many lines as fit in limit characters, then how many were left out."""
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        if used + len(line) + 1 > limit:
            return [*kept, f"... and {len(lines) - index} more rows"]
        kept.append(line)
        used += len(line) + 1
    return kept


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _window(first: datetime | None, last: datetime | None) -> str:
    if first is None or last is None:
        return "empty"
    return f"{first:%Y-%m-%d %H:%M:%S} to {last:%Y-%m-%d %H:%M:%S} UTC (observed)"
