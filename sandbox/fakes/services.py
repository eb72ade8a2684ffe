"""The one fake of Amazon Connect (chat), Connect Participant, End User Messaging Social and Amazon Transcribe's batch
jobs (`transcribe`: moto's falls short, see there).

Backends in the layout of moto's service packages (state plus one method per API call) behind one dispatcher that
records every call, injects faults and answers in the services' wire protocols (routes from botocore's models,
`rest_json`). Reached over HTTP on loopback (`start()`, the sandbox; clients find it through `endpoint_env`) or
in-process (`client(...)`, `attach(client)`, the unit tests: a botocore `before-send` handler), with the same rules
(`transport.Reachable`). Time reads the given `clock`; streaming events go to `publish(...)` outside the lock.
More: docs/sandbox.md#the-fakes-rules-and-their-sources.
"""

from __future__ import annotations

import operator
import random
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from sandbox.fakes import transcribe as transcribe_wire
from sandbox.fakes.chat import ChatItem, Chats, ContactView
from sandbox.fakes.connect import ConnectBackend
from sandbox.fakes.participant import CONNECTION_TTL_SECONDS, MAX_ATTACHMENT_BYTES, ParticipantBackend
from sandbox.fakes.records import Call, Fault, Ids, Published
from sandbox.fakes.rest_json import (
    ApiError,
    Headers,
    InvalidInput,
    RestJsonRouter,
    error_response,
    model_error_status,
    validation_error,
)
from sandbox.fakes.socialmessaging import HttpGet, HttpPut, SocialMessagingBackend, WhatsAppSent
from sandbox.fakes.transcribe import TranscribeBackend
from sandbox.fakes.transport import Reachable, requests_get, requests_put

CONNECT = "connect"
PARTICIPANT = "connectparticipant"
SOCIAL = "socialmessaging"
TRANSCRIBE = transcribe_wire.SERVICE
SERVICES = (CONNECT, PARTICIPANT, SOCIAL)
"""The rest-json services; Transcribe speaks smithy-rpc-v2-cbor (`sandbox.fakes.transcribe`)."""
ENDPOINT_ENV = {
    CONNECT: "AWS_ENDPOINT_URL_CONNECT",
    PARTICIPANT: "AWS_ENDPOINT_URL_CONNECTPARTICIPANT",
    SOCIAL: "AWS_ENDPOINT_URL_SOCIALMESSAGING",
    TRANSCRIBE: "AWS_ENDPOINT_URL_TRANSCRIBE",
}
IN_PROCESS_URL = "https://fake-services.invalid"
"""Where attachment URLs point while the fake is not served over HTTP (reachable only through `http_put/get`)."""
_VALIDATION_ERROR = {
    CONNECT: ("InvalidParameterException", "InvalidRequestException"),
    PARTICIPANT: ("ValidationException",),
    SOCIAL: ("ValidationException",),
}
"""Each service's names for invalid input, in its model's error shapes; DescribeInstance lists only the second."""

SERVED: dict[tuple[str, str], str] = {
    (CONNECT, "StartChatContact"): "connect.start_chat_contact",
    (CONNECT, "StartContactStreaming"): "connect.start_contact_streaming",
    (CONNECT, "StopContactStreaming"): "connect.stop_contact_streaming",
    (CONNECT, "StopContact"): "connect.stop_contact",
    (CONNECT, "UpdateContactAttributes"): "connect.update_contact_attributes",
    (CONNECT, "DescribeInstance"): "connect.describe_instance",
    (CONNECT, "DescribeContactFlow"): "connect.describe_contact_flow",
    (CONNECT, "ListInstanceStorageConfigs"): "connect.list_instance_storage_configs",
    (CONNECT, "DescribeInstanceAttribute"): "connect.describe_instance_attribute",
    (CONNECT, "ListLambdaFunctions"): "connect.list_lambda_functions",
    (PARTICIPANT, "CreateParticipantConnection"): "participant.create_participant_connection",
    (PARTICIPANT, "SendMessage"): "participant.send_message",
    (PARTICIPANT, "SendEvent"): "participant.send_event",
    (PARTICIPANT, "StartAttachmentUpload"): "participant.start_attachment_upload",
    (PARTICIPANT, "CompleteAttachmentUpload"): "participant.complete_attachment_upload",
    (PARTICIPANT, "GetAttachment"): "participant.get_attachment",
    (PARTICIPANT, "DisconnectParticipant"): "participant.disconnect_participant",
    (SOCIAL, "SendWhatsAppMessage"): "social.send_whatsapp_message",
    (SOCIAL, "GetWhatsAppMessageMedia"): "social.get_whatsapp_message_media",
    (SOCIAL, "PostWhatsAppMessageMedia"): "social.post_whatsapp_message_media",
    (
        SOCIAL,
        "GetLinkedWhatsAppBusinessAccountPhoneNumber",
    ): "social.templates.get_linked_whatsapp_business_account_phone_number",
    (SOCIAL, "GetLinkedWhatsAppBusinessAccount"): "social.templates.get_linked_whatsapp_business_account",
    (SOCIAL, "ListLinkedWhatsAppBusinessAccounts"): "social.templates.list_linked_whatsapp_business_accounts",
    (SOCIAL, "ListWhatsAppMessageTemplates"): "social.templates.list_whatsapp_message_templates",
    (SOCIAL, "GetWhatsAppMessageTemplate"): "social.templates.get_whatsapp_message_template",
    (TRANSCRIBE, "StartTranscriptionJob"): "transcribe.start_transcription_job",
    (TRANSCRIBE, "GetTranscriptionJob"): "transcribe.get_transcription_job",
}
"""The operations the fake serves: (service, operation) -> the backend method that answers it (attribute path)."""


class FakeServices(Reachable):
    """Connect chat + Connect Participant + End User Messaging Social of one fake account.

    `instance_ids`, `contact_flow_ids` and `phone_number_ids` are what exists in the account: anything else is
    ResourceNotFoundException, as in AWS; None accepts any id. `chat_transcripts`: the instance stores chat
    transcripts (persistent chat needs them). `s3_client` (boto3), `http_put` and `http_get` carry WhatsApp
    media to and from S3; `s3_endpoints` are URLs that stand in for amazonaws.com S3 (the sandbox's moto server).
    """

    def __init__(
        self,
        clock: Callable[[], float],
        publish: Callable[[str, str, dict[str, str]], None] | None = None,
        s3_client: Any = None,
        *,
        http_put: HttpPut | None = None,
        http_get: HttpGet | None = None,
        s3_endpoints: Iterable[str] = (),
        instance_ids: Iterable[str] | None = None,
        contact_flow_ids: Iterable[str] | None = None,
        chat_transcripts: bool = True,
        phone_number_ids: Iterable[str] | None = None,
        service_window: str = "status",
        on_status: Callable[[str, dict[str, Any]], None] | None = None,
        account_id: str = "123456789012",
        max_attachment_bytes: int = MAX_ATTACHMENT_BYTES,
        connection_ttl_seconds: float = CONNECTION_TTL_SECONDS,
        agent_name: str = "Agent",
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        self._clock = clock
        self._publish = publish
        self._router = RestJsonRouter(SERVICES)
        self._lock = threading.RLock()
        ids = Ids(seed)
        self.chats = Chats(ids, account_id, agent_name)
        self.connect = ConnectBackend(
            self.chats,
            ids,
            instance_ids=instance_ids,
            contact_flow_ids=contact_flow_ids,
            chat_transcripts=chat_transcripts,
        )
        self.participant = ParticipantBackend(
            self.chats,
            self.connect,
            ids,
            lambda: self._base_url or IN_PROCESS_URL,
            connection_ttl_seconds=connection_ttl_seconds,
            max_attachment_bytes=max_attachment_bytes,
        )
        self.social = SocialMessagingBackend(
            ids,
            s3_client=s3_client,
            http_put=http_put or requests_put,
            http_get=http_get or requests_get,
            s3_endpoints=s3_endpoints,
            phone_number_ids=phone_number_ids,
            service_window=service_window,
        )
        self.transcribe = TranscribeBackend(s3_client)
        self._on_status = on_status
        self._operations: dict[tuple[str, str], Callable[[dict[str, Any], float], Any]] = {
            key: operator.attrgetter(path)(self) for key, path in SERVED.items()
        }
        self._faults: dict[tuple[str, str], list[Fault]] = {}
        self._calls: list[Call] = []
        self._observers: list[Callable[[Call], None]] = []
        self.publish_errors: list[tuple[Published, BaseException]] = []
        self._draining = False

    # ---------------------------------------------------------------- reaching the fake (transport.Reachable)

    def endpoint_env(self) -> dict[str, str]:
        """The `AWS_ENDPOINT_URL_<SERVICE>` variables that point unmodified clients at this fake."""
        return {variable: self.url for variable in ENDPOINT_ENV.values()}

    # ---------------------------------------------------------------- the customer's and the agent's side

    def register_media(self, media_id: str, data: bytes, mime_type: str) -> None:
        """Make WhatsApp media `media_id` available to GetWhatsAppMessageMedia (the customer sent it)."""
        with self._lock:
            self.social.media[media_id] = (bytes(data), mime_type)

    def media(self, media_id: str) -> tuple[bytes, str]:
        """Bytes and MIME type of registered or posted media."""
        with self._lock:
            return self.social.media[media_id]

    def agent_message(
        self, contact_id: str, text: str, *, content_type: str = "text/plain", visibility: str = "ALL"
    ) -> str:
        """The agent types `text` into the chat; returns the message id. The agent joins on first use."""
        return self._as_agent(
            lambda at: self.connect.agent_message(
                contact_id, text, at, content_type=content_type, visibility=visibility
            )
        )

    def bot_answer(self, contact_id: str, chunks: list[str]) -> str:
        """An AI agent streams its answer into the chat in `chunks`, then completes it; returns the message id."""
        return self._as_agent(lambda at: self.connect.bot_answer(contact_id, list(chunks), at))

    def agent_attachment(self, contact_id: str, name: str, content_type: str, data: bytes) -> str:
        """The agent shares a file; returns its attachment id (downloadable through GetAttachment)."""
        return self._as_agent(lambda at: self.connect.agent_attachment(contact_id, name, content_type, data, at))

    def agent_typing(self, contact_id: str) -> None:
        self._as_agent(lambda at: self.connect.agent_typing(contact_id, at))

    def end_chat(self, contact_id: str) -> None:
        """The agent ends the chat: participant.left (agent) and chat.ended; every token stops working."""
        self._as_agent(lambda at: self.connect.end_chat(contact_id, at))

    def customer_wrote(self, origination_phone_number_id: str, wa_id: str) -> None:
        """A customer's WhatsApp message reached the business number now (opens the 24-hour service window)."""
        with self._lock:
            self.social.customer_wrote(origination_phone_number_id, wa_id, self._clock())

    def revoke_connections(self, contact_id: str) -> None:
        """The customer's connection tokens of this chat stop working (the participant token still works)."""
        with self._lock:
            self.participant.revoke_connections(contact_id)

    def tick(self) -> list[str]:
        """Let virtual time pass: end the chats whose duration elapsed (emitting their events); returns their ids."""
        with self._lock:
            ended = self.chats.expire_due(self._clock())
        self._drain()
        return ended

    def on_call(self, observer: Callable[[Call], None]) -> None:
        """Call `observer` after every answered call, outside the lock (it may act as the agent)."""
        self._observers.append(observer)

    # ---------------------------------------------------------------- what happened

    def active_contacts(self) -> list[ContactView]:
        self.tick()
        with self._lock:
            return [contact.view() for contact in self.chats.contacts.values() if contact.active]

    def contacts(self) -> list[ContactView]:
        """Every contact ever started, in start order."""
        with self._lock:
            return [contact.view() for contact in self.chats.contacts.values()]

    def contact(self, contact_id: str) -> ContactView:
        with self._lock:
            return self.chats.contacts[contact_id].view()

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, operation: str) -> list[Call]:
        return [call for call in self.calls if call.operation == operation]

    def chat_items(self, contact_id: str | None = None) -> list[ChatItem]:
        """Messages and attachments delivered to chats (one contact, or all), in order."""
        with self._lock:
            return [item for item in self.chats.items if contact_id is None or item.contact_id == contact_id]

    @property
    def whatsapp_sent(self) -> list[WhatsAppSent]:
        with self._lock:
            return list(self.social.sent)

    @property
    def published(self) -> list[Published]:
        with self._lock:
            return list(self.chats.published)

    def attachment_data(self, attachment_id: str) -> bytes | None:
        with self._lock:
            return self.chats.attachments[attachment_id].data

    # ---------------------------------------------------------------- faults

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
        if not service and name in transcribe_wire.MODEL.operation_names:
            service = TRANSCRIBE
        service = service or self._router.find_service(name)
        if status is None:
            status = (
                model_error_status(transcribe_wire.MODEL, error_code)
                if service == TRANSCRIBE
                else self._router.error_status(service, error_code)
            )
        fault = Fault(error_code, status, times, rate, random.Random(seed), message or f"injected {error_code}")
        with self._lock:
            self._faults.setdefault((service, name), []).append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # ---------------------------------------------------------------- dispatch

    def _handle_http(
        self, method: str, target: str, headers: Headers, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if urlsplit(target).path.startswith("/_fake/"):
            with self._lock:
                return self.participant.serve_presigned(method, target, headers, body, self._clock())
        transcribe_request = transcribe_wire.operation_for(urlsplit(target).path, headers.get("X-Amz-Target"))
        if transcribe_request is not None:
            return self._handle_transcribe(*transcribe_request, body)
        found = self._router.match(method, target)
        if found is None:
            return error_response(ApiError("UnknownOperationException", f"no operation at {method} {target}"), 404)
        route, labels, query = found
        service = route.service
        try:
            try:
                params = self._router.parse(route, labels, query, headers, body, self.as_aws)
            except InvalidInput as exc:
                raise ApiError(validation_error(route.operation, _VALIDATION_ERROR[service]), exc.message) from None
            output = self._dispatch(service, route.operation.name, params)
        except ApiError as err:
            return error_response(err, err.status or self._router.error_status(service, err.code))
        return self._router.response(route, output)

    def as_aws(self, value: str) -> str:
        """A URL of the sandbox's S3 (`s3_endpoints`) as the path-style amazonaws.com URL it stands for."""
        for endpoint in self.social.s3_endpoints:
            if value.startswith(endpoint):
                return "https://s3.amazonaws.com/" + value[len(endpoint) :].lstrip("/")
        return value

    def _handle_transcribe(self, operation: str, wire: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        try:
            output = self._dispatch(
                TRANSCRIBE, operation, transcribe_wire.validated(operation, transcribe_wire.decode(wire, body))
            )
        except ApiError as err:
            return transcribe_wire.encode_error(wire, err)
        return transcribe_wire.encode(wire, operation, output)

    def _dispatch(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            call, refusal = self._answer(service, operation, params)
        finally:
            self._drain()
        for observer in list(self._observers):
            observer(call)
        if refusal is not None:
            raise refusal
        return call.response or {}

    def _answer(self, service: str, operation: str, params: dict[str, Any]) -> tuple[Call, ApiError | None]:
        with self._lock:
            at = self._clock()
            self.chats.expire_due(at)
            refusal = None
            try:
                for fault in self._faults.get((service, operation), ()):
                    if fault.fires():
                        raise ApiError(fault.error_code, fault.message, fault.status)
                handler = self._operations.get((service, operation))
                if handler is None:
                    raise ApiError("NotImplementedByFake", f"the fake does not serve {operation}", 501)
                answer = handler(params, at)
            except ApiError as err:
                refusal = err
                call = Call(service, operation, params, at, err.code, None)
            else:
                response, replayed = answer if isinstance(answer, tuple) else (answer, False)
                call = Call(service, operation, params, at, None, response, replayed)
            self._calls.append(call)
            return call, refusal

    def _as_agent(self, act: Callable[[float], Any]) -> Any:
        with self._lock:
            at = self._clock()
            self.chats.expire_due(at)
            result = act(at)
        self._drain()
        return result

    def _drain(self) -> None:
        """Hand queued events to `publish` (and statuses to `on_status`) in order, outside the lock; one thread
        drains at a time."""
        with self._lock:
            statuses, self.social.statuses[:] = list(self.social.statuses), []
        for origination, status in statuses:
            if self._on_status is not None:
                self._on_status(origination, status)
        while True:
            with self._lock:
                if self._draining or not self.chats.outbox:
                    return
                self._draining = True
                event = self.chats.outbox.popleft()
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
