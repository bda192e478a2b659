"""Pure helpers of the local stack: config rendering, trust checks, state, port and pid logic."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder

from devstack import LocalStack, StackEndpoints, StackError
from devstack.aws_server import (
    Caller,
    TrustEnforcingMiddleware,
    denial_reason,
    trust_allows,
)
from devstack.kafka_node import (
    SecureListeners,
    new_cluster_id,
    render_server_properties,
)
from devstack.maven import MARKER, resolve_classpath
from devstack.procs import pid_alive
from devstack.seed import EstateSpec, trust_policy
from devstack.stack import free_ports
from devstack.state import ComponentState, load_states, save_states

pytestmark = pytest.mark.unit

ROLE = "arn:aws:iam::111122223333:role/FleetstreamReadOnly"


def test_server_properties_name_both_listeners_and_single_node_settings(tmp_path: Path) -> None:
    text = render_server_properties(9092, 9093, tmp_path / "data")
    props = dict(line.split("=", 1) for line in text.splitlines())
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092"
    assert props["controller.quorum.bootstrap.servers"] == "127.0.0.1:9093"
    assert props["log.dirs"] == str(tmp_path / "data")
    assert props["auto.create.topics.enable"] == "false"
    assert all(props[k] == "1" for k in props if k.endswith("replication.factor"))


def test_secure_listeners_add_ssl_and_sasl_ssl_with_pem_on_one_line(tmp_path: Path) -> None:
    pem = "-----BEGIN CERTIFICATE-----\nAAAA\\BBBB\n-----END CERTIFICATE-----\n"
    secure = SecureListeners(ca_pem=pem, certificate_chain_pem=pem, key_pem=pem)
    text = render_server_properties(9092, 9093, tmp_path, secure, {"ssl": 9094, "sasl_ssl": 9096})
    props = dict(line.split("=", 1) for line in text.splitlines())
    assert props["advertised.listeners"] == (
        "PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9094,SASL_SSL://127.0.0.1:9096"
    )
    assert props["listener.security.protocol.map"].startswith("PLAINTEXT:PLAINTEXT,SSL:SSL,")
    assert props["listener.name.ssl.ssl.client.auth"] == "required"
    assert "client.auth" not in "".join(k for k in props if "sasl_ssl" in k)
    # java.util.Properties escapes: one line per key, newlines and backslashes restored on load.
    unescaped = props["ssl.keystore.key"].replace("\\n", "\n").replace("\\\\", "\\")
    assert unescaped == pem


def test_cluster_ids_are_22_base64url_chars_never_a_flag() -> None:
    ids = {new_cluster_id() for _ in range(500)}
    assert len(ids) == 500
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) and not i.startswith("-") for i in ids)


def test_trust_policy_without_condition_allows_any_external_id() -> None:
    document = json.dumps(trust_policy("123456789012", None))
    assert trust_allows(document, None)
    assert trust_allows(document, "anything")


def test_trust_policy_with_external_id_requires_it() -> None:
    document = json.dumps(trust_policy("123456789012", "ext"))
    assert trust_allows(document, "ext")
    assert not trust_allows(document, "other")
    assert not trust_allows(document, None)


def test_denial_reasons() -> None:
    policies = {ROLE: json.dumps(trust_policy("123456789012", "ext"))}

    def lookup(account_id: str, role_arn: str) -> str | None:
        assert account_id == "111122223333"
        return policies.get(role_arn)

    assert denial_reason(ROLE, "ext", lookup) is None
    assert denial_reason(ROLE, "bad", lookup) is not None
    assert denial_reason(ROLE.replace("Fleetstream", "Missing"), None, lookup) is not None
    org_role = "arn:aws:iam::111122223333:role/OrganizationAccountAccessRole"
    assert denial_reason(org_role, None, lookup) is None
    assert denial_reason("not-an-arn", None, lookup) is None  # moto validates it


def _call(
    middleware: TrustEnforcingMiddleware, body: str, service: str = "sts"
) -> tuple[str, bytes]:
    auth = (
        f"AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host, Signature=x"
    )
    environ = EnvironBuilder(
        method="POST",
        data=body,
        headers=[("Authorization", auth)],
        content_type="application/x-www-form-urlencoded",
    ).get_environ()
    statuses: list[str] = []
    chunks = middleware(environ, lambda status, headers: statuses.append(status))
    return statuses[0], b"".join(chunks)


def test_middleware_denies_like_sts_and_passes_the_body_on_otherwise() -> None:
    seen: list[bytes] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen.append(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        start_response("200 OK", [])
        return [b"moto"]

    middleware = TrustEnforcingMiddleware(app, lookup=lambda account, arn: None)
    status, body = _call(middleware, f"Action=AssumeRole&RoleArn={ROLE}&RoleSessionName=s")
    assert status.startswith("403")
    assert b"<Code>AccessDenied</Code>" in body
    assert f"sts:AssumeRole on resource: {ROLE}".encode() in body
    assert not seen

    status, body = _call(middleware, "Action=GetCallerIdentity")
    assert (status, body, seen) == ("200 OK", b"moto", [b"Action=GetCallerIdentity"])
    assert _call(middleware, f"Action=AssumeRole&RoleArn={ROLE}", service="iam")[1] == b"moto"


def test_state_round_trips_and_endpoints_become_env(tmp_path: Path) -> None:
    states = {
        "kafka": ComponentState(endpoint="127.0.0.1:1", pid=10, ports={"broker": 1}),
        "aws": ComponentState(endpoint="http://x:2", external=True),
    }
    save_states(tmp_path / "stack.json", states)
    assert load_states(tmp_path / "stack.json") == states
    assert load_states(tmp_path / "absent.json") == {}
    env = StackEndpoints("127.0.0.1:1", None, "http://x:2").as_env()
    assert env == {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "AWS_ENDPOINT_URL": "http://x:2"}


def test_free_ports_are_distinct() -> None:
    ports = free_ports(20)
    assert len(set(ports)) == 20


def test_pid_alive_sees_an_exited_child_as_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not pid_alive(child.pid)
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert pid_alive(running.pid)
    finally:
        running.kill()
        running.wait()


def test_resolve_classpath_skips_maven_when_marker_exists(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / MARKER).write_text("ok\n")
    assert resolve_classpath(tmp_path / "missing-pom.xml", lib, tmp_path / "log") is False


def test_estate_spec_rejects_a_paged_region_outside_regions() -> None:
    with pytest.raises(ValueError, match="paged_region"):
        EstateSpec(regions=("us-east-1",), paged_region="eu-west-1")


def test_unknown_component_is_a_stack_error(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="unknown components"):
        LocalStack(tmp_path, environ={}).start(["zookeeper"])


def test_unreachable_byo_endpoint_names_component_and_variable(tmp_path: Path) -> None:
    port = free_ports(1)[0]  # nothing listens there
    stack = LocalStack(
        tmp_path, environ={"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}, ready_timeout=0.5
    )
    with pytest.raises(StackError, match=r"aws at .* \(from AWS_ENDPOINT_URL\) did not become"):
        stack.start(["aws"])
    assert stack.status() == []


def test_an_authorizing_broker_denies_by_default_with_anonymous_as_super_user(
    tmp_path: Path,
) -> None:
    pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    secure = SecureListeners(ca_pem=pem, certificate_chain_pem=pem, key_pem=pem, authorize=True)
    text = render_server_properties(9092, 9093, tmp_path, secure, {"ssl": 9094, "sasl_ssl": 9096})
    props = dict(line.split("=", 1) for line in text.splitlines())
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert props["super.users"] == "User:ANONYMOUS"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    plain = render_server_properties(9092, 9093, tmp_path)
    assert "authorizer" not in plain


def test_trust_names_the_caller_by_account_role_session_or_arn() -> None:
    hub_role = "arn:aws:iam::111111111111:role/HubTaskRole"
    describer = Caller("arn:aws:sts::111111111111:assumed-role/HubTaskRole/task-1")
    actor = Caller("arn:aws:sts::111111111111:assumed-role/ActorTaskRole/task-2")
    stranger = Caller("arn:aws:sts::222222222222:assumed-role/HubTaskRole/task-3")
    document = json.dumps(
        {
            "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": hub_role}}
            ]
        }
    )
    assert trust_allows(document, None, describer)
    assert not trust_allows(document, None, actor)
    assert not trust_allows(document, None, stranger)
    account_wide = json.dumps(trust_policy("111111111111", None))
    assert trust_allows(account_wide, None, actor)
    assert not trust_allows(account_wide, None, stranger)


def test_trust_with_principal_org_id_requires_the_callers_organization() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"AWS": "111111111111"},
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}},
    }
    document = json.dumps({"Statement": [statement]})
    arn = "arn:aws:sts::111111111111:assumed-role/HubTaskRole/task"
    assert trust_allows(document, None, Caller(arn, lambda _account: "o-abcdefghij"))
    assert not trust_allows(document, None, Caller(arn, lambda _account: "o-somebodyelse"))
    assert not trust_allows(document, None, Caller(arn))
