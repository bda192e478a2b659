"""IAM resource types (global: listed once per account)."""

from __future__ import annotations

from fleetstream.catalog.entry import (
    CatalogEntry,
    Detail,
    EventRule,
    Parent,
    Refresh,
    Relation,
    TagStyle,
)
from fleetstream.catalog.entry import RelationName as R

_IAM = "iam.amazonaws.com"


def _tags(operation: str, param: str, path: str) -> Detail:
    # The list calls omit tags; the item vanished if IAM no longer knows it.
    return Detail(
        operation, {param: path}, "Tags", into="Tags", absent_codes=("NoSuchEntity",), required=True
    )


ROLE = CatalogEntry(
    type_name="iam.role",
    operation="ListRoles",
    result_path="Roles[]",
    id_path="RoleName",
    arn_path="Arn",
    arn_template="",
    name_path="RoleName",
    global_resource=True,
    details=(_tags("ListRoleTags", "RoleName", "RoleName"),),
    # ListRoles takes no names: a refresh pages the roles and keeps the named ones.
    refresh=Refresh(
        events=(
            EventRule(
                "iam.amazonaws.com",
                (
                    "CreateRole",
                    "DeleteRole",
                    "UpdateRole",
                    "UpdateAssumeRolePolicy",
                    "TagRole",
                    "UntagRole",
                    "AttachRolePolicy",
                    "DetachRolePolicy",
                    "PutRolePolicy",
                    "DeleteRolePolicy",
                ),
                "requestParameters.roleName",
            ),
        ),
    ),
)

USER = CatalogEntry(
    type_name="iam.user",
    operation="ListUsers",
    result_path="Users[]",
    id_path="UserName",
    arn_path="Arn",
    arn_template="",
    name_path="UserName",
    global_resource=True,
    details=(_tags("ListUserTags", "UserName", "UserName"),),
    volatile_fields=("PasswordLastUsed",),
)

POLICY = CatalogEntry(
    type_name="iam.policy",
    operation="ListPolicies",
    request_params={"Scope": "Local"},  # customer managed only, not the AWS managed catalog
    result_path="Policies[]",
    id_path="PolicyName",
    arn_path="Arn",
    arn_template="",
    name_path="PolicyName",
    global_resource=True,
    details=(_tags("ListPolicyTags", "PolicyArn", "Arn"),),
)

GROUP = CatalogEntry(
    type_name="iam.group",
    operation="ListGroups",
    result_path="Groups[]",
    id_path="GroupName",
    arn_path="Arn",
    arn_template="",
    name_path="GroupName",
    global_resource=True,
    tags_path=None,  # IAM groups take no tags
    tag_style=TagStyle.NONE,
    refresh=Refresh(
        events=(
            EventRule(
                _IAM,
                (
                    "CreateGroup",
                    "DeleteGroup",
                    "UpdateGroup",
                    "AttachGroupPolicy",
                    "DetachGroupPolicy",
                    "PutGroupPolicy",
                    "DeleteGroupPolicy",
                ),
                "requestParameters.groupName",
            ),
        ),
    ),
)

SAML_PROVIDER = CatalogEntry(
    type_name="iam.saml_provider",
    operation="ListSAMLProviders",
    paginated=False,  # ListSAMLProviders returns every provider at once
    result_path="SAMLProviderList[]",
    id_path="Arn",  # the provider's name is only inside its ARN
    arn_path="Arn",
    arn_template="",
    name_path="Arn",
    global_resource=True,
    details=(_tags("ListSAMLProviderTags", "SAMLProviderArn", "Arn"),),
    refresh=Refresh(
        events=(
            EventRule(
                _IAM,
                ("UpdateSAMLProvider", "DeleteSAMLProvider", "TagSAMLProvider"),
                "requestParameters.sAMLProviderArn",
            ),
        ),
    ),
)

OIDC_PROVIDER = CatalogEntry(
    type_name="iam.oidc_provider",
    operation="ListOpenIDConnectProviders",
    paginated=False,  # ListOpenIDConnectProviders returns every provider at once
    result_path="OpenIDConnectProviderList[]",
    id_path="Arn",  # the provider's URL is only inside its ARN
    arn_path="Arn",
    arn_template="",
    name_path="Arn",
    global_resource=True,
    details=(_tags("ListOpenIDConnectProviderTags", "OpenIDConnectProviderArn", "Arn"),),
    refresh=Refresh(
        events=(
            EventRule(
                _IAM,
                (
                    "DeleteOpenIDConnectProvider",
                    "UpdateOpenIDConnectProviderThumbprint",
                    "AddClientIDToOpenIDConnectProvider",
                    "RemoveClientIDFromOpenIDConnectProvider",
                ),
                "requestParameters.openIDConnectProviderArn",
            ),
        ),
    ),
)

SERVER_CERTIFICATE = CatalogEntry(
    type_name="iam.server_certificate",
    operation="ListServerCertificates",
    result_path="ServerCertificateMetadataList[]",
    id_path="ServerCertificateName",
    arn_path="Arn",
    arn_template="",
    name_path="ServerCertificateName",
    global_resource=True,
    details=(_tags("ListServerCertificateTags", "ServerCertificateName", "ServerCertificateName"),),
    refresh=Refresh(
        events=(
            EventRule(
                _IAM,
                ("UploadServerCertificate", "UpdateServerCertificate", "DeleteServerCertificate"),
                "requestParameters.serverCertificateName",
            ),
        ),
    ),
)

INSTANCE_PROFILE = CatalogEntry(
    type_name="iam.instance_profile",
    operation="ListInstanceProfiles",
    result_path="InstanceProfiles[]",
    id_path="InstanceProfileName",
    arn_path="Arn",
    arn_template="",
    name_path="InstanceProfileName",
    global_resource=True,
    volatile_fields=("Roles[].RoleLastUsed",),
    relations=(Relation(R.IS_ASSOCIATED_WITH, "Roles[].Arn", "iam.role"),),
    refresh=Refresh(
        events=(
            EventRule(
                _IAM,
                (
                    "CreateInstanceProfile",
                    "DeleteInstanceProfile",
                    "AddRoleToInstanceProfile",
                    "RemoveRoleFromInstanceProfile",
                    "TagInstanceProfile",
                    "UntagInstanceProfile",
                ),
                "requestParameters.instanceProfileName",
            ),
        ),
    ),
)

ACCESS_KEY = CatalogEntry(
    type_name="iam.access_key",
    operation="ListAccessKeys",
    parent=Parent("ListUsers", "Users", "UserName", param="UserName", into="UserName"),
    result_path="AccessKeyMetadata[]",
    id_path="AccessKeyId",
    # IAM publishes no ARN format for access keys; this one is Cloud Custodian's.
    arn_template="arn:{partition}:iam::{account_id}:access-key/{id}",
    name_path="AccessKeyId",
    global_resource=True,
    tags_path=None,  # access keys take no tags
    tag_style=TagStyle.NONE,
    details=(
        Detail(
            "GetAccessKeyLastUsed",
            {"AccessKeyId": "AccessKeyId"},
            "AccessKeyLastUsed",
            into="AccessKeyLastUsed",
            absent_codes=("NoSuchEntity",),
        ),
    ),
    # Last use moves with every call the key signs; "unused for 90 days" reads it anyway.
    volatile_fields=("AccessKeyLastUsed",),
)

ENTRIES = (
    ACCESS_KEY,
    ROLE,
    USER,
    POLICY,
    GROUP,
    SAML_PROVIDER,
    OIDC_PROVIDER,
    SERVER_CERTIFICATE,
    INSTANCE_PROFILE,
)
