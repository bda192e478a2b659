"""Seed moto with an Organization of member accounts, roles and EC2 instances (ground truth)."""

from __future__ import annotations

import contextlib
import json
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3

HUB_ACCOUNT_ID = "123456789012"  # moto's default account: the organization's management account
ORG_ACCESS_ROLE = "OrganizationAccountAccessRole"
# In moto's bundled AMI catalog for every region, so RunInstances accepts it silently.
SEED_AMI = "ami-1e749f67"
SEED_TAG = "fleetstream:seed"
LIVE_STATES = ("pending", "running", "stopping", "stopped")
READ_ONLY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Resource": "*",
            "Action": ["ec2:Describe*", "tag:GetResources", "iam:List*", "iam:Get*"],
        }
    ],
}

InstanceFact = tuple[str, str, str, frozenset[tuple[str, str]]]


@dataclass(frozen=True)
class EstateSpec:
    """The shape of a seeded estate; the defaults make a small multi-account, multi-region one."""

    member_accounts: int = 3
    regions: tuple[str, ...] = ("us-east-1", "eu-west-1", "ap-southeast-2")
    instances_per_region: int = 3
    # One shard (the first member in this region) gets paged_instances, one reservation each,
    # because moto pages DescribeInstances by reservation: 23 with MaxResults=5 is 5 pages.
    paged_region: str | None = "eu-west-1"
    paged_instances: int = 23
    member_role_name: str = "FleetstreamReadOnly"
    # The actor's role (aws.action_role_name), beside the read-only one in every account.
    action_role_name: str = "FleetstreamActions"
    external_id: str | None = None
    # Extra member accounts with instances but without the member role: AssumeRole is denied.
    unassumable_accounts: int = 0

    def __post_init__(self) -> None:
        """Reject a paged region the estate would not contain."""
        if self.paged_region is not None and self.paged_region not in self.regions:
            raise ValueError(f"paged_region {self.paged_region} is not in regions {self.regions}")


@dataclass(frozen=True)
class SeededAccount:
    """A member account and the role fleetstream is meant to assume in it."""

    account_id: str
    name: str
    role_arn: str
    assumable: bool


@dataclass(frozen=True)
class SeededInstance:
    """One seeded EC2 instance."""

    account_id: str
    region: str
    instance_id: str
    tags: dict[str, str] = field(hash=False)

    def fact(self) -> InstanceFact:
        """Return the hashable form collect_truth compares."""
        return (self.account_id, self.region, self.instance_id, frozenset(self.tags.items()))


@dataclass(frozen=True)
class Estate:
    """What seed_estate created: the ground truth an inventory sweep must reproduce."""

    hub_account_id: str
    regions: tuple[str, ...]
    external_id: str | None
    accounts: tuple[SeededAccount, ...]
    instances: tuple[SeededInstance, ...]

    def truth(self) -> set[InstanceFact]:
        """Return the seeded instances as comparable facts."""
        return {instance.fact() for instance in self.instances}

    def instances_of(self, account_id: str, region: str | None = None) -> list[SeededInstance]:
        """Return the seeded instances of one account (optionally one region)."""
        return [
            i for i in self.instances if i.account_id == account_id and region in (None, i.region)
        ]


class _Clients:
    """boto3 clients against moto, made once per (account, service, region)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        # One session shares botocore's loaded service models across every client.
        self.session = boto3.session.Session()
        self.clients: dict[tuple[str, str, str], Any] = {}
        self.creds: dict[str, dict[str, str]] = {}

    def hub(self, service: str) -> Any:
        """Return a client acting as the management account."""
        return self._client(
            HUB_ACCOUNT_ID,
            service,
            "us-east-1",
            {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"},
        )

    def member(self, account_id: str, service: str, region: str) -> Any:
        """Return a client acting in account_id through OrganizationAccountAccessRole."""
        if account_id not in self.creds:
            role_arn = f"arn:aws:iam::{account_id}:role/{ORG_ACCESS_ROLE}"
            creds = self.hub("sts").assume_role(
                RoleArn=role_arn, RoleSessionName="fleetstream-seed"
            )["Credentials"]
            self.creds[account_id] = {
                "aws_access_key_id": creds["AccessKeyId"],
                "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"],
            }
        return self._client(account_id, service, region, self.creds[account_id])

    def _client(self, account_id: str, service: str, region: str, creds: dict[str, str]) -> Any:
        key = (account_id, service, region)
        if key not in self.clients:
            self.clients[key] = self.session.client(
                service, region_name=region, endpoint_url=self.endpoint, **creds
            )  # type: ignore[call-overload]
        return self.clients[key]


def trust_policy(hub_account_id: str, external_id: str | None) -> dict[str, Any]:
    """Return a trust policy letting the hub account's principals assume the member role."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"AWS": f"arn:aws:iam::{hub_account_id}:root"},
    }
    if external_id is not None:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def reset_moto(aws_endpoint: str) -> None:
    """Drop all of moto's state, so the next seed starts from an empty estate."""
    request = urllib.request.Request(f"{aws_endpoint}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=30):
        pass


def seed_estate(aws_endpoint: str, spec: EstateSpec = EstateSpec()) -> Estate:
    """Create the organization, member accounts, roles and instances; return the truth."""
    clients = _Clients(aws_endpoint)
    org = clients.hub("organizations")
    # Seeding more accounts into an estate that already has its organization is fine.
    with contextlib.suppress(org.exceptions.AlreadyInOrganizationException):
        org.create_organization(FeatureSet="ALL")
    names = [(f"member-{n}", True) for n in range(1, spec.member_accounts + 1)]
    names += [(f"unassumable-{n}", False) for n in range(1, spec.unassumable_accounts + 1)]
    run = uuid.uuid4().hex[:8]
    accounts: list[SeededAccount] = []
    instances: list[SeededInstance] = []
    for name, assumable in names:
        status = org.create_account(AccountName=name, Email=f"{name}-{run}@example.com")
        account_id = status["CreateAccountStatus"]["AccountId"]
        role_arn = f"arn:aws:iam::{account_id}:role/{spec.member_role_name}"
        if assumable:
            iam = clients.member(account_id, "iam", "us-east-1")
            iam.create_role(
                RoleName=spec.member_role_name,
                AssumeRolePolicyDocument=json.dumps(trust_policy(HUB_ACCOUNT_ID, spec.external_id)),
            )
            iam.put_role_policy(
                RoleName=spec.member_role_name,
                PolicyName="ReadOnly",
                PolicyDocument=json.dumps(READ_ONLY_POLICY),
            )
            iam.create_role(
                RoleName=spec.action_role_name,
                AssumeRolePolicyDocument=json.dumps(trust_policy(HUB_ACCOUNT_ID, spec.external_id)),
            )
        paged_account = len(accounts) == 0
        accounts.append(SeededAccount(account_id, name, role_arn, assumable))
        for region in spec.regions:
            count = (
                spec.paged_instances
                if paged_account and region == spec.paged_region
                else spec.instances_per_region
            )
            ec2 = clients.member(account_id, "ec2", region)
            for tags in _tags(name, region, run, count):
                # One RunInstances per instance: each is its own reservation (see paged_region).
                reservation = ec2.run_instances(
                    ImageId=SEED_AMI,
                    MinCount=1,
                    MaxCount=1,
                    InstanceType="t3.micro",
                    TagSpecifications=[
                        {
                            "ResourceType": "instance",
                            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
                        }
                    ],
                )
                instance_id = reservation["Instances"][0]["InstanceId"]
                instances.append(SeededInstance(account_id, region, instance_id, tags))
    return Estate(HUB_ACCOUNT_ID, spec.regions, spec.external_id, tuple(accounts), tuple(instances))


def collect_truth(aws_endpoint: str, estate: Estate) -> set[InstanceFact]:
    """Re-read every live instance of the estate's accounts and regions from moto."""
    clients = _Clients(aws_endpoint)
    facts: set[InstanceFact] = set()
    for account in estate.accounts:
        for region in estate.regions:
            ec2 = clients.member(account.account_id, "ec2", region)
            pages = ec2.get_paginator("describe_instances").paginate(
                Filters=[{"Name": "instance-state-name", "Values": list(LIVE_STATES)}]
            )
            for page in pages:
                for reservation in page["Reservations"]:
                    for instance in reservation["Instances"]:
                        tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
                        facts.add(
                            (
                                account.account_id,
                                region,
                                instance["InstanceId"],
                                frozenset(tags.items()),
                            )
                        )
    return facts


def _tags(account_name: str, region: str, run: str, count: int) -> Iterator[dict[str, str]]:
    """Yield distinct, realistic tag sets; fleetstream:seed is unique per instance."""
    environments = ("dev", "staging", "prod")
    teams = ("payments", "search", "platform", "data")
    for n in range(count):
        yield {
            "Name": f"{account_name}-{region}-{n + 1}",
            "Environment": environments[n % 3],
            "Team": teams[n % 4],
            SEED_TAG: f"{run}-{account_name}-{region}-{n + 1}",
        }
