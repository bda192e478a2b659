"""Peer (a): the serial boto3 loop, one process: accounts, then regions, then NextToken pages."""

from __future__ import annotations

import boto3

from bench.systems.common import (
    SystemOutput,
    describe_pages,
    enabled_regions,
    member_session,
    organization_accounts,
    parse_params,
    peak_rss_mb,
    retry_config,
)


def main() -> None:
    """Sweep every account and region one page at a time; count what it finds."""
    params = parse_params()
    hub = boto3.Session(region_name="us-east-1")
    found = pages = 0
    for account in organization_accounts(hub):
        member = member_session(hub, account)
        for region in params.regions or enabled_regions(member):
            ec2 = member.client("ec2", region_name=region, config=retry_config())
            for items in describe_pages(ec2, params.page_size):
                found += len(items)
                pages += 1
    SystemOutput(
        found=found,
        pages=pages,
        rss_mb=[("serial", peak_rss_mb())],
        notes=["counts only (no database writes)"],
    ).emit()


if __name__ == "__main__":
    main()
