"""Accept what customers send: End User Messaging events -> one raw-table item per message (+ its control item).

A bad message never hides its good siblings: the good ones are stored first, then the invocation fails with
MalformedEvent so Lambda's retries and the ingest dead-letter queue keep the body (storing is idempotent). A reply is
stored with a short quote of what it replies to when that is still known. A `failed` status of a message the bridge sent
becomes a refusal item, written once, for the inbound function to tell the agent (`inbound.refusal_notices`); of any
other message it is only counted. Each message after an earlier one of its conversation reports its follow-up gap
(`FollowUpGap`). More: docs/architecture.md#ingest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import SNSEvent

from whatsapp_buffer import clock, end_of_turn, render
from whatsapp_buffer.environment import IngestSettings
from whatsapp_buffer.errors import MalformedEvent, WhatsAppBufferError
from whatsapp_buffer.ingest import webhook
from whatsapp_buffer.ingest.meta_content import clean
from whatsapp_buffer.ingest.ports import RawStore
from whatsapp_buffer.model import Conversation, InboundMessage, Refusal
from whatsapp_buffer.observability import count, logger


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    ignored: int = 0
    statuses: int = 0
    rejected: int = 0
    refusals: int = 0
    """Failed statuses of messages the bridge sent, recorded for the agent's notice (once per message)."""
    failures: list[MalformedEvent] = field(default_factory=list)
    arrivals: dict[str, float] = field(default_factory=dict)
    """Conversation key -> when this invocation stored its latest message: the next one's previous arrival, unread."""

    def to_dict(self) -> dict[str, int]:
        return {
            "stored": self.stored,
            "duplicates": self.duplicates,
            "ignored": self.ignored,
            "statuses": self.statuses,
        }


@dataclass
class Ingest:
    store: RawStore
    settings: IngestSettings
    now: Callable[[], float] = clock.now

    def handle(self, event: SNSEvent) -> dict[str, int]:
        result = IngestResult()
        for record in event.records:
            self.ingest_body(record.sns.message, result, sns_message_id=record.sns.message_id)
        _count(result)
        if len(result.failures) == 1:
            raise result.failures[0]
        if result.failures:
            raise MalformedEvent("; ".join(str(f) for f in result.failures))
        return result.to_dict()

    def ingest_body(self, body: str, result: IngestResult, sns_message_id: str = "") -> None:
        now = self.now()
        try:
            parsed = webhook.parse_sns_message(body, received_at=now)
        except MalformedEvent as exc:
            logger.warning("event rejected", sns_message_id=sns_message_id, reason=str(exc))
            result.failures.append(exc)
            result.rejected += 1
            return
        result.statuses += parsed.statuses
        for message in parsed.messages:
            self._store(message, now, result)
        for failed in parsed.failed:
            self._refusal(failed, now, result)
        if parsed.rejections:
            summary = parsed.rejection_summary()
            logger.warning(
                "messages rejected", sns_message_id=sns_message_id, event_id=parsed.event.event_id, reason=summary
            )
            result.failures.append(MalformedEvent(f"{len(parsed.rejections)} message(s) rejected: {summary}"))
            result.rejected += len(parsed.rejections)

    def _store(self, message: InboundMessage, now: float, result: IngestResult) -> None:
        ids: dict[str, Any] = {  # Any: Logger's keywords include exc_info and stacklevel, so str values don't check
            "message_id": message.message_id,
            "kind": message.kind,
            "phone_number_id": message.conversation.phone_number_id,
            "customer": message.conversation.masked_customer,
        }
        if self._ignored(message):
            result.ignored += 1
            logger.info("message ignored by configuration", **ids)
            return
        key = message.conversation.key
        previous = result.arrivals[key] if key in result.arrivals else self._last_arrival(message.conversation, ids)
        if self.store.store_message(
            self._quoted(message, now), now, self.settings.retention_hours, cue=cue_of_message(message)
        ):
            result.stored += 1
            result.arrivals[key] = now
            logger.info("message stored", **ids)
            if previous is not None:
                gap = follow_up_gap(previous, now, self.settings.max_wait_seconds)
                count("FollowUpGap", gap, MetricUnit.Seconds)
        else:
            result.duplicates += 1
            logger.info("redelivered message dropped", **ids)

    def _last_arrival(self, conversation: Conversation, ids: dict[str, Any]) -> float | None:
        """When the conversation's previous message arrived, for its follow-up gap; a read that fails costs the
        gap, never the message."""
        try:
            return self.store.last_arrival(conversation)
        except WhatsAppBufferError as exc:
            logger.warning("previous arrival not read; no follow-up gap", reason=type(exc).__name__, **ids)
            return None

    def _refusal(self, failed: webhook.FailedStatus, now: float, result: IngestResult) -> None:
        for customer in failed.recipients:
            conversation = Conversation(failed.phone_number_id, customer)
            sent = self.store.sent(conversation, failed.message_id, now)
            if sent is None:
                continue
            kind, clip = sent
            refusal = Refusal(
                message_id=failed.message_id,
                sent_kind=kind,
                clip=clean(clip),
                error_code="" if failed.code is None else str(failed.code),
                error_title=failed.title,
                error_details=failed.details,
            )
            recorded = self.store.record_refusal(conversation, refusal, now, self.settings.retention_hours)
            result.refusals += int(recorded)
            logger.info(
                "WhatsApp did not deliver a message the bridge sent",
                message_id=failed.message_id,
                error_code=failed.code,
                customer=conversation.masked_customer,
                first_report=recorded,
            )
            return
        logger.info("failed status of a message the bridge did not send", message_id=failed.message_id)

    def _quoted(self, message: InboundMessage, now: float) -> InboundMessage:
        context = message.content.get("context")
        replied_to = context.get("id") if isinstance(context, dict) else None
        if message.kind in ("edit", "revoke") or message.content.get("edit_of"):
            replied_to, context = message.content.get("original_id") or message.content.get("edit_of"), None
        if not replied_to or message.kind in ("interactive", "button"):
            return message
        if not webhook.is_message_id(replied_to):
            # Ingest stores no message under such an id (Meta's examples are all `wamid.` + base64), and as a key it
            # may be over DynamoDB's size limit, which fails the read.
            logger.info("reply original not looked up: not a WhatsApp message id", message_id=message.message_id)
            return message
        try:
            said = self.store.said(message.conversation, replied_to, now)
            original = None if said else self.store.stored_message(message.conversation, replied_to, now)
        except WhatsAppBufferError as exc:
            logger.warning("reply original not looked up", message_id=message.message_id, reason=type(exc).__name__)
            return message
        if said:
            # The agent's words as the outbound function kept them: cleaned like the customer's before they travel on.
            quoted = {"by": render.AGENT, "text": clean(said)}
        elif original is not None:
            quoted = {"by": render.CUSTOMER, "text": render.quoted_text(original.kind, original.content)}
        else:
            return message
        if context is None:  # an edit or revoke: what the original said
            return replace(message, content={**message.content, "quote": quoted["text"]})
        return replace(message, content={**message.content, "context": {**context, "quote": quoted}})

    def _ignored(self, message: InboundMessage) -> bool:
        return (message.kind == "reaction" and self.settings.ignore_reactions) or (
            message.kind == "sticker" and self.settings.ignore_stickers
        )


def cue_of_message(message: InboundMessage) -> str:
    """The end-of-turn cue the control item keeps for this message: a label from its kind and words, never the words."""
    words = message.content.get("text") or message.content.get("caption")
    return end_of_turn.cue_of(message.kind, words if isinstance(words, str) else None).value


def follow_up_gap(previous_arrival: float, now: float, cap: float) -> float:
    """Seconds from a customer's previous message to this one (both as ingest received them), at most `cap`
    (`maxWaitSeconds`: the buffer treats every longer gap alike), never negative (two ingests of one conversation at
    once may store out of order); to the millisecond."""
    return round(min(max(now - previous_arrival, 0.0), cap), 3)


def _count(result: IngestResult) -> None:
    for name, value in (
        ("MessagesStored", result.stored),
        ("DuplicatesDropped", result.duplicates),
        ("MessagesIgnored", result.ignored),
        ("InputsRejected", result.rejected),
        ("RefusalsReported", result.refusals),
    ):
        if value:
            count(name, value)
