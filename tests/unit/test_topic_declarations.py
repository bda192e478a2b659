"""Each topic is declared once (fleetstream/kafka/topics.py) and everything else derives from
it: the stages' topics, topic creation, the registry subjects, and every serializer is told
its topic."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fleetstream.kafka import topics
from fleetstream.kafka.acl import STAGES
from fleetstream.kafka.clients import TOPICS
from fleetstream.serde.avro import schemas_dir
from fleetstream.serde.registry import VALUE_SCHEMAS

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("fleetstream", "producers", "consumers", "devstack")
ENCODERS = {
    "encode_work_item",
    "encode_resource_event",
    "encode_observation_within",
    "encode_change_event",
    "encode_resource_state",
    "encode_request",
    "encode_step",
    "encode_result",
}


def product_calls() -> list[tuple[str, ast.Call]]:
    """Every call in the product code, with where it is."""
    calls = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Call):
                    calls.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return calls


def called_name(call: ast.Call) -> str | None:
    """The called function's or method's name."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def test_every_topic_is_declared_once_and_the_tables_derive_from_it() -> None:
    names = [topic.name for topic in topics.ALL]
    assert len(names) == len(set(names))
    assert list(TOPICS) == names
    assert {t.name: t.schema for t in topics.ALL if t.schema is not None} == VALUE_SCHEMAS
    on_disk = {path.name.split(".v")[0] for path in schemas_dir().glob("*.avsc")}
    assert set(VALUE_SCHEMAS.values()) == on_disk  # no schema without a topic, nor the reverse


def test_the_stages_named_by_topics_are_the_stages_and_read_and_write_exactly_those() -> None:
    named = {s for t in topics.ALL for s in t.producers + t.consumers}
    assert named <= set(STAGES), named - set(STAGES)
    for stage in STAGES.values():
        assert stage.produces == topics.produced_by(stage.name), stage.name
        assert stage.consumes == topics.consumed_by(stage.name), stage.name


def test_every_serializer_call_in_the_product_code_names_its_topic() -> None:
    untold = [
        where
        for where, call in product_calls()
        if called_name(call) in ENCODERS and not any(k.arg == "topic" for k in call.keywords)
    ]
    assert untold == []


def test_no_topic_is_named_by_a_string_in_the_product_code() -> None:
    by_string = [
        where
        for where, call in product_calls()
        if called_name(call) == "topic"
        and call.args
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
    ]
    assert by_string == []
