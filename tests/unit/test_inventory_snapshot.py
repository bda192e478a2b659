"""Snapshots, typed columns and the inventory commands' refusals, without servers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleetstream.apps.cli import _Context, main
from fleetstream.catalog import CATALOG
from fleetstream.inventory.columns import Column, table_name, typed_columns
from fleetstream.inventory.export import write_snapshot
from fleetstream.inventory.rows import Row

pytestmark = pytest.mark.unit
AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def row(resource_id: str, tags: dict[str, str], attributes: dict[str, object]) -> Row:
    return {
        "arn": f"arn:aws:ec2:us-east-1:111111111111:instance/{resource_id}",
        "account_id": "111111111111",
        "account_name": "prod-a",
        "region": "us-east-1",
        "resource_type": "ec2.instance",
        "resource_id": resource_id,
        "name": tags.get("Name"),
        "tags": sorted(tags.items()),
        "attributes": json.dumps(attributes),
        "observed_at": AT,
        "deleted_at": None,
    }


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    rows = [
        row(
            "i-1",
            {"Owner": "bob"},
            {
                "InstanceType": "t3.micro",
                "LaunchTime": "2026-11-30T10:00:00+00:00",
                "CpuOptions": {"CoreCount": 1},
            },
        ),
        row("i-2", {}, {"InstanceType": "m5.large", "LaunchTime": "2026-11-30T11:00:00+00:00"}),
    ]
    write_snapshot(rows, tmp_path, source="test", types=["s3.bucket"], now=AT)
    return tmp_path


def invoke(name: str, *args: str) -> tuple[int, str, str]:
    """Run one inventory command as `fleetstream NAME ARGS...` would."""
    command = main.commands[name]
    result = CliRunner().invoke(command, list(args), obj=_Context(None))
    return result.exit_code, result.stdout, result.stderr


def test_typed_columns_come_from_botocore_output_shapes() -> None:
    columns = {c.name: c.sql_type for c in typed_columns(CATALOG["ec2.instance"])}
    assert columns["InstanceType"] == "VARCHAR"
    assert columns["LaunchTime"] == "TIMESTAMPTZ"
    assert columns["AmiLaunchIndex"] == "BIGINT"
    assert columns["EbsOptimized"] == "BOOLEAN"
    assert columns["State"] == "JSON"
    assert "Tags" not in columns  # the common tags MAP has them
    # A type listed as plain strings and completed by details: the details' members count.
    queue = typed_columns(CATALOG["sqs.queue"])
    assert Column("QueueUrl", "VARCHAR") in queue
    assert table_name("ec2.instance") == "ec2_instance"


def test_every_catalog_type_has_typed_columns() -> None:
    empty = [name for name, entry in CATALOG.items() if not typed_columns(entry)]
    assert empty == []


def test_query_reads_typed_columns_and_empty_types(snapshot: Path) -> None:
    code, out, err = invoke(
        "query",
        "SELECT resource_id, InstanceType, year(LaunchTime) AS y, "
        "CpuOptions->>'$.CoreCount' AS cores FROM ec2_instance "
        "WHERE NOT map_contains(tags, 'Owner') OR InstanceType = 't3.micro' ORDER BY 1",
        "--snapshot",
        str(snapshot),
        "-o",
        "csv",
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "resource_id,InstanceType,y,cores",
        "i-1,t3.micro,2026,1",
        "i-2,m5.large,2026,",
    ]
    code, out, _ = invoke(
        "query", "SELECT count(*) AS n FROM s3_bucket", "--snapshot", str(snapshot), "-o", "jsonl"
    )
    assert (code, out) == (0, '{"n":0}\n')


def test_table_output_is_aligned(snapshot: Path) -> None:
    code, out, _ = invoke("resources", "--tag-missing", "Owner", "--snapshot", str(snapshot))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "resource_type",
        "account_id",
        "region",
        "resource_id",
        "arn",
        "account_name",
        "name",
        "tags",
    ]
    assert lines[2].split()[:4] == ["ec2.instance", "111111111111", "us-east-1", "i-2"]
    assert len(lines) == 3


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("query", "SELEC nonsense"), 3, "fleetstream: error: Parser Error: syntax error"),
        (
            ("query", "SELECT * FROM no_such_table"),
            3,
            "fleetstream: error: Catalog Error: Table with name no_such_table does not exist!",
        ),
        (
            ("resources", "--where", "no_such_column = 1"),
            3,
            "fleetstream: error: Binder Error: Referenced column",
        ),
        (
            ("resources", "--tag", "Owner"),
            3,
            "fleetstream: error: --tag 'Owner': expected KEY=VALUE",
        ),
        (("resources", "--where", "jmespath:[[["), 3, "fleetstream: error: --where: bad JMESPath"),
        (
            ("resources", "--type", "ec3.*"),
            4,
            "fleetstream: error: --type 'ec3.*' matches no resource type",
        ),
    ],
)
def test_refusals_are_one_line_with_their_own_exit_code(
    snapshot: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    got, out, err = invoke(*args, "--snapshot", str(snapshot))
    assert got == code
    assert out == ""
    assert err.startswith(message), err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_missing_snapshot_is_refused_with_its_own_exit_code(tmp_path: Path) -> None:
    for command in (("query", "SELECT 1"), ("resources",)):
        code, out, err = invoke(*command, "--snapshot", str(tmp_path / "none"))
        assert (code, out) == (5, "")
        assert err == (
            f"fleetstream: error: no inventory snapshot in {tmp_path / 'none'}: "
            "run `fleetstream export` first (or pass --snapshot DIR)\n"
        )


def test_show_without_aws_credentials_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Before: botocore's NoCredentialsError escaped as a traceback (seen on the demo's stack).
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    arn = "arn:aws:ec2:us-east-1:111111111111:instance/i-1"
    code, out, err = invoke("show", arn)
    assert (code, out) == (2, "")
    assert err == (
        "fleetstream: error: AWS refused or could not be reached: Unable to locate credentials\n"
    )
