"""Multi-sweep results (`bench.run --sweeps N`): one row per sweep, the ratios of the last
sweep to the first, and issue 16's targets for a second sweep of an unchanged estate."""

from __future__ import annotations

import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

WRITES_TARGET = 0.05  # at most 5% of items written
WALL_TARGET = 0.5  # at most half the first sweep's wall time
RSS_TARGET_MB = 256.0


@dataclass(slots=True)
class SweepMeasure:
    """One sweep of a multi-sweep run (JSON-able: it travels in the system's result line)."""

    index: int
    wall_s: float
    shards: int
    failed_shards: int
    resources: int  # in COMPLETE outcomes: what the describers found
    terminated_before: int  # instances the simulator terminated just before this sweep
    inventory_writes: int
    unchanged_skipped: int
    stale: int
    seen_marks: int
    inventory_wcu: float  # as DynamoDB (Local) reported them: 1 WCU per started KB per put
    seen_wcu: float
    changes: dict[str, int] = field(default_factory=dict)  # by change type
    cpu_s: float = 0.0  # describers, sinks and the planner
    infra_cpu_s: float = 0.0  # Kafka and DynamoDB Local
    rss_mb: list[tuple[str, float]] = field(default_factory=list)  # peak during this sweep
    cpu_by_process: list[tuple[str, float]] = field(default_factory=list)  # CPU s in this sweep
    load: tuple[float, float] = (0.0, 0.0)

    @property
    def wcu(self) -> float:
        return self.inventory_wcu + self.seen_wcu

    @property
    def change_total(self) -> int:
        return sum(self.changes.values())

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> SweepMeasure:
        values = dict(raw)
        for pairs in ("rss_mb", "cpu_by_process"):
            values[pairs] = [(str(n), float(v)) for n, v in values.get(pairs, [])]
        values["load"] = tuple(values.get("load", (0.0, 0.0)))
        return cls(**values)

    @property
    def write_share(self) -> float:
        """Inventory items written per resource found."""
        return self.inventory_writes / self.resources if self.resources else 0.0

    @property
    def cpu_us_per_resource(self) -> float:
        return self.cpu_s / self.resources * 1e6 if self.resources else 0.0

    @property
    def all_cpu_us_per_resource(self) -> float:
        return (self.cpu_s + self.infra_cpu_s) / self.resources * 1e6 if self.resources else 0.0

    @property
    def peak_rss_mb(self) -> float:
        return max((mb for _, mb in self.rss_mb), default=0.0)


def _changes(measure: SweepMeasure) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(measure.changes.items())) or "0"


HEADER = (
    "| sweep | wall s | resources | inventory items written (% of resources) | unchanged "
    "skipped | seen marks | WCU inventory / seen marks / total | change events | "
    "CPU µs / resource (own / + infra) | peak RSS MB (max) | load before / after |"
)


def _row(m: SweepMeasure) -> str:
    ended = f" ({m.terminated_before} terminated before)" if m.terminated_before else ""
    return (
        f"| {m.index}{ended} | {m.wall_s:.1f} | {m.resources:,} | {m.inventory_writes:,} "
        f"({m.write_share:.1%}) | {m.unchanged_skipped:,} | {m.seen_marks:,} | "
        f"{m.inventory_wcu:,.0f} / {m.seen_wcu:,.0f} / {m.wcu:,.0f} | {_changes(m)} | "
        f"{m.cpu_us_per_resource:,.0f} / {m.all_cpu_us_per_resource:,.0f} | "
        f"{m.peak_rss_mb:.0f} | {m.load[0]:.2f} / {m.load[1]:.2f} |"
    )


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.3f}" if b else "-"


def _verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def targets(measures: Sequence[SweepMeasure]) -> list[str]:
    """Issue 16's second-sweep and memory targets, measured (the last sweep against the
    first; memory: every process in every sweep)."""
    first, last = measures[0], measures[-1]
    expected_deleted = last.terminated_before
    other = last.change_total - last.changes.get("DELETED", 0)
    exact = last.changes.get("DELETED", 0) == expected_deleted and other == 0
    deleted = f"exactly {expected_deleted} DELETED and nothing else" if expected_deleted else "0"
    worst = max(m.peak_rss_mb for m in measures)
    written = _verdict(last.write_share <= WRITES_TARGET)
    return [
        f"- items written <= {WRITES_TARGET:.0%}: {last.write_share:.2%} "
        f"({last.inventory_writes:,} of {last.resources:,}): {written}",
        f"- change events {deleted}: {_changes(last)}: {_verdict(exact)}",
        f"- wall <= {WALL_TARGET}x the first sweep: {_ratio(last.wall_s, first.wall_s)}x "
        f"({last.wall_s:.1f} s / {first.wall_s:.1f} s): "
        f"{_verdict(last.wall_s <= WALL_TARGET * first.wall_s)}",
        f"- every process < {RSS_TARGET_MB:.0f} MB peak: largest {worst:.0f} MB: "
        f"{_verdict(worst < RSS_TARGET_MB)}",
        f"- write units: {last.wcu:,.0f} WCU vs {first.wcu:,.0f} in the first sweep "
        f"({_ratio(last.wcu, first.wcu)}x); seen marks {last.seen_wcu:,.0f} of them",
        f"- write units the sinks' counters do not see, estimated: first sweep "
        f"{uncounted(first)}; last sweep {uncounted(last, per_item_wcu(first))}",
    ]


def per_item_wcu(measure: SweepMeasure) -> float:
    """The WCU of one inventory put as measured (item KB rounded up, plus one per GSI)."""
    return measure.inventory_wcu / measure.inventory_writes if measure.inventory_writes else 0.0


def uncounted(measure: SweepMeasure, item_wcu: float | None = None) -> str:
    """Writes outside the sink's counters: the sweeps table's outcome puts (one per shard and
    one per sweep, each under 1 KB) and the tombstones of DELETED changes (an update of the
    inventory item: about one put's WCU)."""
    outcomes = measure.shards + 1
    deleted = measure.changes.get("DELETED", 0)
    per_item = item_wcu if item_wcu is not None else per_item_wcu(measure)
    tombstones = deleted * per_item
    total = measure.wcu + outcomes + tombstones
    return (
        f"{outcomes:,} sweeps-table puts = {outcomes:,} WCU, {deleted:,} tombstones x "
        f"{per_item:.0f} = {tombstones:,.0f} WCU; with them {total:,.0f} WCU"
    )


def process_table(measures: Sequence[SweepMeasure]) -> list[str]:
    """Peak RSS (each sweep's own: VmHWM reset before it) and CPU seconds of every process,
    per sweep."""
    names = list(dict.fromkeys(n for m in measures for n, _ in m.rss_mb))
    peaks = [dict(m.rss_mb) for m in measures]
    cpus = [dict(m.cpu_by_process) for m in measures]
    lines = [
        "| process | "
        + " | ".join(f"sweep {m.index} peak RSS MB / CPU s" for m in measures)
        + " |",
        "|---" * (len(measures) + 1) + "|",
    ]
    for name in names:
        cells = [
            (f"{p[name]:.0f}" if name in p else "-")
            + " / "
            + (f"{c[name]:.1f}" if name in c else "-")
            for p, c in zip(peaks, cpus, strict=True)
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def markdown(
    title: str,
    shape: str,
    measures: Sequence[SweepMeasure],
    notes: Sequence[str],
    sim: Mapping[str, Any],
) -> str:
    """The report of one multi-sweep run."""
    first, last = measures[0], measures[-1]
    lines = [
        f"# {title}",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}; simulator "
        f"{', '.join(f'{k} {v}' for k, v in sim.items())}. fleetstream only, one pool of "
        "describers and sinks for every sweep (started once, before the first). Wall = plan "
        "to the last shard outcome. Items written, seen marks and WCU are the sinks' own "
        "counters (fleetstream_sink_items_written_total, ..._seen_marks_total, "
        "..._write_units_total: the ConsumedCapacity DynamoDB Local returned, which it computes "
        "as AWS bills on-demand writes, 1 WCU per started KB of each item put). Change events "
        "are read from the changes topic (read_committed). Peak RSS is each sweep's own "
        "(VmHWM reset before every sweep). Load = the 1-minute load average (shared machine).",
        "",
        f"## {shape}",
        "",
        HEADER,
        "|---" * HEADER.count(" | ") + "|---|",
        *(_row(m) for m in measures),
        "",
        f"Last / first: wall {_ratio(last.wall_s, first.wall_s)}, items written "
        f"{_ratio(last.inventory_writes, first.inventory_writes)}, WCU "
        f"{_ratio(last.wcu, first.wcu)}, CPU own {_ratio(last.cpu_s, first.cpu_s)}, "
        f"CPU + infra {_ratio(last.cpu_s + last.infra_cpu_s, first.cpu_s + first.infra_cpu_s)}.",
        "",
        "Targets (issue 16):",
        "",
        *targets(measures),
        "",
        "Per process:",
        "",
        *process_table(measures),
        "",
        "Notes:",
        *(f"- {note}" for note in notes),
        "",
    ]
    return "\n".join(lines)
