"""Tell the agent what WhatsApp reported failed after accepting it: a refusal item off the raw table's
stream -> a `[WhatsApp bridge]` notice in the conversation's chat.

Ingest writes a refusal item (`REFUSED#<WhatsApp message id>`, once: a conditional put) when a `failed` status names
a message the bridge sent; the inbound function, which holds the chat's connection token, reads its INSERT off the
stream (its mapping's filter passes only those and, on a stack that transcribes, inserted recordings) and posts the
notice through the customer's connection like the relay's synchronous notices (`outbound.tell_agent`: CUSTOM_BOT cannot
join once an agent is there). Its ClientToken `bridge-notice|failed|<kind>|<reason>|<WhatsApp message id>` makes a
redelivered record post nothing more; the outbound relay never relays a `bridge-notice|` line back to WhatsApp.

Why this route: ingest needs no new permission (it already puts items in the raw table and reads the said items)
and the stream's records cost nothing to read; a signal on the bursts FIFO queue would need ingest to send to it
(one more grant, the queue built before ingest) for no gain in order — a notice is about the agent's message, not
the customer's bursts. A chat already over gets nothing (counted); a failure to post fails the record, so the
mapping's retries keep it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from whatsapp_buffer.adapters.connect_chat import ChatParticipant, with_renewed_connection
from whatsapp_buffer.adapters.raw_common import PK_PREFIX
from whatsapp_buffer.adapters.raw_outbound import REFUSAL
from whatsapp_buffer.adapters.sessions_table import SessionStore
from whatsapp_buffer.errors import ChatSessionGone
from whatsapp_buffer.model import Conversation
from whatsapp_buffer.observability import count, logger
from whatsapp_buffer.outbound import notice_texts
from whatsapp_buffer.outbound.tell_agent import NOTICE_MARK, count_refusal

FAILED = "failed"
"""The outcome in a notice's ClientToken: WhatsApp accepted the message, then reported it failed."""


def refusal_token(kind: str, reason: str, message_id: str) -> str:
    return f"{NOTICE_MARK}|{FAILED}|{kind}|{reason}|{message_id}"[:500]


def is_refusal(image: dict[str, Any] | None) -> bool:
    return bool(image) and image.get("record_type") == REFUSAL  # type: ignore[union-attr]


class RefusalNotices:
    def __init__(self, *, sessions: SessionStore, participant: ChatParticipant) -> None:
        self._sessions = sessions
        self._participant = participant

    def handle(self, event: dict[str, Any]) -> dict[str, int]:
        """Tell the agent of every inserted refusal item of a stream batch: {"refusals_told": n}, or {} for a batch
        with none (recordings only)."""
        images = [
            record.dynamodb.new_image
            for record in DynamoDBStreamEvent(event).records
            if record.raw_event.get("eventName") == "INSERT"
            and record.dynamodb is not None
            and is_refusal(record.dynamodb.new_image)
        ]
        if not images:
            return {}
        return {"refusals_told": sum(self.tell(image) for image in images)}

    def tell(self, image: dict[str, Any]) -> int:
        pk = str(image.get("pk") or "")
        conversation = Conversation.from_key(pk.removeprefix(PK_PREFIX))
        message_id = str(image.get("message_id") or "")
        code_text = str(image.get("error_code") or "")
        code = int(code_text) if code_text.isdigit() else None
        kind = str(image.get("sent_kind") or "text")
        reason = notice_texts.failed_reason(code)
        text = notice_texts.not_delivered_after_sending(
            kind,
            str(image.get("clip") or ""),
            code,
            str(image.get("error_title") or ""),
            str(image.get("error_details") or ""),
        )
        # Like the relay's notices, the chat is asked, not the session's clock: Connect says when it is over.
        session = self._sessions.get(conversation.key)
        if session is None:
            logger.warning("refusal not told: no open chat", message_id=message_id, reason=reason)
            count("NoticesUndeliverable")
            return 0
        token = refusal_token(kind, reason, message_id)
        try:
            with_renewed_connection(
                self._participant,
                session.connection_token,
                session.participant_token,
                lambda connection: self._participant.send_text(connection, text, token),
            )
        except ChatSessionGone:
            logger.warning("refusal not told: the chat has ended", message_id=message_id, reason=reason)
            count("NoticesUndeliverable")
            return 0
        count_refusal(reason)
        logger.info(
            "agent told WhatsApp did not deliver", message_id=message_id, reason=reason, contact_id=session.contact_id
        )
        return 1
