"""Outbound Lambda: Connect chat streaming (SNS out-topic) -> WhatsApp.

Relays to the customer only what Connect marks visible to them (MessageVisibility CUSTOMER or ALL) and did not come
from the customer (no echo of the bridge's own messages, no typing or read events). `chat.ended`, and the customer
participant leaving, remove the session so the next customer message opens a new chat. Each relay is idempotent on
the streaming message Id (SNS may deliver twice). A malformed body raises `MalformedEvent`: SNS invokes
asynchronously, so Lambda's retries and the function's DLQ keep it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import SNSEvent
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

from whatsapp_buffer import clock, render, streaming
from whatsapp_buffer.connect_chat import ChatParticipant
from whatsapp_buffer.errors import ChatSessionGone, MalformedEvent, MediaUnavailable
from whatsapp_buffer.handlers import Installed, reports_sdk_rejections
from whatsapp_buffer.media_store import MediaStore, outbound_key
from whatsapp_buffer.model import Conversation
from whatsapp_buffer.sessions import Session, SessionStore
from whatsapp_buffer.settings import OutboundSettings
from whatsapp_buffer.streaming import Attachment, StreamingEvent
from whatsapp_buffer.whatsapp import WhatsApp, media_kind_for

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "WhatsAppBuffer"))

IDEMPOTENCY_SECONDS = 24 * 3600

ENDED = "session_ended"
SENT = "sent"
IGNORED = "ignored"
NO_SESSION = "no_session"


class ReplyRelay:
    """Turns one streaming event into what the customer sees on WhatsApp (or into the end of the session)."""

    def __init__(
        self,
        *,
        sessions: SessionStore,
        participant: ChatParticipant,
        whatsapp: WhatsApp,
        media: MediaStore,
    ) -> None:
        self._sessions = sessions
        self._participant = participant
        self._whatsapp = whatsapp
        self._media = media

    def _session(self, event: StreamingEvent) -> Session | None:
        for contact_id in event.contact_ids:
            session = self._sessions.get_by_contact(contact_id)
            if session is not None:
                return session
        return None

    def end_session(self, event: StreamingEvent) -> str:
        session = self._session(event)
        if session is None:
            return NO_SESSION
        ended = self._sessions.end(session.conversation, session.contact_id, clock.now())
        logger.info("session ended", extra={"contact_id": session.contact_id, "marked": ended})
        return ENDED

    def relay(self, event: StreamingEvent) -> str:
        session = self._session(event)
        if session is None:
            logger.warning("no session for contact; not relayed", extra={"contact_id": event.contact_id})
            metrics.add_metric(name="RepliesDropped", unit=MetricUnit.Count, value=1)
            return NO_SESSION
        to = Conversation.from_key(session.conversation).customer
        if event.is_text:
            self._whatsapp.send_text(session.origination_phone_number_id, to, event.content or "")
        else:
            for attachment in event.attachments:
                self._relay_attachment(session, to, event.contact_id, attachment)
        metrics.add_metric(name="RepliesRelayed", unit=MetricUnit.Count, value=1)
        return SENT

    def _relay_attachment(self, session: Session, to: str, contact_id: str, attachment: Attachment) -> None:
        origination = session.origination_phone_number_id
        if attachment.status != streaming.APPROVED:
            logger.info("attachment not approved; skipped", extra={"attachment_id": attachment.attachment_id})
            return
        try:
            data = self._download(session, attachment.attachment_id)
            key = outbound_key(contact_id, attachment.attachment_id)
            self._media.put(key, data, attachment.content_type)
            media_id = self._whatsapp.post_media(origination, self._media.bucket, key)
        except (ChatSessionGone, MediaUnavailable):
            logger.warning("agent attachment not deliverable", extra={"attachment_id": attachment.attachment_id})
            self._whatsapp.send_text(origination, to, render.agent_file_notice(attachment.name))
            return
        kind = media_kind_for(attachment.content_type)
        self._whatsapp.send_media(origination, to, kind, media_id, filename=attachment.name)

    def _download(self, session: Session, attachment_id: str) -> bytes:
        try:
            return self._participant.get_attachment(session.connection_token, attachment_id)
        except ChatSessionGone:
            # The stored connection may have expired on a long chat; the participant token outlives it.
            connection = self._participant.connect(session.participant_token)
            return self._participant.get_attachment(connection.token, attachment_id)


@dataclass(frozen=True)
class _Runtime:
    relay: ReplyRelay
    relay_once: Callable[..., Any]
    idempotency: IdempotencyConfig


_installed: Installed[_Runtime] = Installed()


def configure(relay: ReplyRelay, persistence: BasePersistenceLayer) -> _Runtime:
    """Install the relay and idempotency store the handler uses (tests and the sandbox inject their own)."""
    config = IdempotencyConfig(
        event_key_jmespath="message_id", raise_on_no_idempotency_key=True, expires_after_seconds=IDEMPOTENCY_SECONDS
    )

    @idempotent_function(data_keyword_argument="event", persistence_store=persistence, config=config)
    def relay_once(*, event: StreamingEvent) -> str:
        return relay.relay(event)

    return _installed.install(_Runtime(relay=relay, relay_once=relay_once, idempotency=config))


def build_from_env() -> _Runtime:
    """Cold start: adapters from the environment the Pulumi program sets."""
    settings = OutboundSettings.from_env()
    relay = ReplyRelay(
        sessions=SessionStore(settings.sessions_table_name),
        participant=ChatParticipant(),
        whatsapp=WhatsApp(settings.meta_api_version),
        media=MediaStore(settings.media_bucket_name),
    )
    return configure(relay, DynamoDBPersistenceLayer(table_name=settings.idempotency_table_name))


def reset() -> None:
    """Forget the installed runtime; the next invocation builds it from the environment again."""
    _installed.reset()


def _runtime_for(context: Any) -> _Runtime:
    return _installed.get(context, build_from_env)


def process(event: StreamingEvent, runtime: _Runtime) -> str:
    """Decide what one streaming event means for the customer."""
    if event.ends_session:
        return runtime.relay.end_session(event)
    if event.for_customer and (event.is_text or event.type == streaming.ATTACHMENT):
        return runtime.relay_once(event=event)
    logger.info(
        "streaming event not relayed",
        extra={"type": event.type, "content_type": event.content_type, "role": event.participant_role},
    )
    return IGNORED


def parse_record(record: Any) -> StreamingEvent:
    """An SNS record -> event; the SNS MessageId stands in for a streaming message without an Id."""
    raw = record.raw_event.get("Sns") or {}
    if not isinstance(raw.get("Message"), str):
        raise MalformedEvent("SNS record without a Message")
    event = streaming.parse(raw["Message"], raw.get("MessageAttributes"))
    if not event.message_id:
        event = dataclasses.replace(event, message_id=str(raw.get("MessageId") or ""))
    return event


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@reports_sdk_rejections(logger, metrics)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    runtime = _runtime_for(context)
    outcomes = [process(parse_record(record), runtime) for record in SNSEvent(event).records]
    return {"outcomes": outcomes}
