"""What the catalog's e2e tests share: a place of the estate, a fresh estate, a sweep."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devstack import StackEndpoints
from devstack.seed import Estate, EstateSpec, _Clients, seed_estate
from fleetstream.apps.oneshot import run_sweep
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings, load_settings
from fleetstream.base.models import GLOBAL_REGION
from fleetstream.catalog import CATALOG
from fleetstream.inventory.read import scan_items
from tests.integration.catalog_seeds import Clients, Made, defaults
from tests.integration.helpers import settings_for

Fact = tuple[str, str, str]  # account, region, resource id


@dataclass(frozen=True)
class Place:
    """One (account, region) of the estate, with clients acting inside it."""

    clients: _Clients
    account: str
    region: str
    secret: str

    def __call__(self, service: str) -> Any:
        return self.clients.member(self.account, service, self.region)

    @property
    def name(self) -> str:
        return f"fs-{self.account[-6:]}-{self.region}"

    @property
    def role_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role/FleetstreamReadOnly"


def estate_of(local_stack: StackEndpoints, accounts: int, regions: tuple[str, ...]) -> Estate:
    """A fresh organization with one seeded instance per member account and region."""
    assert local_stack.aws_endpoint
    spec = EstateSpec(
        member_accounts=accounts, regions=regions, instances_per_region=1, paged_region=None
    )
    return seed_estate(local_stack.aws_endpoint, spec)


def configure(
    monkeypatch: pytest.MonkeyPatch, estate: Estate, types: list[str], where: Path, **env: str
) -> tuple[Settings, Path]:
    """Settings for exactly this estate and these types, and the config file children read.

    resource_types is a top-level key, which FLEETSTREAM_<SECTION>__<KEY> overrides cannot
    reach, so it travels in a config file (JSON is YAML).
    """
    config = where / "catalog-e2e.yaml"
    config.write_text(json.dumps({"resource_types": types}))
    settings_for(monkeypatch, estate, **env)
    return load_settings(config), config


def sweep(settings: Settings, config: Path, log_dir: Path) -> list[dict[str, Any]]:
    """Run one sweep to completion; every inventory item afterwards."""
    result = run_sweep(
        settings, config, describers=2, sinks=1, timeout_s=300, log_dir=log_dir, echo=print
    )
    assert result.progress.finished, f"sweep did not finish: {result.progress}"
    failed = [(s.shard, s.error_code, s.reason) for s in result.progress.failed]
    assert not failed, failed
    return list(scan_items(dynamodb_client(settings), settings.sink.table))


def facts(items: list[dict[str, Any]]) -> dict[str, set[Fact]]:
    """The inventory's (account, region, id) per type."""
    found: dict[str, set[Fact]] = defaultdict(set)
    for item in items:
        fact = (item["account_id"]["S"], item["region"]["S"], item["resource_id"]["S"])
        found[item["resource_type"]["S"]].add(fact)
    return dict(found)


@dataclass(frozen=True)
class Swept:
    """What one family's e2e seeded, and what one sweep of exactly its types found."""

    truth: dict[str, set[Fact]]
    found: dict[str, set[Fact]]
    items: list[dict[str, Any]]

    def wrong(self) -> dict[str, dict[str, set[Fact]]]:
        """Per type whose inventory differs from the seed: what is missing, what is extra."""
        found = {t: self.found.get(t, set()) for t in self.truth}
        return {
            t: {"missing": want - found[t], "extra": found[t] - want}
            for t, want in self.truth.items()
            if found[t] != want
        }


def sweep_seeded(
    local_stack: StackEndpoints,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
    seed: Any,
    region: str = "eu-west-1",
) -> Swept:
    """Seed one account and region of a fresh estate with seed(clients, name), then sweep
    the seeded types; the truth is the seeded ids plus what AWS creates on its own."""
    assert local_stack.aws_endpoint
    estate = estate_of(local_stack, 1, (region,))
    place = Place(_Clients(local_stack.aws_endpoint), estate.accounts[0].account_id, region, "")
    clients: Clients = place
    made: Made = seed(clients, place.name)
    for type_name, ids in defaults(clients).items():
        if type_name in made:
            made[type_name] = sorted({*made[type_name], *ids})
    where = {t: GLOBAL_REGION if CATALOG[t].global_resource else region for t in made}
    truth = {t: {(place.account, where[t], i) for i in ids} for t, ids in made.items()}
    settings, config = configure(
        monkeypatch, estate, sorted(made), log_dir.parent, FLEETSTREAM_DESCRIBER__PAGE_SIZE="5"
    )
    items = sweep(settings, config, log_dir)
    return Swept(truth, facts(items), items)


def tagged_types(items: list[dict[str, Any]], key: str = "team") -> set[str]:
    """The types of the items that carry tag key."""
    return {i["resource_type"]["S"] for i in items if i.get("tags", {}).get("M", {}).get(key)}
