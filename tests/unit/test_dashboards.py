"""The continuous-inventory dashboard imports as is; its queries run in the integration tests
(tests/integration/test_events.py, test_planner_continuous.py) against a real Prometheus."""

from __future__ import annotations

import pytest

from tests.dashboards import assert_importable, load, row_panels

pytestmark = pytest.mark.unit


def test_continuous_dashboard_is_importable_and_every_row_has_panels() -> None:
    dashboard = load("fleetstream-continuous.json")
    assert_importable(dashboard, {"datasource"})
    assert row_panels(dashboard, "Event-driven refresh")
    assert row_panels(dashboard, "Scheduled sweeps (fleetstream planner)")
    assert row_panels(dashboard, "Action plane")
