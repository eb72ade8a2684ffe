"""S3 adapter for the media bucket: where media waits between WhatsApp and Connect, in both directions.

End User Messaging writes inbound media to a pre-signed URL for an exact key, or under a key prefix when that URL is
too long (GetWhatsAppMessageMedia; `only_key` finds the copy), and reads outbound media from a named object
(PostWhatsAppMessageMedia); the Lambdas read and write the bytes they move to and from Connect. Keys carry ids only,
never phone numbers. The bucket's lifecycle rule removes objects; the runtime never deletes.
"""

from __future__ import annotations

from typing import Any

import boto3

from whatsapp_buffer.adapters.aws_errors import S3, UNLISTED_READ
from whatsapp_buffer.errors import MediaCopyNotFound

UPLOAD_URL_SECONDS = 300
"""Long enough for End User Messaging to copy a file from WhatsApp during one GetWhatsAppMessageMedia call."""


class MediaBucket:
    """Reads and writes media objects in one bucket."""

    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self._client = client or boto3.client("s3")

    def get(self, key: str) -> bytes:
        with S3.translating("GetObject"):
            return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def get_unlisted(self, key: str) -> bytes:
        """An object under a prefix this role may not list (a transcript): S3 answers a missing one AccessDenied (403)
        there, and that is `MediaUnavailable` too, as NoSuchKey is (`aws_errors.UNLISTED_READ`)."""
        with S3.translating(UNLISTED_READ):
            return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def download(self, key: str, path: str) -> None:
        """The object written to a local file in chunks (never whole in memory)."""
        with S3.translating("GetObject"):
            body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
            with open(path, "wb") as file:
                for chunk in body.iter_chunks(1024 * 1024):
                    file.write(chunk)

    def upload_url(self, key: str, expires_seconds: int = UPLOAD_URL_SECONDS) -> str:
        """A pre-signed PUT URL for exactly `key`, signed with this function's credentials (Content-Type left
        unsigned, so whatever type End User Messaging sends is accepted)."""
        return self._client.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_seconds
        )

    def only_key(self, prefix: str) -> str:
        """The key of the one object under `prefix` (ListObjectsV2, Prefix=`prefix`). Raises MediaCopyNotFound,
        naming the prefix and what is there, when there is none or more than one."""
        keys = self._keys_from(prefix, most=2)  # a second object is enough to refuse
        if len(keys) != 1:
            found = "no object" if not keys else f"more than one: {', '.join(keys)}"
            raise MediaCopyNotFound(f"expected exactly one object under s3://{self.bucket}/{prefix}, found {found}")
        return keys[0]

    def exists(self, key: str) -> bool:
        """Whether the object is there: a listing from `key` (ListObjectsV2), not HeadObject, which answers a missing
        object with 403 unless the caller may list the bucket. The role may list only where it copies media."""
        # Keys are listed in UTF-8 binary order, so `key` itself, if present, is the first key it prefixes.
        return self._keys_from(key, most=1) == [key]

    def _keys_from(self, prefix: str, *, most: int) -> list[str]:
        """The first `most` keys that start with `prefix`, in S3's listing order."""
        with S3.translating("ListObjectsV2"):
            listing = self._client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=most)
        return [str(item["Key"]) for item in listing.get("Contents") or []]

    def put(self, key: str, data: bytes, content_type: str) -> None:
        with S3.translating("PutObject"):
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
