"""How `fleetstream sweep` shows progress: a live bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import click

from fleetstream.inventory.sweeps import SweepProgress


def rate(progress: SweepProgress, elapsed_s: float) -> float:
    """Resources per second so far."""
    return progress.resources / elapsed_s if elapsed_s > 0 else 0.0


class ProgressView(Protocol):
    """Receives every poll of a sweep's progress."""

    def update(self, progress: SweepProgress, elapsed_s: float) -> None: ...

    def close(self) -> None: ...


class LineProgress:
    """A line every few seconds (logs, CI, pipes)."""

    def __init__(self, echo: Callable[[str], None], every_s: float = 2.0) -> None:
        self._echo = echo
        self._every_s = every_s
        self._last = 0.0

    def update(self, progress: SweepProgress, elapsed_s: float) -> None:
        """Print a line if the last one is old enough."""
        if time.monotonic() - self._last < self._every_s:
            return
        self._last = time.monotonic()
        self._echo(
            f"  {len(progress.shards)}/{progress.total_shards or '?'} shards finished, "
            f"{len(progress.failed)} failed, {progress.resources} resources, "
            f"{rate(progress, elapsed_s):.0f}/s"
        )

    def close(self) -> None:
        """Nothing to tidy."""


class TerminalProgress:
    """A live bar (click's) of shards done / total with failures and resources/s."""

    def __init__(self) -> None:
        self._bar: click._termui_impl.ProgressBar[int] | None = None
        self._done = 0

    def update(self, progress: SweepProgress, elapsed_s: float) -> None:
        """Advance the bar to the shards finished so far."""
        if progress.total_shards is None:
            return
        if self._bar is None:
            self._bar = click.progressbar(
                length=progress.total_shards,
                label="shards",
                show_pos=True,
                show_eta=True,
                item_show_func=lambda text: text,  # type: ignore[arg-type,return-value]
            )
            self._bar.__enter__()
        finished = len(progress.shards)
        status = (
            f"{len(progress.failed)} failed, {progress.resources} resources, "
            f"{rate(progress, elapsed_s):.0f}/s"
        )
        self._bar.update(finished - self._done, current_item=status)  # type: ignore[arg-type]
        self._done = finished

    def close(self) -> None:
        """Finish the bar's line."""
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
