"""Benchmarks: an AWS simulator with latency and throttling, scenarios, peers and results."""
