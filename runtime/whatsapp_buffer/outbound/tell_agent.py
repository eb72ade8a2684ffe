"""Tell the agent, in the chat, what of their reply did not reach the customer: posting the bridge's notices, their
ClientTokens and the `RepliesRefused` count. Kept apart from `send_reply`, which decides what each kind of reply becomes
on WhatsApp, because every kind ends here when WhatsApp will not take it, and the inbound function's refusal notices
(`inbound.refusal_notices`) post and count the same way: `chat_notice.post_notice`, through the customer's participant
connection. A notice is marked `notice_texts.PREFIX`, posted under a ClientToken starting `NOTICE_MARK`, and is never
relayed back to WhatsApp (`for_customer`). Why: docs/architecture.md#outbound.
"""

from __future__ import annotations

from whatsapp_buffer import notice_texts
from whatsapp_buffer.chat_notice import post_notice
from whatsapp_buffer.errors import WhatsAppRefused
from whatsapp_buffer.model import Session, media_kind_for
from whatsapp_buffer.notice_texts import notice_token
from whatsapp_buffer.observability import count_refusal, logger
from whatsapp_buffer.outbound.ports import ChatParticipant
from whatsapp_buffer.outbound.streaming import Attachment, StreamingEvent

WITHHELD = "withheld"
"""The bridge did not send it: WhatsApp's window rule would refuse it."""
REFUSED_BY_WHATSAPP = "refused"


class AgentNotices:
    """The outbound function's notices to the agent, through the customer participant's connection."""

    def __init__(self, participant: ChatParticipant) -> None:
        self._participant = participant

    def tell(self, session: Session, text: str, client_token: str, reason: str) -> None:
        """Post the bridge's notice in the chat (never relayed to WhatsApp: Connect streams it as the customer's
        role) and count the refusal by `reason`."""
        if not post_notice(self._participant, session, text, client_token):
            logger.warning("notice not posted: the chat has ended", contact_id=session.contact_id)
        count_refusal(reason)

    def withheld(self, session: Session, event: StreamingEvent, text: str, kind: str, reason: str, index: int) -> None:
        """The bridge did not send the event's `index`th thing (of WhatsApp `kind`) for `reason`."""
        self.tell(session, text, notice_token(WITHHELD, kind, reason, f"{event.message_id}#{index}"), reason)

    def refused(
        self,
        session: Session,
        event: StreamingEvent,
        refused: WhatsAppRefused,
        kind: str,
        name: str | None,
        index: int,
        content_type: str | None = None,
    ) -> None:
        """End User Messaging refused to send it (`kind` text or file, `name` the file's)."""
        reason = notice_texts.WINDOW_CLOSED if refused.window_closed else notice_texts.WHATSAPP_REFUSED
        logger.warning(
            "WhatsApp refused the agent's reply", contact_id=session.contact_id, reason=reason, error=str(refused)
        )
        text = notice_texts.not_delivered(kind, reason, name=name)
        sent_kind = media_kind_for(content_type) if content_type else kind
        self.tell(
            session, text, notice_token(REFUSED_BY_WHATSAPP, sent_kind, reason, f"{event.message_id}#{index}"), reason
        )

    def file_refused(
        self,
        session: Session,
        event: StreamingEvent,
        attachment: Attachment,
        index: int,
        detail: str | None,
        outcome: str = WITHHELD,
    ) -> None:
        """`outcome` WITHHELD: the bridge did not upload it (WhatsApp would refuse it, or it could not be fetched
        or converted); REFUSED_BY_WHATSAPP: End User Messaging refused the upload."""
        logger.warning("agent file not delivered", attachment_id=attachment.attachment_id, reason=detail)
        text = notice_texts.not_delivered("file", notice_texts.FILE_REFUSED, name=attachment.name, detail=detail)
        kind = media_kind_for(attachment.content_type)
        token = notice_token(outcome, kind, notice_texts.FILE_REFUSED, f"{event.message_id}#{index}")
        self.tell(session, text, token, notice_texts.FILE_REFUSED)
