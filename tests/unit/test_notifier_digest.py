"""The notifier's digest and Retry-After parsing, pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from consumers.notifier.digest import MAX_LISTED, Digest
from consumers.notifier.webhook import retry_after_seconds
from fleetstream.base.config import NotifierSettings, load_settings
from fleetstream.base.errors import ConfigError
from fleetstream.serde.wire import ChangeEvent, ChangeType

pytestmark = pytest.mark.unit
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def event(index: int, kind: ChangeType, account: str = "111111111111") -> ChangeEvent:
    return ChangeEvent(
        change_id=f"c{index}",
        change_type=kind,
        arn=f"arn:aws:s3:::bucket-{index}",
        account_id=account,
        account_name="prod",
        region="us-east-1",
        resource_type="s3.bucket",
        resource_id=f"bucket-{index}",
        sweep_id="s",
        observed_at=T0 + timedelta(seconds=index),
        name="<b>&",
        changed_paths=("Versioning.Status", "tags.Team") if kind is ChangeType.MODIFIED else (),
    )


def test_counts_per_account_type_and_kind_and_lists_the_first_n() -> None:
    digest = Digest(first_n=2)
    for index, kind in enumerate([ChangeType.CREATED, ChangeType.CREATED, ChangeType.MODIFIED]):
        digest.add(event(index, kind))
    digest.add(event(3, ChangeType.DELETED, account="222222222222"))
    digest.add(event(0, ChangeType.CREATED))  # redelivered: counted once
    payload = digest.payload()
    assert digest.total == 4
    assert payload["text"] == "fleetstream: 4 changes (2 created, 1 modified, 1 deleted)"
    counts = payload["blocks"][1]["text"]["text"]
    assert "`111111111111 (prod)` s3.bucket: 2 created, 1 modified" in counts
    assert "`222222222222 (prod)` s3.bucket: 1 deleted" in counts
    listed = [b["text"]["text"] for b in payload["blocks"][2:-1]]
    assert len(listed) == 2 and "`bucket-0`" in listed[0]
    assert "(&lt;b&gt;&amp;)" in listed[0]  # mrkdwn control characters escaped
    assert "first 2 of 4 listed" in payload["blocks"][-1]["elements"][0]["text"]


def test_a_modified_change_lists_its_paths_and_blocks_stay_within_slack_limits() -> None:
    digest = Digest(first_n=MAX_LISTED)
    for index in range(500):
        digest.add(replace(event(index, ChangeType.MODIFIED), resource_type=f"t{index:03d}"))
    payload = digest.payload()
    assert len(payload["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in payload["blocks"] if "text" in b)
    assert payload["blocks"][1]["text"]["text"].endswith("more rows")
    assert "changed: `Versioning.Status`, `tags.Team`" in payload["blocks"][2]["text"]["text"]


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    later = datetime.now(UTC) + timedelta(seconds=120)
    assert 100 < (retry_after_seconds(format_datetime(later, usegmt=True)) or 0) <= 120


def test_first_n_is_bounded_by_slack_block_limit() -> None:
    with pytest.raises(ValueError, match="first_n"):
        NotifierSettings(first_n=MAX_LISTED + 1)


def test_the_webhook_url_must_be_http_and_is_never_echoed() -> None:
    env = {"FLEETSTREAM_NOTIFIER__WEBHOOK_URL": "ftp://hooks.example/T/B/secret"}
    with pytest.raises(ConfigError, match=r"notifier\.webhook_url: .*must be an http") as caught:
        load_settings(None, env)
    assert "secret" not in str(caught.value)
    env = {"FLEETSTREAM_NOTIFIER__WEBHOOK_URL": "https://hooks.example/T/B/secret"}
    assert "secret" not in repr(load_settings(None, env))


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example/T/B/secret",
        "http://10.0.0.7:8080/T/B/secret",
        "http://127.0.0.1.example/T/B/secret",  # a name that only starts like loopback
        "http://localhost.example/T/B/secret",
        "http://user@/T/B/secret",  # no host at all
    ],
)
def test_a_plain_http_webhook_outside_loopback_is_a_config_error(url: str) -> None:
    # The URL is a credential: over plain http anyone on the path reads it (and the digest).
    env = {"FLEETSTREAM_NOTIFIER__WEBHOOK_URL": url}
    with pytest.raises(ConfigError, match=r"notifier\.webhook_url: .*https") as caught:
        load_settings(None, env)
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example/T/B/secret",
        "http://127.0.0.1:8080/T/B/secret",
        "http://localhost:8080/T/B/secret",
        "HTTP://LOCALHOST/T/B/secret",
        "http://[::1]:8080/T/B/secret",
        "http://127.0.0.2/T/B/secret",
    ],
)
def test_https_or_loopback_webhooks_are_accepted(url: str) -> None:
    env = {"FLEETSTREAM_NOTIFIER__WEBHOOK_URL": url}
    settings = load_settings(None, env)
    assert settings.notifier.webhook_url is not None
    assert settings.notifier.webhook_url.get_secret_value() == url
