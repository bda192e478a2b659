"""fleetstream query / export / resources / show / history on the real stack.

One module-scoped estate in moto, swept twice through Kafka into DynamoDB Local: the first
sweep creates everything; between the sweeps one instance gets an Owner tag and one is
terminated, so the changes topic holds CREATED, MODIFIED and DELETED. Every command's output
is compared row for row with what the seed created.
"""

from __future__ import annotations

import csv
import io
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import boto3
import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from devstack import StackEndpoints
from devstack.seed import SEED_TAG, EstateSpec, SeededInstance, seed_estate
from fleetstream.apps.cli import _Context, main
from fleetstream.apps.oneshot import run_sweep
from fleetstream.base.config import load_settings
from fleetstream.inventory.sql import OWNER_TAG_QUESTION
from tests.conftest import pipeline_env
from tests.integration.helpers import member_client

pytestmark = pytest.mark.integration
REGIONS = ("us-east-1", "eu-west-1")
ARN = "arn:aws:ec2:{region}:{account}:instance/{id}"


@dataclass
class Swept:
    """The estate as moto holds it after the second sweep, and where things are."""

    live: list[SeededInstance]  # tags as they are now
    tagged: SeededInstance  # got Owner=alice between the sweeps
    terminated: SeededInstance  # terminated between the sweeps
    between: datetime  # after the first sweep, before the changes
    names: dict[str, str]  # account id -> name
    snapshot: Path

    def arn(self, instance: SeededInstance) -> str:
        return ARN.format(
            region=instance.region, account=instance.account_id, id=instance.instance_id
        )


def _sweep(log_dir: Path) -> None:
    settings = load_settings(None)
    result = run_sweep(
        settings, None, describers=1, sinks=1, timeout_s=300, log_dir=log_dir, echo=print
    )
    assert result.ok, result.progress


def cli(name: str, *args: str) -> Result:
    """Run one inventory command as `fleetstream NAME ARGS...` would (settings from env)."""
    return CliRunner().invoke(main.commands[name], list(args), obj=_Context(None))


@pytest.fixture(scope="module")
def swept(local_stack: StackEndpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Swept]:
    aws = local_stack.aws_endpoint
    assert aws
    estate = seed_estate(
        aws,
        EstateSpec(member_accounts=2, regions=REGIONS, instances_per_region=3, paged_region=None),
    )
    home = tmp_path_factory.mktemp("inventory-query")
    with pytest.MonkeyPatch.context() as patch:
        env = pipeline_env(local_stack, uuid.uuid4().hex[:8])
        env["FLEETSTREAM_ACCOUNTS__INCLUDE"] = json.dumps([a.account_id for a in estate.accounts])
        env["FLEETSTREAM_REGIONS__INCLUDE"] = json.dumps(list(REGIONS))
        for name, value in env.items():
            patch.setenv(name, value)
        # Owner on every third instance: the Owner-tag question then has a non-trivial answer.
        instances = list(estate.instances)
        for n, instance in enumerate(instances):
            if n % 3 == 0:
                ec2 = member_client(aws, instance.account_id, "ec2", instance.region)
                ec2.create_tags(
                    Resources=[instance.instance_id], Tags=[{"Key": "Owner", "Value": f"owner-{n}"}]
                )
                instance.tags["Owner"] = f"owner-{n}"
        _sweep(home / "logs1")
        between = datetime.now(UTC)
        untagged = [i for i in instances if "Owner" not in i.tags]
        tagged, terminated = untagged[0], untagged[1]
        member_client(aws, tagged.account_id, "ec2", tagged.region).create_tags(
            Resources=[tagged.instance_id], Tags=[{"Key": "Owner", "Value": "alice"}]
        )
        tagged.tags["Owner"] = "alice"
        member_client(aws, terminated.account_id, "ec2", terminated.region).terminate_instances(
            InstanceIds=[terminated.instance_id]
        )
        _sweep(home / "logs2")
        snapshot = home / "snapshot"
        exported = cli("export", "--to", str(snapshot))
        assert exported.exit_code == 0, exported.output
        yield Swept(
            live=[i for i in instances if i is not terminated],
            tagged=tagged,
            terminated=terminated,
            between=between,
            names={a.account_id: a.name for a in estate.accounts},
            snapshot=snapshot,
        )


def rows_of_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_query_answers_the_owner_tag_question(swept: Swept) -> None:
    result = cli("query", OWNER_TAG_QUESTION, "--snapshot", str(swept.snapshot), "-o", "csv")
    assert result.exit_code == 0, result.output
    expected = sorted(
        [swept.names[i.account_id], i.region, i.instance_id, i.tags["Name"]]
        for i in swept.live
        if i.tags["Environment"] == "prod" and "Owner" not in i.tags
    )
    assert expected, "the seed has production instances without an Owner tag"
    header = ["account_name", "region", "resource_id", "name"]
    assert rows_of_csv(result.stdout) == [header, *expected]


def test_query_json_has_typed_columns_tags_and_attributes(swept: Swept) -> None:
    statement = (
        "SELECT arn, tags, InstanceType, LaunchTime, attributes->>'$.InstanceId' AS id "
        "FROM ec2_instance WHERE deleted_at IS NULL ORDER BY arn"
    )
    result = cli("query", statement, "--snapshot", str(swept.snapshot), "-o", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    expected = sorted((swept.arn(i), i.tags, i.instance_id) for i in swept.live)
    assert [(r["arn"], r["tags"], r["id"]) for r in rows] == expected
    assert {r["InstanceType"] for r in rows} == {"t3.micro"}
    assert all(datetime.fromisoformat(r["LaunchTime"]).tzinfo is not None for r in rows)
    lines = cli("query", statement, "--snapshot", str(swept.snapshot), "-o", "jsonl").stdout
    assert [json.loads(line) for line in lines.splitlines()] == rows


def test_resources_view_spans_types_and_counts_tombstones(swept: Swept) -> None:
    statement = (
        "SELECT resource_type, count(*) AS n, count(deleted_at) AS deleted "
        "FROM resources GROUP BY resource_type"
    )
    result = cli("query", statement, "--snapshot", str(swept.snapshot), "-o", "csv")
    assert rows_of_csv(result.stdout) == [
        ["resource_type", "n", "deleted"],
        ["ec2.instance", str(len(swept.live) + 1), "1"],
    ]


def test_resources_filters_select_exactly_the_seeded_instances(swept: Swept) -> None:
    account = swept.tagged.account_id
    name = swept.names[account]
    result = cli(
        "resources",
        "--type",
        "ec2.*",
        "--account",
        name,
        "--region",
        "eu-west-1",
        "--tag",
        "Team=payments",
        "--tag-missing",
        "Owner",
        "--snapshot",
        str(swept.snapshot),
        "-o",
        "jsonl",
    )
    assert result.exit_code == 0, result.output
    found = [json.loads(line) for line in result.stdout.splitlines()]
    expected = sorted(
        i.instance_id
        for i in swept.live
        if i.account_id == account
        and i.region == "eu-west-1"
        and i.tags["Team"] == "payments"
        and "Owner" not in i.tags
    )
    assert [r["resource_id"] for r in found] == expected
    assert all(r["account_name"] == name and r["tags"]["Team"] == "payments" for r in found)

    everything = cli("resources", "--snapshot", str(swept.snapshot), "-o", "csv").stdout
    assert sorted(row[3] for row in rows_of_csv(everything)[1:]) == sorted(
        i.instance_id for i in swept.live
    )
    owned = cli(
        "resources",
        "--type",
        "ec2.instance",
        "--where",
        "tags['Owner'] = 'alice'",
        "--snapshot",
        str(swept.snapshot),
        "-o",
        "csv",
    ).stdout
    assert [row[3] for row in rows_of_csv(owned)[1:]] == [swept.tagged.instance_id]
    typed = cli(
        "resources",
        "--type",
        "ec2.instance",
        "--where",
        f"jmespath:Tags[?Value=='{swept.tagged.tags[SEED_TAG]}']",
        "--snapshot",
        str(swept.snapshot),
        "-o",
        "csv",
    ).stdout
    assert [row[3] for row in rows_of_csv(typed)[1:]] == [swept.tagged.instance_id]
    gone = cli(
        "resources",
        "--deleted",
        "--where",
        "deleted_at IS NOT NULL",
        "--snapshot",
        str(swept.snapshot),
        "-o",
        "csv",
    )
    assert [row[3] for row in rows_of_csv(gone.stdout)[1:]] == [swept.terminated.instance_id]


def test_history_and_show_tell_what_changed_and_when(swept: Swept) -> None:
    result = cli("history", swept.arn(swept.tagged), "-o", "json")
    assert result.exit_code == 0, result.output
    changes = json.loads(result.stdout)
    assert [(c["change_type"], c["changed_paths"]) for c in changes] == [
        ("CREATED", []),
        ("MODIFIED", ["Tags", "tags.Owner"]),  # in the attributes and the tags
    ]
    assert datetime.fromisoformat(changes[0]["observed_at"]) < swept.between
    assert datetime.fromisoformat(changes[1]["observed_at"]) > swept.between

    gone = json.loads(cli("history", swept.arn(swept.terminated), "-o", "json").stdout)
    assert [c["change_type"] for c in gone] == ["CREATED", "DELETED"]

    shown = cli("show", swept.arn(swept.tagged), "-o", "json")
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    assert document["resource"]["tags"] == swept.tagged.tags
    assert document["resource"]["attributes"]["InstanceId"] == swept.tagged.instance_id
    assert document["resource"]["deleted_at"] is None
    assert [c["change_type"] for c in document["changes"]] == ["CREATED", "MODIFIED"]
    text = cli("show", swept.arn(swept.tagged)).stdout
    assert f"resource_id: {swept.tagged.instance_id}" in text
    assert "Owner=alice" in text


def test_parquet_export_reads_back_in_duckdb_and_pyarrow(swept: Swept) -> None:
    files = sorted(swept.snapshot.rglob("*.parquet"))
    day = datetime.now(UTC).date().isoformat()
    assert [f.relative_to(swept.snapshot).as_posix() for f in files] == [
        f"type=ec2.instance/snapshot_date={day}/part-0.parquet"
    ]
    table = pq.read_table(files[0])
    live = {swept.arn(i): i.tags for i in swept.live}
    read = {row["arn"]: dict(row["tags"]) for row in table.to_pylist() if row["deleted_at"] is None}
    assert read == live
    assert table.schema.field("observed_at").type.tz == "UTC"
    # The whole directory as a hive-partitioned dataset: partition columns come from the path.
    dataset = ds.dataset(
        swept.snapshot, format="parquet", partitioning="hive", exclude_invalid_files=True
    )
    partitions = dataset.to_table(columns=["type", "snapshot_date"]).to_pylist()
    assert {(p["type"], str(p["snapshot_date"])) for p in partitions} == {("ec2.instance", day)}
    with duckdb.connect() as db:
        rows = db.execute(
            "SELECT arn, map_extract(tags, 'Owner')[1] "
            "FROM read_parquet(?, hive_partitioning = true) "
            "WHERE deleted_at IS NULL AND type = 'ec2.instance' ORDER BY arn",
            [str(swept.snapshot / "**" / "*.parquet")],
        ).fetchall()
    assert rows == sorted((arn, tags.get("Owner")) for arn, tags in live.items())


def test_export_as_of_rebuilds_the_inventory_from_the_changes_topic(
    swept: Swept, tmp_path: Path
) -> None:
    before = tmp_path / "before"
    result = cli("export", "--to", str(before), "--as-of", swept.between.isoformat())
    assert result.exit_code == 0, result.output
    statement = "SELECT arn, tags, deleted_at FROM ec2_instance ORDER BY arn"
    rows = json.loads(cli("query", statement, "--snapshot", str(before), "-o", "json").stdout)
    # At that time the terminated instance was live and the tagged one had no Owner yet.
    expected = {swept.arn(i): dict(i.tags) for i in [*swept.live, swept.terminated]}
    expected[swept.arn(swept.tagged)].pop("Owner")
    assert {r["arn"]: r["tags"] for r in rows} == expected
    assert all(r["deleted_at"] is None for r in rows)


def test_export_to_s3_uploads_the_same_snapshot(swept: Swept) -> None:
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
    bucket = f"inventory-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    result = cli("export", "--to", f"s3://{bucket}/exports/fleet")
    assert result.exit_code == 0, result.output
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    day = datetime.now(UTC).date().isoformat()
    part = f"exports/fleet/type=ec2.instance/snapshot_date={day}/part-0.parquet"
    assert keys == ["exports/fleet/_fleetstream_snapshot.json", part]
    body = s3.get_object(Bucket=bucket, Key=part)["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    assert sorted(table.column("arn").to_pylist()) == sorted(
        swept.arn(i) for i in [*swept.live, swept.terminated]
    )
