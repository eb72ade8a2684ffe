"""Amazon Connect Participant Service (service `connectparticipant`): the customer's side of a chat.

Enforced as botocore's model and the Amazon Connect Administrator Guide state them: calls authorised by the
participant or connection token (and their lifetimes), message content size (`CONTENT_BYTES_LIMIT`) and type
(`MESSAGE_CONTENT_TYPES`, within the contact's SupportedMessagingContentTypes), attachment types, size and count
(`ATTACHMENT_EXTENSIONS`), event content types (`EVENT_TYPES`), `ClientToken` idempotency, what an upload must be
before it is completed, and the attachment URLs' lifetimes (`UPLOAD_URL_SECONDS`, `DOWNLOAD_URL_SECONDS`) and signed
headers. Each rule, its quoted source and the error code the fake answers:
docs/sandbox.md#amazon-connect-participant-service; each is pinned by a test in `tests/contract/`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.fakes.chat import EVENT, PARTICIPANT_JOINED, TYPING, Attachment, Chats, Contact, Participant
from sandbox.fakes.connect import MESSAGE_CONTENT_TYPES, ConnectBackend
from sandbox.fakes.records import Ids, copy, iso8601
from sandbox.fakes.rest_json import ApiError, Headers

EVENT_TYPES = frozenset(
    EVENT + name for name in ("typing", "connection.acknowledged", "message.delivered", "message.read")
)
"""botocore SendEvent.ContentType: the supported event types."""

FIRST_CONNECTION_SECONDS = 300.0
"""botocore StartChatContact: "clients must subscribe … within 5 minutes"."""
CONNECTION_TTL_SECONDS = 24 * 3600.0
"""botocore CreateParticipantConnection: "Expiry time for the connection token is 1 day."."""

CONTENT_BYTES_LIMIT = 16384
"""botocore ≥ 1.43.105 SendMessage.Content: "Maximum of 16,384 bytes for all content types … Some messaging channels
enforce lower limits"; Connect's feature specifications, "Chat message size limits by channel", Chat: customer to
agent 16,384 bytes (a Lex bot in the flow takes 1,024 characters, which is why the bridge splits at 1,024 by
default). botocore up to 1.43.104 and the older API reference said 1,024 characters for text/plain."""

ATTACHMENT_EXTENSIONS: Mapping[str, frozenset[str]] = {
    ".csv": frozenset({"text/csv"}),
    ".doc": frozenset({"application/msword"}),
    ".docx": frozenset({"application/vnd.openxmlformats-officedocument.wordprocessingml.document"}),
    ".heic": frozenset({"image/heic"}),
    ".jfif": frozenset({"image/jpeg", "image/pjpeg"}),
    ".jpeg": frozenset({"image/jpeg"}),
    ".jpg": frozenset({"image/jpeg"}),
    ".mov": frozenset({"video/quicktime"}),
    ".mp4": frozenset({"video/mp4"}),
    ".pdf": frozenset({"application/pdf"}),
    ".png": frozenset({"image/png"}),
    ".ppt": frozenset({"application/vnd.ms-powerpoint"}),
    ".pptx": frozenset({"application/vnd.openxmlformats-officedocument.presentationml.presentation"}),
    ".rtf": frozenset({"application/rtf", "text/rtf"}),
    ".txt": frozenset({"text/plain"}),
    ".wav": frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"}),
    ".xls": frozenset({"application/vnd.ms-excel"}),
    ".xlsx": frozenset({"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
}
"""Connect's feature specifications list file extensions; the API takes a MIME type and a name. Sources are silent
on which of the two Connect checks, so the fake checks both: the type must be one a listed extension stands for
(the common IANA names) and a name with an extension must carry a listed one."""
ATTACHMENT_CONTENT_TYPES = frozenset().union(*ATTACHMENT_EXTENSIONS.values())
MAX_ATTACHMENT_BYTES = 20_000_000
""""20 MB" in the feature specifications; read as the smaller 20,000,000 bytes (not 20 MiB), again the stricter."""
ATTACHMENTS_PER_CHAT = 35
"""Feature specifications: "Attachments per chat conversation | 35"; botocore ServiceQuotaExceededException: "The
number of attachments per contact exceeds the quota."."""
UPLOAD_URL_SECONDS = 300
"""How long an upload URL lasts: no AWS source states it; the fake's choice, the longest GetAttachment allows."""
DOWNLOAD_URL_SECONDS = 300
"""GetAttachment without UrlExpiryInSeconds (model range 5..300, no documented default): the fake's choice."""


@dataclass
class Connection:
    token: str
    contact_id: str
    participant_id: str
    expires_at: float


@dataclass
class Grant:
    """A pre-signed URL this fake serves: what may be done to which attachment until when."""

    attachment_id: str
    method: str
    expires_at: float


def attachment_refusal(name: str, content_type: str, size: int, max_bytes: int) -> str | None:
    """Why Connect refuses this attachment, or None."""
    extension = ("." + name.rsplit(".", 1)[1].lower()) if "." in name else None
    if content_type not in ATTACHMENT_CONTENT_TYPES:
        return f"attachments of type {content_type} are not supported"
    if extension is not None and (
        extension not in ATTACHMENT_EXTENSIONS or content_type not in ATTACHMENT_EXTENSIONS[extension]
    ):
        return f"attachment name {name!r} does not carry a supported extension for {content_type}"
    if size > max_bytes:
        return f"attachment of {size} bytes exceeds the limit of {max_bytes} bytes"
    return None


class ParticipantBackend:
    """Connections, messages, events and attachments of the customers of `connect`'s contacts."""

    def __init__(
        self,
        chats: Chats,
        connect: ConnectBackend,
        ids: Ids,
        base_url: Callable[[], str],
        *,
        connection_ttl_seconds: float = CONNECTION_TTL_SECONDS,
        max_attachment_bytes: int = MAX_ATTACHMENT_BYTES,
    ) -> None:
        self.chats = chats
        self.connect = connect
        self.ids = ids
        self._base_url = base_url
        self.connection_ttl_seconds = connection_ttl_seconds
        self.max_attachment_bytes = max_attachment_bytes
        self.connections: dict[str, Connection] = {}
        self.grants: dict[str, Grant] = {}
        connect.open_connection = self._connection_information

    # ---------------------------------------------------------------- API

    def create_participant_connection(self, params: dict[str, Any], at: float) -> tuple[dict[str, Any], bool]:
        found = self.connect.participant_tokens.get(params["ParticipantToken"])
        if found is None:
            raise ApiError("AccessDeniedException", "the participant token is not valid")
        contact = self.chats.contacts[found[0]]
        if not contact.active:
            raise ApiError("AccessDeniedException", "the participant token is not valid: the chat has ended")
        participant = contact.customer
        if not participant.connected and at - contact.started_at > FIRST_CONNECTION_SECONDS:
            raise ApiError(
                "AccessDeniedException", "the participant did not connect within 5 minutes of the chat start"
            )
        response = self._connection_information(contact, at, params.get("Type") or [])
        if params.get("ConnectParticipant") and not participant.joined:
            participant.joined = True
            self.chats.emit_event(contact, participant, at, PARTICIPANT_JOINED)
        return response, False

    def send_message(self, params: dict[str, Any], at: float) -> tuple[dict[str, Any], bool]:
        contact, participant = self._connected(params["ConnectionToken"], at)
        content_type, content = params["ContentType"], params["Content"]
        if content_type not in MESSAGE_CONTENT_TYPES:
            raise ApiError("ValidationException", f"ContentType {content_type} is not supported")
        if content_type not in contact.content_types:
            raise ApiError("ValidationException", f"ContentType {content_type} is not supported on this contact")
        if not content:
            raise ApiError("ValidationException", "Content must not be empty")
        if len(content.encode("utf-8")) > CONTENT_BYTES_LIMIT:
            raise ApiError("ValidationException", f"Content is larger than {CONTENT_BYTES_LIMIT} bytes")
        token = params.get("ClientToken")
        replay = self._replay(contact, participant, "SendMessage", token)
        if replay is not None:
            return replay, True
        message_id = self.chats.add_text(contact, participant, at, content_type, content, client_token=token)
        response = {"Id": message_id, "AbsoluteTime": iso8601(at)}
        return self._remember(contact, participant, "SendMessage", token, response), False

    def send_event(self, params: dict[str, Any], at: float) -> tuple[dict[str, Any], bool]:
        contact, participant = self._connected(params["ConnectionToken"], at)
        content_type = params["ContentType"]
        if content_type not in EVENT_TYPES:
            raise ApiError("ValidationException", f"ContentType {content_type} is not a supported event type")
        token = params.get("ClientToken")
        replay = self._replay(contact, participant, "SendEvent", token)
        if replay is not None:
            return replay, True
        event_id = self.ids.new_id()
        if content_type == TYPING:
            self.chats.emit_event(contact, participant, at, TYPING, event_id=event_id)
        response = {"Id": event_id, "AbsoluteTime": iso8601(at)}
        return self._remember(contact, participant, "SendEvent", token, response), False

    def start_attachment_upload(self, params: dict[str, Any], at: float) -> tuple[dict[str, Any], bool]:
        contact, participant = self._connected(params["ConnectionToken"], at)
        token = params.get("ClientToken")
        replay = self._replay(contact, participant, "StartAttachmentUpload", token)
        if replay is not None:
            attachment = self.chats.attachments[replay["AttachmentId"]]
            if not attachment.completed:
                # A retried delivery may come after the first URL expired; a fresh one lets the retry finish.
                expires_at = at + UPLOAD_URL_SECONDS
                replay["UploadMetadata"]["Url"] = self._grant(attachment, "PUT", expires_at)
                replay["UploadMetadata"]["UrlExpiry"] = iso8601(expires_at)
            return replay, True
        name, content_type, size = params["AttachmentName"], params["ContentType"], params["AttachmentSizeInBytes"]
        if size < 1:
            raise ApiError("ValidationException", "AttachmentSizeInBytes must be at least 1")
        refusal = attachment_refusal(name, content_type, size, self.max_attachment_bytes)
        if refusal is not None:
            raise ApiError("ValidationException", refusal)
        if sum(a.contact_id == contact.contact_id for a in self.chats.attachments.values()) >= ATTACHMENTS_PER_CHAT:
            raise ApiError("ServiceQuotaExceededException", "The number of attachments per contact exceeds the quota.")
        attachment = Attachment(
            attachment_id=self.ids.new_id(),
            contact_id=contact.contact_id,
            participant_id=participant.participant_id,
            name=name,
            content_type=content_type,
            declared_size=size,
            upload_client_token=token,
        )
        self.chats.attachments[attachment.attachment_id] = attachment
        expires_at = at + UPLOAD_URL_SECONDS
        response = {
            "AttachmentId": attachment.attachment_id,
            "UploadMetadata": {
                "Url": self._grant(attachment, "PUT", expires_at),
                "UrlExpiry": iso8601(expires_at),
                "HeadersToInclude": {"Content-Type": content_type},
            },
        }
        return self._remember(contact, participant, "StartAttachmentUpload", token, response), False

    def complete_attachment_upload(self, params: dict[str, Any], at: float) -> tuple[dict[str, Any], bool]:
        contact, participant = self._connected(params["ConnectionToken"], at)
        token = params.get("ClientToken")
        replay = self._replay(contact, participant, "CompleteAttachmentUpload", token)
        if replay is not None:
            return replay, True
        attachments = []
        for attachment_id in params["AttachmentIds"]:
            attachment = self.chats.attachments.get(attachment_id)
            if attachment is None or attachment.participant_id != participant.participant_id:
                raise ApiError("ValidationException", f"attachment {attachment_id} was not started by this participant")
            if attachment.data is None:
                raise ApiError("ValidationException", f"attachment {attachment_id} has not been uploaded")
            if len(attachment.data) != attachment.declared_size:
                raise ApiError(
                    "ValidationException",
                    f"attachment {attachment_id} has {len(attachment.data)} bytes, {attachment.declared_size} declared",
                )
            attachments.append(attachment)
        for attachment in attachments:
            if not attachment.completed:
                attachment.completed = True
                self.chats.add_attachment(attachment, participant, at, token)
        return self._remember(contact, participant, "CompleteAttachmentUpload", token, {}), False

    def get_attachment(self, params: dict[str, Any], at: float) -> tuple[dict[str, Any], bool]:
        contact, _ = self._connected(params["ConnectionToken"], at)
        attachment = self.chats.attachments.get(params["AttachmentId"])
        if attachment is None or attachment.contact_id != contact.contact_id or not attachment.completed:
            raise ApiError("ValidationException", f"attachment {params['AttachmentId']} is not available in this chat")
        # The model's range 5..300 is checked with every input constraint; the default is the fake's choice.
        expires_at = at + params.get("UrlExpiryInSeconds", DOWNLOAD_URL_SECONDS)
        response = {
            "Url": self._grant(attachment, "GET", expires_at),
            "UrlExpiry": iso8601(expires_at),
            "AttachmentSizeInBytes": len(attachment.data or b""),
        }
        return response, False

    def disconnect_participant(self, params: dict[str, Any], at: float) -> tuple[dict[str, Any], bool]:
        contact, participant = self._connected(params["ConnectionToken"], at)
        self.chats.end(contact, at, "CUSTOMER_DISCONNECT", leaving=participant)
        return {}, False

    # ---------------------------------------------------------------- sandbox-facing

    def revoke_connections(self, contact_id: str) -> None:
        """Every connection token of the contact stops working (as after its expiry); the participant token still
        opens a new one while the chat lasts."""
        for token, connection in list(self.connections.items()):
            if connection.contact_id == contact_id:
                del self.connections[token]

    def serve_presigned(
        self, method: str, target: str, headers: Headers, body: bytes, now: float
    ) -> tuple[int, dict[str, str], bytes]:
        """The S3 side of the attachment URLs this fake hands out: (status, headers, body)."""
        split = urlsplit(target)
        signature = parse_qs(split.query).get("X-Amz-Signature", [""])[0]
        grant = self.grants.get(signature)
        attachment = self.chats.attachments.get(grant.attachment_id) if grant else None
        if grant is None or attachment is None or grant.method != method or attachment.attachment_id not in split.path:
            return _s3_error(403, "SignatureDoesNotMatch", "the request signature does not match")
        if now > grant.expires_at:
            return _s3_error(403, "AccessDenied", "Request has expired")
        if method == "PUT":
            sent_type = headers.get("Content-Type")
            if sent_type != attachment.content_type:
                return _s3_error(403, "SignatureDoesNotMatch", f"Content-Type {sent_type} was not signed")
            attachment.data = bytes(body)
            return 200, {"ETag": f'"{uuid.uuid5(uuid.NAMESPACE_OID, signature).hex}"'}, b""
        return 200, {"Content-Type": attachment.content_type}, attachment.data or b""

    # ---------------------------------------------------------------- helpers

    def _connection_information(self, contact: Contact, at: float, types: Sequence[str]) -> dict[str, Any]:
        """What CreateParticipantConnection's `Type` (or StartChatContact's `ConnectionTypes`) asks for; the customer
        counts as connected from then on."""
        participant = contact.customer
        participant.connected = True
        response: dict[str, Any] = {}
        expires_at = at + self.connection_ttl_seconds
        if "CONNECTION_CREDENTIALS" in types:
            connection = Connection(
                self.ids.new_token("ctok"), contact.contact_id, participant.participant_id, expires_at
            )
            self.connections[connection.token] = connection
            response["ConnectionCredentials"] = {"ConnectionToken": connection.token, "Expiry": iso8601(expires_at)}
        if "WEBSOCKET" in types:
            # Nothing listens there: the sandbox delivers Connect's side through streaming only.
            response["Websocket"] = {
                "Url": f"{self._base_url().replace('http', 'ws', 1)}/_fake/websocket/{contact.contact_id}",
                "ConnectionExpiry": iso8601(at + 100),
            }
        return response

    def _grant(self, attachment: Attachment, method: str, expires_at: float) -> str:
        signature = self.ids.new_token("sig")
        self.grants[signature] = Grant(attachment.attachment_id, method, expires_at)
        verb = "upload" if method == "PUT" else "download"
        return f"{self._base_url()}/_fake/attachments/{attachment.attachment_id}/{verb}?X-Amz-Signature={signature}"

    def _connected(self, connection_token: str, at: float) -> tuple[Contact, Participant]:
        """Connect's answer to any participant call on an ended chat or with a stale token is AccessDenied."""
        connection = self.connections.get(connection_token)
        if connection is None:
            raise ApiError("AccessDeniedException", "the connection token is not valid")
        if at >= connection.expires_at:
            raise ApiError("AccessDeniedException", "the connection token has expired")
        contact = self.chats.contacts[connection.contact_id]
        if not contact.active:
            raise ApiError("AccessDeniedException", "the chat has ended")
        participant = contact.customer
        if participant.participant_id != connection.participant_id or participant.left:
            raise ApiError("AccessDeniedException", "the participant has left the chat")
        return contact, participant

    @staticmethod
    def _replay(contact: Contact, participant: Participant, operation: str, token: str | None) -> dict[str, Any] | None:
        if not token:
            return None
        previous = contact.sent_tokens.get((participant.participant_id, operation, token))
        return None if previous is None else copy(previous)

    @staticmethod
    def _remember(
        contact: Contact, participant: Participant, operation: str, token: str | None, response: dict[str, Any]
    ) -> dict[str, Any]:
        if token:
            contact.sent_tokens[(participant.participant_id, operation, token)] = copy(response)
        return response


def _s3_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return status, {"Content-Type": "application/xml"}, body.encode("utf-8")
