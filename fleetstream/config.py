"""One frozen settings object per process: a YAML file, then environment overrides.

Environment overrides use FLEETSTREAM_<SECTION>__<KEY> (e.g. FLEETSTREAM_DESCRIBER__PAGE_SIZE=50),
plus the conventional KAFKA_BOOTSTRAP_SERVERS, AWS_ENDPOINT_URL and FLEETSTREAM_DYNAMODB_ENDPOINT
so that a bring-your-own stack needs no file at all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from fleetstream.errors import ConfigError

# IAM role names: 1-64 of letters, digits and +=,.@_- (AWS IAM CreateRole).
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
ENV_PREFIX = "FLEETSTREAM_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KafkaSettings(_Section):
    bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = "fleetstream."
    partitions: Annotated[int, Field(ge=1, le=10_000)] = 12
    replication_factor: Annotated[int, Field(ge=1, le=7)] = 1
    connect_timeout_s: Annotated[float, Field(gt=0, le=120)] = 5.0
    # Extra librdkafka properties (security.protocol, sasl.*, ssl.*), passed through verbatim.
    client: Mapping[str, str | int | bool] = Field(default_factory=dict)

    def topic(self, name: str) -> str:
        """Full topic name of a logical topic (work, resources, dlq)."""
        return f"{self.topic_prefix}{name}"


class StaticAccount(_Section):
    id: str
    name: str = ""

    @field_validator("id")
    @classmethod
    def _twelve_digits(cls, value: str) -> str:
        if not _ACCOUNT_ID.match(value):
            raise ValueError(f"account id must be 12 digits, got {value!r}")
        return value


class AccountSettings(_Section):
    source: Literal["organizations", "static"] = "organizations"
    static: tuple[StaticAccount, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


class RegionSettings(_Section):
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @field_validator("include", "exclude")
    @classmethod
    def _region_names(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not _REGION.match(value):
                raise ValueError(f"{value!r} is not an AWS region name")
        return values


class AwsSettings(_Section):
    endpoint_url: str | None = None
    region: str = "us-east-1"
    member_role_name: str = "FleetstreamReadOnly"
    member_role_path: str = "/"
    external_id: SecretStr | None = None
    role_session_name: str = "fleetstream"
    # Attempts per call, the first included, in botocore's adaptive retry mode (which also
    # paces a client after throttles); what still fails goes to the retry topic.
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 3
    # Client-side budget per (account, region, service), shared by a process' threads.
    rate_per_s: Annotated[float, Field(gt=0, le=10_000)] = 20.0
    rate_burst: Annotated[float, Field(ge=1, le=10_000)] = 40.0
    # Bounds of the credential and client caches (LRU). A botocore client costs ~1.4 MB and an
    # account's session ~0.5 MB, so these bounds, not the estate, cap a describer's memory.
    max_cached_accounts: Annotated[int, Field(ge=1, le=100_000)] = 128
    max_cached_clients: Annotated[int, Field(ge=1, le=100_000)] = 64
    connect_timeout_s: Annotated[float, Field(gt=0, le=60)] = 5.0
    read_timeout_s: Annotated[float, Field(gt=0, le=300)] = 30.0

    @field_validator("member_role_name")
    @classmethod
    def _role_name(cls, value: str) -> str:
        if not _ROLE_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a valid IAM role name (1-64 of letters, digits, +=,.@_-)"
            )
        return value

    def member_role_arn(self, account_id: str) -> str:
        """The role the describer assumes in a member account."""
        return f"arn:aws:iam::{account_id}:role{self.member_role_path}{self.member_role_name}"


class DescriberSettings(_Section):
    group_id: str = "fleetstream-describer"
    # A stable id per replica (e.g. the ECS task or pod ordinal) lets a restarted describer
    # fence its predecessor's open transaction at once instead of after its timeout.
    instance_id: str | None = None
    page_size: Annotated[int, Field(ge=5, le=1000)] = 100
    concurrency: Annotated[int, Field(ge=1, le=256)] = 16
    batch_size: Annotated[int, Field(ge=1, le=1000)] = 64
    # A throttled or transiently failing page goes to the retry topic with backoff; the shard
    # fails only after this many attempts of one page or once it has run this long.
    # A transaction commit that takes longer than this ends the process (see loop.py).
    commit_watchdog_s: Annotated[float, Field(ge=5, le=3600)] = 120.0
    retry_max_attempts: Annotated[int, Field(ge=1, le=1000)] = 12
    retry_base_s: Annotated[float, Field(gt=0, le=600)] = 1.0
    retry_max_backoff_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    shard_deadline_s: Annotated[float, Field(gt=0, le=7 * 86400)] = 3600.0


class SinkSettings(_Section):
    group_id: str = "fleetstream-sink"
    dynamodb_endpoint: str | None = None
    table: str = "fleetstream-inventory"
    sweeps_table: str = "fleetstream-sweeps"
    ttl_days: Annotated[int, Field(ge=1, le=3650)] = 30
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 500


class ActionSettings(_Section):
    planner_group_id: str = "fleetstream-action-planner"
    group_id: str = "fleetstream-actor"
    instance_id: str | None = None  # a stable id per replica, as for the describer
    audit_table: str = "fleetstream-actions"
    audit_ttl_days: Annotated[int, Field(ge=1, le=3650)] = 400
    # The default guard of `fleetstream act` (--max-targets overrides it per request).
    max_targets: Annotated[int, Field(ge=1, le=1_000_000)] = 1000
    batch_size: Annotated[int, Field(ge=1, le=1000)] = 16  # steps per transaction
    concurrency: Annotated[int, Field(ge=1, le=256)] = 8
    commit_watchdog_s: Annotated[float, Field(ge=5, le=3600)] = 120.0
    # A workflow's "wait until available" re-checks: first after wait_first_s, then every
    # wait_every_s, giving up after wait_max_checks.
    wait_first_s: Annotated[float, Field(ge=0, le=3600)] = 30.0
    wait_every_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    wait_max_checks: Annotated[int, Field(ge=1, le=10_000)] = 240
    # A throttled or transiently failing step is retried this often, with backoff.
    retry_max_attempts: Annotated[int, Field(ge=1, le=1000)] = 12
    retry_base_s: Annotated[float, Field(gt=0, le=600)] = 1.0
    retry_max_backoff_s: Annotated[float, Field(gt=0, le=3600)] = 60.0


class MetricsSettings(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 0  # 0: any free port, logged at start
    # Per-account label values on AWS API metrics (cardinality grows with the estate).
    account_labels: bool = False
    # How often librdkafka reports lag to the consumer's gauges.
    stats_interval_ms: Annotated[int, Field(ge=100, le=600_000)] = 5_000


class Settings(_Section):
    """Everything one fleetstream process needs to know."""

    kafka: KafkaSettings = KafkaSettings()
    aws: AwsSettings = AwsSettings()
    accounts: AccountSettings = AccountSettings()
    regions: RegionSettings = RegionSettings()
    resource_types: tuple[str, ...] = ("ec2.instance",)
    describer: DescriberSettings = DescriberSettings()
    sink: SinkSettings = SinkSettings()
    actions: ActionSettings = ActionSettings()
    metrics: MetricsSettings = MetricsSettings()


def _set_path(tree: dict[str, Any], path: list[str], value: str) -> None:
    for part in path[:-1]:
        node = tree.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"environment override {'.'.join(path)} conflicts with a scalar")
        tree = node
    # YAML scalars, so FLEETSTREAM_DESCRIBER__PAGE_SIZE=50 is an int and lists can be given.
    tree[path[-1]] = yaml.safe_load(value) if value.strip() else value


def _env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    conventional = {
        "KAFKA_BOOTSTRAP_SERVERS": ["kafka", "bootstrap_servers"],
        "AWS_ENDPOINT_URL": ["aws", "endpoint_url"],
        "FLEETSTREAM_DYNAMODB_ENDPOINT": ["sink", "dynamodb_endpoint"],
    }
    for name, path in conventional.items():
        if env.get(name):
            _set_path(tree, path, env[name])
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        # Top-level scalars (FLEETSTREAM_RESOURCE_TYPES); other FLEETSTREAM_* variables
        # (FLEETSTREAM_CONFIG, FLEETSTREAM_CACHE, ...) are not settings.
        if len(path) > 1 or path[0] in _TOP_LEVEL_KEYS:
            _set_path(tree, path, value)
    return tree


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _one_line(error: ValidationError, source: str) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        message = f"unknown key {where!r}"
    else:
        message = f"{where}: {first['msg']}"
    more = len(error.errors()) - 1
    suffix = f" (+{more} more)" if more else ""
    return f"invalid config in {source}: {message}{suffix}"


_TOP_LEVEL_KEYS = frozenset({"resource_types"})


def isolated_env(tag: str, topic_prefix: str) -> dict[str, str]:
    """Environment overrides giving one run its own topics, tables and consumer groups, so
    several runs (tests, benchmarks) share one Kafka and one DynamoDB without meeting."""
    return {
        "FLEETSTREAM_KAFKA__TOPIC_PREFIX": topic_prefix,
        "FLEETSTREAM_SINK__TABLE": f"inventory-{tag}",
        "FLEETSTREAM_SINK__SWEEPS_TABLE": f"sweeps-{tag}",
        "FLEETSTREAM_DESCRIBER__GROUP_ID": f"describer-{tag}",
        "FLEETSTREAM_SINK__GROUP_ID": f"sink-{tag}",
        "FLEETSTREAM_ACTIONS__GROUP_ID": f"actor-{tag}",
        "FLEETSTREAM_ACTIONS__PLANNER_GROUP_ID": f"action-planner-{tag}",
        "FLEETSTREAM_ACTIONS__AUDIT_TABLE": f"actions-{tag}",
    }


def load_settings(path: Path | None, env: Mapping[str, str] | None = None) -> Settings:
    """Read, merge and validate; every problem is a ConfigError with one actionable line."""
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    source = str(path) if path else "environment"
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {path} does not exist") from exc
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}" if mark is not None else ""
            raise ConfigError(f"config file {path} is not valid YAML{at}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must be a mapping of sections")
        data = loaded
    try:
        return Settings.model_validate(_merge(data, _env_overrides(env)))
    except ValidationError as exc:
        raise ConfigError(_one_line(exc, source)) from None
