"""The notifier on the real stack: Kafka's changes topic -> digests posted to a real local
HTTP server that answers 500, 429 and 404 on demand."""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from pydantic import SecretStr

from consumers.notifier.webhook import PostAbandonedError, RetryPolicy, Webhook
from fleetstream.base.config import Settings
from fleetstream.kafka.clients import ensure_topics
from fleetstream.serde.wire import ChangeEvent, ChangeType, encode_change_event
from tests.integration.helpers import produce_raw
from tests.webhook_server import SECRET_TOKEN, Answer, RecordingWebhook, Request

pytestmark = pytest.mark.integration

ACCOUNTS = ("111111111111", "222222222222")
KINDS = (ChangeType.CREATED, ChangeType.MODIFIED, ChangeType.DELETED)
DIGEST = 10  # notifier.max_changes and first_n: every change of a digest is listed


def change(index: int) -> ChangeEvent:
    account = ACCOUNTS[index % 2]
    resource_id = f"i-{index:04d}"
    return ChangeEvent(
        change_id=f"change-{index}",
        change_type=KINDS[index % 3],
        arn=f"arn:aws:ec2:us-east-1:{account}:instance/{resource_id}",
        account_id=account,
        region="us-east-1",
        resource_type="ec2.instance",
        resource_id=resource_id,
        sweep_id="sweep-1",
        observed_at=datetime(2026, 11, 23, 12, 0, index, tzinfo=UTC),
        changed_paths=("InstanceType",) if KINDS[index % 3] is ChangeType.MODIFIED else (),
    )


def produce_changes(settings: Settings, indexes: range) -> None:
    events = [change(i) for i in indexes]
    produce_raw(
        settings,
        settings.kafka.topic("changes"),
        [(e.arn.encode(), encode_change_event(e)) for e in events],
    )


def listed(request: Request) -> set[str]:
    """The resource ids a digest lists (the `i-NNNN` in code spans)."""
    text = " ".join(b["text"]["text"] for b in request.body["blocks"] if b["type"] == "section")
    return set(re.findall(r"`(i-\d{4})`", text))


def posted(requests: list[Request]) -> int:
    return sum(1 for r in requests if r.status == 200)


def start(log: Path, webhook: RecordingWebhook) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "FLEETSTREAM_NOTIFIER__WEBHOOK_URL": webhook.url,
        "FLEETSTREAM_NOTIFIER__WINDOW_S": "3600",
        "FLEETSTREAM_NOTIFIER__MAX_CHANGES": str(DIGEST),
        "FLEETSTREAM_NOTIFIER__FIRST_N": str(DIGEST),
        "FLEETSTREAM_NOTIFIER__MAX_POSTS_PER_MINUTE": "600",
        "FLEETSTREAM_NOTIFIER__RETRY_BASE_S": "0.2",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "fleetstream", "notifier"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


def committed(settings: Settings, group: str) -> int:
    """The sum of the group's committed offsets on the changes topic."""
    topic = settings.kafka.topic("changes")
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers, "group.id": group})
    try:
        parts = [TopicPartition(topic, p) for p in range(settings.kafka.partitions)]
        return sum(max(tp.offset, 0) for tp in consumer.committed(parts, timeout=10))
    finally:
        consumer.close()


def test_digests_are_retried_paced_committed_after_posting_and_never_lost(
    pipeline: Settings,
    webhook: RecordingWebhook,
    tmp_path: Path,
    tag: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group = f"notifier-{tag}"
    monkeypatch.setenv("FLEETSTREAM_NOTIFIER__GROUP_ID", group)
    ensure_topics(pipeline.kafka)
    log = tmp_path / "notifier.log"
    produce_changes(pipeline, range(20))
    # The first digest meets a 500, then a 429 asking for 2 s, then goes through.
    webhook.answer(Answer(500), Answer(429, {"Retry-After": "2"}))
    notifier = start(log, webhook)
    try:
        webhook.wait_for(lambda requests: posted(requests) == 2, 120)
        statuses = [r.status for r in webhook.requests]
        assert statuses == [500, 429, 200, 200]
        after_429 = webhook.requests[2].at - webhook.requests[1].at
        assert after_429 >= 1.9, f"Retry-After not honoured: next try after {after_429:.2f}s"
        first, second = webhook.posted()
        assert listed(first) | listed(second) == {f"i-{i:04d}" for i in range(20)}
        assert not listed(first) & listed(second)
        assert first.body["text"].startswith("fleetstream: 10 changes (")
        assert first.body["blocks"][0]["type"] == "header"
        counts = first.body["blocks"][1]["text"]["text"]
        assert "`111111111111` ec2.instance:" in counts and "`222222222222`" in counts
        assert committed(pipeline, group) == 20  # committed once posted

        # The webhook goes down while a digest is in flight, and the notifier is killed.
        webhook.answer(default=Answer(503))
        produce_changes(pipeline, range(20, 30))
        webhook.wait_for(lambda requests: len(requests) >= 6, 120)
        notifier.send_signal(signal.SIGKILL)
        notifier.wait(30)
        assert committed(pipeline, group) == 20
        # Back up: the restarted notifier posts exactly the lost digest, nothing twice.
        webhook.answer(default=Answer(200))
        notifier = start(log, webhook)
        webhook.wait_for(lambda requests: posted(requests) == 3, 120)
        assert listed(webhook.posted()[2]) == {f"i-{i:04d}" for i in range(20, 30)}

        # A webhook that is gone for good (404) stops the notifier: one line, exit 2,
        # and the undelivered changes stay uncommitted in Kafka.
        webhook.answer(default=Answer(404, body="no_service"))
        produce_changes(pipeline, range(30, 40))
        assert notifier.wait(120) == 2
        last_line = log.read_text().strip().splitlines()[-1]
        expected = "fleetstream: error: the webhook answered 'HTTP 404: no_service'"
        assert last_line.startswith(expected), last_line
        assert committed(pipeline, group) == 30
    finally:
        if notifier.poll() is None:
            notifier.terminate()
            notifier.wait(30)
    assert SECRET_TOKEN not in log.read_text()


def test_posts_keep_the_configured_pace_and_a_stop_abandons_a_waiting_post(
    webhook: RecordingWebhook,
) -> None:
    hook = Webhook(SecretStr(webhook.url), RetryPolicy(min_interval_s=0.5))

    def sleep(seconds: float) -> bool:
        time.sleep(seconds)
        return True

    for n in range(3):
        assert hook.post({"text": f"digest {n}"}, sleep) == 1
    gaps = [b.at - a.at for a, b in itertools.pairwise(webhook.requests)]
    assert all(gap >= 0.45 for gap in gaps), gaps  # 2 posts per second at most
    # A post that must wait (pace or backoff) while the process stops is abandoned, not sent.
    with pytest.raises(PostAbandonedError):
        hook.post({"text": "late"}, lambda _seconds: False)
    assert len(webhook.requests) == 3
