"""What the ingest use case needs from the services (docs/architecture.md#layers)."""

from __future__ import annotations

from typing import Protocol

from whatsapp_buffer.model import Conversation, InboundMessage, Refusal


class RawStore(Protocol):
    """The raw table as ingest writes it: each message once, refusals, what the bridge said (`adapters.raw_table`)."""

    def store_message(
        self,
        message: InboundMessage,
        now: float,
        retention_hours: float,
        cue: str | None = ...,
    ) -> bool: ...
    def stored_message(self, conversation: Conversation, message_id: str, now: float) -> InboundMessage | None: ...
    def last_arrival(self, conversation: Conversation) -> float | None: ...
    def said(self, conversation: Conversation, message_id: str, now: float) -> str | None: ...
    def sent(self, conversation: Conversation, message_id: str, now: float) -> tuple[str, str] | None: ...
    def record_refusal(
        self, conversation: Conversation, refusal: Refusal, now: float, retention_hours: float
    ) -> bool: ...
