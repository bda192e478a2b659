"""No catalog entry stores a response member that can hold a secret unredacted.

Walks every member of each entry's completed item (list element plus details, botocore's
output shapes) and fails on a member whose path names something secret-like (password,
pre-shared key, environment, ...) that neither the entry's sensitive_fields cover nor the
allowlist below clears with a reason. A new entry, or a botocore update that adds such a
member to a described shape, fails here before a secret reaches the inventory.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest
from botocore.model import ListShape, MapShape, Shape, StructureShape

from fleetstream.catalog import CATALOG, CatalogEntry
from tests.unit.test_catalog_contract import Item, Many, Node, completed_item

pytestmark = pytest.mark.unit
ENTRIES = list(CATALOG.values())
IDS = list(CATALOG)

# A path segment naming something that holds (or often holds) a secret.
SECRETISH = re.compile(
    r"password|passphrase|secret|presharedkey|privatekey|token|credential|apikey|authkey"
    r"|connectionproperties|connectionstring|environment|userdata|arguments|properties",
    re.IGNORECASE,
)
# A leaf whose own name says it is a reference, a flag, a time or a setting, not a value:
# where a secret lives (an ARN, an id), whether one is used, when it changed, how it is kept.
NOT_A_VALUE = re.compile(
    r"(Arn|ARN|Arns|Id|Ids|ID|Name|Names|Enabled|Required|Type|Types|Date|Time|Status|Length"
    r"|Units|Version|Location|Format|Mode|Policy|Count|KeyArn|Validity|Expiration)$"
)

# (type_name, path prefix) -> why the members under it are not secrets.
_IDEMPOTENCY = "the idempotency token the caller chose, not a credential"
_REFERENCE = "names where a secret is kept (an ARN or parameter name), not its value"
_SETTING = "a setting or a size, not a value that authenticates"
ALLOWED: dict[tuple[str, str], str] = {
    ("apigateway.rest_api", "apiKeySource"): "HEADER or AUTHORIZER: where keys are read",
    ("apigatewayv2.api", "ApiKeySelectionExpression"): "an expression, not a key",
    ("apigatewayv2.api", "CorsConfiguration.AllowCredentials"): "a CORS flag",
    ("autoscaling.launch_configuration", "MetadataOptions.HttpTokens"): "IMDSv2 on or off",
    ("batch.job_queue", "computeEnvironmentOrder"): "compute environment ARNs and order",
    ("batch.job_queue", "serviceEnvironmentOrder"): "service environment ARNs and order",
    ("codepipeline.pipeline", "pipeline.stages[].actions[].environmentVariables[].name"): (
        "variable names; their values are redacted"
    ),
    ("codepipeline.pipeline", "pipeline.stages[].actions[].environmentVariables[].type"): (
        "PLAINTEXT or SECRETS_MANAGER"
    ),
    ("cognito-identity.identity_pool", "CognitoIdentityProviders[].ServerSideTokenCheck"): (
        "a flag"
    ),
    ("cognito-idp.user_pool", "LambdaConfig.PreTokenGeneration"): "a Lambda ARN",
    ("cognito-idp.user_pool", "Policies.PasswordPolicy"): "password rules, no password",
    ("ec2.instance", "ClientToken"): _IDEMPOTENCY,
    ("ec2.instance", "MetadataOptions.HttpTokens"): "IMDSv2 on or off",
    ("ec2.spot_fleet_request", "SpotFleetRequestConfig.ClientToken"): _IDEMPOTENCY,
    ("ec2.dedicated_host", "ClientToken"): _IDEMPOTENCY,
    ("ec2.dedicated_host", "HostProperties"): "cores, sockets, instance family",
    ("ecs.service", "deployments[].serviceConnectConfiguration.logConfiguration.secretOptions"): (
        _REFERENCE
    ),
    ("ecs.task_definition", "containerDefinitions[].credentialSpecs"): _REFERENCE,
    ("ecs.task_definition", "containerDefinitions[].environmentFiles"): "S3 object ARNs",
    ("ecs.task_definition", "containerDefinitions[].environment[].name"): (
        "variable names; their values are redacted"
    ),
    ("ecs.task_definition", "containerDefinitions[].logConfiguration.secretOptions"): _REFERENCE,
    ("ecs.task_definition", "containerDefinitions[].repositoryCredentials"): _REFERENCE,
    ("ecs.task_definition", "containerDefinitions[].secrets[].name"): (
        "variable names; where they come from is redacted"
    ),
    ("ecs.task_definition", "proxyConfiguration.properties"): (
        "App Mesh proxy settings (ports, ignored UIDs)"
    ),
    (
        "ecs.task_definition",
        "volumes[].fsxWindowsFileServerVolumeConfiguration.authorizationConfig",
    ): _REFERENCE,
    ("efs.file_system", "CreationToken"): _IDEMPOTENCY,
    ("efs.access_point", "ClientToken"): _IDEMPOTENCY,
    ("eks.cluster", "clientRequestToken"): _IDEMPOTENCY,
    ("elbv2.listener", "DefaultActions[].AuthenticateOidcConfig.TokenEndpoint"): "a URL",
    ("elbv2.listener", "DefaultActions[].AuthenticateOidcConfig.UseExistingClientSecret"): (
        "a flag"
    ),
    (
        "glue.connection",
        "AuthenticationConfiguration.OAuth2Properties.OAuth2ClientApplication",
    ): "the client application's id or reference; the secret is in Secrets Manager",
    ("glue.connection", "AuthenticationConfiguration.OAuth2Properties.TokenUrl"): "a URL",
    ("glue.connection", "CompatibleComputeEnvironments"): "SPARK, ATHENA or PYTHON",
    ("iam.user", "PasswordLastUsed"): "a time",
    ("lambda.function", "CapacityProviderConfig"): _SETTING,
    ("lambda.function", "Environment.Error"): "why the environment could not be applied",
    ("logs.log_group", "inheritedProperties"): "ACCOUNT_DATA_PROTECTION or nothing",
    ("network-firewall.firewall", "FirewallStatus.SyncStates.*.Config.*.UpdateToken"): (
        "the policy's optimistic-locking update token"
    ),
    ("network-firewall.firewall", "ProxySettings.ListenerProperties"): "ports",
    ("secretsmanager.secret", "ExternalSecretRotationMetadata[].Key"): (
        "the metadata's names; their values are redacted"
    ),
    ("secretsmanager.secret", "SecretVersionsToStages"): "version ids to stage labels",
    ("workspaces.workspace", "StandbyWorkspacesProperties"): _SETTING,
    ("workspaces.workspace", "WorkspaceProperties"): _SETTING,
    ("codebuild.project", "environment.environmentVariables[].name"): (
        "variable names; their values are redacted"
    ),
    ("codebuild.project", "environment.environmentVariables[].type"): (
        "PLAINTEXT, PARAMETER_STORE or SECRETS_MANAGER"
    ),
    ("codebuild.project", "environment.certificate"): "the S3 location of a CA certificate",
    ("codebuild.project", "environment.computeConfiguration"): _SETTING,
    ("codebuild.project", "environment.dockerServer"): _SETTING,
    ("codebuild.project", "environment.hostKernel"): _SETTING,
    ("codebuild.project", "environment.image"): "a build image name",
    ("codebuild.project", "environment.type"): _SETTING,
    ("codebuild.project", "environment.registryCredential.credentialProvider"): (
        "SECRETS_MANAGER: where the credential is kept"
    ),
    ("codebuild.project", "webhook.lastModifiedSecret"): "when the secret changed",
    ("ecs.task", "overrides.containerOverrides[].environmentFiles"): "S3 object ARNs",
    ("wafv2.web_acl", "LockToken"): "WAF's optimistic-locking token, not a credential",
    ("wafv2.ip_set", "LockToken"): "WAF's optimistic-locking token, not a credential",
    ("wafv2.rule_group", "LockToken"): "WAF's optimistic-locking token, not a credential",
}


def member_paths(node: Node, prefix: str = "", seen: tuple[str, ...] = ()) -> Iterator[str]:
    """Every leaf path under node in sensitive_fields' form: a.b, a[].b, map values a.*.

    A recursive shape (EMR's Configurations[].Configurations[]) is walked twice deep, so a
    redaction of only the first level's secret member still shows the nested one exposed.
    """
    if isinstance(node, Item):
        for name, child in node.named.items():
            yield from member_paths(child, _join(prefix, name), seen)
        for shape in node.merged:
            yield from member_paths(shape, prefix, seen)
        return
    if isinstance(node, Many):
        yield from member_paths(node.of, prefix + "[]", seen)
        return
    if node is None or not isinstance(node, Shape):
        yield prefix
        return
    if seen.count(node.name) >= 2:
        return
    inner = (*seen, node.name)
    if isinstance(node, StructureShape):
        for name, member in node.members.items():
            yield from member_paths(member, _join(prefix, name), inner)
    elif isinstance(node, ListShape):
        yield from member_paths(node.member, prefix + "[]", inner)
    elif isinstance(node, MapShape):
        yield from member_paths(node.value, _join(prefix, "*"), inner)
    else:
        yield prefix


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _segments(path: str) -> list[str]:
    return path.split(".")


def _covers(field: str, path: str) -> bool:
    """True when redacting field redacts the leaf at path: field is a segment prefix of path,
    its last segment may name a whole list (a covers a[].b; a.b does not cover a[].b)."""
    head, segments = _segments(field), _segments(path)
    if len(segments) < len(head) or segments[: len(head) - 1] != head[:-1]:
        return False
    return segments[len(head) - 1] in (head[-1], head[-1] + "[]")


def exposed(entry: CatalogEntry) -> list[str]:
    """Secret-like leaf paths of the entry's items that nothing redacts or clears."""
    found = []
    for path in sorted(set(member_paths(completed_item(entry)))):
        names = [s.removesuffix("[]").removesuffix("[]") for s in _segments(path)]
        if not any(SECRETISH.search(name) for name in names):
            continue
        if names[-1] != "*" and NOT_A_VALUE.search(names[-1]):
            continue
        if any(_covers(field, path) for field in entry.sensitive_fields):
            continue
        if any(t == entry.type_name and _covers(p, path) for t, p in ALLOWED):
            continue
        found.append(path)
    return found


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_secret_like_members_are_redacted_or_cleared(entry: CatalogEntry) -> None:
    assert exposed(entry) == []


def test_allowlist_names_members_that_exist() -> None:
    # A stale allowance (a type or member renamed) would silently clear its successor.
    for type_name, prefix in ALLOWED:
        paths = set(member_paths(completed_item(CATALOG[type_name])))
        assert any(_covers(prefix, p) for p in paths), (type_name, prefix)


@pytest.mark.parametrize(
    ("type_name", "member"),
    [
        ("ec2.vpn_connection", "Options.TunnelOptions[].PreSharedKey"),
        ("emr.cluster", "KerberosAttributes.KdcAdminPassword"),
        ("emr.cluster", "Configurations[].Properties.*"),
        ("lambda.function", "Environment.Variables.*"),
        ("glue.connection", "ConnectionProperties.*"),
    ],
)
def test_the_walk_sees_known_secrets(type_name: str, member: str) -> None:
    # Without the entry's redaction the member is reported: the walk reaches it at all.
    entry = dataclasses.replace(CATALOG[type_name], sensitive_fields=())
    assert member in exposed(entry)
