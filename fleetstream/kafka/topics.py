"""Every topic of the pipeline, declared once: name, key, value schema, how it is kept, and
which stage writes and reads it.

Derived from this table: topic creation (kafka.clients.ensure_topics), the stages' topics and
so their ACLs and MSK IAM policies (kafka.acl, kafka.iam), the schema registry's subjects and
every topic's codec (serde.registry, serde.avro) and docs/topics.md (tools/topics_doc.py).
A serializer is given its Topic, never a name: the codec, and so the registry subject, follow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from fleetstream.base.config import KafkaSettings

_DAY_MS = 24 * 3600 * 1000


def _days(days: int) -> str:
    return str(days * _DAY_MS)


@dataclass(frozen=True, slots=True)
class Topic:
    """One logical topic (its Kafka name is kafka.topic_prefix + name)."""

    name: str
    # The stages (kafka.acl.STAGES) that write it and that read it.
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    # The Avro schema of its values (schemas/<schema>.v*.avsc, the whole history registered
    # under "<topic>-value"); None: not Avro (JSON as delivered, or dead letters verbatim).
    schema: str | None
    # Topic configs at creation (retention, compaction, compression).
    config: Mapping[str, str] = field(default_factory=dict)
    # For docs/topics.md: what the key is, what the value is, how it partitions, and what the
    # producer and consumer columns add to the stage names.
    key: str = ""
    value: str = ""
    partitioning: str = ""
    produced: str = ""
    consumed: str = ""

    def kafka_name(self, kafka: KafkaSettings) -> str:
        """Its name on the cluster: kafka.topic_prefix + the logical name."""
        return kafka.topic(self.name)


WORK = Topic(
    "work",
    producers=("planner", "describer"),
    consumers=("describer", "lag-exporter"),
    schema="work_item",
    config={"retention.ms": _days(7)},
    key="`account/region`",
    value="`WorkItem`: one page of one shard, with its page token",
    partitioning="by account-region: one describer owns an account-region's rate budget",
    produced="planner (first pages), describer (next pages), in transactions",
    consumed="describer group",
)
# Pages to describe again later (throttled, transient errors); held unread until due.
WORK_RETRY = Topic(
    "work-retry",
    producers=("describer",),
    consumers=("describer", "lag-exporter"),
    schema="work_item",
    config={"retention.ms": _days(7)},
    key="`account/region`",
    value="`WorkItem`, header `fs.not-before` (epoch ms; not an integer or more than 7 days "
    "ahead: DLQ)",
    partitioning="as `work`",
    produced="describer (throttled or failing page)",
    consumed="describer group, left unread until due",
)
# Targeted refreshes from AWS events: their own topic, so a burst of events never queues
# behind (or delays) a sweep's pages. A refresh that lists and keeps (IAM roles, S3 buckets,
# ...) may span pages: the describer writes its next page back here.
REFRESH = Topic(
    "refresh",
    producers=("describer", "router"),
    consumers=("describer", "lag-exporter"),
    schema="work_item",
    config={"retention.ms": _days(3)},
    key="`account/region`",
    value="`WorkItem` with `resource_ids` and `triggered_at` (`work_item.v3` and later): a "
    "targeted refresh of some ids of one shard",
    partitioning="as `work`",
    produced="event router (transactional), describer (next page of a refresh)",
    consumed="describer group",
)
# AWS management events (EventBridge JSON) from the hub bus; read by the event router.
EVENTS = Topic(
    "events",
    producers=("forwarder",),
    consumers=("router",),
    schema=None,
    config={"retention.ms": _days(3), "compression.type": "zstd"},
    key="`account/region`",
    value="AWS events as EventBridge delivers them (JSON, not Avro: the forwarder passes them "
    "verbatim)",
    partitioning="by account-region",
    produced="the hub bus's forwarder function (`deploy/aws/events-hub.yaml`), tests",
    consumed="event router group",
)
RESOURCES = Topic(
    "resources",
    producers=("describer",),
    consumers=("sink", "lag-exporter"),
    schema="resource_event",
    config={"retention.ms": _days(7), "compression.type": "zstd"},
    key="`account/region/type`",
    value="`ResourceEvent` = `Observation` or `ShardOutcome`; an `ACCOUNT_GONE` outcome here is "
    "dead-lettered (`fleetstream_sink_resources_refused_total`): only the planner says an "
    "account is gone, on `plan-outcomes`",
    partitioning="by shard: a shard's observations and its outcome on one partition, in "
    "order; so every observation of an ARN is on one partition",
    produced="describer (transactional)",
    consumed="sink group (`read_committed`)",
)
# What planning found without describing (FAILED: regions unknown; ACCOUNT_GONE): the
# planner's only output besides first pages. Its own topic, so the planner's user needs no
# write on `resources`, where a forged COMPLETE outcome would delete (kafka/acl.py).
PLAN_OUTCOMES = Topic(
    "plan-outcomes",
    producers=("planner",),
    consumers=("sink", "lag-exporter"),
    schema="resource_event",
    config={"retention.ms": _days(7)},
    key="`account/region/type`",
    value="`ShardOutcome`: what planning found without describing, `FAILED` (the account's "
    "regions could not be read) or `ACCOUNT_GONE`; the sink dead-letters anything else here "
    "(an observation, a `COMPLETE` outcome) and counts it in "
    "`fleetstream_sink_planner_refused_total`",
    partitioning="by shard",
    produced="planner (`fleetstream plan`, the continuous planner): its only output besides "
    "first pages; its Kafka user (or MSK IAM role, `PlannerTaskRole`) may not write "
    "`resources`, where a forged `COMPLETE` outcome would delete",
    consumed="sink group",
)
# Created / modified / deleted events, key ARN, written by the sink.
CHANGES = Topic(
    "changes",
    producers=("sink",),
    consumers=("notifier",),
    schema="change_event",
    config={"retention.ms": _days(14), "compression.type": "zstd"},
    key="ARN",
    value="`ChangeEvent`: CREATED, MODIFIED or DELETED (with its `reason`)",
    partitioning="by ARN: a resource's changes are ordered",
    produced="sink group",
    consumed='subscribers, e.g. the notifier group (`fleetstream notifier`, README "Notifier")',
)
# The latest state per ARN, null when deleted: compacted, so it rebuilds the inventory.
# Deletions (nulls) stay readable for a week, so a subscriber less than a week behind never
# misses one.
STATE = Topic(
    "state",
    producers=("sink",),
    consumers=(),
    schema="resource_state",
    config={
        "cleanup.policy": "compact",
        "compression.type": "zstd",
        "delete.retention.ms": _days(7),
    },
    key="ARN",
    value="`ResourceState`: the resource's observation and fingerprint; **null** (tombstone) "
    "when it was deleted",
    partitioning="by ARN",
    produced="sink group",
    consumed="subscribers rebuilding the inventory",
)
# Action plane (README, Actions): requests, per-account-region steps, delayed steps (workflow
# waits, throttled retries; held unread until due), and results.
ACTIONS = Topic(
    "actions",
    producers=("submitter",),
    consumers=("action-planner",),
    schema="action_request",
    config={"retention.ms": _days(30)},
    key="request id (an approval: the approved request's id)",
    value="`ActionRequest`: action, parameters, selector, idempotency key (`request_id`), "
    "`submission_id`, dry-run flag (default true), max-targets guard, who and when, "
    "`submitter` and its HMAC `signature`, `approves` (an approval); v1 records carry no "
    "signature and are refused (docs/security.md)",
    partitioning="by request (a request and its approvals on one partition)",
    produced="`fleetstream act --execute` (idempotent producer, delivery checked)",
    consumed="action-planner group (`read_committed`)",
)
ACTION_WORK = Topic(
    "action-work",
    producers=("action-planner", "actor"),
    consumers=("actor",),
    schema="action_step",
    config={"retention.ms": _days(7)},
    key="`account/region`",
    value="`ActionStep`: one batch of one account-region, or one step of a workflow "
    "execution, with its targets",
    partitioning="by account-region: one actor owns an account-region's steps and rate "
    "budget at a time",
    produced="action planner (first steps), actor (next steps), in transactions",
    consumed="actor group",
)
ACTION_DELAY = Topic(
    "action-delay",
    producers=("actor",),
    consumers=("actor",),
    schema="action_step",
    config={"retention.ms": _days(7)},
    key="`account/region`",
    value="`ActionStep`, header `fs.not-before` (epoch ms; not an integer or more than 7 days "
    "ahead: DLQ)",
    partitioning="as `action-work`",
    produced='actor: a workflow\'s "wait until available" re-checks, throttled or failing '
    "steps with backoff",
    consumed="actor group, left unread until due",
)
ACTION_RESULTS = Topic(
    "action-results",
    producers=("action-planner", "actor"),
    consumers=(),
    schema="action_result",
    config={"retention.ms": _days(30)},
    key="request id",
    value="`ActionResult`: `PLAN` (`PLANNED`, `DRY_RUN`, `AWAITING_APPROVAL`, `APPROVED` (an "
    "approval's own result), `REFUSED` with the reason) or `STEP` (status, per-resource "
    "outcomes `OK`/`SKIPPED`/`FAILED` with reasons, `duplicate`, `final`)",
    partitioning="by request: a request's results in order",
    produced="action planner, actor, in transactions",
    consumed="people, subscribers",
)
DLQ = Topic(
    "dlq",
    producers=("describer", "sink", "router", "notifier", "action-planner", "actor"),
    consumers=(),
    schema=None,
    config={"retention.ms": _days(30)},
    key="the original key",
    value="the original bytes, verbatim; headers `fs.original.*`, `fs.consumer.group`, "
    "`fs.error.*`, `fs.attempts`",
    partitioning="as produced",
    produced="any group",
    consumed="people, `fleetstream dlq replay`",
)

# In this order: topics are created, listed and granted in it.
ALL: tuple[Topic, ...] = (
    WORK,
    WORK_RETRY,
    REFRESH,
    EVENTS,
    RESOURCES,
    PLAN_OUTCOMES,
    CHANGES,
    STATE,
    ACTIONS,
    ACTION_WORK,
    ACTION_DELAY,
    ACTION_RESULTS,
    DLQ,
)
BY_NAME: dict[str, Topic] = {topic.name: topic for topic in ALL}


def named(name: str) -> Topic:
    """The declared topic of a logical name; KeyError for an undeclared one."""
    return BY_NAME[name]


def produced_by(stage: str) -> tuple[str, ...]:
    """The logical topics a stage writes, in declaration order."""
    return tuple(topic.name for topic in ALL if stage in topic.producers)


def consumed_by(stage: str) -> tuple[str, ...]:
    """The logical topics a stage reads, in declaration order."""
    return tuple(topic.name for topic in ALL if stage in topic.consumers)
