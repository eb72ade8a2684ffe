"""End User Messaging Social adapter (service `socialmessaging`, IAM prefix `social-messaging`).

Builds the Meta Cloud API message JSON (pure functions below) and sends it with SendWhatsAppMessage; moves media
between WhatsApp and the media bucket with GetWhatsAppMessageMedia / PostWhatsAppMessageMedia; looks up a number's
account and its templates (GetLinkedWhatsAppBusinessAccountPhoneNumber, List/GetWhatsAppMessageTemplate(s)).
Failures (`aws_errors.END_USER_MESSAGING`): throttling, 5xx and network errors -> `TransientAwsError`; a media call
refused for any other reason -> `MediaUnavailable`, a lookup refused -> `LookupRefused`, a read receipt ->
`ReadReceiptRefused`, a message End User Messaging refuses (ValidationException, InvalidParametersException) ->
`WhatsAppRefused`; other send failures propagate as the botocore error (a bug or a permanent refusal).
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from whatsapp_buffer.adapters.aws_errors import END_USER_MESSAGING, READ_RECEIPT, TRANSCRIPT_ECHO
from whatsapp_buffer.errors import WhatsAppRefused
from whatsapp_buffer.inbound.ports import MediaInfo
from whatsapp_buffer.model import Template, is_user_id
from whatsapp_buffer.outreach.ports import LinkedNumber, TemplateSummary

REENGAGEMENT_CODE = "131047"
"""Meta's error code for a free-form message outside the 24-hour customer-service window."""


def addressed_to(customer: str) -> dict[str, str]:
    """Meta's Messages API: "Use `to` to send to a phone number. Use `recipient` to send to a BSUID or parent BSUID.
    If both `to` and `recipient` are present, `to` takes precedence." A customer known only by BSUID gets
    `recipient`; one with a phone number gets `to` alone (Meta recommends phone numbers when there is one)."""
    return {"recipient": customer} if is_user_id(customer) else {"to": customer}


def text_message(to: str, body: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **addressed_to(to),
        "type": "text",
        "text": {"body": body},
    }


def media_message(to: str, kind: str, media_id: str, filename: str | None = None) -> dict[str, Any]:
    """`kind` is image, audio, video or document; only documents carry a file name."""
    media: dict[str, Any] = {"id": media_id}
    if kind == "document" and filename:
        media["filename"] = filename
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **addressed_to(to),
        "type": kind,
        kind: media,
    }


def reply_text_message(to: str, body: str, reply_to: str) -> dict[str, Any]:
    """A text shown as a reply to the customer's message `reply_to` (Cloud API `context.message_id`), without a link
    preview — the AWS sample's transcript reply."""
    message = text_message(to, body)
    message["context"] = {"message_id": reply_to}
    message["text"]["preview_url"] = False
    return message


def template_message(to: str, template: Template, components: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Meta Cloud API template message: `template.name` and `template.language.code` are required, `components`
    only for a template with variables (the re-engagement template the stack sends has none)."""
    body: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    if components:
        body["components"] = components
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **addressed_to(to),
        "type": "template",
        "template": body,
    }


def read_receipt(message_id: str, typing: bool = False) -> dict[str, Any]:
    """Meta's read receipt; with `typing`, also the typing indicator ("When you get a messages webhook indicating a
    received message, you can use the message.id value to mark the message as read and display a typing indicator";
    `"typing_indicator": {"type": "text"}`, dismissed on the next reply or after 25 seconds)."""
    receipt: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
    if typing:
        receipt["typing_indicator"] = {"type": "text"}
    return receipt


class EndUserMessaging:
    """Sends WhatsApp messages and moves media through End User Messaging Social."""

    def __init__(self, meta_api_version: str, client: Any = None) -> None:
        self._version = meta_api_version
        self._client = client or boto3.client("socialmessaging")

    def _send(
        self, origination_phone_number_id: str, message: dict[str, Any], call: str = "SendWhatsAppMessage"
    ) -> str:
        try:
            with END_USER_MESSAGING.translating(call):
                response = self._client.send_whatsapp_message(
                    originationPhoneNumberId=origination_phone_number_id,
                    message=json.dumps(message, ensure_ascii=False).encode("utf-8"),
                    metaApiVersion=self._version,
                )
        except WhatsAppRefused as refused:
            # Meta's error code travels in the message text when End User Messaging refuses at once ("(#131047)").
            refused.window_closed = REENGAGEMENT_CODE in str(refused.__cause__)
            raise
        return str(response.get("messageId", ""))

    def send_text(self, origination_phone_number_id: str, to: str, text: str) -> str:
        return self._send(origination_phone_number_id, text_message(to, text))

    def echo_transcript(self, origination_phone_number_id: str, to: str, text: str, reply_to: str) -> str:
        """The transcript of the customer's recording `reply_to`, sent back to them as a reply to it."""
        return self._send(origination_phone_number_id, reply_text_message(to, text, reply_to), TRANSCRIPT_ECHO)

    def send_media(
        self, origination_phone_number_id: str, to: str, kind: str, media_id: str, filename: str | None = None
    ) -> str:
        return self._send(origination_phone_number_id, media_message(to, kind, media_id, filename))

    def send_interactive(self, origination_phone_number_id: str, to: str, interactive: dict[str, Any]) -> str:
        """Meta's interactive message (`type` button or list) built by `outbound.interactive`."""
        message = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            **addressed_to(to),
            "type": "interactive",
            "interactive": interactive,
        }
        return self._send(origination_phone_number_id, message)

    def send_template(
        self,
        origination_phone_number_id: str,
        to: str,
        template: Template,
        components: list[dict[str, Any]] | None = None,
    ) -> str:
        return self._send(origination_phone_number_id, template_message(to, template, components))

    def linked_number(self, phone_number_id: str) -> LinkedNumber:
        """The WhatsApp Business Account a number belongs to (its templates are the account's) and Meta's id of it."""
        with END_USER_MESSAGING.translating("GetLinkedWhatsAppBusinessAccountPhoneNumber"):
            response = self._client.get_linked_whatsapp_business_account_phone_number(id=phone_number_id)
        return LinkedNumber(
            waba_id=str(response["linkedWhatsAppBusinessAccountId"]),
            meta_phone_number_id=str(response["phoneNumber"]["metaPhoneNumberId"]),
        )

    def find_template(self, waba_id: str, name: str, language: str) -> TemplateSummary | None:
        """The account's template `name` in `language` (every page of ListWhatsAppMessageTemplates), or None."""
        with END_USER_MESSAGING.translating("ListWhatsAppMessageTemplates"):
            pages = self._client.get_paginator("list_whatsapp_message_templates").paginate(
                id=waba_id, PaginationConfig={"PageSize": 100}
            )
            for page in pages:
                for row in page.get("templates", []):
                    if row.get("templateName") == name and row.get("templateLanguage") == language:
                        return TemplateSummary(
                            name=name,
                            language=language,
                            status=str(row.get("templateStatus") or ""),
                            meta_template_id=row.get("metaTemplateId"),
                        )
        return None

    def template_definition(self, waba_id: str, summary: TemplateSummary) -> str:
        """ "The complete template definition as a JSON string" (GetWhatsAppMessageTemplate), by Meta's template id
        when the list gave one, else by name and language."""
        key = (
            {"metaTemplateId": summary.meta_template_id}
            if summary.meta_template_id
            else {"templateName": summary.name, "templateLanguageCode": summary.language}
        )
        with END_USER_MESSAGING.translating("GetWhatsAppMessageTemplate"):
            response = self._client.get_whatsapp_message_template(id=waba_id, **key)
        return str(response["template"])

    def mark_read(self, origination_phone_number_id: str, message_id: str, typing: bool = False) -> None:
        self._send(origination_phone_number_id, read_receipt(message_id, typing), READ_RECEIPT)

    def media_info(self, media_id: str, origination_phone_number_id: str) -> MediaInfo:
        """What End User Messaging knows of an inbound media file, without copying it (`metadataOnly`)."""
        with END_USER_MESSAGING.translating("GetWhatsAppMessageMedia"):
            response = self._client.get_whatsapp_message_media(
                mediaId=media_id, originationPhoneNumberId=origination_phone_number_id, metadataOnly=True
            )
        return MediaInfo(mime_type=response.get("mimeType"), size_kb=response.get("fileSize"))

    @property
    def upload_url_limit(self) -> int:
        """The longest pre-signed URL GetWhatsAppMessageMedia takes: botocore's model,
        `destinationS3PresignedUrl.url` `max` (2,000). botocore does not check it before sending; the service
        refuses a longer URL with ValidationException."""
        operation = self._client.meta.service_model.operation_model("GetWhatsAppMessageMedia")
        url = operation.input_shape.members["destinationS3PresignedUrl"].members["url"]
        return int(url.metadata["max"])

    def fetch_media(self, media_id: str, origination_phone_number_id: str, upload_url: str, content_type: str) -> None:
        """Copy an inbound media file to a pre-signed S3 PUT URL, which names the exact object (at most
        `upload_url_limit` characters long)."""
        with END_USER_MESSAGING.translating("GetWhatsAppMessageMedia"):
            self._client.get_whatsapp_message_media(
                mediaId=media_id,
                originationPhoneNumberId=origination_phone_number_id,
                destinationS3PresignedUrl={"url": upload_url, "headers": {"Content-Type": content_type}},
            )

    def fetch_media_under(self, media_id: str, origination_phone_number_id: str, bucket: str, prefix: str) -> None:
        """Copy an inbound media file into `bucket` under the key prefix `prefix` (`destinationS3File`), which End
        User Messaging extends with the media id and an extension the documentation does not pin down
        (docs/sandbox.md#aws-end-user-messaging-social): the caller finds the object by listing the prefix."""
        with END_USER_MESSAGING.translating("GetWhatsAppMessageMedia"):
            self._client.get_whatsapp_message_media(
                mediaId=media_id,
                originationPhoneNumberId=origination_phone_number_id,
                destinationS3File={"bucketName": bucket, "key": prefix},
            )

    def post_media(self, origination_phone_number_id: str, bucket: str, key: str) -> str:
        """Upload `bucket`/`key` to WhatsApp for an outbound message. Returns the WhatsApp media id."""
        with END_USER_MESSAGING.translating("PostWhatsAppMessageMedia"):
            response = self._client.post_whatsapp_message_media(
                originationPhoneNumberId=origination_phone_number_id,
                sourceS3File={"bucketName": bucket, "key": key},
            )
        return str(response["mediaId"])
