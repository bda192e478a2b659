"""Configuration: YAML plus environment, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetstream.base.config import load_settings
from fleetstream.base.errors import ConfigError

pytestmark = pytest.mark.unit


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fleetstream.yaml"
    path.write_text(text)
    return path


def test_defaults_without_a_file() -> None:
    settings = load_settings(None, env={})
    assert settings.kafka.topic("work") == "fleetstream.work"
    assert settings.resource_types == ("ec2.instance",)


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "kafka:\n  bootstrap_servers: a:1\ndescriber:\n  page_size: 20\n")
    settings = load_settings(
        path,
        env={
            "KAFKA_BOOTSTRAP_SERVERS": "b:2",
            "FLEETSTREAM_DESCRIBER__PAGE_SIZE": "50",
            "FLEETSTREAM_ACCOUNTS__INCLUDE": '["111111111111"]',
            "FLEETSTREAM_RESOURCE_TYPES": '["ec2.instance", "s3.bucket"]',
            "FLEETSTREAM_CONFIG": "/not/a/setting.yaml",
        },
    )
    assert settings.kafka.bootstrap_servers == "b:2"
    assert settings.describer.page_size == 50
    assert settings.accounts.include == ("111111111111",)
    assert settings.resource_types == ("ec2.instance", "s3.bucket")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kafka:\n  bootstap_servers: x\n", "unknown key 'kafka.bootstap_servers'"),
        ("aws:\n  member_role_name: 'no spaces allowed'\n", "not a valid IAM role name"),
        ("regions:\n  include: [mars-1]\n", "not an AWS region name"),
        ("describer:\n  page_size: 2\n", "describer.page_size"),
        ("accounts:\n  static: [{id: '12'}]\n", "12 digits"),
        ("kafka: [1, 2\n", "not valid YAML at line"),
        ("- just\n- a list\n", "must be a mapping"),
    ],
)
def test_invalid_config_is_one_actionable_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), env={})
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    assert str(tmp_path) in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "absent.yaml", env={})


def test_member_role_arn() -> None:
    settings = load_settings(None, env={"FLEETSTREAM_AWS__MEMBER_ROLE_NAME": "Reader"})
    assert settings.aws.member_role_arn("222222222222") == "arn:aws:iam::222222222222:role/Reader"


def test_the_config_file_content_in_an_environment_variable(tmp_path: Path) -> None:
    text = "kafka:\n  partitions: 24\nsink:\n  table: inv\n"
    env = {"FLEETSTREAM_CONFIG_YAML": text, "FLEETSTREAM_SINK__TABLE": "override"}
    settings = load_settings(None, env=env)
    assert settings.kafka.partitions == 24
    assert settings.sink.table == "override"
    # A named file wins over the variable.
    named = write(tmp_path, "kafka:\n  partitions: 3\n")
    assert load_settings(named, env=env).kafka.partitions == 3
    with pytest.raises(ConfigError, match=r"FLEETSTREAM_CONFIG_YAML: unknown key 'kafka\.nope'"):
        load_settings(None, env={"FLEETSTREAM_CONFIG_YAML": "kafka:\n  nope: 1\n"})
