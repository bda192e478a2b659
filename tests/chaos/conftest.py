"""The chaos run's seed: fresh every run, shown in pytest's header, replayable by env var."""

from __future__ import annotations

import pytest

from tests.chaos.harness import SEED_ENV, new_seed

_SEED = pytest.StashKey[int]()


def pytest_configure(config: pytest.Config) -> None:
    """Draw the seed once per session (or take $FLEETSTREAM_CHAOS_SEED)."""
    config.stash[_SEED] = new_seed()


def pytest_report_header(config: pytest.Config) -> str:
    """Print the seed at the top of every run, so a CI log says how to replay it."""
    seed = config.stash[_SEED]
    return f"chaos seed {seed} (replay: {SEED_ENV}={seed})"


@pytest.fixture
def chaos_seed(pytestconfig: pytest.Config) -> int:
    """This session's chaos seed."""
    return pytestconfig.stash[_SEED]
