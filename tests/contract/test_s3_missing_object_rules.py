"""S3's answer to a GetObject or HeadObject of a missing object, which depends on the caller's s3:ListBucket
(sandbox.s3_missing_objects, applied in each function's worker by sandbox.sdk_events); moto answers 404 to anyone.

The sources, quoted in each test: the botocore model's GetObject and HeadObject documentation (S3 API reference),
S3's REST error documents, and, for the `s3:prefix` the ListBucket check sees, where AWS documents nothing, Ceph.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sandbox.iam_check import RolePolicy
from sandbox.s3_missing_objects import ListingRole
from sandbox.sdk_events import SdkHooks, WorkerFaults
from tests.fixtures.fakes import NO_RETRIES

BUCKET = "media-bucket"
READ_OBJECTS = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{BUCKET}/*"]}
LIST_BUCKET = {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [f"arn:aws:s3:::{BUCKET}"]}
LIST_INBOUND = {**LIST_BUCKET, "Condition": {"StringLike": {"s3:prefix": ["inbound/*"]}}}


def _documentation(operation: str) -> str:
    return str(botocore.session.get_session().get_service_model("s3").operation_model(operation).documentation)


def _s3(*statements: dict[str, Any]) -> Iterator[tuple[Any, SdkHooks]]:
    """A client of a function whose role has `statements`, its calls seen by the worker's hooks; the bucket holds
    `inbound/there`."""
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        boto3.client("s3", region_name="us-east-1").put_object(Bucket=BUCKET, Key="inbound/there", Body=b"x")
        hooks = SdkHooks(WorkerFaults([], "test"), role=ListingRole(RolePolicy("role", list(statements))))
        with hooks.installed():
            # A session of its own: boto3's default one was made before the hooks were installed.
            yield boto3.session.Session().client("s3", region_name="us-east-1", config=NO_RETRIES), hooks


@pytest.fixture
def reader() -> Iterator[tuple[Any, SdkHooks]]:
    """A role that reads objects and may not list the bucket."""
    yield from _s3(READ_OBJECTS)


@pytest.fixture
def lister() -> Iterator[tuple[Any, SdkHooks]]:
    """A role that reads objects and lists the whole bucket."""
    yield from _s3(READ_OBJECTS, LIST_BUCKET)


@pytest.fixture
def inbound_lister() -> Iterator[tuple[Any, SdkHooks]]:
    """A role that reads objects and lists under `inbound/` only (the inbound function's own statement's shape)."""
    yield from _s3(READ_OBJECTS, LIST_INBOUND)


def _refusal(call: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as refused:
        call()
    answer = refused.value.response
    return answer["Error"]["Code"], answer["ResponseMetadata"]["HTTPStatusCode"], answer["Error"].get("Message", "")


def test_head_of_a_missing_object_is_a_bare_403_without_list_bucket(reader):
    """botocore s3 HeadObject: "If the object you request doesn't exist, the error that Amazon S3 returns depends on
    whether you also have the s3:ListBucket permission." ... "If you don’t have the s3:ListBucket permission, Amazon S3
    returns an HTTP status code 403 Forbidden error." A HEAD answer has no body: "if the HEAD request generates an
    error, it returns a generic code, such as ... 403 Forbidden ... It's not possible to retrieve the exact exception
    of these error codes", so botocore names the error after the status (the AWS CLI against S3: "An error occurred
    (403) when calling the HeadObject operation: Forbidden", aws/aws-cli#1689)."""
    doc = _documentation("HeadObject")
    assert "If you don’t have the <code>s3:ListBucket</code> permission, Amazon S3 returns an HTTP status code" in doc
    assert "<code>403 Forbidden</code> error" in doc
    s3, hooks = reader
    assert _refusal(lambda: s3.head_object(Bucket=BUCKET, Key="inbound/missing")) == ("403", 403, "Forbidden")
    assert [call.error for call in hooks.take()] == ["403"]


def test_get_of_a_missing_object_is_access_denied_without_list_bucket(reader):
    """botocore s3 GetObject: "If you don’t have the s3:ListBucket permission, Amazon S3 returns an HTTP status code
    403 Access Denied error." The body is S3's REST error document (Amazon S3 User Guide, "The REST error response":
    "An XML error document as the response body"), code AccessDenied, whose description is "Access Denied" (S3 API
    reference, "List of error codes": "AccessDenied | Access Denied | 403 Forbidden")."""
    doc = _documentation("GetObject")
    assert "If you don’t have the <code>s3:ListBucket</code> permission, Amazon S3 returns an HTTP status code" in doc
    assert "<code>403 Access Denied</code> error" in doc
    s3, hooks = reader
    refusal = _refusal(lambda: s3.get_object(Bucket=BUCKET, Key="inbound/missing"))
    assert refusal == ("AccessDenied", 403, "Access Denied")
    assert [call.error for call in hooks.take()] == ["AccessDenied"]


def test_an_existing_object_is_read_without_list_bucket(reader):
    """GetObject and HeadObject need s3:GetObject only ("To use HEAD, you must have the s3:GetObject permission");
    ListBucket matters only when the object does not exist."""
    s3, hooks = reader
    assert s3.head_object(Bucket=BUCKET, Key="inbound/there")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object(Bucket=BUCKET, Key="inbound/there")["Body"].read() == b"x"
    assert [call.error for call in hooks.take()] == [None, None]


def test_a_role_that_may_list_the_bucket_is_told_the_object_is_missing(lister):
    """botocore s3 GetObject and HeadObject: "If you have the s3:ListBucket permission on the bucket, Amazon S3 returns
    an HTTP status code 404 Not Found error" (GetObject's modeled error NoSuchKey; a HEAD's bare "404")."""
    for operation in ("GetObject", "HeadObject"):
        assert (
            "If you have the <code>s3:ListBucket</code> permission on the bucket, Amazon S3 returns an HTTP status"
            in (_documentation(operation))
        )
    s3, _hooks = lister
    assert _refusal(lambda: s3.head_object(Bucket=BUCKET, Key="inbound/missing"))[:2] == ("404", 404)
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BUCKET, Key="inbound/missing")


def test_list_bucket_limited_by_prefix_reveals_a_missing_object_only_under_that_prefix(inbound_lister):
    """The S3 API reference says only "the s3:ListBucket permission on the bucket"; it names no condition context for
    this check. Ceph's S3 gateway, to match AWS, decides it with the object's key as `s3:prefix`: "add the requested
    object name to the iam environment as `s3:prefix` to match aws behavior here" (ceph/ceph#68577, "rgw:
    read_obj_policy() consults s3:prefix when deciding between 403/404"); a user of a prefix-limited role reports the
    same against AWS ("If you have the s3:ListBucket permission on the bucket/prefix, Amazon S3 returns an HTTP status
    code 404 ... my local testing result is like this", kopia/kopia#3072). The sandbox does the same: ListBucket
    allowed for `s3:prefix` StringLike `inbound/*` tells a missing `inbound/...` key, not a missing `prepared/...`."""
    s3, _hooks = inbound_lister
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BUCKET, Key="inbound/missing")
    assert _refusal(lambda: s3.head_object(Bucket=BUCKET, Key="inbound/missing"))[:2] == ("404", 404)
    assert _refusal(lambda: s3.get_object(Bucket=BUCKET, Key="prepared/missing"))[:2] == ("AccessDenied", 403)
    assert _refusal(lambda: s3.head_object(Bucket=BUCKET, Key="prepared/missing"))[:2] == ("403", 403)
