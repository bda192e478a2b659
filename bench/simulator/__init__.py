"""A purpose-built AWS simulator (EC2, STS, Organizations) with latency and throttling.

moto keeps every instance as an object and its DescribeInstances is quadratic in the number of
tagged instances, so large estates need this: instances are generated on the fly from
(seed, account, region, index), only CreateTags overrides are stored, every call is delayed by
a latency model and charged to an EC2-style token bucket per (account, region, action class).
"""

from bench.simulator.config import LatencyConfig, SimConfig, ThrottleConfig
from bench.simulator.estate import Estate, EstateSpec

__all__ = ["Estate", "EstateSpec", "LatencyConfig", "SimConfig", "ThrottleConfig"]
