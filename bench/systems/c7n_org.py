"""Peer (c): Cloud Custodian's c7n-org running an unfiltered `resource: ec2` policy.

c7n pins its own boto3, so it lives in a virtualenv of its own (see bench.run.find_c7n_org);
it reaches the simulator through AWS_ENDPOINT_URL, which boto3 honours for every client.
c7n-org runs (account, region) pairs in a process pool (C7N_ORG_PARALLEL, default 4 x CPUs)
and assumes the account's role once per pair.
"""

from __future__ import annotations

import json
import resource
import subprocess
from pathlib import Path

import boto3
import yaml

from bench.systems.common import (
    ROLE_NAME,
    SystemOutput,
    organization_accounts,
    parse_params,
    peak_rss_mb,
)

POLICY = {"policies": [{"name": "ec2-all", "resource": "ec2"}]}


def main() -> None:
    """Write the accounts file and the policy, run c7n-org, count its resources.json files."""
    params = parse_params()
    work = Path(params.work_dir) / "c7n"
    work.mkdir(parents=True, exist_ok=True)
    accounts = organization_accounts(boto3.Session(region_name="us-east-1"))
    config = {
        "accounts": [
            {
                "account_id": account,
                "name": account,
                "role": f"arn:aws:iam::{account}:role/{ROLE_NAME}",
                "regions": list(params.regions),
            }
            for account in accounts
        ]
    }
    (work / "accounts.yml").write_text(yaml.safe_dump(config))
    (work / "policy.yml").write_text(yaml.safe_dump(POLICY))
    output = work / "output"
    (work / "cache").mkdir(exist_ok=True)
    command = [
        params.extra["c7n_org"],
        "run",
        "-c",
        str(work / "accounts.yml"),
        "-u",
        str(work / "policy.yml"),
        "-s",
        str(output),
        # c7n caches describe results for 15 minutes by default: a second run on the same
        # (seeded, hence identical) account ids would otherwise measure its cache.
        "--cache-period",
        "0",
        "--cache-path",
        str(work / "cache"),
    ]
    with (work / "c7n-org.log").open("w") as log:
        done = subprocess.run(
            command, stdout=log, stderr=subprocess.STDOUT, timeout=params.timeout_s, check=False
        )
    found = 0
    files = list(output.glob("*/*/ec2-all/resources.json"))
    for path in files:
        found += len(json.loads(path.read_text()))
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    notes = [f"c7n-org exit code {done.returncode}; {len(files)} resources.json files"]
    SystemOutput(
        found=found,
        rss_mb=[("wrapper", peak_rss_mb()), ("c7n-org (largest process)", children_peak)],
        notes=notes,
    ).emit()


if __name__ == "__main__":
    main()
