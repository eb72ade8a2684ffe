"""The media bucket adapter: whether a prepared recording is there, against moto's S3 and botocore's Stubber."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from tests.fixtures.stubbed import stubbed
from whatsapp_buffer.adapters.media_bucket import MediaBucket
from whatsapp_buffer.storage_keys import prepared_key

BUCKET = "media-test"


@pytest.fixture
def bucket():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield MediaBucket(BUCKET, client)


def test_a_prepared_recording_is_found_and_a_missing_one_is_not(bucket):
    key = f"{prepared_key('1234567890')}.wav"
    bucket.put(f"{key}.partial", b"x", "audio/wav")
    assert bucket.exists(key) is False

    bucket.put(key, b"RIFF", "audio/wav")

    assert bucket.exists(key) is True


def test_whether_a_recording_is_there_is_asked_by_listing_not_by_head_object():
    # HeadObject's documentation: "If the object you request doesn't exist, the error that Amazon S3 returns depends on
    # whether you also have the s3:ListBucket permission. If you have the s3:ListBucket permission on the bucket, Amazon
    # S3 returns an HTTP status code 404 Not Found error. If you don't have the s3:ListBucket permission, Amazon S3
    # returns an HTTP status code 403 Forbidden error." The role may list prepared recordings only (s3:prefix), so a
    # listing from the key answers "missing" where a HEAD would be refused.
    key = f"{prepared_key('1234567890')}.wav"
    with stubbed("s3") as (client, stubber):
        stubber.add_response(
            "list_objects_v2",
            {"Contents": [{"Key": f"{key}.old"}], "KeyCount": 1},
            {"Bucket": BUCKET, "Prefix": key, "MaxKeys": 1},
        )
        assert MediaBucket(BUCKET, client).exists(key) is False
