"""The generic engine's declarative features, call by call against botocore's Stubber."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from fleetstream.catalog import CATALOG, CatalogEntry
from fleetstream.catalog.details import DETAIL_ERRORS
from fleetstream.catalog.engine import fetch_page, observe

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, tzinfo=UTC)
KEY = b"unit-test-redaction-key"
ACCOUNT = "111111111111"


def client(service: str) -> Any:
    session = boto3.Session(
        aws_access_key_id="x", aws_secret_access_key="x", region_name="eu-west-1"
    )
    return session.client(service)  # type: ignore[call-overload]


def seen(entry: CatalogEntry, item: dict[str, Any], region: str = "eu-west-1") -> Any:
    return observe(
        entry,
        item,
        account_id=ACCOUNT,
        account_name="prod",
        region=region,
        sweep_id="s",
        observed_at=NOW,
        redaction_key=KEY,
    )


def arn(kind: str, name: str) -> str:
    return f"arn:aws:ecs:eu-west-1:{ACCOUNT}:{kind}/{name}"


def test_child_type_walks_parents_and_resumes_inside_one_parent() -> None:
    entry, ecs = CATALOG["ecs.service"], client("ecs")
    c1, c2, c3 = arn("cluster", "a"), arn("cluster", "b"), arn("cluster", "c")
    s1, s2, s3 = arn("service", "a/one"), arn("service", "b/two"), arn("service", "b/three")
    tags = ["TAGS"]
    with Stubber(ecs) as stub:
        stub.add_response(
            "list_clusters", {"clusterArns": [c1, c2], "nextToken": "p2"}, {"maxResults": 2}
        )
        stub.add_response("list_services", {"serviceArns": [s1]}, {"cluster": c1, "maxResults": 2})
        stub.add_response(
            "list_services",
            {"serviceArns": [s2], "nextToken": "more"},
            {"cluster": c2, "maxResults": 1},
        )
        for cluster, service in ((c1, s1), (c2, s2)):
            stub.add_response(
                "describe_services",
                {"services": [{"serviceArn": service, "serviceName": service[-3:]}]},
                {"cluster": cluster, "services": [service], "include": tags},
            )
        first = fetch_page(ecs, entry, None, 2)
    assert [i["serviceArn"] for i in first.items] == [s1, s2]
    assert [i["clusterArn"] for i in first.items] == [c1, c2]
    token = json.loads(json.dumps(first.next_token))  # it travels as JSON in the work item
    assert token == {
        "parents": [c2],
        "parents_next": {"nextToken": "p2"},
        "child": {"nextToken": "more"},
    }

    with Stubber(ecs) as stub:
        stub.add_response(
            "list_services",
            {"serviceArns": [s3]},
            {"cluster": c2, "nextToken": "more", "maxResults": 2},
        )
        stub.add_response(
            "list_clusters", {"clusterArns": [c3]}, {"nextToken": "p2", "maxResults": 2}
        )
        stub.add_response("list_services", {"serviceArns": []}, {"cluster": c3, "maxResults": 1})
        # s3 was deleted between the list and the describe: it is dropped, not half-reported.
        stub.add_response(
            "describe_services",
            {"services": [], "failures": [{"arn": s3, "reason": "MISSING"}]},
            {"cluster": c2, "services": [s3], "include": tags},
        )
        second = fetch_page(ecs, entry, token, 2)
    assert second.items == []
    assert second.next_token is None


def test_batched_detail_calls_are_chunked_and_matched_by_key() -> None:
    base = CATALOG["elbv2.load_balancer"]
    entry = dataclasses.replace(base, details=(dataclasses.replace(base.details[0], batch_size=2),))
    elbv2 = client("elbv2")
    arns = [
        f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:loadbalancer/app/lb{n}/x"
        for n in range(3)
    ]
    balancers = [{"LoadBalancerArn": a, "LoadBalancerName": f"lb{n}"} for n, a in enumerate(arns)]
    with Stubber(elbv2) as stub:
        stub.add_response("describe_load_balancers", {"LoadBalancers": balancers}, {"PageSize": 20})
        # Answers in another order than asked: pairing is by ARN, not position.
        stub.add_response(
            "describe_tags",
            {
                "TagDescriptions": [
                    {"ResourceArn": arns[1], "Tags": [{"Key": "n", "Value": "1"}]},
                    {"ResourceArn": arns[0], "Tags": [{"Key": "n", "Value": "0"}]},
                ]
            },
            {"ResourceArns": arns[:2]},
        )
        stub.add_response("describe_tags", {"TagDescriptions": []}, {"ResourceArns": arns[2:]})
        page = fetch_page(elbv2, entry, None, 20)
    assert [seen(entry, i).tags for i in page.items] == [{"n": "0"}, {"n": "1"}, {}]


def test_string_items_absent_codes_and_quirks() -> None:
    entry, sqs = CATALOG["sqs.queue"], client("sqs")
    url = "https://queue.local/111111111111/"
    queue_arn = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs"
    with Stubber(sqs) as stub:
        stub.add_response(
            "list_queues", {"QueueUrls": [url + "jobs", url + "gone"]}, {"MaxResults": 10}
        )
        stub.add_response(
            "get_queue_attributes",
            {"Attributes": {"QueueArn": queue_arn, "ApproximateNumberOfMessages": "3"}},
            {"QueueUrl": url + "jobs", "AttributeNames": ["All"]},
        )
        stub.add_client_error("get_queue_attributes", "AWS.SimpleQueueService.NonExistentQueue")
        stub.add_response("list_queue_tags", {"Tags": {"team": "data"}}, {"QueueUrl": url + "jobs"})
        page = fetch_page(sqs, entry, None, 10)
    assert len(page.items) == 1
    observation = seen(entry, page.items[0])
    assert (observation.resource_id, observation.name, observation.arn) == (
        "jobs",
        "jobs",
        queue_arn,
    )
    assert observation.tags == {"team": "data"}


def test_an_unnamed_error_fails_the_page_instead_of_hiding_items() -> None:
    entry, sqs = CATALOG["sqs.queue"], client("sqs")
    with Stubber(sqs) as stub:
        stub.add_response("list_queues", {"QueueUrls": ["https://q/1/a"]}, {"MaxResults": 10})
        stub.add_client_error("get_queue_attributes", "InvalidAttributeName")
        with pytest.raises(ClientError, match="InvalidAttributeName"):
            fetch_page(sqs, entry, None, 10)


@pytest.mark.parametrize("code", ["Throttling", "ServiceUnavailable"])
def test_a_throttled_detail_call_fails_the_page_for_a_retry_instead_of_degrading(
    code: str,
) -> None:
    entry, sqs = CATALOG["sqs.queue"], client("sqs")
    with Stubber(sqs) as stub:
        stub.add_response("list_queues", {"QueueUrls": ["https://q/1/a"]}, {"MaxResults": 10})
        stub.add_client_error("get_queue_attributes", code, http_status_code=503)
        with pytest.raises(ClientError, match=code):
            fetch_page(sqs, entry, None, 10)


def test_a_refused_required_detail_keeps_the_bucket_marked_and_reads_its_other_details() -> None:
    entry, s3 = CATALOG["s3.bucket"], client("s3")
    buckets = [{"Name": "open", "CreationDate": NOW}, {"Name": "locked", "CreationDate": NOW}]
    with Stubber(s3) as stub:
        stub.add_response("list_buckets", {"Buckets": buckets}, {"MaxBuckets": 10})
        stub.add_response("get_bucket_location", {"LocationConstraint": "eu-west-1"})
        stub.add_client_error("get_bucket_location", "AccessDenied", http_status_code=403)
        stub.add_response("get_bucket_tagging", {"TagSet": []}, {"Bucket": "open"})
        stub.add_response(
            "get_bucket_tagging", {"TagSet": [{"Key": "k", "Value": "v"}]}, {"Bucket": "locked"}
        )
        page = fetch_page(s3, entry, None, 10)
    attributes = [json.loads(seen(entry, i, "global").attributes_json) for i in page.items]
    assert attributes[0]["BucketRegion"] == "eu-west-1"
    assert DETAIL_ERRORS not in attributes[0]
    assert attributes[1][DETAIL_ERRORS] == {"GetBucketLocation": "AccessDenied"}
    assert "BucketRegion" not in attributes[1]  # unknown, not defaulted to us-east-1
    assert seen(entry, page.items[1], "global").tags == {"k": "v"}


def test_a_refused_batched_detail_keeps_and_marks_every_item_of_its_batch() -> None:
    entry, elbv2 = CATALOG["elbv2.load_balancer"], client("elbv2")
    arns = [
        f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:loadbalancer/app/lb{n}/x" for n in (0, 1)
    ]
    balancers = [{"LoadBalancerArn": a, "LoadBalancerName": f"lb{n}"} for n, a in enumerate(arns)]
    with Stubber(elbv2) as stub:
        stub.add_response("describe_load_balancers", {"LoadBalancers": balancers}, {"PageSize": 20})
        stub.add_client_error("describe_tags", "AccessDenied", http_status_code=403)
        page = fetch_page(elbv2, entry, None, 20)
    assert [i[DETAIL_ERRORS] for i in page.items] == [{"DescribeTags": "AccessDenied"}] * 2


def test_a_key_whose_describe_is_refused_is_kept_not_filtered_out() -> None:
    entry, kms = CATALOG["kms.key"], client("kms")
    key_arn = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/k1"
    with Stubber(kms) as stub:
        stub.add_response(
            "list_keys", {"Keys": [{"KeyId": "k1", "KeyArn": key_arn}]}, {"Limit": 50}
        )
        stub.add_client_error("describe_key", "AccessDeniedException", http_status_code=400)
        stub.add_response("list_resource_tags", {"Tags": []}, {"KeyId": "k1"})
        page = fetch_page(kms, entry, None, 50)
    assert [(seen(entry, i).arn, i[DETAIL_ERRORS]) for i in page.items] == [
        (key_arn, {"DescribeKey": "AccessDeniedException"})
    ]


def test_keep_if_filters_aws_managed_keys_before_their_tags_are_read() -> None:
    entry, kms = CATALOG["kms.key"], client("kms")
    key_arn = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/"
    keys = [{"KeyId": k, "KeyArn": key_arn + k} for k in ("k1", "k2")]
    with Stubber(kms) as stub:
        stub.add_response("list_keys", {"Keys": keys}, {"Limit": 50})
        for key, manager in (("k1", "CUSTOMER"), ("k2", "AWS")):
            stub.add_response(
                "describe_key",
                {"KeyMetadata": {"KeyId": key, "KeyManager": manager, "Description": key}},
                {"KeyId": key},
            )
        stub.add_response(
            "list_resource_tags", {"Tags": [{"TagKey": "team", "TagValue": "x"}]}, {"KeyId": "k1"}
        )
        page = fetch_page(kms, entry, None, 50)
    assert [(seen(entry, i).arn, seen(entry, i).tags) for i in page.items] == [
        (key_arn + "k1", {"team": "x"})
    ]


@pytest.mark.parametrize(("page_size", "sent"), [(5, 20), (50, 50), (500, 100)])
def test_page_size_is_clamped_to_what_the_api_accepts(page_size: int, sent: int) -> None:
    rds = client("rds")
    with Stubber(rds) as stub:
        stub.add_response("describe_db_instances", {"DBInstances": []}, {"MaxRecords": sent})
        fetch_page(rds, CATALOG["rds.db_instance"], None, page_size)


def test_route53_gets_its_page_size_as_a_string_and_tags_by_bare_zone_id() -> None:
    entry, route53 = CATALOG["route53.hosted_zone"], client("route53")
    zone = {"Id": "/hostedzone/Z1", "Name": "example.com.", "CallerReference": "r"}
    with Stubber(route53) as stub:
        stub.add_response(
            "list_hosted_zones",
            {"HostedZones": [zone], "Marker": "", "IsTruncated": False, "MaxItems": "5"},
            {"MaxItems": "5"},
        )
        stub.add_response(
            "list_tags_for_resource",
            {"ResourceTagSet": {"ResourceId": "Z1", "Tags": [{"Key": "a", "Value": "b"}]}},
            {"ResourceType": "hostedzone", "ResourceId": "Z1"},
        )
        page = fetch_page(route53, entry, None, 5)
    observation = seen(entry, page.items[0], region="global")
    assert observation.arn == "arn:aws:route53:::hostedzone/Z1"
    assert (observation.resource_id, observation.tags) == ("Z1", {"a": "b"})
    assert page.next_token is None


def test_buckets_get_their_real_region_and_tolerate_missing_tags() -> None:
    entry, s3 = CATALOG["s3.bucket"], client("s3")
    buckets = [{"Name": "old", "CreationDate": NOW}, {"Name": "eu", "CreationDate": NOW}]
    with Stubber(s3) as stub:
        stub.add_response("list_buckets", {"Buckets": buckets}, {"MaxBuckets": 10})
        stub.add_response("get_bucket_location", {}, {"Bucket": "old"})
        stub.add_response("get_bucket_location", {"LocationConstraint": "EU"}, {"Bucket": "eu"})
        stub.add_client_error("get_bucket_tagging", "NoSuchTagSet", http_status_code=404)
        stub.add_response(
            "get_bucket_tagging", {"TagSet": [{"Key": "k", "Value": "v"}]}, {"Bucket": "eu"}
        )
        page = fetch_page(s3, entry, None, 10)
    observations = [seen(entry, i, region="global") for i in page.items]
    assert [json.loads(o.attributes_json)["BucketRegion"] for o in observations] == [
        "us-east-1",
        "eu-west-1",
    ]
    assert [o.arn for o in observations] == ["arn:aws:s3:::old", "arn:aws:s3:::eu"]
    assert [o.tags for o in observations] == [{}, {"k": "v"}]
    assert {o.region for o in observations} == {"global"}


def fingerprint(value: str) -> str:
    digest = hmac.new(KEY, value.encode(), hashlib.sha256).hexdigest()[:16]
    return f"<redacted:hmac-sha256:{digest}>"


def test_sensitive_values_are_replaced_by_fingerprints_keeping_keys_and_structure() -> None:
    function: dict[str, Any] = {
        "FunctionName": "f",
        "FunctionArn": "arn:aws:lambda:eu-west-1:1:function:f",
        "Environment": {"Variables": {"DB_PASSWORD": "hunter2", "EMPTY": ""}},
    }
    attributes = json.loads(seen(CATALOG["lambda.function"], function).attributes_json)
    assert attributes["Environment"]["Variables"] == {
        "DB_PASSWORD": fingerprint("hunter2"),
        "EMPTY": fingerprint(""),
    }
    assert function["Environment"]["Variables"]["DB_PASSWORD"] == "hunter2"  # not mutated
    task = {
        "taskDefinitionArn": "arn:aws:ecs:eu-west-1:1:task-definition/t:1",
        "family": "t",
        "containerDefinitions": [
            {
                "name": "app",
                "environment": [{"name": "TOKEN", "value": "s3cret"}],
                "secrets": [{"name": "DB", "valueFrom": "arn:aws:ssm:eu-west-1:1:parameter/db"}],
            },
            {"name": "sidecar"},
        ],
    }
    containers = json.loads(seen(CATALOG["ecs.task_definition"], task).attributes_json)[
        "containerDefinitions"
    ]
    assert containers[0]["environment"] == [{"name": "TOKEN", "value": fingerprint("s3cret")}]
    assert containers[0]["secrets"][0]["name"] == "DB"
    assert "parameter/db" not in json.dumps(containers)
    assert containers[1] == {"name": "sidecar"}


def test_arn_falls_back_to_the_template_and_never_to_nothing() -> None:
    parameter = {"Name": "/app/db/url", "Type": "String"}
    observation = seen(CATALOG["ssm.parameter"], parameter)
    assert observation.arn == f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/app/db/url"
    with pytest.raises(ValueError, match="has no ARN"):
        seen(CATALOG["iam.role"], {"RoleName": "r"}, region="global")


def test_declared_pagination_reads_every_page_of_an_operation_botocore_cannot_page() -> None:
    # Athena's ListWorkGroups returns NextToken, but botocore ships no paginator for it: the
    # entry's Pagination makes the engine send the token back, like a paginator would.
    entry = dataclasses.replace(CATALOG["athena.work_group"], refresh=None)
    athena = client("athena")
    names: list[str] = []
    with Stubber(athena) as stub:
        stub.add_response(
            "list_work_groups",
            {"WorkGroups": [{"Name": "a"}, {"Name": "b"}], "NextToken": "t1"},
            {"MaxResults": 2},
        )
        stub.add_response(
            "list_work_groups",
            {"WorkGroups": [{"Name": "c"}], "NextToken": "t2"},
            {"MaxResults": 2, "NextToken": "t1"},
        )
        stub.add_response(
            "list_work_groups",
            {"WorkGroups": [{"Name": "d"}]},
            {"MaxResults": 2, "NextToken": "t2"},
        )
        token = None
        for _ in range(5):
            page = fetch_page(athena, entry, token, 2)
            names += [item["Name"] for item in page.items]
            token = page.next_token
            if token is None:
                break
        stub.assert_no_pending_responses()
    assert names == ["a", "b", "c", "d"]
    assert token is None


def test_declared_pagination_with_a_marker_token_and_a_limit() -> None:
    # WAFv2 calls its token NextMarker and its page size Limit.
    entry = dataclasses.replace(CATALOG["wafv2.web_acl"], details=())
    waf = client("wafv2")
    acl = {"Name": "n", "Id": "i", "ARN": "arn:aws:wafv2:eu-west-1:1:regional/webacl/n/i"}
    with Stubber(waf) as stub:
        stub.add_response(
            "list_web_acls",
            {"WebACLs": [acl], "NextMarker": "m"},
            {"Scope": "REGIONAL", "Limit": 1},
        )
        stub.add_response(
            "list_web_acls",
            {"WebACLs": [{**acl, "Id": "j"}]},
            {"Scope": "REGIONAL", "Limit": 1, "NextMarker": "m"},
        )
        first = fetch_page(waf, entry, None, 1)
        assert first.next_token == {"NextMarker": "m"}
        second = fetch_page(waf, entry, first.next_token, 1)
        stub.assert_no_pending_responses()
    assert [i["Id"] for i in (*first.items, *second.items)] == ["i", "j"]
    assert second.next_token is None
