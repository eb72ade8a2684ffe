"""Post one of the bridge's notices to the agent in a chat, through the customer participant's connection (a custom
participant cannot speak while an agent is in the chat): the inbound function's refusal notices and the outbound
function's notices post the same way. Why this route: docs/architecture.md#outbound.
"""

from __future__ import annotations

from whatsapp_buffer.errors import ChatSessionGone
from whatsapp_buffer.model import Session
from whatsapp_buffer.observability import count
from whatsapp_buffer.shared_ports import ChatTexts


def post_notice(participant: ChatTexts, session: Session, text: str, client_token: str) -> bool:
    """Post `text` in the session's chat under `client_token`; False, counted as `NoticesUndeliverable`, when the chat
    is over (nobody is left to read it: not retried)."""
    try:
        participant.with_renewed_connection(
            session.connection_token,
            session.participant_token,
            lambda connection: participant.send_text(connection, text, client_token),
        )
    except ChatSessionGone:
        count("NoticesUndeliverable")
        return False
    return True
