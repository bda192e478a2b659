"""SageMaker resource types.

No refresh: CloudTrail names SageMaker's events sagemaker.amazonaws.com, not its endpoint
prefix (api.sagemaker) that the event routing derives sources from.
"""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail


def _tags(arn_path: str) -> Detail:
    # The list calls omit tags.
    return Detail(
        "ListTags",
        {"ResourceArn": arn_path},
        "Tags",
        into="Tags",
        absent_codes=("ValidationException",),
    )


ENDPOINT_CONFIG = CatalogEntry(
    type_name="sagemaker.endpoint_config",
    operation="ListEndpointConfigs",
    result_path="EndpointConfigs[]",
    id_path="EndpointConfigName",
    arn_path="EndpointConfigArn",
    arn_template="arn:{partition}:sagemaker:{region}:{account_id}:endpoint-config/{id}",
    name_path="EndpointConfigName",
    details=(_tags("EndpointConfigArn"),),
)

MODEL = CatalogEntry(
    type_name="sagemaker.model",
    operation="ListModels",
    result_path="Models[]",
    id_path="ModelName",
    arn_path="ModelArn",
    arn_template="arn:{partition}:sagemaker:{region}:{account_id}:model/{id}",
    name_path="ModelName",
    details=(_tags("ModelArn"),),
)

NOTEBOOK_INSTANCE = CatalogEntry(
    type_name="sagemaker.notebook_instance",
    operation="ListNotebookInstances",
    result_path="NotebookInstances[]",
    id_path="NotebookInstanceName",
    arn_path="NotebookInstanceArn",
    arn_template="arn:{partition}:sagemaker:{region}:{account_id}:notebook-instance/{id}",
    name_path="NotebookInstanceName",
    details=(_tags("NotebookInstanceArn"),),
    volatile_fields=("NotebookInstanceStatus", "LastModifiedTime"),
)

ENTRIES = (ENDPOINT_CONFIG, MODEL, NOTEBOOK_INSTANCE)
