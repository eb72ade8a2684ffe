"""A local fake of Amazon Connect (chat), Connect Participant and End User Messaging Social on loopback.

moto serves none of the three, so the sandbox runs this instead: one small HTTP server on 127.0.0.1 that speaks
their real rest-json protocols (routes and parsing come from botocore's models, see `sandbox.fakes.rest_json`),
keeps the state a chat needs, records every call, and emits Connect chat streaming events through a `publish`
callback the way Connect publishes them to the streaming SNS topic. Unmodified boto3 clients reach it through
`endpoint_url` or `AWS_ENDPOINT_URL_CONNECT` / `_CONNECTPARTICIPANT` / `_SOCIALMESSAGING` (see `endpoint_env`).

Everything time-related reads the `clock` it is given, so the sandbox's virtual time drives token expiry, chat
durations and the `AbsoluteTime` of events.

Streaming payloads follow the Amazon Connect Administrator Guide, "Use the Amazon SNS payload after enabling
message streaming" (message attributes InitialContactId, ContactId, ParticipantRole, InstanceId, AccountId, Type,
ContentType, MessageVisibility; body AbsoluteTime, Content, ContentType, Id, Type, ParticipantId, DisplayName,
ParticipantRole, InitialContactId, ContactId) and, for attachments, the `Attachments[]` items documented by
amazon-connect-chatjs (ContentType, AttachmentId, AttachmentName, Status).
"""

from __future__ import annotations

import json
import random
import sys
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.fakes.rest_json import ApiError, MissingParameters, RestJsonRouter, error_response

CONNECT = "connect"
PARTICIPANT = "connectparticipant"
SOCIAL = "socialmessaging"
SERVICES = (CONNECT, PARTICIPANT, SOCIAL)

ENDPOINT_ENV = {
    CONNECT: "AWS_ENDPOINT_URL_CONNECT",
    PARTICIPANT: "AWS_ENDPOINT_URL_CONNECTPARTICIPANT",
    SOCIAL: "AWS_ENDPOINT_URL_SOCIALMESSAGING",
}

EVENT = "application/vnd.amazonaws.connect.event."
PARTICIPANT_JOINED = EVENT + "participant.joined"
PARTICIPANT_LEFT = EVENT + "participant.left"
TYPING = EVENT + "typing"
CHAT_ENDED = EVENT + "chat.ended"
ATTACHMENT_CONTENT_TYPE = "application/vnd.amazonaws.connect.message.attachment"
"""Connect's content type of an attachment message (chat websocket); used as the SNS `ContentType` attribute."""

TEXT_CONTENT_TYPES = frozenset({"text/plain", "text/markdown"})
MESSAGE_CONTENT_TYPES = TEXT_CONTENT_TYPES | {
    "application/json",
    "application/vnd.amazonaws.connect.message.interactive",
    "application/vnd.amazonaws.connect.message.interactive.response",
}
TEXT_LIMIT = 1024
"""Connect rejects text/plain and text/markdown messages longer than this (the model's bound is 16,384)."""

DEFAULT_ATTACHMENT_TYPES = frozenset(
    {
        "text/csv",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/pdf",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "text/plain",
        "image/heic",
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "audio/wav",
        "audio/x-wav",
        "audio/mpeg",
        "audio/ogg",
        "audio/amr",
        "audio/aac",
        "audio/mp4",
        "video/mp4",
        "video/3gpp",
    }
)
"""Attachment types a Connect instance commonly allows (the admin guide's chat attachment list plus WhatsApp's
audio formats); the sandbox may pass its own."""

DEFAULT_MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
DEFAULT_CHAT_MINUTES = 1500
MAX_WHATSAPP_MESSAGE_BYTES = 2_048_000


@dataclass(frozen=True)
class Call:
    """One API call as the fake answered it."""

    service: str
    operation: str
    params: dict[str, Any]
    """Decoded input by member name (header members such as `ConnectionToken` included; blobs as bytes)."""
    at: float
    error: str | None
    """The error code returned, or None on success."""
    response: dict[str, Any] | None
    replayed: bool = False
    """An idempotent retry (a ClientToken seen before): answered from memory, nothing delivered again."""


@dataclass(frozen=True)
class ChatItem:
    """A message or attachment that reached a chat, in the order the chat shows them."""

    at: float
    contact_id: str
    participant_role: str
    """CUSTOMER (sent through the participant API) or AGENT (sent by the sandbox's agent)."""
    kind: str
    """`text` or `attachment`."""
    message_id: str
    client_token: str | None = None
    content_type: str | None = None
    """For text: the message ContentType; for attachments: the file's MIME type."""
    content: str | None = None
    attachment_id: str | None = None
    attachment_name: str | None = None
    size: int | None = None
    upload_client_token: str | None = None
    """For customer attachments: the StartAttachmentUpload ClientToken (`client_token` is CompleteAttachmentUpload's)."""


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


@dataclass(frozen=True)
class Published:
    """A streaming event as handed to `publish` (and kept here even when no callback is set)."""

    at: float
    topic_arn: str
    message: str
    attributes: dict[str, str]

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.message)


@dataclass(frozen=True)
class ContactView:
    contact_id: str
    instance_id: str
    contact_flow_id: str
    display_name: str
    attributes: dict[str, str]
    started_at: float
    ends_at: float
    ended_at: float | None
    ended_reason: str | None
    streaming_endpoints: tuple[str, ...]
    related_contact_id: str | None
    customer_id: str | None


class ContactNotActive(LookupError):
    """The sandbox asked the agent to act on a contact that does not exist or has ended."""


@dataclass
class _Participant:
    participant_id: str
    role: str
    display_name: str
    token: str | None = None
    joined: bool = False
    left: bool = False


@dataclass
class _Contact:
    contact_id: str
    instance_id: str
    contact_flow_id: str
    display_name: str
    attributes: dict[str, str]
    started_at: float
    ends_at: float
    customer: _Participant
    related_contact_id: str | None
    customer_id: str | None
    agent: _Participant | None = None
    streaming: dict[str, str] = field(default_factory=dict)
    """Streaming endpoint ARN -> StreamingId."""
    ended_at: float | None = None
    ended_reason: str | None = None
    sent_tokens: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    """(participant id, operation, ClientToken) -> the first answer; replays return it unchanged."""

    @property
    def active(self) -> bool:
        return self.ended_at is None

    def view(self) -> ContactView:
        return ContactView(
            contact_id=self.contact_id,
            instance_id=self.instance_id,
            contact_flow_id=self.contact_flow_id,
            display_name=self.display_name,
            attributes=dict(self.attributes),
            started_at=self.started_at,
            ends_at=self.ends_at,
            ended_at=self.ended_at,
            ended_reason=self.ended_reason,
            streaming_endpoints=tuple(self.streaming),
            related_contact_id=self.related_contact_id,
            customer_id=self.customer_id,
        )


@dataclass
class _Connection:
    token: str
    contact_id: str
    participant_id: str
    expires_at: float


@dataclass
class _Attachment:
    attachment_id: str
    contact_id: str
    participant_id: str
    name: str
    content_type: str
    declared_size: int
    upload_client_token: str | None
    data: bytes | None = None
    completed: bool = False


@dataclass
class _Grant:
    """A pre-signed URL this fake serves: who may do what to which attachment until when."""

    attachment_id: str
    method: str
    expires_at: float


@dataclass
class _Fault:
    error_code: str
    status: int
    remaining: int | None
    rate: float | None
    rng: random.Random
    message: str

    def fires(self) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.rate is not None and self.rng.random() >= self.rate:
            return False
        if self.remaining is not None:
            self.remaining -= 1
        return True


def iso8601(moment: float) -> str:
    """Connect's timestamp format: `2021-09-08T18:28:04.424Z`."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(moment * 1000) % 1000:03d}Z"


class FakeServices:
    """Connect chat + Connect Participant + End User Messaging Social, on one loopback port.

    `clock` gives epoch seconds (virtual time in the sandbox). `publish(topic_arn, message, attributes)` receives
    each streaming event (the sandbox routes it like an SNS publish); it is never called while the fake holds its
    lock, so it may call back into the fake. `s3_client` (boto3) carries WhatsApp media to and from S3.

    `instance_ids`, `contact_flow_ids` and `phone_number_ids` are what exists in the fake account: pass the stack's
    values and anything else is ResourceNotFoundException, as in AWS; None accepts any id.
    """

    def __init__(
        self,
        clock: Callable[[], float],
        publish: Callable[[str, str, dict[str, str]], None] | None = None,
        s3_client: Any = None,
        *,
        instance_ids: Iterable[str] | None = None,
        contact_flow_ids: Iterable[str] | None = None,
        phone_number_ids: Iterable[str] | None = None,
        account_id: str = "123456789012",
        attachment_content_types: Iterable[str] = DEFAULT_ATTACHMENT_TYPES,
        max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
        connection_ttl_seconds: float = 24 * 3600,
        agent_name: str = "Agent",
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._clock = clock
        self._publish = publish
        self._s3 = s3_client
        self.instance_ids = frozenset(instance_ids) if instance_ids is not None else None
        self.contact_flow_ids = frozenset(contact_flow_ids) if contact_flow_ids is not None else None
        self.phone_number_ids = frozenset(phone_number_ids) if phone_number_ids is not None else None
        self.account_id = account_id
        self.attachment_content_types = frozenset(attachment_content_types)
        self.max_attachment_bytes = max_attachment_bytes
        self.connection_ttl_seconds = connection_ttl_seconds
        self.agent_name = agent_name
        self._host = host
        self._port = port
        self._router = RestJsonRouter(SERVICES)
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._contacts: dict[str, _Contact] = {}
        self._start_tokens: dict[tuple[str, str], dict[str, Any]] = {}
        self._participant_tokens: dict[str, tuple[str, str]] = {}
        self._connections: dict[str, _Connection] = {}
        self._attachments: dict[str, _Attachment] = {}
        self._grants: dict[str, _Grant] = {}
        self._media: dict[str, tuple[bytes, str]] = {}
        self._faults: dict[tuple[str, str], list[_Fault]] = {}
        self._calls: list[Call] = []
        self._items: list[ChatItem] = []
        self._whatsapp: list[WhatsAppSent] = []
        self._published: list[Published] = []
        self.publish_errors: list[tuple[Published, BaseException]] = []
        self._outbox: deque[Published] = deque()
        self._draining = False
        self._replayed = False
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None
        self._handlers: dict[tuple[str, str], Callable[[dict[str, Any], float], dict[str, Any]]] = {
            (CONNECT, "StartChatContact"): self._start_chat_contact,
            (CONNECT, "StartContactStreaming"): self._start_contact_streaming,
            (CONNECT, "StopContactStreaming"): self._stop_contact_streaming,
            (CONNECT, "StopContact"): self._stop_contact,
            (PARTICIPANT, "CreateParticipantConnection"): self._create_participant_connection,
            (PARTICIPANT, "SendMessage"): self._send_message,
            (PARTICIPANT, "SendEvent"): self._send_event,
            (PARTICIPANT, "StartAttachmentUpload"): self._start_attachment_upload,
            (PARTICIPANT, "CompleteAttachmentUpload"): self._complete_attachment_upload,
            (PARTICIPANT, "GetAttachment"): self._get_attachment,
            (PARTICIPANT, "DisconnectParticipant"): self._disconnect_participant,
            (SOCIAL, "SendWhatsAppMessage"): self._send_whatsapp_message,
            (SOCIAL, "GetWhatsAppMessageMedia"): self._get_whatsapp_message_media,
            (SOCIAL, "PostWhatsAppMessageMedia"): self._post_whatsapp_message_media,
        }

    # ---------------------------------------------------------------- server lifecycle

    def start(self) -> str:
        """Serve on loopback in a background thread; returns the base URL (`http://127.0.0.1:<port>`)."""
        if self._server is not None:
            return self.url
        server = _Server((self._host, self._port), _Handler)
        server.fake = self
        self._server = server
        self._base_url = f"http://{self._host}:{server.server_address[1]}"
        self._thread = threading.Thread(target=server.serve_forever, name="fake-services", daemon=True)
        self._thread.start()
        return self._base_url

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeServices:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the fake is not started")
        return self._base_url

    def endpoint_env(self) -> dict[str, str]:
        """The `AWS_ENDPOINT_URL_<SERVICE>` variables that point unmodified clients at this fake."""
        return {variable: self.url for variable in ENDPOINT_ENV.values()}

    # ---------------------------------------------------------------- sandbox-facing API

    def register_media(self, media_id: str, data: bytes, mime_type: str) -> None:
        """Make WhatsApp media `media_id` available to GetWhatsAppMessageMedia (the customer sent it)."""
        with self._lock:
            self._media[media_id] = (bytes(data), mime_type)

    def media(self, media_id: str) -> tuple[bytes, str]:
        """Bytes and MIME type of registered or posted media."""
        with self._lock:
            return self._media[media_id]

    def agent_message(
        self, contact_id: str, text: str, *, content_type: str = "text/plain", visibility: str = "ALL"
    ) -> str:
        """The agent types `text` into the chat; returns the message id. The agent joins on first use."""
        with self._lock:
            at = self._clock()
            self._expire_due(at)
            contact = self._active_contact(contact_id)
            agent = self._agent_joins(contact, at)
            message_id = self._new_id()
            self._items.append(
                ChatItem(at, contact_id, "AGENT", "text", message_id, content_type=content_type, content=text)
            )
            self._emit_message(contact, agent, at, message_id, content_type, text, visibility=visibility)
        self._drain()
        return message_id

    def agent_attachment(self, contact_id: str, name: str, content_type: str, data: bytes) -> str:
        """The agent shares a file; returns its attachment id (downloadable through GetAttachment)."""
        with self._lock:
            at = self._clock()
            self._expire_due(at)
            contact = self._active_contact(contact_id)
            agent = self._agent_joins(contact, at)
            attachment = _Attachment(
                attachment_id=self._new_id(),
                contact_id=contact_id,
                participant_id=agent.participant_id,
                name=name,
                content_type=content_type,
                declared_size=len(data),
                upload_client_token=None,
                data=bytes(data),
                completed=True,
            )
            self._attachments[attachment.attachment_id] = attachment
            message_id = self._new_id()
            self._items.append(self._attachment_item(attachment, "AGENT", at, message_id, None))
            self._emit_attachment(contact, agent, at, message_id, attachment)
        self._drain()
        return attachment.attachment_id

    def agent_typing(self, contact_id: str) -> None:
        with self._lock:
            at = self._clock()
            self._expire_due(at)
            contact = self._active_contact(contact_id)
            agent = self._agent_joins(contact, at)
            self._emit_event(contact, agent, at, TYPING)
        self._drain()

    def end_chat(self, contact_id: str) -> None:
        """The agent ends the chat: participant.left (agent) and chat.ended; every token stops working."""
        with self._lock:
            at = self._clock()
            self._expire_due(at)
            contact = self._active_contact(contact_id)
            self._end(contact, at, "AGENT_DISCONNECT", leaving=contact.agent)
        self._drain()

    def tick(self) -> list[str]:
        """Let virtual time pass: end the chats whose duration elapsed (emitting their events); returns their ids."""
        with self._lock:
            ended = self._expire_due(self._clock())
        self._drain()
        return ended

    def active_contacts(self) -> list[ContactView]:
        self.tick()
        with self._lock:
            return [contact.view() for contact in self._contacts.values() if contact.active]

    def contacts(self) -> list[ContactView]:
        """Every contact ever started, in start order."""
        with self._lock:
            return [contact.view() for contact in self._contacts.values()]

    def contact(self, contact_id: str) -> ContactView:
        with self._lock:
            return self._contacts[contact_id].view()

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, operation: str) -> list[Call]:
        return [call for call in self.calls if call.operation == operation]

    def chat_items(self, contact_id: str | None = None) -> list[ChatItem]:
        """Messages and attachments delivered to chats (one contact, or all), in order."""
        with self._lock:
            return [item for item in self._items if contact_id is None or item.contact_id == contact_id]

    @property
    def whatsapp_sent(self) -> list[WhatsAppSent]:
        with self._lock:
            return list(self._whatsapp)

    @property
    def published(self) -> list[Published]:
        with self._lock:
            return list(self._published)

    def attachment_data(self, attachment_id: str) -> bytes | None:
        with self._lock:
            return self._attachments[attachment_id].data

    def inject(
        self,
        operation: str,
        error_code: str,
        *,
        status: int | None = None,
        times: int | None = None,
        rate: float | None = None,
        seed: int = 0,
        message: str | None = None,
    ) -> None:
        """Make calls of `operation` fail with `error_code` before they touch any state.

        `times` caps how many calls fail; `rate` fails a seeded random fraction of calls; neither means every call
        until `clear_faults`. `operation` is an operation name, or `service:Operation` when the name is ambiguous.
        `status` defaults to the status the service's model gives that error. Several faults on one operation add up
        (each is tried in the order injected).
        """
        service, _, name = operation.rpartition(":")
        service = service or self._router.find_service(name)
        if status is None:
            status = self._router.error_status(service, error_code)
        with self._lock:
            self._faults.setdefault((service, name), []).append(
                _Fault(
                    error_code=error_code,
                    status=status,
                    remaining=times,
                    rate=rate,
                    rng=random.Random(seed),
                    message=message or f"injected {error_code}",
                )
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # ---------------------------------------------------------------- request dispatch

    def _handle_http(
        self, method: str, target: str, headers: Message, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if urlsplit(target).path.startswith("/_fake/"):
            return self._handle_presigned(method, target, headers, body)
        found = self._router.match(method, target)
        if found is None:
            return error_response(ApiError("UnknownOperationException", f"no operation at {method} {target}"), 404)
        route, labels, query = found
        service, operation = route.service, route.operation.name
        try:
            try:
                params = self._router.parse(route, labels, query, headers, body)
            except MissingParameters as exc:
                raise ApiError(_VALIDATION_ERROR[service], exc.message) from None
            output = self._dispatch(service, operation, params)
        except ApiError as err:
            return error_response(err, err.status or self._router.error_status(service, err.code))
        return self._router.response(route, output)

    def _dispatch(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            with self._lock:
                at = self._clock()
                self._expire_due(at)
                self._replayed = False
                try:
                    for fault in self._faults.get((service, operation), ()):
                        if fault.fires():
                            raise ApiError(fault.error_code, fault.message, fault.status)
                    handler = self._handlers.get((service, operation))
                    if handler is None:
                        raise ApiError("NotImplementedByFake", f"the sandbox fake does not serve {operation}", 501)
                    response = handler(params, at)
                except ApiError as err:
                    self._calls.append(Call(service, operation, params, at, err.code, None))
                    raise
                self._calls.append(Call(service, operation, params, at, None, response, self._replayed))
                return response
        finally:
            self._drain()

    # ---------------------------------------------------------------- connect

    def _start_chat_contact(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        instance_id = params["InstanceId"]
        token = params.get("ClientToken")
        if token and (instance_id, token) in self._start_tokens:
            self._replayed = True
            return dict(self._start_tokens[(instance_id, token)])
        self._known_instance(instance_id)
        flow_id = params["ContactFlowId"]
        if self.contact_flow_ids is not None and flow_id not in self.contact_flow_ids:
            raise ApiError("ResourceNotFoundException", f"contact flow {flow_id} not found")
        minutes = params.get("ChatDurationInMinutes", DEFAULT_CHAT_MINUTES)
        if not 60 <= minutes <= 10080:
            raise ApiError("InvalidParameterException", "ChatDurationInMinutes must be between 60 and 10080")
        initial = params.get("InitialMessage")
        if initial and initial["ContentType"] in TEXT_CONTENT_TYPES and len(initial["Content"]) > TEXT_LIMIT:
            raise ApiError("InvalidParameterException", f"InitialMessage is longer than {TEXT_LIMIT} characters")
        related = params.get("RelatedContactId")
        if related is not None and related not in self._contacts:
            raise ApiError("ResourceNotFoundException", f"related contact {related} not found")
        display_name = params["ParticipantDetails"]["DisplayName"]
        customer = _Participant(self._new_id(), "CUSTOMER", display_name, token=self._new_token("ptok"))
        contact = _Contact(
            contact_id=self._new_id(),
            instance_id=instance_id,
            contact_flow_id=flow_id,
            display_name=display_name,
            attributes=dict(params.get("Attributes") or {}),
            started_at=at,
            ends_at=at + minutes * 60,
            customer=customer,
            related_contact_id=related,
            customer_id=params.get("CustomerId"),
        )
        self._contacts[contact.contact_id] = contact
        self._participant_tokens[customer.token] = (contact.contact_id, customer.participant_id)
        response: dict[str, Any] = {
            "ContactId": contact.contact_id,
            "ParticipantId": customer.participant_id,
            "ParticipantToken": customer.token,
        }
        streaming = params.get("ChatStreamingConfiguration")
        if streaming:
            response["StreamingId"] = self._stream(contact, streaming["StreamingEndpointArn"])
        if initial:
            self._items.append(
                ChatItem(
                    at,
                    contact.contact_id,
                    "CUSTOMER",
                    "text",
                    self._new_id(),
                    client_token=token,
                    content_type=initial["ContentType"],
                    content=initial["Content"],
                )
            )
        if token:
            self._start_tokens[(instance_id, token)] = dict(response)
        return response

    def _start_contact_streaming(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        contact = self._contact_on_instance(params["InstanceId"], params["ContactId"])
        arn = params["ChatStreamingConfiguration"]["StreamingEndpointArn"]
        if arn in contact.streaming:
            self._replayed = True
            return {"StreamingId": contact.streaming[arn]}
        if not contact.active:
            raise ApiError("InvalidRequestException", f"contact {contact.contact_id} has ended")
        return {"StreamingId": self._stream(contact, arn)}

    def _stop_contact_streaming(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        contact = self._contact_on_instance(params["InstanceId"], params["ContactId"])
        for arn, streaming_id in list(contact.streaming.items()):
            if streaming_id == params["StreamingId"]:
                del contact.streaming[arn]
                return {}
        raise ApiError("ResourceNotFoundException", f"streaming {params['StreamingId']} not found")

    def _stop_contact(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        self._known_instance(params["InstanceId"])
        contact = self._contacts.get(params["ContactId"])
        if contact is None or contact.instance_id != params["InstanceId"] or not contact.active:
            raise ApiError("ContactNotFoundException", "the contact is not active or does not exist")
        self._end(contact, at, "API", leaving=None)
        return {}

    # ---------------------------------------------------------------- connect participant

    def _create_participant_connection(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        found = self._participant_tokens.get(params["ParticipantToken"])
        if found is None:
            raise ApiError("AccessDeniedException", "the participant token is not valid")
        contact = self._contacts[found[0]]
        if not contact.active:
            raise ApiError("AccessDeniedException", "the participant token is not valid: the chat has ended")
        participant = contact.customer
        response: dict[str, Any] = {}
        types = params.get("Type") or []
        expires_at = at + self.connection_ttl_seconds
        if "CONNECTION_CREDENTIALS" in types:
            connection = _Connection(
                self._new_token("ctok"), contact.contact_id, participant.participant_id, expires_at
            )
            self._connections[connection.token] = connection
            response["ConnectionCredentials"] = {"ConnectionToken": connection.token, "Expiry": iso8601(expires_at)}
        if "WEBSOCKET" in types:
            # Nothing listens there: the sandbox delivers Connect's side through streaming only.
            response["Websocket"] = {
                "Url": f"{self.url.replace('http', 'ws', 1)}/_fake/websocket/{contact.contact_id}",
                "ConnectionExpiry": iso8601(at + 100),
            }
        if params.get("ConnectParticipant") and not participant.joined:
            participant.joined = True
            self._emit_event(contact, participant, at, PARTICIPANT_JOINED)
        return response

    def _send_message(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        contact, participant = self._connected(params["ConnectionToken"], at)
        content_type, content = params["ContentType"], params["Content"]
        if content_type not in MESSAGE_CONTENT_TYPES:
            raise ApiError("ValidationException", f"ContentType {content_type} is not supported")
        if not content:
            raise ApiError("ValidationException", "Content must not be empty")
        if content_type in TEXT_CONTENT_TYPES and len(content) > TEXT_LIMIT:
            raise ApiError("ValidationException", f"Content is longer than {TEXT_LIMIT} characters")
        token = params.get("ClientToken")
        replay = self._replay(contact, participant, "SendMessage", token)
        if replay is not None:
            return replay
        message_id = self._new_id()
        self._items.append(
            ChatItem(
                at,
                contact.contact_id,
                participant.role,
                "text",
                message_id,
                client_token=token,
                content_type=content_type,
                content=content,
            )
        )
        self._emit_message(contact, participant, at, message_id, content_type, content, visibility="ALL")
        return self._remember(
            contact, participant, "SendMessage", token, {"Id": message_id, "AbsoluteTime": iso8601(at)}
        )

    def _send_event(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        contact, participant = self._connected(params["ConnectionToken"], at)
        content_type = params["ContentType"]
        if not content_type.startswith(EVENT):
            raise ApiError("ValidationException", f"ContentType {content_type} is not an event type")
        token = params.get("ClientToken")
        replay = self._replay(contact, participant, "SendEvent", token)
        if replay is not None:
            return replay
        event_id = self._new_id()
        if content_type == TYPING:
            self._emit_event(contact, participant, at, TYPING, event_id=event_id)
        return self._remember(contact, participant, "SendEvent", token, {"Id": event_id, "AbsoluteTime": iso8601(at)})

    def _start_attachment_upload(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        contact, participant = self._connected(params["ConnectionToken"], at)
        token = params.get("ClientToken")
        replay = self._replay(contact, participant, "StartAttachmentUpload", token)
        if replay is not None:
            attachment = self._attachments[replay["AttachmentId"]]
            if not attachment.completed:
                # A retried delivery may come after the first URL expired; a fresh one lets the retry finish.
                expires_at = at + 300
                replay["UploadMetadata"]["Url"] = self._grant(attachment, "PUT", expires_at)
                replay["UploadMetadata"]["UrlExpiry"] = iso8601(expires_at)
            return replay
        content_type, size = params["ContentType"], params["AttachmentSizeInBytes"]
        if content_type not in self.attachment_content_types:
            raise ApiError("ValidationException", f"attachments of type {content_type} are not allowed")
        if size > self.max_attachment_bytes:
            raise ApiError(
                "ServiceQuotaExceededException",
                f"attachment of {size} bytes exceeds the limit of {self.max_attachment_bytes} bytes",
            )
        if size < 1:
            raise ApiError("ValidationException", "AttachmentSizeInBytes must be at least 1")
        attachment = _Attachment(
            attachment_id=self._new_id(),
            contact_id=contact.contact_id,
            participant_id=participant.participant_id,
            name=params["AttachmentName"],
            content_type=content_type,
            declared_size=size,
            upload_client_token=token,
        )
        self._attachments[attachment.attachment_id] = attachment
        expires_at = at + 300
        response = {
            "AttachmentId": attachment.attachment_id,
            "UploadMetadata": {
                "Url": self._grant(attachment, "PUT", expires_at),
                "UrlExpiry": iso8601(expires_at),
                "HeadersToInclude": {"Content-Type": content_type},
            },
        }
        return self._remember(contact, participant, "StartAttachmentUpload", token, response)

    def _complete_attachment_upload(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        contact, participant = self._connected(params["ConnectionToken"], at)
        token = params.get("ClientToken")
        replay = self._replay(contact, participant, "CompleteAttachmentUpload", token)
        if replay is not None:
            return replay
        attachments = []
        for attachment_id in params["AttachmentIds"]:
            attachment = self._attachments.get(attachment_id)
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
            if attachment.completed:
                continue
            attachment.completed = True
            message_id = self._new_id()
            self._items.append(self._attachment_item(attachment, participant.role, at, message_id, token))
            self._emit_attachment(contact, participant, at, message_id, attachment)
        return self._remember(contact, participant, "CompleteAttachmentUpload", token, {})

    def _get_attachment(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        contact, _ = self._connected(params["ConnectionToken"], at)
        attachment = self._attachments.get(params["AttachmentId"])
        if attachment is None or attachment.contact_id != contact.contact_id or not attachment.completed:
            raise ApiError("ValidationException", f"attachment {params['AttachmentId']} is not available in this chat")
        seconds = params.get("UrlExpiryInSeconds", 300)
        if not 5 <= seconds <= 300:
            raise ApiError("ValidationException", "UrlExpiryInSeconds must be between 5 and 300")
        expires_at = at + seconds
        return {
            "Url": self._grant(attachment, "GET", expires_at),
            "UrlExpiry": iso8601(expires_at),
            "AttachmentSizeInBytes": len(attachment.data or b""),
        }

    def _disconnect_participant(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        contact, participant = self._connected(params["ConnectionToken"], at)
        self._end(contact, at, "CUSTOMER_DISCONNECT", leaving=participant)
        return {}

    # ---------------------------------------------------------------- end user messaging social

    def _send_whatsapp_message(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        origination = self._known_number(params["originationPhoneNumberId"])
        raw: bytes = params["message"]
        if len(raw) > MAX_WHATSAPP_MESSAGE_BYTES:
            raise ApiError("ValidationException", f"message is larger than {MAX_WHATSAPP_MESSAGE_BYTES} bytes")
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
            kind = "read"
        else:
            kind = str(message.get("type") or "text")
            if not message.get("to"):
                raise ApiError("InvalidParametersException", 'message needs "to"')
            if not isinstance(message.get(kind), dict):
                raise ApiError("InvalidParametersException", f'message of type {kind} needs a "{kind}" object')
        body = message.get(kind) if isinstance(message.get(kind), dict) else None
        message_id = f"wamid.{self._new_token('fake')}"
        self._whatsapp.append(
            WhatsAppSent(
                at=at,
                message_id=message_id,
                origination_phone_number_id=origination,
                meta_api_version=params["metaApiVersion"],
                to=message.get("to"),
                type=kind,
                text=body.get("body") if kind == "text" and body else None,
                media=body if kind not in ("text", "read") else None,
                message=message,
            )
        )
        return {"messageId": message_id}

    def _get_whatsapp_message_media(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        self._known_number(params["originationPhoneNumberId"])
        media = self._media.get(params["mediaId"])
        if media is None:
            raise ApiError("ResourceNotFoundException", f"media {params['mediaId']} not found or expired")
        data, mime_type = media
        if params.get("metadataOnly"):
            return {"mimeType": mime_type, "fileSize": len(data)}
        destination = params.get("destinationS3File")
        if destination is None:
            raise ApiError("ValidationException", "destinationS3File is required (the fake serves no presigned URLs)")
        self._s3_call(
            "put_object", Bucket=destination["bucketName"], Key=destination["key"], Body=data, ContentType=mime_type
        )
        return {"mimeType": mime_type, "fileSize": len(data)}

    def _post_whatsapp_message_media(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        self._known_number(params["originationPhoneNumberId"])
        source = params.get("sourceS3File")
        if source is None:
            raise ApiError("ValidationException", "sourceS3File is required (the fake serves no presigned URLs)")
        answer = self._s3_call("get_object", Bucket=source["bucketName"], Key=source["key"])
        data = answer["Body"].read()
        media_id = str(self._rng.randrange(10**15, 10**16))
        self._media[media_id] = (data, answer.get("ContentType") or "application/octet-stream")
        return {"mediaId": media_id}

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

    # ---------------------------------------------------------------- presigned attachment URLs

    def _grant(self, attachment: _Attachment, method: str, expires_at: float) -> str:
        signature = self._new_token("sig")
        self._grants[signature] = _Grant(attachment.attachment_id, method, expires_at)
        verb = "upload" if method == "PUT" else "download"
        return f"{self.url}/_fake/attachments/{attachment.attachment_id}/{verb}?X-Amz-Signature={signature}"

    def _handle_presigned(
        self, method: str, target: str, headers: Message, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(target)
        signature = parse_qs(split.query).get("X-Amz-Signature", [""])[0]
        with self._lock:
            grant = self._grants.get(signature)
            attachment = self._attachments.get(grant.attachment_id) if grant else None
            if (
                grant is None
                or attachment is None
                or grant.method != method
                or attachment.attachment_id not in split.path
            ):
                return _s3_error(403, "SignatureDoesNotMatch", "the request signature does not match")
            if self._clock() > grant.expires_at:
                return _s3_error(403, "AccessDenied", "Request has expired")
            if method == "PUT":
                sent_type = headers.get("Content-Type")
                if sent_type != attachment.content_type:
                    return _s3_error(403, "SignatureDoesNotMatch", f"Content-Type {sent_type} was not signed")
                attachment.data = bytes(body)
                return 200, {"ETag": f'"{uuid.uuid5(uuid.NAMESPACE_OID, signature).hex}"'}, b""
            data = attachment.data or b""
            return 200, {"Content-Type": attachment.content_type}, data

    # ---------------------------------------------------------------- state helpers (lock held)

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _new_token(self, prefix: str) -> str:
        return f"{prefix}-{self._rng.getrandbits(160):040x}"

    def _known_instance(self, instance_id: str) -> None:
        if self.instance_ids is not None and instance_id not in self.instance_ids:
            raise ApiError("ResourceNotFoundException", f"instance {instance_id} not found")

    def _known_number(self, origination: str) -> str:
        if self.phone_number_ids is not None:
            number = origination.rsplit("/", 1)[-1]
            if number not in self.phone_number_ids:
                raise ApiError("ResourceNotFoundException", f"phone number {origination} not found")
        return origination

    def _contact_on_instance(self, instance_id: str, contact_id: str) -> _Contact:
        self._known_instance(instance_id)
        contact = self._contacts.get(contact_id)
        if contact is None or contact.instance_id != instance_id:
            raise ApiError("ResourceNotFoundException", f"contact {contact_id} not found")
        return contact

    def _active_contact(self, contact_id: str) -> _Contact:
        contact = self._contacts.get(contact_id)
        if contact is None or not contact.active:
            raise ContactNotActive(f"contact {contact_id} is not active")
        return contact

    def _connected(self, connection_token: str, at: float) -> tuple[_Contact, _Participant]:
        """Connect's answer to any participant call on an ended chat or with a stale token is AccessDenied."""
        connection = self._connections.get(connection_token)
        if connection is None:
            raise ApiError("AccessDeniedException", "the connection token is not valid")
        if at >= connection.expires_at:
            raise ApiError("AccessDeniedException", "the connection token has expired")
        contact = self._contacts[connection.contact_id]
        if not contact.active:
            raise ApiError("AccessDeniedException", "the chat has ended")
        participant = contact.customer
        if participant.participant_id != connection.participant_id or participant.left:
            raise ApiError("AccessDeniedException", "the participant has left the chat")
        return contact, participant

    def _replay(self, contact: _Contact, participant: _Participant, operation: str, token: str | None) -> dict | None:
        if not token:
            return None
        previous = contact.sent_tokens.get((participant.participant_id, operation, token))
        if previous is None:
            return None
        self._replayed = True
        return json.loads(json.dumps(previous))

    def _remember(
        self, contact: _Contact, participant: _Participant, operation: str, token: str | None, response: dict
    ) -> dict[str, Any]:
        if token:
            contact.sent_tokens[(participant.participant_id, operation, token)] = json.loads(json.dumps(response))
        return response

    def _stream(self, contact: _Contact, arn: str) -> str:
        streaming_id = contact.streaming.get(arn) or self._new_id()
        contact.streaming[arn] = streaming_id
        return streaming_id

    def _agent_joins(self, contact: _Contact, at: float) -> _Participant:
        if contact.agent is None:
            contact.agent = _Participant(self._new_id(), "AGENT", self.agent_name, joined=True)
            self._emit_event(contact, contact.agent, at, PARTICIPANT_JOINED)
        return contact.agent

    def _end(self, contact: _Contact, at: float, reason: str, leaving: _Participant | None) -> None:
        if leaving is not None and not leaving.left:
            leaving.left = True
            self._emit_event(contact, leaving, at, PARTICIPANT_LEFT)
        contact.ended_at = at
        contact.ended_reason = reason
        self._emit_event(contact, None, at, CHAT_ENDED)

    def _expire_due(self, now: float) -> list[str]:
        due = sorted(
            (c for c in self._contacts.values() if c.active and c.ends_at <= now),
            key=lambda c: (c.ends_at, c.contact_id),
        )
        for contact in due:
            self._end(contact, contact.ends_at, "EXPIRED", leaving=None)
        return [contact.contact_id for contact in due]

    def _attachment_item(
        self, attachment: _Attachment, role: str, at: float, message_id: str, token: str | None
    ) -> ChatItem:
        return ChatItem(
            at,
            attachment.contact_id,
            role,
            "attachment",
            message_id,
            client_token=token,
            content_type=attachment.content_type,
            attachment_id=attachment.attachment_id,
            attachment_name=attachment.name,
            size=len(attachment.data or b""),
            upload_client_token=attachment.upload_client_token,
        )

    # ---------------------------------------------------------------- streaming

    def _emit_message(
        self,
        contact: _Contact,
        participant: _Participant,
        at: float,
        message_id: str,
        content_type: str,
        content: str,
        *,
        visibility: str,
    ) -> None:
        body = {"AbsoluteTime": iso8601(at), "Content": content, "ContentType": content_type, "Id": message_id}
        self._emit(contact, participant, at, "MESSAGE", content_type, body, visibility)

    def _emit_attachment(
        self, contact: _Contact, participant: _Participant, at: float, message_id: str, attachment: _Attachment
    ) -> None:
        body = {
            "AbsoluteTime": iso8601(at),
            "Attachments": [
                {
                    "ContentType": attachment.content_type,
                    "AttachmentId": attachment.attachment_id,
                    "AttachmentName": attachment.name,
                    "Status": "APPROVED",
                }
            ],
            "Id": message_id,
        }
        self._emit(contact, participant, at, "ATTACHMENT", ATTACHMENT_CONTENT_TYPE, body, "ALL")

    def _emit_event(
        self,
        contact: _Contact,
        participant: _Participant | None,
        at: float,
        content_type: str,
        *,
        event_id: str | None = None,
    ) -> None:
        body = {"AbsoluteTime": iso8601(at), "ContentType": content_type, "Id": event_id or self._new_id()}
        self._emit(contact, participant, at, "EVENT", content_type, body, "ALL")

    def _emit(
        self,
        contact: _Contact,
        participant: _Participant | None,
        at: float,
        kind: str,
        content_type: str,
        body: dict[str, Any],
        visibility: str,
    ) -> None:
        if not contact.streaming:
            return
        body["Type"] = kind
        attributes = {
            "InitialContactId": contact.contact_id,
            "MessageVisibility": visibility,
            "Type": kind,
            "AccountId": self.account_id,
            "ContentType": content_type,
            "InstanceId": contact.instance_id,
            "ContactId": contact.contact_id,
        }
        if participant is not None:
            body.update(
                ParticipantId=participant.participant_id,
                DisplayName=participant.display_name,
                ParticipantRole=participant.role,
            )
            attributes["ParticipantRole"] = participant.role
        body.update(InitialContactId=contact.contact_id, ContactId=contact.contact_id)
        message = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        for arn in contact.streaming:
            event = Published(at, arn, message, dict(attributes))
            self._published.append(event)
            self._outbox.append(event)

    def _drain(self) -> None:
        """Hand queued events to `publish` in order, outside the lock; one thread drains at a time."""
        while True:
            with self._lock:
                if self._draining or not self._outbox:
                    return
                self._draining = True
                event = self._outbox.popleft()
            try:
                if self._publish is not None:
                    self._publish(event.topic_arn, event.message, dict(event.attributes))
            except Exception as exc:
                # Connect publishes asynchronously: a subscriber's failure never reaches the API caller.
                with self._lock:
                    self.publish_errors.append((event, exc))
            finally:
                with self._lock:
                    self._draining = False


_VALIDATION_ERROR = {
    CONNECT: "InvalidParameterException",
    PARTICIPANT: "ValidationException",
    SOCIAL: "ValidationException",
}


def _s3_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return status, {"Content-Type": "application/xml"}, body.encode("utf-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeServices

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer is normal for a pooled connection; anything else is still reported."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeServices/1"
    # Headers and body go out in two writes; with Nagle on, keep-alive clients wait ~40 ms for each answer.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence: the sandbox owns stdout and stderr."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            status, headers, payload = self.server.fake._handle_http(self.command, self.path, self.headers, body)
        except Exception as exc:
            status, headers, payload = error_response(ApiError("InternalServerException", f"fake failed: {exc!r}"), 500)
        self.send_response(status)
        headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _serve
