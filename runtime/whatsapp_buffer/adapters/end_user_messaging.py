"""End User Messaging Social adapter (service `socialmessaging`, IAM prefix `social-messaging`).

Builds the Meta Cloud API message JSON (pure functions below) and sends it with SendWhatsAppMessage; moves media
between WhatsApp and the media bucket with GetWhatsAppMessageMedia / PostWhatsAppMessageMedia.
Failures: throttling, 5xx and network errors -> `TransientAwsError`; a media call refused for any other reason ->
`MediaUnavailable`; other send failures propagate as the botocore error (a bug or a permanent refusal).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from whatsapp_buffer.errors import MediaUnavailable, TransientAwsError

WHATSAPP_TEXT_LIMIT = 4096
"""Meta's limit for a text message body."""

_NETWORK_ERRORS = (BotoConnectionError, HTTPClientError)
_TRANSIENT_CODES = frozenset({"ThrottledRequestException", "InternalServiceException", "DependencyException"})


@dataclass(frozen=True)
class MediaInfo:
    """GetWhatsAppMessageMedia's answer: "The MIME type of the media" and "The size of the media file, in KB"."""

    mime_type: str | None
    size_kb: int | None

    @property
    def least_bytes(self) -> int:
        """The smallest size `size_kb` can stand for (KB read as 1,000 bytes; the documentation does not say): what
        decides that a file is too large, so a file within Connect's limit is never refused."""
        return int(self.size_kb or 0) * 1000

    @property
    def approx_bytes(self) -> int:
        """The size to tell a person (KB read as 1,024 bytes)."""
        return int(self.size_kb or 0) * 1024


def media_kind_for(content_type: str) -> str:
    """The WhatsApp message type that carries a file of `content_type`."""
    major = content_type.split("/", 1)[0].strip().lower()
    return major if major in {"image", "audio", "video"} else "document"


def text_message(to: str, body: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": body[:WHATSAPP_TEXT_LIMIT]},
    }


def media_message(to: str, kind: str, media_id: str, filename: str | None = None) -> dict[str, Any]:
    """`kind` is image, audio, video or document; only documents carry a file name."""
    media: dict[str, Any] = {"id": media_id}
    if kind == "document" and filename:
        media["filename"] = filename
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind, kind: media}


def read_receipt(message_id: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}


def _is_transient(exc: Exception) -> bool:
    if not isinstance(exc, ClientError):
        return True
    code = exc.response.get("Error", {}).get("Code", "")
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return code in _TRANSIENT_CODES or status >= 500 or status == 429


class WhatsApp:
    """Sends WhatsApp messages and moves media through End User Messaging Social."""

    def __init__(self, meta_api_version: str, client: Any = None) -> None:
        self._version = meta_api_version
        self._client = client or boto3.client("socialmessaging")

    def _send(self, origination_phone_number_id: str, message: dict[str, Any]) -> str:
        try:
            response = self._client.send_whatsapp_message(
                originationPhoneNumberId=origination_phone_number_id,
                message=json.dumps(message, ensure_ascii=False).encode("utf-8"),
                metaApiVersion=self._version,
            )
        except (ClientError, *_NETWORK_ERRORS) as exc:
            if _is_transient(exc):
                raise TransientAwsError(f"SendWhatsAppMessage: {type(exc).__name__}") from exc
            raise
        return str(response.get("messageId", ""))

    def send_text(self, origination_phone_number_id: str, to: str, text: str) -> str:
        return self._send(origination_phone_number_id, text_message(to, text))

    def send_media(
        self, origination_phone_number_id: str, to: str, kind: str, media_id: str, filename: str | None = None
    ) -> str:
        return self._send(origination_phone_number_id, media_message(to, kind, media_id, filename))

    def mark_read(self, origination_phone_number_id: str, message_id: str) -> None:
        self._send(origination_phone_number_id, read_receipt(message_id))

    def media_info(self, media_id: str, origination_phone_number_id: str) -> MediaInfo:
        """What End User Messaging knows of an inbound media file, without copying it (`metadataOnly`)."""
        try:
            response = self._client.get_whatsapp_message_media(
                mediaId=media_id, originationPhoneNumberId=origination_phone_number_id, metadataOnly=True
            )
        except (ClientError, *_NETWORK_ERRORS) as exc:
            if _is_transient(exc):
                raise TransientAwsError(f"GetWhatsAppMessageMedia: {type(exc).__name__}") from exc
            raise MediaUnavailable("GetWhatsAppMessageMedia refused the media id") from exc
        return MediaInfo(mime_type=response.get("mimeType"), size_kb=response.get("fileSize"))

    def fetch_media(self, media_id: str, origination_phone_number_id: str, upload_url: str, content_type: str) -> None:
        """Copy an inbound media file to a pre-signed S3 PUT URL, which names the exact object.

        Not `destinationS3File`: its key is a prefix that End User Messaging combines with the media id and an
        extension the documentation does not pin down (see AWS_FACTS and `tests/contract`), while a pre-signed URL
        leaves nothing to guess."""
        try:
            self._client.get_whatsapp_message_media(
                mediaId=media_id,
                originationPhoneNumberId=origination_phone_number_id,
                destinationS3PresignedUrl={"url": upload_url, "headers": {"Content-Type": content_type}},
            )
        except (ClientError, *_NETWORK_ERRORS) as exc:
            if _is_transient(exc):
                raise TransientAwsError(f"GetWhatsAppMessageMedia: {type(exc).__name__}") from exc
            raise MediaUnavailable("GetWhatsAppMessageMedia could not copy the media") from exc

    def post_media(self, origination_phone_number_id: str, bucket: str, key: str) -> str:
        """Upload `bucket`/`key` to WhatsApp for an outbound message. Returns the WhatsApp media id."""
        try:
            response = self._client.post_whatsapp_message_media(
                originationPhoneNumberId=origination_phone_number_id,
                sourceS3File={"bucketName": bucket, "key": key},
            )
        except (ClientError, *_NETWORK_ERRORS) as exc:
            if _is_transient(exc):
                raise TransientAwsError(f"PostWhatsAppMessageMedia: {type(exc).__name__}") from exc
            raise MediaUnavailable("PostWhatsAppMessageMedia refused the file") from exc
        return str(response["mediaId"])
