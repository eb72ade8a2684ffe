"""AWS End User Messaging Social (service `socialmessaging`): WhatsApp sends and media, as the bridge calls them.

Enforced as botocore's model, AWS's user guide and Meta's Cloud API documentation state them: media by S3 prefix
(`media_object_key`) or pre-signed URL, the media WhatsApp takes (`OUTBOUND_MEDIA`), the message blob and its `to` or
`recipient` (phone number or BSUID), the 24-hour customer-service window (`service_window` "status" or "sync"),
template and interactive messages (`_check_template`, `_check_interactive`; lookups in `templates`) and the typing
indicator of a read receipt. Each rule, its quoted source and the error code the fake answers:
docs/sandbox.md#aws-end-user-messaging-social; each is pinned by a test in `tests/contract/`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from sandbox.fakes.records import Ids
from sandbox.fakes.rest_json import ApiError
from sandbox.fakes.templates import WhatsAppTemplates

MAX_MESSAGE_BYTES = 2_048_000
"""botocore SendWhatsAppMessage.message: max 2,048,000."""
TEXT_BODY_LIMIT = 4096
"""Meta Cloud API, text messages: "body … Maximum 4096 characters"."""
SERVICE_WINDOW_SECONDS = 24 * 3600
REENGAGEMENT_ERROR = {
    "code": 131047,
    "title": "Re-engagement message",
    "message": "Re-engagement message",
    "error_data": {
        "details": "Message failed to send because more than 24 hours have passed since the customer last replied "
        "to this number."
    },
    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
}
"""Meta's error object for a free-form message outside the window, as it travels in `value.statuses[].errors[]`."""
_MB = 1024 * 1024
# A copy of outbound.file_plan' table, by category: a fake must not import the code it checks (adds stickers, webp).
OUTBOUND_MEDIA: dict[str, int] = {
    **dict.fromkeys(("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"), 16 * _MB),
    **dict.fromkeys(
        (
            "text/plain",
            "application/pdf",
            "application/vnd.ms-powerpoint",
            "application/msword",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        100 * _MB,
    ),
    **dict.fromkeys(("image/jpeg", "image/png"), 5 * _MB),
    "image/webp": 500 * 1024,
    **dict.fromkeys(("video/mp4", "video/3gpp"), 16 * _MB),
}
"""MIME type -> largest file WhatsApp takes (the user guide's table: audio 16 MB, documents 100 MB, images 5 MB,
stickers 100 KB static / 500 KB animated, video 16 MB; audio/ogg with the Opus codec only)."""
MEDIA_ID = re.compile(r"[A-Za-z0-9]+")
"""botocore GetWhatsAppMessageMedia.mediaId pattern."""
PRESIGNED_URL = re.compile(r"https://(.*)s3(.*).amazonaws.com/(.*)")
"""botocore S3PresignedUrl.url pattern."""
BSUID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")
"""Meta's business-scoped user id (BSUID) or parent BSUID."""


@dataclass(frozen=True)
class WhatsAppSent:
    """A SendWhatsAppMessage the fake accepted (what the customer's phone would show, or a read receipt)."""

    at: float
    message_id: str
    origination_phone_number_id: str
    meta_api_version: str
    to: str | None
    type: str
    """Meta's message `type` (text, image, document, audio, video, ...), or `read` for a read receipt."""
    text: str | None
    media: dict[str, Any] | None
    """For media types: Meta's media object (`id` or `link`, `caption`, `filename`)."""
    message: dict[str, Any]
    refused: dict[str, Any] | None = None
    """Meta's error when WhatsApp accepted the call but will not deliver (a `failed` status follows)."""


def _check_addressee(message: dict[str, Any]) -> None:
    to, recipient = message.get("to"), message.get("recipient")
    if not to and not recipient:
        raise ApiError("InvalidParametersException", 'message needs "to" (a phone number) or "recipient" (a BSUID)')
    if recipient and not (isinstance(recipient, str) and BSUID.fullmatch(recipient)):
        raise ApiError("InvalidParametersException", '"recipient" is not a business-scoped user id')
    if to and isinstance(to, str) and BSUID.fullmatch(to):
        raise ApiError("InvalidParametersException", 'a business-scoped user id goes in "recipient", not "to"')


def _check_template(template: Mapping[str, Any]) -> None:
    """Meta's template object: `name` and `language` (with its `code`) are required, `components` optional
    (WhatsApp's Node.js SDK, Template Object: "name : string — name of the template", "language : LanguageObject";
    End User Messaging's WhatsAppParameters: template name 1–512 characters, language code 2–35). Whether the template
    exists and is approved only Meta knows: the fake takes any name."""
    name = template.get("name")
    language = template.get("language")
    if not isinstance(name, str) or not 1 <= len(name) <= 512:
        raise ApiError("InvalidParametersException", "a template message needs template.name (1-512 characters)")
    code = language.get("code") if isinstance(language, Mapping) else None
    if not isinstance(code, str) or not 2 <= len(code) <= 35:
        raise ApiError("InvalidParametersException", "a template message needs template.language.code")


def _check_interactive(interactive: Mapping[str, Any]) -> None:
    """Meta, "Interactive reply buttons messages": "up to three predefined replies", each `reply` with an `id` and a
    `title` (button labels at most 20 characters), body text at most 1,024; "Interactive list messages": up to 10 rows
    in all, row `title` at most 24 characters, `description` at most 72, the `button` label at most 20, body at most
    4,096. Other interactive types (flows, products, CTA URL) are not modelled and are refused."""

    def refuse(why: str) -> NoReturn:
        raise ApiError("InvalidParametersException", f"interactive message: {why}")

    kind, action = interactive.get("type"), interactive.get("action")
    text = (interactive.get("body") or {}).get("text") if isinstance(interactive.get("body"), Mapping) else None
    if not isinstance(text, str) or not text or not isinstance(action, Mapping):
        refuse("needs body.text and action")
    if kind == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            refuse("1 to 3 buttons")
        titles = [str((b.get("reply") or {}).get("title") or "") for b in buttons if isinstance(b, Mapping)]
        ids = [str((b.get("reply") or {}).get("id") or "") for b in buttons if isinstance(b, Mapping)]
        if len(titles) != len(buttons) or not all(0 < len(t) <= 20 for t in titles) or not all(ids):
            refuse("each button needs reply.id and a reply.title of 1 to 20 characters")
        if len(set(titles)) != len(titles) or len(text) > 1024:
            refuse("button titles must be unique and the body at most 1024 characters")
    elif kind == "list":
        sections = action.get("sections")
        label = action.get("button")
        if not isinstance(label, str) or not 0 < len(label) <= 20 or not isinstance(sections, list) or not sections:
            refuse("a list needs a button label of 1 to 20 characters and sections")
        rows = [r for s in sections if isinstance(s, Mapping) for r in (s.get("rows") or [])]
        if not 1 <= len(rows) <= 10 or len(text) > 4096:
            refuse("1 to 10 rows in all and a body of at most 4096 characters")
        for row in rows:
            if not (isinstance(row, Mapping) and row.get("id") and 0 < len(str(row.get("title") or "")) <= 24):
                refuse("each row needs an id and a title of 1 to 24 characters")
            if len(str(row.get("description") or "")) > 72:
                refuse("a row description is at most 72 characters")
    else:
        refuse(f"type {kind!r} is not modelled by the fake")


def number_key(origination: str) -> str:
    """`arn:…:phone-number-id/abc`, `phone-number-id-abc` and `abc` name the same number."""
    return origination.rsplit("/", 1)[-1].removeprefix("phone-number-id-")


def media_object_key(prefix: str, media_id: str, mime_type: str) -> str:
    """Where GetWhatsAppMessageMedia with destinationS3File writes: the AWS sample's reading of the prefix rule."""
    subtype = mime_type.split(";", 1)[0].strip().split("/", 1)[-1]
    return f"{prefix}{media_id}.{subtype}"


def size_in_kb(data: bytes) -> int:
    """`fileSize` "in KB": rounded up, so a caller's fileSize × 1,024 is never below the real size."""
    return math.ceil(len(data) / 1024)


HttpPut = Callable[[str, Mapping[str, str], bytes], int]
"""PUT `data` to a URL with headers; the HTTP status."""


class SocialMessagingBackend:
    """One fake End User Messaging account: `phone_number_ids` are its numbers (None: any)."""

    def __init__(
        self,
        ids: Ids,
        *,
        s3_client: Any = None,
        http_put: HttpPut | None = None,
        s3_endpoints: Iterable[str] = (),
        phone_number_ids: Iterable[str] | None = None,
        service_window: str = "status",
    ) -> None:
        if service_window not in ("status", "sync"):
            raise ValueError("service_window is 'status' or 'sync'")
        self.ids = ids
        self.service_window = service_window
        self.last_customer_message: dict[tuple[str, str], float] = {}
        self.statuses: list[tuple[str, dict[str, Any]]] = []
        """(origination, Meta status object) waiting to be published as a status webhook."""
        self._s3 = s3_client
        self._http_put = http_put
        self.s3_endpoints = tuple(s3_endpoints)
        self.phone_number_ids = frozenset(phone_number_ids) if phone_number_ids is not None else None
        self.media: dict[str, tuple[bytes, str]] = {}
        self.sent: list[WhatsAppSent] = []
        self.templates = WhatsAppTemplates()

    # ---------------------------------------------------------------- API

    def send_whatsapp_message(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        origination = self._known_number(params["originationPhoneNumberId"])
        raw: bytes = params["message"]
        if len(raw) > MAX_MESSAGE_BYTES:
            raise ApiError("ValidationException", f"message is larger than {MAX_MESSAGE_BYTES} bytes")
        try:
            message = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ApiError("ValidationException", "message is not a JSON document") from None
        if not isinstance(message, dict) or message.get("messaging_product") != "whatsapp":
            raise ApiError(
                "InvalidParametersException", 'message must be a JSON object with "messaging_product": "whatsapp"'
            )
        if message.get("status") == "read":
            if not message.get("message_id"):
                raise ApiError("InvalidParametersException", "a read receipt needs message_id")
            typing = message.get("typing_indicator")
            if typing is not None and typing != {"type": "text"}:
                raise ApiError("InvalidParametersException", 'typing_indicator must be {"type": "text"}')
            kind = "read"
        else:
            kind = str(message.get("type") or "text")
            _check_addressee(message)
            if not isinstance(message.get(kind), dict):
                raise ApiError("InvalidParametersException", f'message of type {kind} needs a "{kind}" object')
        body = message.get(kind) if isinstance(message.get(kind), dict) else None
        if kind == "template":
            _check_template(body or {})
            self.templates.check_send(origination, body or {})
        if kind == "interactive":
            _check_interactive(body or {})
        if kind == "text" and len(str((body or {}).get("body") or "")) > TEXT_BODY_LIMIT:
            raise ApiError("InvalidParametersException", f"text body is longer than {TEXT_BODY_LIMIT} characters")
        refused = None
        addressee = message.get("to") or message.get("recipient")
        if kind not in ("read", "template") and not self._window_open(origination, str(addressee), at):
            if self.service_window == "sync":
                raise ApiError("ValidationException", "(#131047) Re-engagement message: the 24-hour window is closed")
            refused = REENGAGEMENT_ERROR
        message_id = f"wamid.{self.ids.new_token('fake')}"
        if refused is not None:
            status = {
                "id": message_id,
                "status": "failed",
                "timestamp": str(int(at)),
                "recipient_id": addressee,
                "errors": [refused],
            }
            self.statuses.append((origination, status))
        self.sent.append(
            WhatsAppSent(
                at=at,
                message_id=message_id,
                origination_phone_number_id=origination,
                meta_api_version=params["metaApiVersion"],
                to=addressee,
                type=kind,
                text=body.get("body") if kind == "text" and body else None,
                media=body if kind not in ("text", "read") else None,
                message=message,
                refused=refused,
            )
        )
        return {"messageId": message_id}

    def customer_wrote(self, origination: str, wa_id: str, at: float) -> None:
        """The customer's message reached the business number: the service window runs from here."""
        key = (number_key(origination), wa_id)
        self.last_customer_message[key] = max(at, self.last_customer_message.get(key, at))

    def _window_open(self, origination: str, to: str, at: float) -> bool:
        last = self.last_customer_message.get((number_key(origination), to.removeprefix("+")))
        return last is not None and at - last <= SERVICE_WINDOW_SECONDS

    def get_whatsapp_message_media(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        self._known_number(params["originationPhoneNumberId"])
        media_id = params["mediaId"]
        if not MEDIA_ID.fullmatch(media_id):
            raise ApiError("ValidationException", f"mediaId {media_id!r} does not match [A-Za-z0-9]+")
        file_target, url_target = params.get("destinationS3File"), params.get("destinationS3PresignedUrl")
        if file_target is not None and url_target is not None:
            raise ApiError("InvalidParametersException", "use either destinationS3File or destinationS3PresignedUrl")
        if not params.get("metadataOnly") and file_target is None and url_target is None:
            raise ApiError("InvalidParametersException", "a destination is required unless metadataOnly is set")
        media = self.media.get(media_id)
        if media is None:
            raise ApiError("ResourceNotFoundException", f"media {media_id} not found or expired")
        data, mime_type = media
        answer = {"mimeType": mime_type, "fileSize": size_in_kb(data)}
        if params.get("metadataOnly"):
            return answer
        if url_target is not None:
            self._put_presigned(url_target["url"], url_target["headers"], data)
        else:
            assert file_target is not None  # without metadataOnly, one destination is required above
            key = media_object_key(file_target["key"], media_id, mime_type)
            self._s3_call("put_object", Bucket=file_target["bucketName"], Key=key, Body=data, ContentType=mime_type)
        return answer

    def post_whatsapp_message_media(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        self._known_number(params["originationPhoneNumberId"])
        source, url_source = params.get("sourceS3File"), params.get("sourceS3PresignedUrl")
        if (source is None) == (url_source is None):
            raise ApiError("InvalidParametersException", "use exactly one of sourceS3File or sourceS3PresignedUrl")
        if source is None:
            raise ApiError("InvalidParametersException", "the fake reads media from sourceS3File only")
        answer = self._s3_call("get_object", Bucket=source["bucketName"], Key=source["key"])
        data = answer["Body"].read()
        content_type = answer.get("ContentType") or "application/octet-stream"
        limit = OUTBOUND_MEDIA.get(content_type.split(";", 1)[0].strip().lower())
        if limit is None:
            raise ApiError("ValidationException", f"WhatsApp does not support media of type {content_type}")
        if len(data) > limit:
            raise ApiError("ValidationException", f"{content_type} media is larger than WhatsApp's {limit} bytes")
        media_id = self.ids.digits(16)
        self.media[media_id] = (data, content_type)
        return {"mediaId": media_id}

    # ---------------------------------------------------------------- helpers

    def _known_number(self, origination: str) -> str:
        known = self.phone_number_ids
        if known is not None and number_key(origination) not in {number_key(n) for n in known}:
            raise ApiError("ResourceNotFoundException", f"phone number {origination} not found")
        return origination

    def _put_presigned(self, url: str, headers: Mapping[str, str], data: bytes) -> None:
        if not (PRESIGNED_URL.fullmatch(url) or any(url.startswith(endpoint) for endpoint in self.s3_endpoints)):
            raise ApiError("ValidationException", "destinationS3PresignedUrl.url is not an Amazon S3 URL")
        if self._http_put is None:
            raise ApiError("DependencyException", "the fake was given no way to reach S3")
        status = self._http_put(url, dict(headers), data)
        if status == 403:
            raise ApiError("AccessDeniedException", "S3 refused the pre-signed URL (expired or not signed for this)")
        if not 200 <= status < 300:
            raise ApiError("DependencyException", f"S3 answered HTTP {status} to the pre-signed PUT")

    def _s3_call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        if self._s3 is None:
            raise ApiError("DependencyException", "the fake was given no S3 client")
        try:
            return getattr(self._s3, method)(**kwargs)
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
            where = f"s3://{kwargs['Bucket']}/{kwargs['Key']}"
            if code in ("NoSuchBucket", "NoSuchKey", "404"):
                raise ApiError("ResourceNotFoundException", f"{where}: {code}") from exc
            raise ApiError("AccessDeniedException", f"{where}: {code}") from exc
