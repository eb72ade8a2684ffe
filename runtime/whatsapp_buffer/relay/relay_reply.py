"""Relay an agent's reply to WhatsApp: Connect chat streaming (SNS out-topic) -> SendWhatsAppMessage.

Relays to the customer only what Connect marks visible to them (MessageVisibility CUSTOMER or ALL) and did not come
from the customer (no echo of the bridge's own messages, no typing or read events). `chat.ended`, and the customer
participant leaving, remove the session so the next customer message opens a new chat. Each relay is idempotent on
the streaming message Id (SNS may deliver twice). A malformed body raises `MalformedEvent`: SNS invokes
asynchronously, so Lambda's retries and the function's DLQ keep it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from whatsapp_buffer import clock
from whatsapp_buffer.adapters.connect_chat import ChatParticipant
from whatsapp_buffer.adapters.end_user_messaging import WhatsApp, media_kind_for
from whatsapp_buffer.adapters.media_bucket import MediaStore, outbound_key
from whatsapp_buffer.adapters.sessions_table import Session, SessionStore
from whatsapp_buffer.deliver import render
from whatsapp_buffer.errors import ChatSessionGone, MalformedEvent, MediaUnavailable
from whatsapp_buffer.model import Conversation
from whatsapp_buffer.observability import logger, metrics
from whatsapp_buffer.relay import streaming
from whatsapp_buffer.relay.streaming import Attachment, StreamingEvent

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
        now: Callable[[], float] = clock.now,
        remember_said: Callable[[str, str, str], None] | None = None,
    ) -> None:
        """`remember_said(conversation key, WhatsApp message id, text)` keeps what the agent said, so a customer's
        reply to it can quote it (issue 15)."""
        self._sessions = sessions
        self._participant = participant
        self._whatsapp = whatsapp
        self._media = media
        self._now = now
        self._remember_said = remember_said
        self._said: tuple[str, str, str] | None = None
        """What the last relay sent, kept for `remember_said` once the relay is recorded done."""

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
        ended = self._sessions.end(session.conversation, session.contact_id, self._now())
        logger.info("session ended", contact_id=session.contact_id, marked=ended)
        return ENDED

    def relay(self, event: StreamingEvent) -> str:
        session = self._session(event)
        if session is None:
            logger.warning("no session for contact; not relayed", contact_id=event.contact_id)
            metrics.add_metric(name="RepliesDropped", unit=MetricUnit.Count, value=1)
            return NO_SESSION
        to = Conversation.from_key(session.conversation).customer
        if event.is_text:
            sent_id = self._whatsapp.send_text(session.origination_phone_number_id, to, event.content or "")
            self._said = (session.conversation, sent_id, event.content or "")
        else:
            for attachment in event.attachments:
                self._relay_attachment(session, to, event.contact_id, attachment)
        metrics.add_metric(name="RepliesRelayed", unit=MetricUnit.Count, value=1)
        return SENT

    def remember_said(self) -> None:
        """Keep what the last relay sent for the quotes of replies to it. Called after the relay is recorded done, so
        nothing that happens here (a failure, a timeout) can make the reply go out twice."""
        said, self._said = self._said, None
        if self._remember_said is None or said is None or not said[1]:
            return
        conversation, message_id, text = said
        try:
            self._remember_said(conversation, message_id, text)
        except Exception as exc:  # whatever it is, the reply is out: only its quote is lost
            logger.warning("relayed message not remembered for quotes", message_id=message_id, reason=type(exc).__name__)

    def _relay_attachment(self, session: Session, to: str, contact_id: str, attachment: Attachment) -> None:
        origination = session.origination_phone_number_id
        if attachment.status != streaming.APPROVED:
            logger.info("attachment not approved; skipped", attachment_id=attachment.attachment_id)
            return
        try:
            data = self._download(session, attachment.attachment_id)
            key = outbound_key(contact_id, attachment.attachment_id)
            self._media.put(key, data, attachment.content_type)
            media_id = self._whatsapp.post_media(origination, self._media.bucket, key)
        except (ChatSessionGone, MediaUnavailable):
            logger.warning("agent attachment not deliverable", attachment_id=attachment.attachment_id)
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


def parse_record(record: Any) -> StreamingEvent:
    """An SNS record -> event; the SNS MessageId stands in for a streaming message without an Id."""
    raw = record.raw_event.get("Sns") or {}
    if not isinstance(raw.get("Message"), str):
        raise MalformedEvent("SNS record without a Message")
    event = streaming.parse(raw["Message"], raw.get("MessageAttributes"))
    if not event.message_id:
        event = dataclasses.replace(event, message_id=str(raw.get("MessageId") or ""))
    return event


@dataclass(frozen=True)
class Outbound:
    """The outbound function's use case: what one streaming event means for the customer."""

    relay: ReplyRelay
    relay_once: Callable[..., str]
    """`relay.relay`, idempotent on the streaming message id."""
    idempotency: Any

    def process(self, event: StreamingEvent) -> str:
        if event.ends_session:
            return self.relay.end_session(event)
        if event.for_customer and (event.is_text or event.type == streaming.ATTACHMENT):
            outcome = self.relay_once(event=event)
            self.relay.remember_said()
            return outcome
        logger.info(
            "streaming event not relayed", type=event.type, content_type=event.content_type, role=event.participant_role
        )
        return IGNORED
