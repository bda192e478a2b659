"""Resources of suspended or closed accounts: marked as belonging to a gone account.

They are not deleted (the account may be reinstated within 90 days, and nobody observed the
resources disappear), and not kept as if live: every item of the account and type gets
account_status and account_gone_at, which a later observation of the account clears.

Each mark is conditional on the item's observation being no later than the outcome: an item
observed after the account was found gone (the account is back, and a sink, maybe the
partition's new owner after a rebalance, wrote that observation) is never marked. The items
are read a page at a time and marked in chunks, with the consumer group served in between
(consumers/sink/pacing.py), so an account of any size neither lives in memory at once nor
outlives max.poll.interval.ms.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from consumers.sink.deletions import epoch_ms
from consumers.sink.pacing import KeepAlive, in_chunks, no_keep_alive, paced_map
from fleetstream.aws.errors import error_code
from fleetstream.base.metrics import OUTCOME_CHUNKS
from fleetstream.base.models import ShardOutcome, ShardStatus
from fleetstream.inventory.dynamodb import ACCOUNT_INDEX, call_dynamodb, paginate_dynamodb

log = logging.getLogger(__name__)
_MARK_THREADS = 8


class GoneAccounts:
    """Marks the items of an ACCOUNT_GONE outcome's account and type."""

    def __init__(
        self,
        client: Any,
        table: str,
        *,
        chunk_size: int = 500,
        keep_alive: KeepAlive = no_keep_alive,
    ) -> None:
        self.client = client
        self.table = table
        self.chunk_size = chunk_size
        self.keep_alive = keep_alive

    def mark(self, outcome: ShardOutcome) -> int:
        """Mark every item of the account and type; return how many."""
        if outcome.status is not ShardStatus.ACCOUNT_GONE:
            return 0
        status = (outcome.error_code or "AccountGone").removeprefix("Account").upper()
        pages = paginate_dynamodb(
            self.client,
            "query",
            TableName=self.table,
            IndexName=ACCOUNT_INDEX,
            PaginationConfig={"PageSize": self.chunk_size},
            KeyConditionExpression="account_id = :a AND resource_type = :t",
            ExpressionAttributeValues={
                ":a": {"S": outcome.account_id},
                ":t": {"S": outcome.resource_type},
            },
        )
        arns = (item["arn"] for page in pages for item in page["Items"])
        marked = 0
        pool = ThreadPoolExecutor(_MARK_THREADS)
        try:
            for chunk in in_chunks(arns, self.chunk_size, self.keep_alive):
                marked += sum(
                    paced_map(
                        pool,
                        lambda arn: self._mark_one(arn, status, outcome),
                        chunk,
                        self.keep_alive,
                    )
                )
                OUTCOME_CHUNKS.labels("gone_account").inc()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        log.info(
            "account %s is %s: %d %s marked",
            outcome.account_id,
            status,
            marked,
            outcome.resource_type,
        )
        return marked

    def _mark_one(self, arn: dict[str, Any], status: str, outcome: ShardOutcome) -> int:
        try:
            call_dynamodb(
                self.client,
                "update_item",
                TableName=self.table,
                Key={"arn": arn},
                UpdateExpression="SET account_status = :s, account_gone_at = :at",
                # Only items still there (never recreate one from its index entry), and only
                # observations not newer than the outcome: a newer one says the account is back.
                ConditionExpression=(
                    "attribute_exists(arn) AND "
                    "(attribute_not_exists(observed_at_ms) OR observed_at_ms <= :finished)"
                ),
                ExpressionAttributeValues={
                    ":s": {"S": status},
                    ":at": {"S": outcome.finished_at.isoformat()},
                    ":finished": {"N": str(epoch_ms(outcome.finished_at))},
                },
            )
        except ClientError as exc:
            # An item removed since the index named it, or observed after the outcome.
            if error_code(exc) == "ConditionalCheckFailedException":
                return 0
            raise
        return 1
