"""A deterministic synthetic estate: accounts x regions x instances, generated on demand.

Nothing is stored per instance: instance i of (account, region) is a pure function of
(seed, account, region, i). Only tag changes made through CreateTags are kept (TagOverrides).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Regions enabled in every simulated account, in this order (the estate takes the first N).
DEFAULT_REGIONS = (
    "us-east-1",
    "eu-west-1",
    "us-west-2",
    "ap-southeast-2",
    "us-east-2",
    "us-west-1",
    "ca-central-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-south-1",
    "sa-east-1",
)
# Listed by DescribeRegions(AllRegions=true) as not opted in; calls there fail with AuthFailure.
OPT_IN_REGIONS = ("af-south-1", "ap-east-1", "me-south-1", "eu-south-1")
LIVE_STATES = (("running", 16), ("stopped", 80))
TERMINATED = ("terminated", 48)
INSTANCE_TYPES = ("t3.micro", "t3.small", "m5.large", "m6i.xlarge", "c6g.large", "r5.2xlarge")
ENVIRONMENTS = ("dev", "staging", "prod")
TEAMS = ("payments", "search", "platform", "data", "ml")
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

Tags = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class EstateSpec:
    """The shape of the estate; the same spec and seed always give the same instances."""

    seed: int = 1
    accounts: int = 4
    region_count: int = 2
    instances_per_region: int = 50
    hub_account_id: str = "123456789012"
    terminated_every: int = 0  # every n-th instance is terminated (0: none)

    def __post_init__(self) -> None:
        """Reject shapes the region catalog or the account id scheme cannot hold."""
        if not 1 <= self.region_count <= len(DEFAULT_REGIONS):
            raise ValueError(f"region_count must be 1..{len(DEFAULT_REGIONS)}")
        if not 0 <= self.accounts < 10**8:
            raise ValueError("accounts must be 0..99,999,999")

    @property
    def regions(self) -> tuple[str, ...]:
        return DEFAULT_REGIONS[: self.region_count]

    @property
    def live_instances(self) -> int:
        """How many instances a correct inventory finds (terminated ones excluded)."""
        per_shard = self.instances_per_region
        if self.terminated_every:
            per_shard -= per_shard // self.terminated_every
        return per_shard * self.region_count * self.accounts

    @property
    def total_instances(self) -> int:
        return self.instances_per_region * self.region_count * self.accounts


@dataclass(frozen=True, slots=True)
class Account:
    """A member account of the simulated organization."""

    id: str
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class Instance:
    """One EC2 instance, as much of it as DescribeInstances renders."""

    instance_id: str
    reservation_id: str
    image_id: str
    state: str
    state_code: int
    instance_type: str
    launch_time: str
    availability_zone: str
    private_ip: str
    subnet_id: str
    vpc_id: str
    security_group_id: str
    volume_id: str
    tags: Tags


def account_id(seed: int, index: int) -> str:
    """The 12-digit id of member account index (0-based); distinct per seed up to 999."""
    return f"2{seed % 1000:03d}{index:08d}"


class Estate:
    """Generates the estate's accounts and instances; pure apart from the tag overrides."""

    def __init__(self, spec: EstateSpec) -> None:
        self.spec = spec
        self.overrides = TagOverrides()
        self._account_index = {account_id(spec.seed, n): n for n in range(spec.accounts)}

    def accounts(self, start: int = 0, stop: int | None = None) -> Iterator[Account]:
        """Member accounts start..stop in a stable order."""
        stop = self.spec.accounts if stop is None else min(stop, self.spec.accounts)
        for n in range(start, stop):
            yield Account(account_id(self.spec.seed, n), f"member-{n:05d}", f"m{n}@example.com")

    def has_account(self, account: str) -> bool:
        return account in self._account_index or account == self.spec.hub_account_id

    def region_enabled(self, region: str) -> bool:
        return region in self.spec.regions

    def count(self, account: str, region: str) -> int:
        """Instances (any state) in one account and region; 0 for the hub or unknown ones."""
        if account not in self._account_index or not self.region_enabled(region):
            return 0
        return self.spec.instances_per_region

    def instance(self, account: str, region: str, index: int) -> Instance:
        """Instance index of (account, region): a pure function of the seed, plus overrides."""
        key = f"{self.spec.seed}/{account}/{region}/{index}".encode()
        digest = hashlib.blake2b(key, digest_size=16).digest()
        hexd = digest.hex()
        every = self.spec.terminated_every
        instance_id = f"i-0{hexd[:16]}"
        if (every and index % every == every - 1) or self.overrides.terminated(
            account, region, instance_id
        ):
            state, code = TERMINATED
        else:
            state, code = LIVE_STATES[digest[0] % 7 == 0]  # about 1 in 7 stopped
        shard = hashlib.blake2b(f"{account}/{region}".encode(), digest_size=6).hexdigest()
        base_tags: Tags = (
            ("Name", f"{region}-{account[-5:]}-{index:06d}"),
            ("Environment", ENVIRONMENTS[digest[1] % len(ENVIRONMENTS)]),
            ("Team", TEAMS[digest[2] % len(TEAMS)]),
            ("CostCenter", f"cc-{digest[3] % 40:03d}"),
        )
        tags = self.overrides.apply(account, region, instance_id, base_tags)
        launched = EPOCH + timedelta(seconds=int.from_bytes(digest[4:8]) % 50_000_000)
        return Instance(
            instance_id=instance_id,
            reservation_id=f"r-0{hexd[16:32]}",
            image_id=f"ami-0{shard[:8]}{digest[8] % 4:08x}",
            state=state,
            state_code=code,
            instance_type=INSTANCE_TYPES[digest[9] % len(INSTANCE_TYPES)],
            launch_time=launched.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            availability_zone=f"{region}{'abc'[digest[10] % 3]}",
            private_ip=f"10.{digest[11]}.{digest[12]}.{digest[13] or 1}",
            subnet_id=f"subnet-0{shard}{digest[10] % 3:04x}",
            vpc_id=f"vpc-0{shard}0000",
            security_group_id=f"sg-0{shard}0001",
            volume_id=f"vol-0{hexd[8:24]}",
            tags=tags,
        )

    def instances(
        self, account: str, region: str, start: int = 0, stop: int | None = None
    ) -> Iterator[Instance]:
        """Instances start..stop of (account, region)."""
        count = self.count(account, region)
        stop = count if stop is None else min(stop, count)
        for index in range(start, stop):
            yield self.instance(account, region, index)


class TagOverrides:
    """Tags set by CreateTags and instances ended by TerminateInstances, per (account, region,
    instance id); the only stored state."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tags: dict[tuple[str, str, str], dict[str, str]] = {}
        self._terminated: set[tuple[str, str, str]] = set()

    def terminate(self, account: str, region: str, instance_id: str) -> None:
        """From now on the instance is terminated (the benchmark's deletions)."""
        with self._lock:
            self._terminated.add((account, region, instance_id))

    def terminated(self, account: str, region: str, instance_id: str) -> bool:
        return bool(self._terminated) and (account, region, instance_id) in self._terminated

    def __len__(self) -> int:
        return len(self._tags)

    def set(self, account: str, region: str, instance_id: str, tags: Mapping[str, str]) -> None:
        """Add or replace tags of one instance."""
        with self._lock:
            self._tags.setdefault((account, region, instance_id), {}).update(tags)

    def apply(self, account: str, region: str, instance_id: str, base: Tags) -> Tags:
        """The generated tags with any overrides merged in (overrides win)."""
        if not self._tags:
            return base
        extra = self._tags.get((account, region, instance_id))
        if not extra:
            return base
        merged = dict(base)
        merged.update(extra)
        return tuple(merged.items())
