"""The chaos run's seed: fresh every run, shown in pytest's header, replayable by env var."""

from __future__ import annotations

import pytest

from tests.chaos.harness import SEED_ENV, new_seed

_SEED = pytest.StashKey[int]()


def pytest_configure(config: pytest.Config) -> None:
    """Draw the seed once per session (or take $FLEETSTREAM_CHAOS_SEED)."""
    config.stash[_SEED] = new_seed()


def _replay_line(config: pytest.Config) -> str:
    seed = config.stash[_SEED]
    return f"chaos seed {seed} (replay: {SEED_ENV}={seed})"


def pytest_report_header(config: pytest.Config) -> str:
    """The seed at the top of a run that names tests/chaos (the header is printed before
    conftests below the named paths load, and not at all with -q)."""
    return _replay_line(config)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The seed at the end of every run that collected the chaos tests, -q or not."""
    terminalreporter.write_line(_replay_line(terminalreporter.config))


@pytest.fixture
def chaos_seed(pytestconfig: pytest.Config) -> int:
    """This session's chaos seed."""
    return pytestconfig.stash[_SEED]
