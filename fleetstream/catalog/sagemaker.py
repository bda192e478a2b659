"""SageMaker resource types.

No refresh: CloudTrail names SageMaker's events sagemaker.amazonaws.com, not its endpoint
prefix (api.sagemaker) that the event routing derives sources from.
"""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, tags_detail

ENDPOINT_CONFIG = CatalogEntry(
    type_name="sagemaker.endpoint_config",
    operation="ListEndpointConfigs",
    result_path="EndpointConfigs[]",
    id_path="EndpointConfigName",
    arn_path="EndpointConfigArn",
    arn_template="arn:{partition}:sagemaker:{region}:{account_id}:endpoint-config/{id}",
    name_path="EndpointConfigName",
    details=(tags_detail("ListTags", "ResourceArn", "EndpointConfigArn", "ValidationException"),),
)

MODEL = CatalogEntry(
    type_name="sagemaker.model",
    operation="ListModels",
    result_path="Models[]",
    id_path="ModelName",
    arn_path="ModelArn",
    arn_template="arn:{partition}:sagemaker:{region}:{account_id}:model/{id}",
    name_path="ModelName",
    details=(tags_detail("ListTags", "ResourceArn", "ModelArn", "ValidationException"),),
)

NOTEBOOK_INSTANCE = CatalogEntry(
    type_name="sagemaker.notebook_instance",
    operation="ListNotebookInstances",
    result_path="NotebookInstances[]",
    id_path="NotebookInstanceName",
    arn_path="NotebookInstanceArn",
    arn_template="arn:{partition}:sagemaker:{region}:{account_id}:notebook-instance/{id}",
    name_path="NotebookInstanceName",
    details=(tags_detail("ListTags", "ResourceArn", "NotebookInstanceArn", "ValidationException"),),
    volatile_fields=("NotebookInstanceStatus", "LastModifiedTime"),
)

DOMAIN = CatalogEntry(
    type_name="sagemaker.domain",
    operation="ListDomains",
    result_path="Domains[]",
    id_path="DomainId",
    arn_path="DomainArn",
    arn_template="arn:{partition}:sagemaker:{region}:{account_id}:domain/{id}",
    name_path="DomainName",
    details=(tags_detail("ListTags", "ResourceArn", "DomainArn", "ValidationException"),),
    volatile_fields=("Status", "LastModifiedTime"),
)

ENTRIES = (ENDPOINT_CONFIG, MODEL, NOTEBOOK_INSTANCE, DOMAIN)
