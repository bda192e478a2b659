"""CloudTrail resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh, Relation
from fleetstream.catalog.entry import RelationName as R

TRAIL = CatalogEntry(
    type_name="cloudtrail.trail",
    operation="DescribeTrails",
    paginated=False,  # DescribeTrails returns every trail at once
    # A multi-region trail shows in every region ("shadow" trails): list it in its home only.
    request_params={"includeShadowTrails": False},
    result_path="trailList[]",
    id_path="Name",
    arn_path="TrailARN",
    arn_template="arn:{partition}:cloudtrail:{region}:{account_id}:trail/{id}",
    name_path="Name",
    details=(
        Detail(
            "ListTags",
            {"ResourceIdList": "TrailARN"},
            "ResourceTagList",
            into="Tags",
            batch_param="ResourceIdList",
            batch_size=20,  # ListTags takes at most 20 trails
            match=("TrailARN", "ResourceId"),
            value_path="TagsList",
            absent_codes=("TrailNotFoundException",),
        ),
    ),
    relations=(
        Relation(R.IS_ASSOCIATED_WITH, "SnsTopicARN", "sns.topic"),
        Relation(R.IS_ASSOCIATED_WITH, "CloudWatchLogsLogGroupArn", "logs.log_group"),
    ),
    # Events name a trail by name or ARN; names match, ARNs wait for the next sweep.
    refresh=Refresh(
        events=(
            EventRule(
                "cloudtrail.amazonaws.com",
                ("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"),
                "requestParameters.name",
            ),
        ),
    ),
)

ENTRIES = (TRAIL,)
