"""S3's answer to a read of a missing object, decided by the caller's role, where moto always answers 404.

S3 API reference (botocore's GetObject and HeadObject documentation): "If the object you request doesn't exist, the
error that Amazon S3 returns depends on whether you also have the s3:ListBucket permission": 404 with it, 403 without.
ListBucket is decided on the bucket with the object's key as `s3:prefix`. AWS documents no condition context for this
check; Ceph's S3 gateway adds "the requested object name to the iam environment as `s3:prefix` to match aws behavior"
(github.com/ceph/ceph/pull/68577). `SdkHooks` applies it to each function's own calls (sandbox.sdk_events); why and
the sources: docs/sandbox.md#a-missing-object-s3-hides.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sandbox.iam_check import RolePolicy
from sandbox.iam_conditions import list_bucket_context

READS = frozenset({"GetObject", "HeadObject"})
"""The calls whose answer for a missing object the S3 API reference ties to s3:ListBucket."""
MISSING = frozenset({"NoSuchKey", "404"})
"""moto's answer for a missing key: GetObject's NoSuchKey; a HEAD answer has no body, so botocore names its error after
the HTTP status. A HEAD cannot tell a missing bucket from a missing key; the sandbox's buckets are always provisioned."""
ACCESS_DENIED_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'
)
"""S3's REST error document ("The REST error response") with AccessDenied's code and description from S3's list of
error codes ("AccessDenied | Access Denied | 403 Forbidden")."""


@dataclass(frozen=True)
class ListingRole:
    """A function's role as S3 consults it for a missing object."""

    policy: RolePolicy
    partition: str = "aws"

    def may_list(self, bucket: str, key: str) -> bool:
        context = MappingProxyType(list_bucket_context({"Prefix": key}))
        return self.policy.allows("s3:ListBucket", f"arn:{self.partition}:s3:::{bucket}", context)

    def hides(self, service: str, operation: str, params: dict[str, Any], status: int, code: str | None) -> bool:
        """Whether S3 answers this call 403 where moto answered it `status` with error `code`."""
        if service != "s3" or operation not in READS or status != 404 or code not in MISSING:
            return False
        return not self.may_list(str(params.get("Bucket", "")), str(params.get("Key", "")))


def refuse(http_response: Any, parsed: dict[str, Any], model: Any) -> None:
    """Make botocore's answer S3's 403, in place (the `after-call` event hands both on to the caller): the HTTP answer S3
    sends, parsed by botocore's own parser. A HEAD answer has no body, so its error is named after the status, "403"
    ("if the HEAD request generates an error, it returns a generic code, such as ... 403 Forbidden"); a GET's body
    names AccessDenied."""
    from botocore.parsers import create_parser

    body = b"" if model.http.get("method") == "HEAD" else ACCESS_DENIED_BODY
    answer = {"status_code": 403, "headers": http_response.headers, "body": body}
    refused = create_parser(model.service_model.resolved_protocol).parse(answer, model.output_shape)
    attempts = parsed.get("ResponseMetadata", {}).get("RetryAttempts")
    parsed.clear()
    parsed.update(refused)
    if attempts is not None:
        parsed["ResponseMetadata"]["RetryAttempts"] = attempts
    http_response.status_code = 403


__all__ = ["ListingRole", "MISSING", "READS", "refuse"]
