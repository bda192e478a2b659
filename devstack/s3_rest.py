"""Which S3 operation a REST request is (moto's S3 speaks REST: the method, path and query say).

Only the bucket-level reads fleetstream's catalog and tests use are named; anything else is None.
Requests are path-style (botocore uses path-style addressing for an IP endpoint).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

# GET /<bucket>?<sub-resource>: (operation, IAM action)
_BUCKET_GETS = {
    "location": ("GetBucketLocation", "s3:GetBucketLocation"),
    "tagging": ("GetBucketTagging", "s3:GetBucketTagging"),
    "policy": ("GetBucketPolicy", "s3:GetBucketPolicy"),
    "acl": ("GetBucketAcl", "s3:GetBucketAcl"),
    "versioning": ("GetBucketVersioning", "s3:GetBucketVersioning"),
    "encryption": ("GetBucketEncryption", "s3:GetEncryptionConfiguration"),
    "publicAccessBlock": ("GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
    "lifecycle": ("GetBucketLifecycleConfiguration", "s3:GetLifecycleConfiguration"),
    "logging": ("GetBucketLogging", "s3:GetBucketLogging"),
    "website": ("GetBucketWebsite", "s3:GetBucketWebsite"),
    "cors": ("GetBucketCors", "s3:GetBucketCORS"),
    "notification": ("GetBucketNotificationConfiguration", "s3:GetBucketNotification"),
    "ownershipControls": ("GetBucketOwnershipControls", "s3:GetBucketOwnershipControls"),
}


@dataclass(frozen=True, slots=True)
class S3Request:
    """A named S3 operation on one bucket."""

    operation: str  # API operation name, as the fault layer and call log name it
    action: str  # the IAM action a policy names
    bucket: str

    @property
    def resource_arn(self) -> str:
        """The ARN a bucket policy's Resource is matched against."""
        return f"arn:aws:s3:::{self.bucket}"


def s3_request(environ: dict[str, Any]) -> S3Request | None:
    """The bucket-level operation of a path-style S3 REST request, or None."""
    path = unquote(environ.get("PATH_INFO", "")).strip("/")
    if not path:
        return None  # ListBuckets: no bucket, no bucket policy
    bucket, _, key = path.partition("/")
    if key:
        return None  # object operations are not named
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    method = environ.get("REQUEST_METHOD", "")
    if method == "GET":
        named = next((_BUCKET_GETS[q] for q in query if q in _BUCKET_GETS), None)
        if named is not None:
            return S3Request(named[0], named[1], bucket)
        if not query or "list-type" in query or "prefix" in query:
            return S3Request("ListObjects", "s3:ListBucket", bucket)
    if method == "HEAD" and not query:
        return S3Request("HeadBucket", "s3:ListBucket", bucket)
    return None
