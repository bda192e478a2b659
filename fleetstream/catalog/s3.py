"""S3 resource types.

Buckets are listed once per account (shard region "global", as ListBuckets is global). The
bucket's real region comes from GetBucketLocation and is stored as the `BucketRegion`
attribute; the observation's region stays "global" so the shard key stays stable, and the
ARN needs no region (arn:aws:s3:::name).
"""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh
from fleetstream.catalog.quirks import bucket_region

BUCKET = CatalogEntry(
    type_name="s3.bucket",
    operation="ListBuckets",
    result_path="Buckets[]",
    id_path="Name",
    arn_template="arn:{partition}:s3:::{id}",
    name_path="Name",
    global_resource=True,
    details=(
        Detail(
            "GetBucketLocation",
            {"Bucket": "Name"},
            "LocationConstraint",
            into="BucketRegion",
            absent_codes=("NoSuchBucket",),
            required=True,
        ),
        Detail(
            "GetBucketTagging",
            {"Bucket": "Name"},
            "TagSet",
            into="Tags",
            absent_codes=("NoSuchTagSet", "NoSuchBucket"),
        ),
    ),
    quirk=bucket_region,
    quirk_fields=("BucketRegion",),
    # The IAM action of ListBuckets is s3:ListAllMyBuckets (see catalog.iam).
    # ListBuckets takes no names: a refresh lists the account's buckets (one call) and
    # completes only the named ones.
    refresh=Refresh(
        events=(
            EventRule(
                "s3.amazonaws.com",
                (
                    "CreateBucket",
                    "DeleteBucket",
                    "PutBucketPolicy",
                    "DeleteBucketPolicy",
                    "PutBucketTagging",
                    "DeleteBucketTagging",
                    "PutBucketAcl",
                    "PutBucketEncryption",
                    "DeleteBucketEncryption",
                    "PutBucketVersioning",
                    "PutPublicAccessBlock",
                    "DeletePublicAccessBlock",
                ),
                "requestParameters.bucketName",
            ),
        ),
    ),
)

ENTRIES = (BUCKET,)
