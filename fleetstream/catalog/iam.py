"""IAM resource types (global: listed once per account)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh


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

ENTRIES = (ROLE, USER, POLICY)
