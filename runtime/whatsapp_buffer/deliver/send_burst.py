"""Deliver a burst to the conversation's Amazon Connect chat: start, renew or replace the chat, then send each item.

A burst is delivered at most once per chat: the inbound function wraps `BurstDelivery.deliver` in Powertools
idempotency keyed on `burst_id` (see `bootstrap`), and every participant call that delivers item i carries ClientToken
`burst.client_token(i)` (captions: `burst.client_token(i, "caption")`). When the chat is over (its duration elapsed,
the agent ended it, the token stopped working) a new chat is started, the session replaced, and the WHOLE burst is
delivered on the new chat: its agent has seen none of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor

from whatsapp_buffer import clock
from whatsapp_buffer.adapters.connect_chat import ChatContacts, ChatParticipant, start_chat_token
from whatsapp_buffer.adapters.end_user_messaging import WhatsApp
from whatsapp_buffer.adapters.media_bucket import MediaStore, inbound_key
from whatsapp_buffer.adapters.sessions_table import Session, SessionStore
from whatsapp_buffer.deliver import attachments, render
from whatsapp_buffer.errors import (
    AttachmentRejected,
    ChatSessionGone,
    MediaUnavailable,
    ReadReceiptRefused,
    TransientAwsError,
)
from whatsapp_buffer.model import MEDIA_KINDS, TEXT, Burst, OutgoingItem
from whatsapp_buffer.observability import logger, metrics
from whatsapp_buffer.settings import InboundSettings

CONNECTION_REFRESH_MARGIN_SECONDS = 300.0
"""Refresh the participant connection when it has less than this left, so no send meets an expired token."""


@dataclass(frozen=True)
class _Media:
    key: str
    name: str
    content_type: str
    kind: str


@dataclass(frozen=True)
class _Part:
    """One participant call: a text, or an attachment whose bytes wait in the media bucket."""

    client_token: str
    text: str | None = None
    media: _Media | None = None


class BurstDelivery:
    """Delivers bursts to the conversation's Connect chat, starting or replacing the chat when needed."""

    def __init__(
        self,
        *,
        settings: InboundSettings,
        sessions: SessionStore,
        contacts: ChatContacts,
        participant: ChatParticipant,
        whatsapp: WhatsApp,
        media: MediaStore,
        now: Callable[[], float] = clock.now,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._contacts = contacts
        self._participant = participant
        self._whatsapp = whatsapp
        self._media = media
        self._now = now

    def deliver(self, burst: Burst) -> dict[str, Any]:
        session = self._sessions.get(burst.conversation.key)
        if session is None or session.chat_over(self._now()):
            session = self._open_chat(burst, replacing=session)
        else:
            session = self._connected(session, burst)
        parts = self._prepare(burst)
        try:
            self._send(session, parts)
        except ChatSessionGone:
            session = self._recover(session, burst)
            self._send(session, parts)
        self._mark_read(burst)
        metrics.add_metric(name="BurstsDelivered", unit=MetricUnit.Count, value=1)
        return {"contact_id": session.contact_id, "parts": len(parts)}

    def _recover(self, session: Session, burst: Burst) -> Session:
        """A send was refused. A lost connection token is renewed and the burst goes on in the same chat (ClientTokens
        keep what the agent already saw from showing twice); only a chat that is really over is replaced."""
        try:
            connection = self._participant.connect(session.participant_token)
        except ChatSessionGone:
            logger.info("chat gone mid-delivery; starting a new one", contact_id=session.contact_id)
            return self._open_chat(burst, replacing=session)
        logger.info("connection renewed mid-delivery", contact_id=session.contact_id)
        refreshed = session.with_connection(connection.token, connection.expires_at)
        self._sessions.replace(refreshed, expected_contact_id=session.contact_id)
        return refreshed

    def _open_chat(self, burst: Burst, replacing: Session | None) -> Session:
        replaced_contact = replacing.contact_id if replacing else None
        conversation = burst.conversation
        started = self._contacts.start_chat(
            display_name=burst.display_name or conversation.masked_customer,
            attributes={
                "channel": "WhatsApp",
                "customer": conversation.masked_customer,
                "whatsappPhoneNumberId": conversation.phone_number_id,
            },
            client_token=start_chat_token(burst.burst_id, replaced_contact),
            related_contact_id=replaced_contact,
        )
        connection = self._participant.connect(started.participant_token)
        now = self._now()
        session = Session(
            conversation=conversation.key,
            contact_id=started.contact_id,
            participant_id=started.participant_id,
            participant_token=started.participant_token,
            connection_token=connection.token,
            connection_expires_at=connection.expires_at,
            started_at=now,
            origination_phone_number_id=burst.origination_phone_number_id,
            expires_at=int(now + self._settings.chat_duration_minutes * 60),
        )
        self._sessions.replace(session, expected_contact_id=replaced_contact)
        metrics.add_metric(name="ChatsStarted", unit=MetricUnit.Count, value=1)
        logger.info(
            "chat started", contact_id=started.contact_id, replaced_contact_id=replaced_contact, burst_id=burst.burst_id
        )
        return session

    def _connected(self, session: Session, burst: Burst) -> Session:
        """The session with a connection token that stays valid for the whole delivery (a new chat if it cannot)."""
        if session.connection_valid(self._now(), CONNECTION_REFRESH_MARGIN_SECONDS):
            return session
        try:
            connection = self._participant.connect(session.participant_token)
        except ChatSessionGone:
            return self._open_chat(burst, replacing=session)
        refreshed = session.with_connection(connection.token, connection.expires_at)
        self._sessions.replace(refreshed, expected_contact_id=session.contact_id)
        return refreshed

    def _prepare(self, burst: Burst) -> list[_Part]:
        parts: list[_Part] = []
        for index, item in enumerate(burst.items):
            token = burst.client_token(index)
            if item.kind == TEXT:
                if item.text:
                    parts.append(_Part(token, text=item.text))
            elif item.kind in MEDIA_KINDS:
                parts.append(self._fetch_media(burst, index, item))
                caption = str(item.content.get("caption") or "")
                if caption:
                    parts.append(_Part(burst.client_token(index, "caption"), text=render.clip(caption)))
            else:
                parts.append(_Part(token, text=render.item_text(item.kind, item.content)))
        return parts

    def _fetch_media(self, burst: Burst, index: int, item: OutgoingItem) -> _Part:
        """Ask End User Messaging what the file is first (`metadataOnly`); copy it to the media bucket only when
        Connect can attach it, otherwise one line names it for the agent."""
        token = burst.client_token(index)
        name = render.attachment_name(item.kind, item.content, index)
        media_id = str(item.content.get("media_id") or "")
        origin = burst.origination_phone_number_id
        if not media_id:
            return self._notice(burst, index, item.kind, render.UNAVAILABLE, name)
        try:
            info = self._whatsapp.media_info(media_id, origin)
        except MediaUnavailable:
            return self._notice(burst, index, item.kind, render.UNAVAILABLE, name)
        content_type = render.bare_content_type(item.content.get("mime_type") or info.mime_type)
        refusal = attachments.refusal(content_type, info.least_bytes)
        if refusal is not None:
            return self._notice(burst, index, item.kind, refusal, name, info.approx_bytes)
        key = inbound_key(burst.burst_id, index, media_id)
        try:
            self._whatsapp.fetch_media(media_id, origin, self._media.upload_url(key), content_type)
        except MediaUnavailable:
            return self._notice(burst, index, item.kind, render.UNAVAILABLE, name)
        attach_as = attachments.attachment_name(name, content_type)
        return _Part(token, media=_Media(key=key, name=attach_as, content_type=content_type, kind=item.kind))

    def _notice(
        self, burst: Burst, index: int, kind: str, reason: str, name: str, size_bytes: int | None = None
    ) -> _Part:
        logger.warning("media not attached", burst_id=burst.burst_id, item=index, reason=reason)
        metrics.add_metric(name="MediaNotices", unit=MetricUnit.Count, value=1)
        return _Part(burst.client_token(index), text=render.media_notice(kind, reason, name, size_bytes))

    def _send(self, session: Session, parts: list[_Part]) -> None:
        token = session.connection_token
        for part in parts:
            if part.media is None:
                self._participant.send_text(token, part.text or "", part.client_token)
                continue
            notice = self._send_media(token, part.media, part.client_token)
            if notice:
                metrics.add_metric(name="MediaNotices", unit=MetricUnit.Count, value=1)
                self._participant.send_text(token, notice, part.client_token)

    def _send_media(self, connection_token: str, media: _Media, client_token: str) -> str | None:
        """Attach the file; a text notice to send instead when that is impossible."""
        try:
            data = self._media.get(media.key)
        except MediaUnavailable:
            return render.media_notice(media.kind, render.UNAVAILABLE, media.name)
        if attachments.refusal(media.content_type, len(data)) is not None:
            return render.media_notice(media.kind, attachments.TOO_LARGE, media.name, len(data))
        try:
            self._participant.send_attachment(connection_token, media.name, media.content_type, data, client_token)
        except AttachmentRejected:
            return render.media_notice(media.kind, render.REJECTED, media.name)
        return None

    def _mark_read(self, burst: Burst) -> None:
        if not self._settings.mark_as_read or not burst.message_ids:
            return
        try:
            self._whatsapp.mark_read(burst.origination_phone_number_id, burst.message_ids[-1])
        except (TransientAwsError, ReadReceiptRefused):
            # The burst is in the chat already; a missing blue tick is not worth redelivering it.
            logger.warning("mark as read failed", burst_id=burst.burst_id)


def _fifo_processor() -> SqsFifoPartialProcessor:
    """A failing burst and every later burst of its conversation in the batch are batch item failures; an all-failed
    batch is reported like any other, not raised."""
    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    processor.raise_on_entire_batch_failure = False
    return processor


@dataclass(frozen=True)
class Inbound:
    """The inbound function's use case: deliver a burst, at most once per burst id."""

    delivery: BurstDelivery
    deliver_once: Callable[..., dict[str, Any]]
    idempotency: Any
    processor: SqsFifoPartialProcessor = field(default_factory=_fifo_processor)

    def deliver_body(self, body: str) -> dict[str, Any]:
        """One queue message: the burst it carries, delivered once (its log lines carry the burst id as correlation
        id)."""
        burst = Burst.from_json(body)
        logger.set_correlation_id(burst.burst_id)
        logger.append_keys(customer=burst.conversation.masked_customer)
        return self.deliver_once(burst=burst)
