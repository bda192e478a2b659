"""Peer (b): director/worker, the "director Lambda fans out to worker Lambdas" pattern.

The director lists the accounts and starts one worker process per account (at most
`processes` at a time, like a Lambda concurrency limit); each worker assumes the account's
role and runs one thread per region. Workers write what they find to DynamoDB Local when an
endpoint is given (otherwise they only count) and report on a shared queue.
Workers are forked from the director, which has boto3 imported: a warm start, not a cold one
(and forked children are the director's own, so their CPU time is counted when joined).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import queue
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.context import ForkProcess
from typing import Any

import boto3

from bench.systems.common import (
    SystemOutput,
    SystemParams,
    describe_pages,
    enabled_regions,
    member_session,
    organization_accounts,
    parse_params,
    peak_rss_mb,
    retry_config,
    stored_count,
)

Result = dict[str, Any]


def _table(params: SystemParams) -> str:
    return f"bench-director-{params.tag}"


def _sweep_region(params: SystemParams, session: boto3.Session, account: str, region: str) -> int:
    ec2 = session.client("ec2", region_name=region, config=retry_config())
    ddb = None
    if params.dynamodb_endpoint:
        ddb = boto3.Session(region_name="us-east-1").resource(
            "dynamodb", endpoint_url=params.dynamodb_endpoint, config=retry_config()
        )
    found = 0
    for items in describe_pages(ec2, params.page_size):
        found += len(items)
        if ddb is None:
            continue
        with ddb.Table(_table(params)).batch_writer(overwrite_by_pkeys=["arn"]) as batch:
            for item in items:
                batch.put_item(
                    Item={
                        "arn": f"arn:aws:ec2:{region}:{account}:instance/{item['InstanceId']}",
                        "account_id": account,
                        "region": region,
                        "tags": {t["Key"]: t["Value"] for t in item.get("Tags", [])},
                        "attributes": json.dumps(item, default=str, sort_keys=True),
                    }
                )
    return found


def worker(params_json: str, account: str, results: Any) -> None:
    """One account: assume its role, one thread per region, report on the queue."""
    params = SystemParams.from_json(params_json)
    hub = boto3.Session(region_name="us-east-1")
    member = member_session(hub, account)
    regions = list(params.regions) or enabled_regions(member)
    with ThreadPoolExecutor(max_workers=len(regions)) as pool:
        counts = list(pool.map(lambda r: _sweep_region(params, member, account, r), regions))
    results.put({"account": account, "found": sum(counts), "rss_mb": peak_rss_mb()})


def _create_table(params: SystemParams) -> None:
    ddb = boto3.Session(region_name="us-east-1").client(
        "dynamodb", endpoint_url=params.dynamodb_endpoint
    )
    ddb.create_table(
        TableName=_table(params),
        KeySchema=[{"AttributeName": "arn", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "arn", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.get_waiter("table_exists").wait(TableName=_table(params))


def _stored(params: SystemParams) -> tuple[int, str]:
    ddb = boto3.Session(region_name="us-east-1").client(
        "dynamodb", endpoint_url=params.dynamodb_endpoint, config=retry_config()
    )
    try:
        return stored_count(ddb, _table(params))
    finally:
        ddb.delete_table(TableName=_table(params))


def main() -> None:
    """Fan out one process per account; collect the results from the shared queue."""
    params = parse_params()
    if params.dynamodb_endpoint:
        _create_table(params)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    pending = organization_accounts(boto3.Session(region_name="us-east-1"))
    running: list[ForkProcess] = []
    collected: list[Result] = []
    started = time.monotonic()
    while pending or running:
        while pending and len(running) < params.processes:
            process = context.Process(
                target=worker, args=(params.to_json(), pending.pop(0), results)
            )
            process.start()
            running.append(process)
        with contextlib.suppress(queue.Empty):
            collected.append(results.get(timeout=0.05))
        for process in [p for p in running if not p.is_alive()]:
            process.join()
            running.remove(process)
            if process.exitcode:
                raise SystemExit(f"a worker exited with {process.exitcode}")
        if time.monotonic() - started > params.timeout_s:
            raise SystemExit("director timed out")
    while True:
        try:
            collected.append(results.get(timeout=0.5))
        except queue.Empty:
            break
    found = sum(int(r["found"]) for r in collected)
    notes = [f"{len(collected)} worker processes, at most {params.processes} at a time"]
    if params.dynamodb_endpoint:
        stored, how = _stored(params)
        notes.append(f"writes to DynamoDB Local; {stored} items stored ({how})")
        found = stored
    else:
        notes.append("counts only (no DynamoDB endpoint)")
    rss = [("director", peak_rss_mb())]
    rss += [(f"worker-{r['account']}", float(r["rss_mb"])) for r in collected]
    SystemOutput(found=found, rss_mb=rss, notes=notes).emit()


if __name__ == "__main__":
    main()
