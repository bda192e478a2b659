"""Grafana dashboards under test: structure, and every query against a real Prometheus."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.prometheus_fixtures import Prometheus

GRAFANA = Path(__file__).resolve().parents[1] / "deploy" / "grafana"
# Grafana's built-in interval variables, at values that suit a test's 1 s scrapes.
BUILTINS = {"__rate_interval": "10s", "__interval": "2s", "__range": "1h"}


def load(name: str) -> dict[str, Any]:
    """A dashboard of deploy/grafana/ as data."""
    dashboard: dict[str, Any] = json.loads((GRAFANA / name).read_text())
    return dashboard


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those inside collapsed rows included."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def row_panels(dashboard: dict[str, Any], row_title: str) -> list[dict[str, Any]]:
    """The panels below a row (up to the next row), in layout order."""
    found: list[dict[str, Any]] = []
    inside = False
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            inside = panel["title"] == row_title
            found.extend(panel.get("panels", []) if inside else [])
        elif inside:
            found.append(panel)
    assert found, f"no panels under row {row_title!r}"
    return found


def assert_importable(dashboard: dict[str, Any], variables: set[str]) -> None:
    """What Grafana needs to import the file as is: ids, layout, datasource, queries."""
    assert dashboard["uid"]
    assert dashboard["title"]
    declared = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables <= set(declared)
    assert declared["datasource"]["type"] == "datasource"
    every = list(panels(dashboard))
    ids = [p["id"] for p in every]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in every:
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"]), panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        assert all(t["expr"].strip() for t in panel["targets"]), panel["title"]


def _regex_escape(value: str) -> str:
    # As Grafana formats a multi-value variable for a Prometheus regex matcher.
    return re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\\\1", value)


def substitute(expr: str, values: dict[str, str]) -> str:
    """Fill in $name and ${name} (longest names first)."""
    for name in sorted(values, key=len, reverse=True):
        expr = expr.replace(f"${{{name}}}", values[name]).replace(f"${name}", values[name])
    return expr


def variable_values(prom: Prometheus, dashboard: dict[str, Any]) -> dict[str, str]:
    """Each query variable resolved as Grafana would: label_values() over Prometheus' series."""
    values = dict(BUILTINS)
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            continue
        match = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", variable["definition"])
        assert match, variable["definition"]
        selector, label = substitute(match.group(1), values), match.group(2)
        series = prom.api("series", **{"match[]": selector, "start": str(time.time() - 300)})
        found = sorted({s[label] for s in series if label in s})
        assert found, f"variable {variable['name']}: {selector} has no {label} values"
        values[variable["name"]] = "|".join(_regex_escape(v) for v in found)
    return values


def queries_without_data(
    prom: Prometheus, dashboard: dict[str, Any], chosen: list[dict[str, Any]] | None = None
) -> list[str]:
    """Every expression of the chosen panels (default: all), variables filled in, that
    returns nothing."""
    values = variable_values(prom, dashboard)
    empty: list[str] = []
    for panel in panels(dashboard) if chosen is None else chosen:
        for target in panel.get("targets", []):
            expr = substitute(target["expr"], values)
            assert "$" not in expr, f"unsubstituted variable in {panel['title']}: {expr}"
            if not prom.query(expr):
                empty.append(f"{panel['title']}: {expr}")
    return empty
