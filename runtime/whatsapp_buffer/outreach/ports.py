"""What the outreach use case needs from the services, and the records those hand back (docs/architecture.md#layers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from whatsapp_buffer.model import OutreachRecord
from whatsapp_buffer.shared_ports import TemplateSender


@dataclass(frozen=True)
class TemplateSummary:
    """One row of ListWhatsAppMessageTemplates."""

    name: str
    language: str
    status: str
    meta_template_id: str | None


@dataclass(frozen=True)
class LinkedNumber:
    """GetLinkedWhatsAppBusinessAccountPhoneNumber's answer: the account (`waba-…`) and Meta's id of the number."""

    waba_id: str
    meta_phone_number_id: str


class WhatsApp(TemplateSender, Protocol):
    """End User Messaging Social: the number's account, its templates, the send (`adapters.end_user_messaging`)."""

    def linked_number(self, phone_number_id: str) -> LinkedNumber: ...
    def find_template(self, waba_id: str, name: str, language: str) -> TemplateSummary | None: ...
    def template_definition(self, waba_id: str, summary: TemplateSummary) -> str: ...


class OutreachRecords(Protocol):
    """The outreach sent to each customer (`adapters.outreach_records`)."""

    def get(self, conversation: str) -> OutreachRecord | None: ...
    def claim(self, record: OutreachRecord, stale_before: float) -> bool: ...
    def settle(self, conversation: str, request: str, state: str, message_id: str = ...) -> bool: ...
