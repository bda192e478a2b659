"""Resources of suspended or closed accounts: marked as belonging to a gone account.

They are not deleted (the account may be reinstated within 90 days, and nobody observed the
resources disappear), and not kept as if live: every item of the account and type gets
account_status and account_gone_at, which a later observation of the account clears.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import ClientError

from fleetstream.aws.errors import error_code
from fleetstream.base.models import ShardOutcome, ShardStatus
from fleetstream.inventory.dynamodb import ACCOUNT_INDEX, call_dynamodb

log = logging.getLogger(__name__)


class GoneAccounts:
    """Marks the items of an ACCOUNT_GONE outcome's account and type."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def mark(self, outcome: ShardOutcome) -> int:
        """Mark every item of the account and type; return how many."""
        if outcome.status is not ShardStatus.ACCOUNT_GONE:
            return 0
        status = (outcome.error_code or "AccountGone").removeprefix("Account").upper()
        pages = self.client.get_paginator("query").paginate(
            TableName=self.table,
            IndexName=ACCOUNT_INDEX,
            KeyConditionExpression="account_id = :a AND resource_type = :t",
            ExpressionAttributeValues={
                ":a": {"S": outcome.account_id},
                ":t": {"S": outcome.resource_type},
            },
        )
        marked = 0
        for page in pages:
            for item in page["Items"]:
                marked += self._mark_one(item["arn"], status, outcome)
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
                # Only items still there: never recreate one from its index entry.
                ConditionExpression="attribute_exists(arn)",
                ExpressionAttributeValues={
                    ":s": {"S": status},
                    ":at": {"S": outcome.finished_at.isoformat()},
                },
            )
        except ClientError as exc:
            # The index (eventually consistent) named an item removed since: nothing to mark.
            if error_code(exc) == "ConditionalCheckFailedException":
                return 0
            raise
        return 1
