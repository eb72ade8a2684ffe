"""Tell the agent what WhatsApp reported failed after accepting it: a refusal item off the raw table's stream -> a
`[WhatsApp bridge]` notice in the conversation's chat.

Ingest writes the refusal item once; the inbound function, which holds the chat's connection token, reads its INSERT off
the stream and posts the notice through the customer's connection (`chat_notice`, as the outbound function's notices
do), under ClientToken `bridge-notice|failed|<kind>|<reason>|<WhatsApp message id>`, so a redelivered
record posts nothing more. A chat already over gets nothing (counted); a failure to post fails the record, so the
mapping's retries keep it. Why this route: docs/architecture.md#inbound.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from whatsapp_buffer import notice_texts
from whatsapp_buffer.chat_notice import post_notice
from whatsapp_buffer.inbound.ports import ChatParticipant, SessionStore
from whatsapp_buffer.model import Conversation
from whatsapp_buffer.observability import count, count_refusal, logger
from whatsapp_buffer.storage_keys import PK_PREFIX, RECORD_TYPE, REFUSAL

FAILED = "failed"
"""The outcome in a notice's ClientToken: WhatsApp accepted the message, then reported it failed."""


def is_refusal(image: dict[str, Any] | None) -> bool:
    return bool(image) and image.get(RECORD_TYPE) == REFUSAL  # type: ignore[union-attr]


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
        # Like the outbound function's notices, the chat is asked, not the session's clock: Connect says when it is over.
        session = self._sessions.get(conversation.key)
        if session is None:
            logger.warning("refusal not told: no open chat", message_id=message_id, reason=reason)
            count("NoticesUndeliverable")
            return 0
        if not post_notice(
            self._participant, session, text, notice_texts.notice_token(FAILED, kind, reason, message_id)
        ):
            logger.warning("refusal not told: the chat has ended", message_id=message_id, reason=reason)
            return 0
        count_refusal(reason)
        logger.info(
            "agent told WhatsApp did not deliver", message_id=message_id, reason=reason, contact_id=session.contact_id
        )
        return 1
