"""The wire formats boto3 speaks: SigV4 request identity, EC2/STS query XML, Organizations JSON.

Element names follow botocore's service models (the `locationName` of each member), so the
responses parse with botocore's own parsers; tests/bench/test_simulator_unit.py checks that.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from bench.simulator.estate import Account, Instance

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")
_SESSION_KEY = re.compile(r"^ASIA(\d{12})[A-Z0-9]{4}$")
ORG_TARGET_PREFIX = "AWSOrganizationsV20161128."


@dataclass(frozen=True, slots=True)
class Caller:
    """Who signed a request and where it goes: from the SigV4 credential scope."""

    access_key: str
    region: str
    service: str


def caller_of(authorization: str) -> Caller | None:
    """Parse `Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/region/service/...`."""
    match = _CREDENTIAL.search(authorization)
    if match is None:
        return None
    return Caller(match.group(1), match.group(2), match.group(3))


def session_access_key(account: str, serial: int) -> str:
    """An ASIA... key id that names the account the session acts in (20 characters)."""
    return f"ASIA{account}{serial % 36**4:04X}"[:20].ljust(20, "0")


def account_of_key(access_key: str, hub_account: str) -> str:
    """The account a key acts in: encoded in session keys; anything else is the hub."""
    match = _SESSION_KEY.match(access_key)
    return match.group(1) if match else hub_account


def query_params(body: bytes, query_string: str = "") -> dict[str, str]:
    """Form-encoded query parameters (EC2 and STS), body and URL query merged."""
    params = dict(parse_qsl(query_string, keep_blank_values=True))
    params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


def indexed(params: Mapping[str, str], prefix: str) -> list[str]:
    """Values of a flattened list: prefix.1, prefix.2, ... in order."""
    values: list[str] = []
    n = 1
    while f"{prefix}.{n}" in params:
        values.append(params[f"{prefix}.{n}"])
        n += 1
    return values


def ec2_filters(params: Mapping[str, str]) -> list[tuple[str, list[str]]]:
    """Filter.N.Name with its Filter.N.Value.M values."""
    filters: list[tuple[str, list[str]]] = []
    n = 1
    while f"Filter.{n}.Name" in params:
        filters.append((params[f"Filter.{n}.Name"], indexed(params, f"Filter.{n}.Value")))
        n += 1
    return filters


def ec2_tags(params: Mapping[str, str]) -> dict[str, str]:
    """Tag.N.Key / Tag.N.Value of CreateTags."""
    tags: dict[str, str] = {}
    n = 1
    while f"Tag.{n}.Key" in params:
        tags[params[f"Tag.{n}.Key"]] = params.get(f"Tag.{n}.Value", "")
        n += 1
    return tags


# ---- EC2 -------------------------------------------------------------------------------------


def _instance_xml(i: Instance, owner: str, region: str) -> str:
    tags = "".join(
        f"<item><key>{escape(k)}</key><value>{escape(v)}</value></item>" for k, v in i.tags
    )
    host = i.private_ip.replace(".", "-")
    group = (
        f"<groupSet><item><groupId>{i.security_group_id}</groupId>"
        f"<groupName>default</groupName></item></groupSet>"
    )
    return (
        f"<item><reservationId>{i.reservation_id}</reservationId><ownerId>{owner}</ownerId>"
        f"<groupSet/><instancesSet><item>"
        f"<instanceId>{i.instance_id}</instanceId><imageId>{i.image_id}</imageId>"
        f"<instanceState><code>{i.state_code}</code><name>{i.state}</name></instanceState>"
        f"<privateDnsName>ip-{host}.{region}.compute.internal</privateDnsName><dnsName/>"
        f"<reason/><amiLaunchIndex>0</amiLaunchIndex><productCodes/>"
        f"<instanceType>{i.instance_type}</instanceType><launchTime>{i.launch_time}</launchTime>"
        f"<placement><availabilityZone>{i.availability_zone}</availabilityZone><groupName/>"
        f"<tenancy>default</tenancy></placement><monitoring><state>disabled</state></monitoring>"
        f"<subnetId>{i.subnet_id}</subnetId><vpcId>{i.vpc_id}</vpcId>"
        f"<privateIpAddress>{i.private_ip}</privateIpAddress><sourceDestCheck>true</sourceDestCheck>"
        f"{group}<architecture>x86_64</architecture><rootDeviceType>ebs</rootDeviceType>"
        f"<rootDeviceName>/dev/xvda</rootDeviceName><blockDeviceMapping><item>"
        f"<deviceName>/dev/xvda</deviceName><ebs><volumeId>{i.volume_id}</volumeId>"
        f"<status>attached</status><attachTime>{i.launch_time}</attachTime>"
        f"<deleteOnTermination>true</deleteOnTermination></ebs></item></blockDeviceMapping>"
        f"<virtualizationType>hvm</virtualizationType><clientToken/><tagSet>{tags}</tagSet>"
        f"<hypervisor>xen</hypervisor><networkInterfaceSet><item>"
        f"<networkInterfaceId>eni-{i.volume_id[4:]}</networkInterfaceId>"
        f"<subnetId>{i.subnet_id}</subnetId><vpcId>{i.vpc_id}</vpcId><ownerId>{owner}</ownerId>"
        f"<status>in-use</status><privateIpAddress>{i.private_ip}</privateIpAddress>"
        f"<sourceDestCheck>true</sourceDestCheck>{group}<attachment>"
        f"<attachmentId>eni-attach-{i.volume_id[4:]}</attachmentId><deviceIndex>0</deviceIndex>"
        f"<status>attached</status><attachTime>{i.launch_time}</attachTime>"
        f"<deleteOnTermination>true</deleteOnTermination></attachment></item>"
        f"</networkInterfaceSet><ebsOptimized>false</ebsOptimized><enaSupport>true</enaSupport>"
        f"<cpuOptions><coreCount>1</coreCount><threadsPerCore>2</threadsPerCore></cpuOptions>"
        f"<metadataOptions><state>applied</state><httpTokens>required</httpTokens>"
        f"<httpPutResponseHopLimit>2</httpPutResponseHopLimit><httpEndpoint>enabled</httpEndpoint>"
        f"</metadataOptions><platformDetails>Linux/UNIX</platformDetails>"
        f"<usageOperation>RunInstances</usageOperation></item></instancesSet></item>"
    )


def describe_instances(
    instances: Iterable[Instance], owner: str, region: str, next_token: str | None, request_id: str
) -> bytes:
    """DescribeInstancesResponse: one reservation per instance, then nextToken if more."""
    body = "".join(_instance_xml(i, owner, region) for i in instances)
    token = f"<nextToken>{escape(next_token)}</nextToken>" if next_token else ""
    return (
        f"<?xml version='1.0' encoding='UTF-8'?><DescribeInstancesResponse>"
        f"<requestId>{request_id}</requestId><reservationSet>{body}</reservationSet>{token}"
        f"</DescribeInstancesResponse>"
    ).encode()


def describe_regions(regions: Sequence[tuple[str, str]], request_id: str) -> bytes:
    """DescribeRegionsResponse from (region name, opt-in status) pairs."""
    items = "".join(
        f"<item><regionName>{name}</regionName><regionEndpoint>ec2.{name}.example</regionEndpoint>"
        f"<optInStatus>{status}</optInStatus></item>"
        for name, status in regions
    )
    return (
        f"<?xml version='1.0' encoding='UTF-8'?><DescribeRegionsResponse>"
        f"<requestId>{request_id}</requestId><regionInfo>{items}</regionInfo>"
        f"</DescribeRegionsResponse>"
    ).encode()


def create_tags(request_id: str) -> bytes:
    """CreateTagsResponse."""
    return (
        f"<?xml version='1.0' encoding='UTF-8'?><CreateTagsResponse><requestId>{request_id}"
        f"</requestId><return>true</return></CreateTagsResponse>"
    ).encode()


def terminate_instances(instance_ids: Sequence[str], request_id: str) -> bytes:
    """TerminateInstancesResponse: each instance now terminated (its previous state omitted)."""
    items = "".join(
        f"<item><instanceId>{escape(i)}</instanceId><currentState><code>48</code>"
        f"<name>terminated</name></currentState></item>"
        for i in instance_ids
    )
    return (
        f"<?xml version='1.0' encoding='UTF-8'?><TerminateInstancesResponse><requestId>"
        f"{request_id}</requestId><instancesSet>{items}</instancesSet>"
        f"</TerminateInstancesResponse>"
    ).encode()


def ec2_error(code: str, message: str, request_id: str) -> bytes:
    """EC2's error document (HTTP status chosen by the caller)."""
    return (
        f"<?xml version='1.0' encoding='UTF-8'?><Response><Errors><Error><Code>{escape(code)}"
        f"</Code><Message>{escape(message)}</Message></Error></Errors>"
        f"<RequestID>{request_id}</RequestID></Response>"
    ).encode()


# ---- STS -------------------------------------------------------------------------------------


def assume_role(
    access_key: str,
    secret: str,
    session_token: str,
    expiration: str,
    role_arn: str,
    session_name: str,
    request_id: str,
) -> bytes:
    """AssumeRoleResponse with temporary credentials of the role's account."""
    account, role = role_arn.split(":")[4], role_arn.rsplit("/", 1)[-1]
    return (
        f"<AssumeRoleResponse><AssumeRoleResult><Credentials>"
        f"<AccessKeyId>{access_key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>"
        f"<SessionToken>{session_token}</SessionToken><Expiration>{expiration}</Expiration>"
        f"</Credentials><AssumedRoleUser>"
        f"<AssumedRoleId>AROA{account}SIM:{escape(session_name)}</AssumedRoleId>"
        f"<Arn>arn:aws:sts::{account}:assumed-role/{escape(role)}/{escape(session_name)}</Arn>"
        f"</AssumedRoleUser><PackedPolicySize>0</PackedPolicySize></AssumeRoleResult>"
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</AssumeRoleResponse>"
    ).encode()


def get_caller_identity(account: str, arn: str, user_id: str, request_id: str) -> bytes:
    """GetCallerIdentityResponse."""
    return (
        f"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>{escape(arn)}</Arn>"
        f"<UserId>{escape(user_id)}</UserId><Account>{account}</Account>"
        f"</GetCallerIdentityResult><ResponseMetadata><RequestId>{request_id}</RequestId>"
        f"</ResponseMetadata></GetCallerIdentityResponse>"
    ).encode()


def query_error(code: str, message: str, request_id: str, sender: bool = True) -> bytes:
    """The error document of the query protocol (STS)."""
    kind = "Sender" if sender else "Receiver"
    return (
        f"<ErrorResponse><Error><Type>{kind}</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId>"
        f"</ErrorResponse>"
    ).encode()


# ---- Organizations (JSON 1.1) ----------------------------------------------------------------


def list_accounts(
    accounts: Iterable[Account], hub: str, joined_epoch: float, next_token: str | None
) -> bytes:
    """ListAccounts response (JoinedTimestamp as epoch seconds, as the JSON protocol sends)."""
    body: dict[str, Any] = {
        "Accounts": [
            {
                "Id": a.id,
                "Arn": f"arn:aws:organizations::{hub}:account/o-simulated/{a.id}",
                "Email": a.email,
                "Name": a.name,
                "Status": "ACTIVE",
                "State": "ACTIVE",
                "JoinedMethod": "CREATED",
                "JoinedTimestamp": joined_epoch,
            }
            for a in accounts
        ]
    }
    if next_token:
        body["NextToken"] = next_token
    return json.dumps(body).encode()


def json_error(code: str, message: str) -> bytes:
    """The error document of the JSON protocol."""
    return json.dumps({"__type": code, "Message": message}).encode()
