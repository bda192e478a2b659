"""Tables printed for people: sweep summaries and inventory counts."""

from __future__ import annotations

from collections.abc import Sequence

from fleetstream.inventory.sweeps import SweepProgress


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain aligned text table."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def sweep_summary(progress: SweepProgress, elapsed_s: float) -> str:
    """Per-shard results of a sweep, failed shards with their reasons, and totals."""
    rows = [
        (
            f"{s.account_id} ({s.account_name})" if s.account_name else s.account_id,
            s.region,
            s.resource_type,
            s.status.value,
            s.resource_count,
            s.pages,
            s.reason or "",
        )
        for s in sorted(progress.shards, key=lambda s: (s.account_id, s.region, s.resource_type))
    ]
    body = table(("account", "region", "type", "status", "resources", "pages", "reason"), rows)
    total = progress.total_shards if progress.total_shards is not None else "?"
    missing = (progress.total_shards or 0) - len(progress.shards)
    tail = (
        f"sweep {progress.sweep_id}: {len(progress.shards)}/{total} shards finished, "
        f"{len(progress.failed)} failed, {progress.resources} resources, {elapsed_s:.1f}s"
    )
    if missing > 0:
        tail += f"; {missing} shards did not finish in time"
    return f"{body}\n\n{tail}"
