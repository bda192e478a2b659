"""The fault middleware's choice of error rule: every rule fires at its own rate."""

from __future__ import annotations

from devstack.faults import drawn_rule

THROTTLE = {"action": "DescribeInstances", "rate": 0.3, "code": "RequestLimitExceeded"}
SERVER_ERROR = {"action": "DescribeInstances", "rate": 0.15, "code": "InternalError"}


def test_each_rule_owns_a_slice_as_wide_as_its_rate() -> None:
    rules = [THROTTLE, SERVER_ERROR]
    assert drawn_rule(rules, 0.0) is THROTTLE
    assert drawn_rule(rules, 0.29) is THROTTLE
    assert drawn_rule(rules, 0.3) is SERVER_ERROR
    assert drawn_rule(rules, 0.44) is SERVER_ERROR
    assert drawn_rule(rules, 0.45) is None
    assert drawn_rule(rules, 0.99) is None


def test_earlier_rules_win_once_rates_add_up_past_one() -> None:
    denied = {"action": "DescribeInstances", "rate": 1.0, "code": "UnauthorizedOperation"}
    assert all(drawn_rule([denied, THROTTLE], d / 100) is denied for d in range(100))


def test_no_rule_no_error() -> None:
    assert drawn_rule([], 0.0) is None
    assert drawn_rule([{"rate": 0}], 0.0) is None
