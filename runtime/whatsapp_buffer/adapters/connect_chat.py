"""Amazon Connect adapters: `ConnectContacts` (service `connect`, IAM-authorised) starts chats; `ConnectParticipant`
(service `connectparticipant`, authorised by participant/connection tokens, not IAM) acts as the customer in them.

Errors become the project's exceptions through `aws_errors.CONNECT`: AccessDeniedException (ended chat, expired
token) -> `ChatSessionGone`; an attachment Connect will not take -> `AttachmentRejected`; throttling, 5xx and
network failures (the pre-signed URLs' too) -> `TransientAwsError`; `ConnectContacts` also names a refused related
start and stop (`RELATED_REFUSED`, `ContactNotFound`, `ContactNotStopped`). Anything else is a bug and propagates as
the botocore error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import boto3
import urllib3
from botocore.exceptions import ClientError

from whatsapp_buffer.adapters.aws_errors import CONNECT, PERSISTENT_CHAT, error_code
from whatsapp_buffer.errors import (
    ChatSessionGone,
    ContactNotFound,
    ContactNotStopped,
    RelatedChatRefused,
    TransientAwsError,
)
from whatsapp_buffer.inbound.ports import ChatStart, StartedChat
from whatsapp_buffer.model import Connection

TYPING = "application/vnd.amazonaws.connect.event.typing"
"""botocore SendEvent.ContentType: "Supported types are: application/vnd.amazonaws.connect.event.typing …"."""
Uploader = Callable[[str, Mapping[str, str], bytes], None]
"""PUT `data` to a pre-signed URL with the headers Connect asked for."""
Downloader = Callable[[str], bytes]
"""GET the bytes behind a pre-signed URL."""

SUPPORTED_CONTENT_TYPES = ("text/plain", "text/markdown", "application/vnd.amazonaws.connect.message.interactive")
"""What the bridge relays to WhatsApp (botocore StartChatContact.SupportedMessagingContentTypes: "Content types must
always contain text/plain"): agents' rich text (outbound.whatsapp_format) and flows' and bots' questions
(outbound.interactive)."""
_HTTP_TIMEOUT = urllib3.Timeout(connect=5.0, read=60.0)
_http: urllib3.PoolManager | None = None


def _pool() -> urllib3.PoolManager:
    global _http
    if _http is None:
        _http = urllib3.PoolManager(timeout=_HTTP_TIMEOUT, retries=urllib3.Retry(total=2, backoff_factor=0.5))
    return _http


def _request(what: str, method: str, url: str, **kwargs: Any) -> urllib3.BaseHTTPResponse:
    """One request to a pre-signed URL; no answer after urllib3's retries (refused, reset, timed out) is transient,
    as `aws_errors.NETWORK_ERRORS` are for Connect's own API."""
    try:
        return _pool().request(method, url, **kwargs)
    except urllib3.exceptions.HTTPError as exc:
        raise TransientAwsError(f"attachment {what}: unreachable ({type(exc).__name__})") from exc


def http_put(url: str, headers: Mapping[str, str], data: bytes) -> None:
    """Default uploader: urllib3 (already a botocore dependency)."""
    response = _request("upload", "PUT", url, body=data, headers=dict(headers))
    if response.status >= 300:
        raise TransientAwsError(f"attachment upload answered HTTP {response.status}")


def http_get(url: str) -> bytes:
    """Default downloader: urllib3 (already a botocore dependency)."""
    response = _request("download", "GET", url)
    if response.status >= 300:
        raise TransientAwsError(f"attachment download answered HTTP {response.status}")
    return response.data


def _epoch(iso_timestamp: str) -> float:
    return datetime.fromisoformat(iso_timestamp.replace("Z", "+00:00")).timestamp()


ENTIRE_PAST_SESSION = "ENTIRE_PAST_SESSION"
"""botocore PersistentChat.RehydrationType: "Rehydrates a chat from the most recently terminated past chat contact of
the specified past ended chat session. To use this type, provide the initialContactId of the past ended chat session
in the sourceContactId field"."""


RELATED_REFUSED = frozenset(
    {
        "InvalidRequestException",
        "InvalidParameterException",
        "ResourceNotFoundException",
        "IdempotentParameterMismatchException",
    }
)
"""What Connect could answer a related start with when it holds the ClientToken against the refused persistent start
or no longer has the previous contact (undocumented: the first three are StartChatContact's declared client errors;
the last is other AWS APIs' name for a reused token)."""


T = TypeVar("T")


class ConnectContacts:
    """Starts Connect chat contacts whose messages stream to the out-topic from their first moment."""

    def __init__(
        self,
        *,
        instance_id: str,
        chat_duration_minutes: int,
        streaming_topic_arn: str,
        client: Any = None,
    ) -> None:
        self._instance_id = instance_id
        self._chat_duration_minutes = chat_duration_minutes
        self._streaming_topic_arn = streaming_topic_arn
        self._client = client or boto3.client("connect")

    def start_chat(self, start: ChatStart) -> StartedChat:
        """StartChatContact with ChatStreamingConfiguration, so no agent message can slip out before streaming
        starts and no separate StartContactStreaming call can fail half-way. `start.link.continue_from`: the initial
        contact id of the customer's ended chat, continued as a persistent chat (`PersistentChatRefused` when Connect
        will not); `start.link.related_to`: the chat the new one is related to (`RelatedChatRefused` when refused)."""
        link = start.link
        request: dict[str, Any] = {
            "InstanceId": self._instance_id,
            "ContactFlowId": start.contact_flow_id,
            "ParticipantDetails": {"DisplayName": start.display_name[:256] or "WhatsApp customer"},
            "Attributes": dict(start.attributes),
            "ChatDurationInMinutes": self._chat_duration_minutes,
            "ChatStreamingConfiguration": {"StreamingEndpointArn": self._streaming_topic_arn},
            "ClientToken": start.client_token,
            "SupportedMessagingContentTypes": list(SUPPORTED_CONTENT_TYPES),
        }
        if link.related_to:
            request["RelatedContactId"] = link.related_to
        if link.continue_from:
            request["PersistentChat"] = {"RehydrationType": ENTIRE_PAST_SESSION, "SourceContactId": link.continue_from}
        try:
            with CONNECT.translating(PERSISTENT_CHAT if link.continue_from else "StartChatContact"):
                response = self._client.start_chat_contact(**request)
        except ClientError as exc:
            if link.related_to and error_code(exc) in RELATED_REFUSED:
                raise RelatedChatRefused(error_code(exc)) from exc
            raise
        return StartedChat(
            contact_id=response["ContactId"],
            participant_id=response.get("ParticipantId", ""),
            participant_token=response["ParticipantToken"],
            continued_from=response.get("ContinuedFromContactId") or None,
        )

    def stop(self, contact_id: str) -> None:
        """StopContact (botocore: "Ends the specified contact ... Chat and task contacts can be terminated in any
        state, regardless of initiation method"): a chat the bridge started and can no longer connect to.
        `ContactNotFound` when Connect no longer has it, `ContactNotStopped` for its other refusals."""
        try:
            with CONNECT.translating("StopContact"):
                self._client.stop_contact(InstanceId=self._instance_id, ContactId=contact_id)
        except ClientError as exc:
            if error_code(exc) == "ContactNotFoundException":
                raise ContactNotFound(contact_id) from exc
            raise ContactNotStopped(error_code(exc)) from exc

    def update_attributes(self, contact_id: str, attributes: Mapping[str, str]) -> None:
        """UpdateContactAttributes on an open chat (botocore: "Creates or updates user-defined contact attributes
        associated with the specified contact ... for both ongoing and completed contacts"): what the customer's
        later message says about them, such as the ad they came back from, for flows and reports."""
        with CONNECT.translating("UpdateContactAttributes"):
            self._client.update_contact_attributes(
                InstanceId=self._instance_id, InitialContactId=contact_id, Attributes=dict(attributes)
            )


class ConnectParticipant:
    """The customer's side of a Connect chat: connect, send text and attachments, download the agent's files."""

    def __init__(
        self,
        client: Any = None,
        *,
        uploader: Uploader = http_put,
        downloader: Downloader = http_get,
    ) -> None:
        self._client = client or boto3.client("connectparticipant")
        self._upload = uploader
        self._download = downloader

    def connect(self, participant_token: str) -> Connection:
        """CreateParticipantConnection: a new connection token (also how an expiring one is refreshed)."""
        with CONNECT.translating("CreateParticipantConnection"):
            response = self._client.create_participant_connection(
                Type=["CONNECTION_CREDENTIALS"], ParticipantToken=participant_token, ConnectParticipant=True
            )
        credentials = response["ConnectionCredentials"]
        return Connection(token=credentials["ConnectionToken"], expires_at=_epoch(credentials["Expiry"]))

    def send_text(self, connection_token: str, text: str, client_token: str) -> str:
        """SendMessage text/plain (the caller keeps `text` within Connect's 1,024 characters). Returns the message id."""
        with CONNECT.translating("SendMessage"):
            response = self._client.send_message(
                ContentType="text/plain", Content=text, ClientToken=client_token, ConnectionToken=connection_token
            )
        return str(response.get("Id", ""))

    def send_typing(self, connection_token: str) -> None:
        """SendEvent `application/vnd.amazonaws.connect.event.typing`: the agent sees the customer typing."""
        with CONNECT.translating("SendEvent"):
            self._client.send_event(ContentType=TYPING, ConnectionToken=connection_token)

    def send_attachment(
        self, connection_token: str, name: str, content_type: str, data: bytes, client_token: str
    ) -> str:
        """StartAttachmentUpload -> PUT -> CompleteAttachmentUpload. Returns the attachment id."""
        with CONNECT.translating("StartAttachmentUpload"):
            started = self._client.start_attachment_upload(
                ContentType=content_type,
                AttachmentSizeInBytes=len(data),
                AttachmentName=name,
                ClientToken=client_token,
                ConnectionToken=connection_token,
            )
        upload = started["UploadMetadata"]
        self._upload(upload["Url"], upload.get("HeadersToInclude") or {}, data)
        attachment_id = started["AttachmentId"]
        with CONNECT.translating("CompleteAttachmentUpload"):
            self._client.complete_attachment_upload(
                AttachmentIds=[attachment_id], ClientToken=client_token, ConnectionToken=connection_token
            )
        return attachment_id

    def get_attachment(self, connection_token: str, attachment_id: str) -> bytes:
        """GetAttachment's pre-signed URL, downloaded."""
        with CONNECT.translating("GetAttachment"):
            response = self._client.get_attachment(AttachmentId=attachment_id, ConnectionToken=connection_token)
        return self._download(response["Url"])

    def with_renewed_connection(self, connection_token: str, participant_token: str, call: Callable[[str], T]) -> T:
        """`call(connection token)` with the stored connection, and once more with a new one when Connect refuses
        it: the stored connection may have expired on a long chat; the participant token outlives it. The new
        connection is not stored. `ChatSessionGone` from the second attempt means the chat is over."""
        try:
            return call(connection_token)
        except ChatSessionGone:
            return call(self.connect(participant_token).token)
