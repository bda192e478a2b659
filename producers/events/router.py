"""The event router group: AWS events -> coalesced targeted refresh work (exactly once).

Offsets and refresh work items are committed in one Kafka transaction per window, so a crash
re-reads the window's events and re-issues its refreshes (never loses them); the describers'
writes are idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from confluent_kafka import Consumer, Message, TopicPartition

from fleetstream.base.continuous_metrics import EVENTS, REFRESH_IDS_SHED, REFRESH_WORK
from fleetstream.base.errors import PoisonMessageError
from fleetstream.base.models import utc_now
from fleetstream.kafka import topics
from fleetstream.runtime.loop import TransactionalLoop, position
from fleetstream.runtime.records import OutRecord
from fleetstream.serde.wire import encode_work_item
from producers.events.admission import Admission
from producers.events.coalesce import Coalescer
from producers.events.envelope import ApiCallEvent, parse_event
from producers.events.routes import Routes

log = logging.getLogger(__name__)

InScope = Callable[[str, str], bool]  # (account id, region) -> configured for inventory


def new_refresh_id() -> str:
    """The 'sweep id' refreshed observations carry: sortable, says where they came from."""
    return f"refresh-{utc_now():%Y%m%dT%H%M%S.%fZ}"


def _no_handler(message: Message) -> list[OutRecord]:
    raise AssertionError("the router routes whole windows, not single messages")


class EventRouter(TransactionalLoop):
    """Reads events, collects their targets for a window, then commits the window."""

    def __init__(
        self,
        *args: object,
        routes: Routes,
        coalescer: Coalescer,
        refresh_topic: str,
        in_scope: InScope,
        admission: Admission,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, handler=_no_handler, concurrency=1, **kwargs)  # type: ignore[arg-type]
        self.routes = routes
        self.coalescer = coalescer
        self.refresh_topic = refresh_topic
        self.in_scope = in_scope
        self.admission = admission
        self._window: list[Message] = []  # read, not committed yet
        self._dead: list[OutRecord] = []

    def process_batch(self, batch: list[Message]) -> None:
        for message in batch:
            self._dead.extend(self._route_safely(message))
        self._window.extend(batch)
        self.tick()

    def tick(self) -> None:
        # Nothing to coalesce (only ignored events): commit their offsets at once.
        if self._window and (self.coalescer.empty or self.coalescer.due()):
            self.flush()

    def flush(self) -> None:
        """Produce the window's refreshes and commit its offsets in one transaction."""
        items, covered = self.coalescer.drain(new_refresh_id())
        records = [
            OutRecord(
                self.refresh_topic,
                item.budget_key.encode(),
                encode_work_item(item, topic=topics.REFRESH),
            )
            for item in items
        ]
        window, dead = self._window, self._dead
        self._window, self._dead = [], []
        if self.commit_or_rewind(window, [records + dead]):
            self.coalescer.confirm(covered)
            for item in items:
                REFRESH_WORK.labels(item.resource_type).inc()
            if items:
                log.info("%d events -> %d refresh work items", len(window), len(items))

    def uncommitted(self) -> set[tuple[str, int]]:
        # The window's events are committed with its refreshes (flush), never before: an idle
        # commit past them would lose their refreshes to a crash inside the window.
        return {position(message)[:2] for message in self._window}

    def _route_safely(self, message: Message) -> list[OutRecord]:
        try:
            event = parse_event(message.value())
        except PoisonMessageError as exc:
            EVENTS.labels("malformed").inc()
            return [self.to_dlq(message, exc, "poison")]
        try:
            self._route(event)
        except Exception as exc:  # the top of the loop: park the event, keep routing
            log.exception("routing failed on %s[%d]@%d", *_where(message))
            EVENTS.labels("malformed").inc()
            return [self.to_dlq(message, exc, "handler")]
        return []

    def _route(self, event: ApiCallEvent | None) -> None:
        if event is None or event.failed:
            EVENTS.labels("ignored").inc()  # another kind of event, or a refused call
            return
        if not self.routes.known(event):
            EVENTS.labels("unknown").inc()
            return
        refusal = self.admission.refusal(event, utc_now())
        if refusal is not None:
            # Debug: a flood of forged events must not flood the log; the metric counts them.
            log.debug(
                "event %s refused (%s): account %s, recipient %s, time %s",
                event.event_id,
                refusal,
                event.envelope_account,
                event.account_id,
                event.time.isoformat(),
            )
            EVENTS.labels(refusal).inc()
            return
        if not self.in_scope(event.account_id, event.region):
            EVENTS.labels("not_configured").inc()
            return
        targets = self.routes.targets(event)
        if not targets:
            EVENTS.labels("no_ids").inc()
            return
        pending_before = not self.coalescer.empty
        added = shed = 0
        for target in targets:
            result = self.coalescer.add(target, event.time)
            added += result.new
            shed += result.shed
            if result.shed:
                REFRESH_IDS_SHED.labels(target.resource_type).inc(result.shed)
        if added:
            EVENTS.labels("routed").inc()
        elif shed:
            EVENTS.labels("over_budget").inc()  # its account spent the window's budget
        else:
            # Folded into a refresh of this window, or covered by one already issued.
            EVENTS.labels("coalesced" if pending_before else "duplicate").inc()

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Commit what was read before the partitions move, so the new owner does not redo it.
        if self._window:
            self.flush()
        super()._on_revoke(consumer, partitions)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Fenced: nothing can be committed; the new owner re-reads the window.
        self._window, self._dead = [], []
        self.coalescer.clear()
        super()._on_lost(consumer, partitions)


def _where(message: Message) -> tuple[str | None, int | None, int | None]:
    return message.topic(), message.partition(), message.offset()
