"""The IAM action each API call needs, from botocore's service models."""

from __future__ import annotations

from functools import cache

from fleetstream.aws.botocore_data import new_session

# API operations whose IAM action has another name (the Service Authorization Reference).
_ACTION_NAMES = {("s3", "ListBuckets"): "ListAllMyBuckets"}
# Signing names that are not the IAM prefix (CloudWatch signs as "monitoring").
_PREFIXES = {"monitoring": "cloudwatch"}
# API Gateway's IAM actions are the HTTP methods on its resource paths (apigateway:GET), not
# operation names: apigateway:GetRestApis exists in no policy (cfn-lint W3037 says so).
_HTTP_METHOD_ACTIONS = frozenset({"apigateway", "apigatewayv2"})


@cache
def iam_prefix(service: str) -> str:
    """The IAM prefix of a boto3 service: its signing name (elbv2: elasticloadbalancing)."""
    signing_name = str(new_session().get_service_model(service).signing_name)
    return _PREFIXES.get(signing_name, signing_name)


def iam_action(service: str, operation: str) -> str:
    """The IAM action an API operation needs, e.g. ('stepfunctions', 'ListStateMachines')."""
    if service in _HTTP_METHOD_ACTIONS:
        model = new_session().get_service_model(service).operation_model(operation)
        return f"{iam_prefix(service)}:{model.http['method']}"
    return f"{iam_prefix(service)}:{_ACTION_NAMES.get((service, operation), operation)}"


@cache
def boto3_services() -> frozenset[str]:
    """Every service name botocore has a model of (the catalog's service modules' names)."""
    return frozenset(new_session().get_available_services())
