"""The AWS credential and client caches stay bounded however many accounts a describer sees."""

from __future__ import annotations

import pytest

from fleetstream.aws.clients import AwsClients
from fleetstream.base.config import load_settings

pytestmark = pytest.mark.unit


def test_caches_are_lru_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    settings = load_settings(
        None,
        env={
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "FLEETSTREAM_AWS__MAX_CACHED_ACCOUNTS": "4",
            "FLEETSTREAM_AWS__MAX_CACHED_CLIENTS": "3",
        },
    )
    clients = AwsClients(settings.aws)
    first = clients.member("100000000001", "eu-west-1", "ec2")
    for n in range(2, 12):
        clients.member(f"1000000000{n:02d}", "eu-west-1", "ec2")
    assert len(clients._credentials._items) == 4
    # Every account's view shares the one (region, service) client.
    assert list(clients._clients._items) == [("members", "eu-west-1", "ec2")]
    for region in ("us-east-1", "us-west-2", "ap-south-1"):
        clients.member("100000000001", region, "ec2")
    assert len(clients._clients._items) == 3
    # Evicted: a new shared client is built on the next use.
    again = clients.member("100000000001", "eu-west-1", "ec2")
    assert again._endpoint is not first._endpoint
