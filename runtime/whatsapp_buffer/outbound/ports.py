"""What the outbound use case needs from the services (docs/architecture.md#layers)."""

from __future__ import annotations

from typing import Any, Protocol

from whatsapp_buffer.model import Session
from whatsapp_buffer.shared_ports import ChatTexts, TemplateSender


class SessionStore(Protocol):
    """Which Connect chat each conversation talks to (`adapters.sessions_table`)."""

    def get_by_contact(self, contact_id: str) -> Session | None: ...
    def confirm(self, found: Session) -> Session | None: ...
    def end(self, conversation: str, contact_id: str, at: float) -> bool: ...
    def set_numbered_options(self, conversation: str, contact_id: str, options: tuple[str, ...]) -> bool: ...
    def claim_template(
        self, conversation: str, contact_id: str, customer_wrote_at: float, at: float, event_id: str
    ) -> bool: ...
    def release_template(self, conversation: str, contact_id: str, event_id: str) -> bool: ...
    def settle_template(self, conversation: str, contact_id: str, event_id: str, outcome: str) -> bool: ...
    def claim_presence(
        self,
        conversation: str,
        contact_id: str,
        what: str,
        value: str,
        *,
        at: float,
        every: float,
    ) -> bool: ...


class ChatParticipant(ChatTexts, Protocol):
    """The bridge as the customer participant of a chat (`adapters.connect_chat`)."""

    def get_attachment(self, connection_token: str, attachment_id: str) -> bytes: ...


class WhatsApp(TemplateSender, Protocol):
    """End User Messaging Social, sending to the customer (`adapters.end_user_messaging`)."""

    def send_text(self, origination_phone_number_id: str, to: str, text: str) -> str: ...
    def send_media(
        self,
        origination_phone_number_id: str,
        to: str,
        kind: str,
        media_id: str,
        filename: str | None = ...,
    ) -> str: ...
    def send_interactive(self, origination_phone_number_id: str, to: str, interactive: dict[str, Any]) -> str: ...
    def mark_read(self, origination_phone_number_id: str, message_id: str, typing: bool = ...) -> None: ...
    def post_media(self, origination_phone_number_id: str, bucket: str, key: str) -> str: ...


class MediaStore(Protocol):
    """The media bucket (`adapters.media_bucket`)."""

    @property
    def bucket(self) -> str: ...

    def put(self, key: str, data: bytes, content_type: str) -> None: ...
