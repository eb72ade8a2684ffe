"""media_bucket: how long a pre-signed PUT URL is (botocore's presigner with fake credentials, no network), and the
one object under a key prefix (moto's S3)."""

from __future__ import annotations

import re
from urllib.parse import quote

import boto3
import pytest
from moto import mock_aws

from tests.fixtures.stubbed import stubbed
from whatsapp_buffer.adapters.media_bucket import MediaBucket
from whatsapp_buffer.errors import MediaCopyNotFound, MediaUnavailable
from whatsapp_buffer.storage_keys import copy_prefix, inbound_key, prepared_key

URL_MAX = 2000
"""botocore socialmessaging S3PresignedUrl.url `max` (tests/contract/test_end_user_messaging_rules.py)."""
BUCKET = "whatsapp-buffer-connect-bridge-media-9855f72"
"""The media bucket's name as Pulumi makes it (logical name and a 7-character random suffix)."""
KEY = inbound_key("a" * 64, 12, "1234567890123456")
"""A burst id (64 hex digits), a two-digit item index and a 16-digit WhatsApp media id."""
SIGNATURE = re.compile(r"(?:Signature|X-Amz-Signature)=([^&]*)")


def upload_url(token: str, bucket: str = BUCKET, key: str = KEY, region: str = "us-east-1") -> str:
    """The URL the adapter signs with temporary credentials whose session token is `token` (never sent anywhere)."""
    client = boto3.client(
        "s3",
        region_name=region,
        aws_access_key_id="ASIA" + "Q" * 16,
        aws_secret_access_key="s" * 40,
        aws_session_token=token,
    )
    return MediaBucket(bucket, client).upload_url(key)


def fixed_part(url: str, token: str, bucket: str, key: str) -> int:
    """What is left of the URL's length without the token, bucket and key (each as the URL carries it) and the
    signature (base64 or hex, whose encoded length varies with its bytes)."""
    (signature,) = SIGNATURE.findall(url)
    return len(url) - len(quote(token, safe="")) - len(bucket) - len(quote(key, safe="/")) - len(signature)


TOKENS = ["T" * 1000, "T" * 1400, "IQoJ/b3+Jp=Z2lu" * 100, "a/" * 900]
BUCKETS = [BUCKET, "b" * 3, "b" * 63]
KEYS = [KEY, inbound_key("b" * 64, 0, "1"), "prepared/1234567890123456"]


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "us-gov-west-1"])
def test_the_url_grows_by_exactly_the_encoded_token_bucket_and_key(region):
    """Measured: past a part fixed per region, a pre-signed URL is its session token percent-encoded (a base64
    `/`, `+` or `=` takes 3 characters), its bucket name and its key, plus the signature. STS does not fix a
    session token's length, so the token alone can push the URL past the 2,000 characters GetWhatsAppMessageMedia
    takes."""
    fixed = {
        fixed_part(upload_url(token, bucket, key, region), token, bucket, key)
        for token in TOKENS
        for bucket in BUCKETS
        for key in KEYS
    }
    assert len(fixed) == 1
    assert 100 < fixed.pop() < 250


def test_a_longer_session_token_pushes_the_url_of_a_realistic_key_past_the_models_max():
    """With the stack's bucket and a realistic key: a 1,000-character token fits with room to spare, a base64
    token of 1,500 characters with STS's usual `/` and `+` does not, nor a plain one of 1,800."""
    base64_like = ("IQoJb3JpZ2luX2VjE/+" * 100)[:1500]
    assert len(upload_url("T" * 1000)) < URL_MAX - 600
    assert len(upload_url(base64_like)) > URL_MAX
    assert len(upload_url("T" * 1800)) > URL_MAX


@pytest.fixture
def bucket():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="media-bucket")
        yield MediaBucket("media-bucket", s3)


PREFIX = copy_prefix(inbound_key("b1", 0, "5550001"))


def test_the_one_object_under_a_prefix_is_found(bucket):
    bucket.put(f"{PREFIX}5550001.jpeg", b"x", "image/jpeg")
    bucket.put(f"{PREFIX[:-1]}.wav", b"w", "audio/wav")  # the converted file, beside the prefix, not under it
    assert bucket.only_key(PREFIX) == f"{PREFIX}5550001.jpeg"


def test_no_object_under_the_prefix_is_refused_naming_the_prefix(bucket):
    with pytest.raises(MediaCopyNotFound) as refused:
        bucket.only_key(PREFIX)
    assert str(refused.value) == f"expected exactly one object under s3://media-bucket/{PREFIX}, found no object"
    assert isinstance(refused.value, MediaUnavailable)  # the delivery names the file in a line instead


def test_two_objects_under_the_prefix_are_refused_naming_both(bucket):
    bucket.put(f"{PREFIX}5550001.jpeg", b"x", "image/jpeg")
    bucket.put(f"{PREFIX}5550001.jpg", b"y", "image/jpeg")
    with pytest.raises(MediaCopyNotFound) as refused:
        bucket.only_key(PREFIX)
    assert str(refused.value) == (
        f"expected exactly one object under s3://media-bucket/{PREFIX}, found more than one: "
        f"{PREFIX}5550001.jpeg, {PREFIX}5550001.jpg"
    )


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
    # returns an HTTP status code 403 Forbidden error." The role may list only the prefixes it copies media under
    # (s3:prefix), so a listing from the key answers "missing" where a HEAD would be refused.
    key = f"{prepared_key('1234567890')}.wav"
    with stubbed("s3") as (client, stubber):
        stubber.add_response(
            "list_objects_v2",
            {"Contents": [{"Key": f"{key}.old"}], "KeyCount": 1},
            {"Bucket": "media-bucket", "Prefix": key, "MaxKeys": 1},
        )
        assert MediaBucket("media-bucket", client).exists(key) is False
