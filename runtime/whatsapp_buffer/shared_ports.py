"""The ports two stages both need; each stage's `ports.py` builds on them (docs/architecture.md#layers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from whatsapp_buffer.model import Template

T = TypeVar("T")


class ChatTexts(Protocol):
    """The bridge as the customer participant of a chat, posting a text (`adapters.connect_chat`): what the inbound and
    outbound functions' notices to the agent need."""

    def send_text(self, connection_token: str, text: str, client_token: str) -> str: ...
    def with_renewed_connection(self, connection_token: str, participant_token: str, call: Callable[[str], T]) -> T: ...


class TemplateSender(Protocol):
    """End User Messaging Social sending an approved template (`adapters.end_user_messaging`): the outbound function's
    reengagement and the outreach function's template."""

    def send_template(
        self,
        origination_phone_number_id: str,
        to: str,
        template: Template,
        components: list[dict[str, Any]] | None = ...,
    ) -> str: ...
