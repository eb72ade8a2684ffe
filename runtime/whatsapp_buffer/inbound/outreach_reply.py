"""A customer's reply to an outreach: the chat carries the outreach's attributes and the agent first reads what the
customer is answering (a `[WhatsApp bridge]` line before the customer's words).

The outreach function records each template it sent under the conversation (`adapters.outreach_records`). The first
burst that reaches Connect after it looks the record up: a new chat starts with the record's attributes, an open one
has them set (UpdateContactAttributes), and the notice goes first under ClientToken
`bridge-notice|outreach|template|<name>|<WhatsApp message id>`, so a redelivered burst posts it once. Once delivered,
the record is marked shown in that chat and later bursts skip it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from whatsapp_buffer import clock
from whatsapp_buffer.errors import TransientAwsError
from whatsapp_buffer.inbound.ports import OutreachRecords
from whatsapp_buffer.model import OUTREACH_SENT, Burst, OutreachRecord
from whatsapp_buffer.notice_texts import PREFIX, notice_token
from whatsapp_buffer.observability import count, logger

OUTREACH = "outreach"
"""The outcome in the notice's ClientToken: not a refusal, the template the customer is answering."""


def outreach_token(record: OutreachRecord) -> str:
    return notice_token(OUTREACH, "template", record.template, record.message_id)


def notice_text(record: OutreachRecord) -> str:
    sent = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(record.sent_at))
    return (
        f"{PREFIX} The customer is answering the WhatsApp template {record.template} ({record.language}) "
        f"sent {sent}: {record.shown_text}"
    )


@dataclass
class OutreachReplies:
    records: OutreachRecords
    now: Callable[[], float] = clock.now

    def pending(self, burst: Burst) -> OutreachRecord | None:
        """The outreach this burst answers: sent before the burst's last message, not yet shown to an agent, not
        expired (TTL deletes lazily, so expiry is checked here, as `raw_messages.MessageItems.stored_message` does)."""
        try:
            record = self.records.get(burst.conversation.key)
        except TransientAwsError:
            # The burst is worth more than the notice: it goes without, and a later burst may still show it.
            logger.warning("outreach record not read")
            return None
        if record is None or record.state != OUTREACH_SENT or record.shown_in or not record.message_id:
            return None
        if record.expires_at <= int(self.now()):
            return None
        if burst.last_received_at and burst.last_received_at < record.sent_at:
            return None
        return record

    def shown(self, burst: Burst, record: OutreachRecord, contact_id: str) -> None:
        """Best effort: if the mark is lost, the next burst shows the notice again (same chat: its token keeps it
        once)."""
        try:
            self.records.mark_shown(burst.conversation.key, record.message_id, contact_id)
        except TransientAwsError:
            logger.warning("outreach not marked shown", contact_id=contact_id)
            return
        count("OutreachRepliesDelivered")
