"""ECR resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail

REPOSITORY = CatalogEntry(
    type_name="ecr.repository",
    operation="DescribeRepositories",
    result_path="repositories[]",
    id_path="repositoryName",
    arn_path="repositoryArn",
    arn_template="",
    name_path="repositoryName",
    tags_path="tags",
    details=(
        Detail(
            "ListTagsForResource",
            {"resourceArn": "repositoryArn"},
            "tags",
            into="tags",
            absent_codes=("RepositoryNotFoundException",),
        ),
    ),
)

ENTRIES = (REPOSITORY,)
