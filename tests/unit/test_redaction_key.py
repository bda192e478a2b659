"""Redaction is keyed (HMAC-SHA256 with a per-deployment secret): a fingerprint cannot be
recovered by hashing a dictionary, nor correlated across deployments."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from consumers.describer.main import redaction_key
from devstack import StackEndpoints
from devstack.submitter import dev_redaction_key, dev_submitter_key
from fleetstream.apps.demo import demo_config
from fleetstream.base.config import DescriberSettings, SecretSource, load_settings
from fleetstream.base.errors import ConfigError
from fleetstream.catalog import CATALOG
from fleetstream.catalog.observe import observe

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, tzinfo=UTC)
KEY = b"deployment-a-redaction-key"
# What an attacker with the inventory (or a backup of it) would try first.
DICTIONARY = ("123456", "password", "hunter2", "letmein", "postgres", "admin", "changeme")


def plain_fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def fingerprint_of(password: str, key: bytes = KEY) -> str:
    function: dict[str, Any] = {
        "FunctionName": "f",
        "FunctionArn": "arn:aws:lambda:eu-west-1:1:function:f",
        "Environment": {"Variables": {"DB_PASSWORD": password}},
    }
    observation = observe(
        CATALOG["lambda.function"],
        function,
        account_id="111111111111",
        account_name="prod",
        region="eu-west-1",
        sweep_id="s",
        observed_at=NOW,
        redaction_key=key,
    )
    redacted = json.loads(observation.attributes_json)["Environment"]["Variables"]["DB_PASSWORD"]
    assert str(redacted).startswith("<redacted:hmac-sha256:")
    return str(redacted).rsplit(":", 1)[1].rstrip(">")


def test_a_redacted_value_is_not_recoverable_by_hashing_a_dictionary() -> None:
    lookup = {plain_fingerprint(word): word for word in DICTIONARY}
    assert lookup.get(fingerprint_of("hunter2")) is None


def test_fingerprints_are_stable_under_one_key_and_differ_across_deployments() -> None:
    assert fingerprint_of("hunter2") == fingerprint_of("hunter2")  # changes stay detectable
    assert fingerprint_of("hunter2") != fingerprint_of("hunter3")
    assert fingerprint_of("hunter2") != fingerprint_of("hunter2", b"deployment-b-redaction-key")


def test_the_describer_needs_a_redaction_key_and_never_echoes_it() -> None:
    with pytest.raises(ConfigError, match=r"describer\.redaction_key is not set"):
        redaction_key(DescriberSettings())
    short = DescriberSettings(redaction_key=SecretSource(env="FS_TEST_SHORT_KEY"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FS_TEST_SHORT_KEY", "tooshort")
        with pytest.raises(ConfigError, match="fewer than 16 bytes") as caught:
            redaction_key(short)
    assert "tooshort" not in str(caught.value)
    env = {"FLEETSTREAM_DESCRIBER__REDACTION_KEY": "a-long-enough-redaction-key"}
    assert redaction_key(load_settings(None, env).describer) == b"a-long-enough-redaction-key"


def test_the_local_stack_keeps_one_redaction_key_per_home(tmp_path: Path) -> None:
    path = dev_redaction_key(tmp_path)
    assert path.stat().st_mode & 0o077 == 0
    assert dev_redaction_key(tmp_path).read_text() == path.read_text()  # made once
    settings = DescriberSettings(redaction_key=SecretSource(file=path))
    assert len(redaction_key(settings)) == 64


def test_the_demo_config_gives_the_describer_its_redaction_key(tmp_path: Path) -> None:
    endpoints = StackEndpoints("127.0.0.1:9092", "http://127.0.0.1:8000", "http://127.0.0.1:5000")
    config = demo_config(
        endpoints, "000000000000", dev_submitter_key(tmp_path), dev_redaction_key(tmp_path)
    )
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(config))
    settings = load_settings(path, env={})
    assert (
        redaction_key(settings.describer)
        == dev_redaction_key(tmp_path).read_text().strip().encode()
    )
