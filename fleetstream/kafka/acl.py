"""Who produces and consumes what on Kafka: one declaration, enforced by the broker.

STAGES says which consumer group a stage joins, whether it is transactional and what else it
may do; which topics it reads and writes comes from the topics' declarations (kafka/topics.py).
It generates the MSK IAM policies of deploy/aws/hub.yaml (fleetstream/kafka/iam.py) and the
Kafka ACLs of a broker running the StandardAuthorizer (`acl_bindings`), so a compromised router
or sink is refused by the broker when it writes `actions`, instead of being trusted not to.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from fleetstream.base.config import Settings
from fleetstream.kafka import topics
from fleetstream.kafka.topics import consumed_by, produced_by


@dataclass(frozen=True, slots=True)
class Stage:
    """One Kafka client role: what it may read, write, create and join (logical names)."""

    name: str
    consumes: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()
    # The settings field holding its consumer group id, e.g. "describer.group_id". The group
    # is granted as a prefix, so Lambda mode's "<group>-lambda" groups are the stage's too.
    group: str | None = None
    # Transactional producers use ids "<group>-<instance>" (kafka.transactional_id).
    transactional: bool = False
    # Groups whose committed offsets it reads without joining (backpressure, lag).
    watches: tuple[str, ...] = ()
    # Topics it only describes (partitions, end offsets), never reads or writes.
    describes: tuple[str, ...] = ()
    # Topics it may create; None: the ones it reads or writes (each process creates its own
    # missing topics at start, kafka.ensure_topics).
    creates: tuple[str, ...] | None = None

    def group_id(self, settings: Settings) -> str | None:
        """The stage's consumer group id under these settings."""
        return None if self.group is None else str(attrgetter(self.group)(settings))

    def watched_groups(self, settings: Settings) -> list[str]:
        """The ids of the groups it watches."""
        return [str(attrgetter(field)(settings)) for field in self.watches]

    def created_topics(self) -> tuple[str, ...]:
        """The logical topics it may create."""
        if self.creates is not None:
            return self.creates
        return tuple(dict.fromkeys(self.consumes + self.produces))


def _stage(
    name: str,
    *,
    group: str | None = None,
    transactional: bool = False,
    watches: tuple[str, ...] = (),
    describes: tuple[str, ...] = (),
    creates: tuple[str, ...] | None = None,
) -> Stage:
    """A stage that reads and writes the topics whose declarations name it."""
    return Stage(
        name,
        consumes=consumed_by(name),
        produces=produced_by(name),
        group=group,
        transactional=transactional,
        watches=watches,
        describes=describes,
        creates=creates,
    )


STAGES: dict[str, Stage] = {
    stage.name: stage
    for stage in (
        # `fleetstream plan` / `planner`: first pages, and shards that failed at planning. It
        # reads the describers' committed offsets for backpressure and, as the task that runs
        # `fleetstream topics ensure`, may create every topic.
        _stage(
            "planner",
            # Never `resources`: a COMPLETE outcome there deletes what it did not see. What
            # planning found goes to `plan-outcomes`, where the sink takes FAILED and
            # ACCOUNT_GONE only.
            watches=("describer.group_id",),
            describes=(topics.WORK_RETRY.name,),
            creates=tuple(topic.name for topic in topics.ALL),
        ),
        _stage(
            "describer",
            group="describer.group_id",
            transactional=True,
        ),
        _stage("sink", group="sink.group_id"),
        _stage(
            "router",
            group="router.group_id",
            transactional=True,
        ),
        # The EventBridge forwarder function (deploy/aws/events-hub.yaml).
        _stage("forwarder"),
        _stage("notifier", group="notifier.group_id"),
        # Whoever runs `fleetstream act --execute`: requests only, never steps.
        _stage("submitter"),
        _stage(
            "action-planner",
            group="actions.planner_group_id",
            transactional=True,
        ),
        _stage(
            "actor",
            group="actions.group_id",
            transactional=True,
        ),
        # Offsets and the oldest unread record's timestamp of the describer and sink groups.
        _stage(
            "lag-exporter",
            watches=("describer.group_id", "sink.group_id"),
            creates=(),
        ),
    )
}


def _binding(
    kind: ResourceType,
    name: str,
    pattern: ResourcePatternType,
    principal: str,
    operation: AclOperation,
) -> AclBinding:
    return AclBinding(kind, name, pattern, principal, "*", operation, AclPermissionType.ALLOW)


def acl_bindings(stage: Stage, settings: Settings, principal: str) -> Iterator[AclBinding]:
    """The Kafka ACLs that let `principal` (e.g. "User:sink") do exactly what the stage does."""
    topic, group, txn = ResourceType.TOPIC, ResourceType.GROUP, ResourceType.TRANSACTIONAL_ID
    literal, prefixed = ResourcePatternType.LITERAL, ResourcePatternType.PREFIXED
    grants: list[tuple[ResourceType, str, ResourcePatternType, AclOperation]] = []
    grants += [(topic, settings.kafka.topic(t), literal, AclOperation.READ) for t in stage.consumes]
    grants += [
        (topic, settings.kafka.topic(t), literal, AclOperation.WRITE) for t in stage.produces
    ]
    grants += [
        (topic, settings.kafka.topic(t), literal, AclOperation.DESCRIBE) for t in stage.describes
    ]
    grants += [
        (topic, settings.kafka.topic(t), literal, AclOperation.CREATE)
        for t in stage.created_topics()
    ]
    grants += [(group, g, literal, AclOperation.DESCRIBE) for g in stage.watched_groups(settings)]
    group_id = stage.group_id(settings)
    if group_id is not None:
        grants.append((group, group_id, prefixed, AclOperation.READ))
        if stage.transactional:
            grants += [
                (txn, f"{group_id}-", prefixed, operation)
                for operation in (AclOperation.WRITE, AclOperation.DESCRIBE)
            ]
    for kind, name, pattern, operation in grants:
        yield _binding(kind, name, pattern, principal, operation)


def all_bindings(settings: Settings, users: Iterable[tuple[str, str]]) -> list[AclBinding]:
    """ACLs for (stage name, Kafka user name) pairs."""
    return [
        binding
        for stage_name, user in users
        for binding in acl_bindings(STAGES[stage_name], settings, f"User:{user}")
    ]


def apply_acls(admin: AdminClient, bindings: list[AclBinding], timeout_s: float = 60.0) -> None:
    """Create the ACLs and wait until the broker's authorizer holds every one of them.

    CreateAcls answers once the controller accepted the records; the broker applies them when
    it reads them back from the metadata log, which under load (topics being created) can be
    seconds later. A client started in between would be refused.
    """
    for future in admin.create_acls(bindings, request_timeout=timeout_s).values():
        future.result()
    # None matches any name, principal and host (the stubs say str).
    anything: Any = None
    everything = AclBindingFilter(
        ResourceType.ANY,
        anything,
        ResourcePatternType.ANY,
        anything,
        anything,
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    wanted = {str(binding) for binding in bindings}
    deadline = time.monotonic() + timeout_s
    while not wanted <= {str(b) for b in admin.describe_acls(everything).result()}:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the broker did not apply {len(wanted)} ACLs in {timeout_s:g}s")
        time.sleep(0.2)
