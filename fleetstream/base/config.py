"""One frozen settings object per process: a YAML file, then environment overrides.

Environment overrides use FLEETSTREAM_<SECTION>__<KEY> (e.g. FLEETSTREAM_DESCRIBER__PAGE_SIZE=50),
plus the conventional KAFKA_BOOTSTRAP_SERVERS, AWS_ENDPOINT_URL, FLEETSTREAM_DYNAMODB_ENDPOINT and
FLEETSTREAM_SCHEMA_REGISTRY_URL so that a bring-your-own stack needs no file at all.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from fleetstream.actions.registry import ACTIONS
from fleetstream.base.errors import ConfigError
from fleetstream.base.msk import check_msk_endpoint

# IAM role names: 1-64 of letters, digits and +=,.@_- (AWS IAM CreateRole).
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_CADENCE_KEY = re.compile(r"^[a-z0-9]+\.([a-z0-9_]+|\*)$")
ENV_PREFIX = "FLEETSTREAM_"
# The config file's content in a variable, read when no file is named.
CONFIG_YAML_ENV = "FLEETSTREAM_CONFIG_YAML"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretSource(_Section):
    """Where a secret comes from: exactly one of value, env, file or secrets_manager.

    A plain string in the config is taken as the value itself (local testing only).
    """

    value: SecretStr | None = None
    env: str | None = None  # the name of an environment variable holding the secret
    file: Path | None = None  # a file holding the secret (a trailing newline is dropped)
    secrets_manager: str | None = None  # a Secrets Manager secret ARN or name
    # A JSON secret's field: MSK's SCRAM secrets (AmazonMSK_*) hold {"username", "password"}.
    json_key: str | None = None
    region: str | None = None  # a secret given by name; an ARN names its own region

    @model_validator(mode="before")
    @classmethod
    def _plain_value(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"value": data}
        # YAML read an unquoted secret as a number; pydantic reports only ValueErrors.
        if isinstance(data, int | float | bool):
            raise ValueError(  # noqa: TRY004
                "a secret must be a quoted string or a mapping (env, file, ...)"
            )
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretSource:
        given = [name for name in _SECRET_KINDS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(_SECRET_KINDS)} (got {len(given)})")
        if self.secrets_manager is None and (self.json_key or self.region) is not None:
            raise ValueError("json_key and region apply only to a secrets_manager secret")
        return self

    def describe(self) -> str:
        """Where the secret lives, for error messages (never the secret itself)."""
        if self.env is not None:
            return f"environment variable {self.env}"
        if self.file is not None:
            return f"file {self.file}"
        if self.secrets_manager is not None:
            return f"Secrets Manager secret {self.secrets_manager}"
        return "inline value"


_SECRET_KINDS = ("value", "env", "file", "secrets_manager")
SecurityMode = Literal["plaintext", "tls", "mtls", "scram", "msk_iam"]
# The keys each mode reads; any other key set is a mistake worth one line at start.
_MODE_KEYS: dict[str, frozenset[str]] = {
    "plaintext": frozenset(),
    "tls": frozenset({"ca_file", "verify_hostname"}),
    "mtls": frozenset(
        {"ca_file", "verify_hostname", "certificate_file", "key_file", "key_password"}
    ),
    "scram": frozenset({"ca_file", "verify_hostname", "username", "password"}),
    "msk_iam": frozenset({"ca_file", "verify_hostname", "region"}),
}
_MODE_NEEDS: dict[str, tuple[str, ...]] = {
    "mtls": ("certificate_file", "key_file"),
    "scram": ("username", "password"),
}


class KafkaSecurity(_Section):
    """How every Kafka client authenticates; docs/kafka-security.md explains each mode."""

    mode: SecurityMode = "plaintext"
    # PEM CA bundle that signed the brokers' certificates; unset: the system trust store.
    ca_file: Path | None = None
    verify_hostname: bool = True
    certificate_file: Path | None = None  # mtls: the client certificate (PEM)
    key_file: Path | None = None  # mtls: its private key (PEM, optionally encrypted)
    key_password: SecretSource | None = None  # mtls: the key's password, if encrypted
    username: str | None = None  # scram
    password: SecretSource | None = None  # scram
    # msk_iam: the cluster's region; unset: read from the MSK bootstrap host names.
    region: str | None = None

    @model_validator(mode="after")
    def _fits_mode(self) -> KafkaSecurity:
        stray = sorted(
            name
            for name in self.model_fields_set - {"mode"}
            if name not in _MODE_KEYS[self.mode] and getattr(self, name) is not None
        )
        if stray:
            raise ValueError(f"{', '.join(stray)} not used in mode {self.mode}")
        missing = [name for name in _MODE_NEEDS.get(self.mode, ()) if getattr(self, name) is None]
        if missing:
            raise ValueError(f"mode {self.mode} needs {' and '.join(missing)}")
        if self.region is not None and not _REGION.match(self.region):
            raise ValueError(f"{self.region!r} is not an AWS region name")
        return self


class KafkaSettings(_Section):
    bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = "fleetstream."
    partitions: Annotated[int, Field(ge=1, le=10_000)] = 12
    replication_factor: Annotated[int, Field(ge=1, le=7)] = 1
    connect_timeout_s: Annotated[float, Field(gt=0, le=120)] = 5.0
    security: KafkaSecurity = KafkaSecurity()
    # Extra librdkafka properties, passed through verbatim after the security settings.
    client: Mapping[str, str | int | bool] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _msk_ports_and_region(self) -> KafkaSettings:
        check_msk_endpoint(self.bootstrap_servers, self.security.mode, self.security.region)
        return self

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

    def selects(self, account_id: str) -> bool:
        """The account passes include/exclude (an empty include takes every account)."""
        return (not self.include or account_id in self.include) and account_id not in self.exclude


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
    # The read-only role the describer and planner assume in a member account.
    member_role_name: str = "FleetstreamReadOnly"
    # The role holding the action plane's writes, assumed by the actor only (member-role.yaml).
    action_role_name: str = "FleetstreamActions"
    member_role_path: str = "/"
    # A secret (value, env, file or secrets_manager), resolved when the AWS clients are built.
    external_id: SecretSource | None = None
    role_session_name: str = "fleetstream"
    # Attempts per call, the first included, in botocore's retry mode (adaptive for the hub's
    # calls; standard for member calls, whose clients every account shares); what still fails
    # goes to the retry topic.
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 3
    # Client-side budget per (account, region, service), shared by a process' threads.
    rate_per_s: Annotated[float, Field(gt=0, le=10_000)] = 20.0
    rate_burst: Annotated[float, Field(ge=1, le=10_000)] = 40.0
    # Bounds of the credential and client caches (LRU). A botocore client costs ~1.4 MB and is
    # shared by every member account of its (region, service); an account costs only its
    # credentials. These bounds, not the estate, cap a describer's memory.
    max_cached_accounts: Annotated[int, Field(ge=1, le=100_000)] = 128
    max_cached_clients: Annotated[int, Field(ge=1, le=100_000)] = 64
    connect_timeout_s: Annotated[float, Field(gt=0, le=60)] = 5.0
    read_timeout_s: Annotated[float, Field(gt=0, le=300)] = 30.0

    @field_validator("member_role_name", "action_role_name")
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

    def acting(self) -> AwsSettings:
        """These settings for the actor: member_role_arn names the actions role."""
        return self.model_copy(update={"member_role_name": self.action_role_name})


class DescriberSettings(_Section):
    group_id: str = "fleetstream-describer"
    # The per-deployment key of redacted values' fingerprints (HMAC-SHA256), a secret (env,
    # file or secrets_manager) of at least 16 bytes; required: the describer does not start
    # without it. Keep it: a new key changes every redacted value once (MODIFIED events).
    redaction_key: SecretSource | None = None
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


def seen_table_for(inventory_table: str) -> str:
    """The default seen-marks table of an inventory table."""
    return f"{inventory_table}-seen"


class SinkSettings(_Section):
    group_id: str = "fleetstream-sink"
    dynamodb_endpoint: str | None = None
    table: str = "fleetstream-inventory"
    sweeps_table: str = "fleetstream-sweeps"
    # Seen marks, the evidence deletion relies on; default: "<table>-seen".
    seen_table: str | None = None
    # Tombstones and sweep records expire after this many days; live items never expire.
    ttl_days: Annotated[int, Field(ge=1, le=3650)] = 30
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 500
    # How long seen marks are kept: a COMPLETE outcome whose shard started longer ago than
    # this (less a safety hour) finds no evidence and deletes nothing.
    seen_retention_s: Annotated[int, Field(ge=7200, le=90 * 86400)] = 7 * 86400
    # Skip writing unchanged resources (their seen mark is the deletion evidence). Off in
    # this release: a sink older than the seen marks, running after a rollback, deletes every
    # item whose observed_at is older than the shard's start. Enable once every sink runs
    # this version and rollback to an older sink is no longer possible.
    skip_unchanged: bool = False
    # With skip_unchanged: an unchanged resource is written again (observed_at refreshed) once
    # its stored observation is older than this, spread per ARN over the second half of it.
    rewrite_unchanged_after_s: Annotated[int, Field(ge=60, le=90 * 86400)] = 86400
    # Describers' clocks may disagree by this much: an item observed this close before the
    # shard's start is never a deletion candidate on time alone.
    clock_skew_margin_ms: Annotated[int, Field(ge=0, le=600_000)] = 2000
    # Times further ahead of the sink's clock than this are refused (dead letter, ClockSkew).
    future_tolerance_s: Annotated[float, Field(ge=1, le=86400)] = 120.0
    # Outcome work (tombstones, gone-account marks) reads and writes this many items at a
    # time; the consumer group is served between every two writes, so no outcome outlives
    # max.poll.interval.ms, and memory holds one chunk of candidates, not the whole shard.
    outcome_chunk_size: Annotated[int, Field(ge=1, le=100_000)] = 500
    # The expiry worker's positions in the inventory table's stream; default "<table>-stream".
    stream_checkpoint_table: str | None = None
    # How long the expiry worker waits after a poll that read nothing.
    stream_poll_s: Annotated[float, Field(ge=0.1, le=60)] = 1.0
    # A shard that keeps failing keeps its items; once an item's last observation is older
    # than this, a FAILED outcome of its shard deletes it (DELETED, reason stale). 0: never.
    max_stale_s: Annotated[int, Field(ge=0, le=3650 * 86400)] = 0
    # A suspended or closed account's items stay (marked with account_status) until they were
    # last observed this long before an ACCOUNT_GONE outcome; then that outcome deletes them
    # (DELETED, reason account_gone). A grace, because a suspended account can be reinstated
    # and because the planner alone says an account is gone: what a healthy pipeline saw
    # within the grace is never deleted on its word.
    gone_account_grace_s: Annotated[int, Field(ge=0, le=3650 * 86400)] = 7 * 86400

    @property
    def seen_table_name(self) -> str:
        """The seen-marks table: seen_table, or the inventory table's name + "-seen"."""
        return self.seen_table or seen_table_for(self.table)

    @property
    def stream_checkpoint_table_name(self) -> str:
        """The expiry worker's checkpoints: stream_checkpoint_table or "<table>-stream"."""
        return self.stream_checkpoint_table or f"{self.table}-stream"


class RouterSettings(_Section):
    """The event router: AWS events -> targeted refresh work."""

    group_id: str = "fleetstream-router"
    instance_id: str | None = None
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 500
    # Events for one account-region-type within this window become one describe.
    coalesce_window_s: Annotated[float, Field(ge=0, le=60)] = 1.0
    # Resources remembered for "this event is older than the refresh already issued".
    dedupe_entries: Annotated[int, Field(ge=0, le=10_000_000)] = 100_000
    # Resource ids one account may add to a window; the rest are shed (the next sweep covers
    # them), so one account's flood of events cannot crowd out the others' refreshes.
    account_budget: Annotated[int, Field(ge=1, le=1_000_000)] = 500
    # Events dated later than now + this are refused: a far-future time would make genuine
    # events for the resource look like duplicates of a refresh already issued.
    future_tolerance_s: Annotated[float, Field(ge=0, le=86_400)] = 300.0
    # Events older than this are refused (the sweeps cover those changes). EventBridge retries
    # a delivery for up to a day; the default leaves a day more for a stopped router.
    max_event_age_s: Annotated[float, Field(ge=60)] = 172_800.0


class PlannerSettings(_Section):
    """The long-running planner (`fleetstream planner`)."""

    # Seconds between sweeps of a type; keys are type names or service prefixes ("iam.*"),
    # the most specific wins, "default" for the rest.
    cadence_s: dict[str, Annotated[float, Field(ge=1)]] = {"default": 900.0}
    # Spread of the shards' first sweeps over this fraction of their cadence (0: all at once).
    jitter: Annotated[float, Field(ge=0, le=1)] = 1.0
    tick_s: Annotated[float, Field(gt=0, le=600)] = 5.0
    # Accounts and regions are looked up again this often.
    estate_refresh_s: Annotated[float, Field(ge=1)] = 3600.0
    # A throttled or unavailable account lookup is tried again after tick_s, doubling up to
    # this; the last known estate is planned meanwhile.
    estate_retry_max_s: Annotated[float, Field(gt=0, le=86_400)] = 300.0
    # Hold new sweeps back while the describers have more unread work than this.
    max_backlog: Annotated[int, Field(ge=0)] = 10_000
    # A shard issued this long ago without an outcome is presumed lost and issued again.
    in_flight_timeout_s: Annotated[float, Field(ge=1)] = 7200.0
    # A shard is stale once its last complete sweep is older than this many cadences.
    stale_after_cadences: Annotated[float, Field(gt=0)] = 3.0

    @field_validator("cadence_s")
    @classmethod
    def _cadence_keys(cls, value: dict[str, float]) -> dict[str, float]:
        for key in value:
            if key != "default" and not _CADENCE_KEY.match(key):
                raise ValueError(f"{key!r} is not a type name, a 'service.*' or 'default'")
        return value

    def cadence_of(self, type_name: str) -> float:
        """The cadence of a type: its own, then its service's, then the default."""
        service = type_name.partition(".")[0]
        for key in (type_name, f"{service}.*", "default"):
            if key in self.cadence_s:
                return self.cadence_s[key]
        return 900.0


class SerdeSettings(_Section):
    """How topic values are framed (fleetstream/serde/avro.py, fleetstream/serde/registry.py)."""

    # A Confluent Schema Registry (or a compatible API such as Apicurio's /apis/ccompat/v7):
    # when set, values are written in the Confluent wire format; both framings are always read.
    schema_registry_url: str | None = None
    schema_registry_user_info: SecretStr | None = None  # "key:secret" for basic auth
    # Register schemas/ (and set BACKWARD_TRANSITIVE) at start; off: only look them up.
    auto_register: bool = True

    @field_validator("schema_registry_url")
    @classmethod
    def _registry_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value


class NotifierSettings(_Section):
    """The sample subscriber: a digest of the changes topic posted to an incoming webhook."""

    group_id: str = "fleetstream-notifier"
    # A Slack-compatible incoming webhook; its URL is a credential (never logged). Give it as
    # FLEETSTREAM_NOTIFIER__WEBHOOK_URL rather than in a file.
    webhook_url: SecretStr | None = None
    window_s: Annotated[float, Field(gt=0, le=86_400)] = 60.0  # a digest at most this late
    max_changes: Annotated[int, Field(ge=1, le=100_000)] = 1_000  # or as soon as this many
    first_n: Annotated[int, Field(ge=0, le=40)] = 20  # changes listed one by one
    # Slack accepts about one message per second per webhook.
    max_posts_per_minute: Annotated[float, Field(gt=0, le=600)] = 60.0
    retry_base_s: Annotated[float, Field(gt=0, le=600)] = 1.0
    retry_max_backoff_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    retry_after_max_s: Annotated[float, Field(gt=0, le=86_400)] = 900.0
    request_timeout_s: Annotated[float, Field(gt=0, le=300)] = 10.0
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 500

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: SecretStr | None) -> SecretStr | None:
        # The URL is a credential and the digest is inventory: plain http only to this host.
        if value is not None:
            _https_unless_loopback(value.get_secret_value())  # never echoes the value
        return value


def _https_unless_loopback(url: str) -> None:
    """An https URL, or http to a loopback host (local tests); ValueError otherwise."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "https":
        return
    if scheme != "http":
        raise ValueError("must be an http(s) URL")
    if not _is_loopback(parts.hostname):
        raise ValueError("must be an https URL (plain http only to 127.0.0.1, ::1 or localhost)")


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost: its address is not ours to trust


_SUBMITTER_NAME = re.compile(r"^[\w.@-]{1,64}$")
_TARGET_ACCOUNT_WORDS = ("estate", "organization")


class ActionLimits(_Section):
    """One allowed action's limits, enforced by the action planner whatever a request says."""

    # A plan with more targets is refused (the request's own --max-targets can only lower it).
    max_targets: Annotated[int, Field(ge=1, le=1_000_000)] = 100
    # A plan with more targets waits (AWAITING_APPROVAL) until a different submitter approves
    # it; unset: never.
    approval_above: Annotated[int, Field(ge=0, le=1_000_000)] | None = None


class SubmitterIdentity(_Section):
    """Who `fleetstream act` signs requests as: a name in the planner's submitters and its key."""

    name: str
    key: SecretSource

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _SUBMITTER_NAME.match(value):
            raise ValueError(f"{value!r} is not a submitter name (1-64 of letters, digits, .@_-)")
        return value


class ActionPolicy(_Section):
    """The action planner's server-side policy (docs/security.md); empty denies everything."""

    # name -> signing key (a secret: give it as {env: ...}, {file: ...} or {secrets_manager:
    # ...}); a request not signed by one of these is refused.
    submitters: dict[str, SecretSource] = Field(default_factory=dict)
    # The allowed actions and their limits; any other action is refused.
    actions: dict[str, ActionLimits] = Field(default_factory=dict)
    # Where share-like parameters (rds-snapshot-share's target_account) may point: "estate"
    # (the accounts: section's accounts), "organization" (every active account of the
    # organization) and/or account ids.
    target_accounts: tuple[str, ...] = ("estate",)
    # KMS key ids or ARNs a request may name (rds-snapshot-share's kms_key_id), exactly as
    # requests give them; empty: actions with a KMS key parameter are refused.
    kms_keys: tuple[str, ...] = ()
    # A request signed longer ago than this (or more than 5 minutes ahead) is refused, so an
    # old signed request cannot be replayed once its audit record expired.
    max_request_age_s: Annotated[float, Field(ge=60, le=30 * 86400)] = 86400.0

    @field_validator("submitters")
    @classmethod
    def _submitter_names(cls, value: dict[str, SecretSource]) -> dict[str, SecretSource]:
        for name in value:
            if not _SUBMITTER_NAME.match(name):
                raise ValueError(
                    f"{name!r} is not a submitter name (1-64 of letters, digits, .@_-)"
                )
        return value

    @field_validator("actions")
    @classmethod
    def _known_actions(cls, value: dict[str, ActionLimits]) -> dict[str, ActionLimits]:
        unknown = sorted(set(value) - set(ACTIONS))
        if unknown:
            raise ValueError(
                f"unknown action {', '.join(unknown)} (known: {', '.join(sorted(ACTIONS))})"
            )
        return value

    @field_validator("target_accounts")
    @classmethod
    def _target_accounts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if entry not in _TARGET_ACCOUNT_WORDS and not _ACCOUNT_ID.match(entry):
                raise ValueError(f"{entry!r} is not 'estate', 'organization' or a 12-digit id")
        return value


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
    # `fleetstream act` signs as this submitter (unset: it cannot submit, only plan).
    submitter: SubmitterIdentity | None = None
    policy: ActionPolicy = ActionPolicy()


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
    router: RouterSettings = RouterSettings()
    planner: PlannerSettings = PlannerSettings()
    notifier: NotifierSettings = NotifierSettings()
    serde: SerdeSettings = SerdeSettings()
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
        "FLEETSTREAM_SCHEMA_REGISTRY_URL": ["serde", "schema_registry_url"],
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
        "FLEETSTREAM_ROUTER__GROUP_ID": f"router-{tag}",
        "FLEETSTREAM_NOTIFIER__GROUP_ID": f"notifier-{tag}",
        "FLEETSTREAM_ACTIONS__GROUP_ID": f"actor-{tag}",
        "FLEETSTREAM_ACTIONS__PLANNER_GROUP_ID": f"action-planner-{tag}",
        "FLEETSTREAM_ACTIONS__AUDIT_TABLE": f"actions-{tag}",
        # A run's own redaction key, as a deployment has its own.
        "FLEETSTREAM_DESCRIBER__REDACTION_KEY": secrets.token_hex(32),
    }


def load_settings(path: Path | None, env: Mapping[str, str] | None = None) -> Settings:
    """Read, merge and validate; every problem is a ConfigError with one actionable line."""
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    source = str(path) if path else "environment"
    text: str | None = None
    if path is not None:
        try:
            text = path.read_text()
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {path} does not exist") from exc
        where = f"config file {path}"
    elif env.get(CONFIG_YAML_ENV):
        # The whole file in one variable: how ECS tasks and Lambda functions get it from SSM.
        text, source, where = env[CONFIG_YAML_ENV], CONFIG_YAML_ENV, CONFIG_YAML_ENV
    if text is not None:
        try:
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}" if mark is not None else ""
            raise ConfigError(f"{where} is not valid YAML{at}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{where} must be a mapping of sections")
        data = loaded
    try:
        return Settings.model_validate(_merge(data, _env_overrides(env)))
    except ValidationError as exc:
        raise ConfigError(_one_line(exc, source)) from None
