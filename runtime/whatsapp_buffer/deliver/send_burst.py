"""Deliver a burst to the conversation's Amazon Connect chat (`start_chat`), each item in order (media: `media`).

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

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor

from whatsapp_buffer import clock
from whatsapp_buffer.adapters.connect_chat import ChatContacts, ChatParticipant
from whatsapp_buffer.adapters.end_user_messaging import WhatsApp
from whatsapp_buffer.adapters.media_bucket import MediaStore
from whatsapp_buffer.adapters.sessions_table import Session, SessionStore
from whatsapp_buffer.deliver import render
from whatsapp_buffer.deliver.media import CustomerMedia, Part
from whatsapp_buffer.deliver.start_chat import Chats
from whatsapp_buffer.errors import ChatSessionGone, ReadReceiptRefused, TransientAwsError
from whatsapp_buffer.model import MEDIA_KINDS, TEXT, Burst
from whatsapp_buffer.observability import count, logger
from whatsapp_buffer.settings import InboundSettings


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
        self._participant = participant
        self._whatsapp = whatsapp
        self._chats = Chats(
            chat_duration_minutes=settings.chat_duration_minutes,
            sessions=sessions,
            contacts=contacts,
            participant=participant,
            now=now,
        )
        self._media = CustomerMedia(whatsapp=whatsapp, media=media, participant=participant)

    def deliver(self, burst: Burst) -> dict[str, Any]:
        session = self._chats.for_burst(burst)
        parts = self._prepare(burst)
        try:
            self._send(session, parts)
        except ChatSessionGone:
            session = self._chats.recover(session, burst)
            self._send(session, parts)
        if burst.last_received_at:
            # The outbound relay reads it to know whether WhatsApp's 24-hour window is still open.
            last_id = burst.message_ids[-1] if burst.message_ids else None
            self._sessions.customer_wrote(session.conversation, session.contact_id, burst.last_received_at, last_id)
        self._mark_read(burst)
        count("BurstsDelivered")
        return {"contact_id": session.contact_id, "parts": len(parts)}

    def _prepare(self, burst: Burst) -> list[Part]:
        parts: list[Part] = []
        for index, item in enumerate(burst.items):
            token = burst.client_token(index)
            if item.kind == TEXT:
                if item.text:
                    parts.append(Part(token, text=item.text))
            elif item.kind in MEDIA_KINDS:
                parts.append(self._media.fetch(burst, index, item))
                caption = str(item.content.get("caption") or "")
                if caption:
                    parts.append(Part(burst.client_token(index, "caption"), text=render.clip(caption)))
            else:
                parts.append(Part(token, text=render.item_text(item.kind, item.content)))
        return parts

    def _send(self, session: Session, parts: list[Part]) -> None:
        token = session.connection_token
        for part in parts:
            if part.media is None:
                self._participant.send_text(token, part.text or "", part.client_token)
                continue
            notice = self._media.attach(token, part.media, part.client_token)
            if notice:
                count("MediaNotices")
                self._participant.send_text(token, notice, part.client_token)

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
