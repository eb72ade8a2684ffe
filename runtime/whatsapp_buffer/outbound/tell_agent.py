"""Tell the agent, in the chat, what of their reply did not reach the customer: posting the bridge's notices, their
ClientTokens and the `RepliesRefused` count. Kept apart from `send_reply`, which decides what each kind of reply
becomes on WhatsApp, because every kind ends here when WhatsApp will not take it, and the inbound function's refusal
notices (`inbound.refusal_notices`) post and count the same way.

Where the notice comes from: Connect's documented way for a party other than the customer and the agent to speak
in a chat is a custom participant (CreateParticipant, ParticipantRole CUSTOM_BOT), but the Admin Guide ("Customize
chat flow experiences by integrating custom participants") says "A custom participant cannot be added to a chat when
an agent or Amazon Lex bot is already present on the contact", that it is disconnected when an agent or Lex bot
joins, and that a contact has one custom participant at a time — so it cannot speak while an agent is in the chat,
which is exactly when a reply is refused. The bridge therefore posts the notice through the participant connection it
already holds, marked `notice_texts.PREFIX` so the agent reads it as the bridge's, with a ClientToken starting
`NOTICE_MARK` (idempotent per streaming event). Connect streams it back with ParticipantRole CUSTOMER, which the
relay never sends to WhatsApp (`for_customer`).
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from whatsapp_buffer.adapters.connect_chat import ChatParticipant, with_renewed_connection
from whatsapp_buffer.adapters.end_user_messaging import media_kind_for
from whatsapp_buffer.adapters.sessions_table import Session
from whatsapp_buffer.errors import ChatSessionGone, WhatsAppRefused
from whatsapp_buffer.observability import logger, metrics
from whatsapp_buffer.outbound import notice_texts
from whatsapp_buffer.outbound.streaming import Attachment, StreamingEvent

NOTICE_MARK = "bridge-notice"
"""ClientToken of a notice: `bridge-notice|<withheld or refused>|<text, image, audio, video or document>|<reason>|<streaming id>#<n>`, so a
redelivered event posts no second notice and a reader of the chat's calls can tell the bridge's lines apart."""
WITHHELD = "withheld"
"""The bridge did not send it: WhatsApp's window rule would refuse it."""
REFUSED_BY_WHATSAPP = "refused"


def notice_token(outcome: str, kind: str, reason: str, event_id: str, index: int) -> str:
    return f"{NOTICE_MARK}|{outcome}|{kind}|{reason}|{event_id}#{index}"[:500]


def count_refusal(reason: str) -> None:
    """`RepliesRefused` in the function's metrics (what the alarm watches) and once more by `Reason`."""
    metrics.add_metric(name="RepliesRefused", unit=MetricUnit.Count, value=1)
    with single_metric(name="RepliesRefused", unit=MetricUnit.Count, value=1, namespace=metrics.namespace) as by_reason:
        by_reason.add_dimension(name="Reason", value=reason)


class AgentNotices:
    """The relay's notices to the agent, through the customer participant's connection."""

    def __init__(self, participant: ChatParticipant) -> None:
        self._participant = participant

    def tell(self, session: Session, text: str, client_token: str, reason: str) -> None:
        """Post the bridge's notice in the chat (never relayed to WhatsApp: Connect streams it as the customer's
        role) and count the refusal by `reason`."""
        try:
            with_renewed_connection(
                self._participant,
                session.connection_token,
                session.participant_token,
                lambda token: self._participant.send_text(token, text, client_token),
            )
        except ChatSessionGone:
            # The chat is over: nobody is left to read the notice. Logged and counted, not retried.
            logger.warning("notice not posted: the chat has ended", contact_id=session.contact_id)
            metrics.add_metric(name="NoticesUndeliverable", unit=MetricUnit.Count, value=1)
        count_refusal(reason)

    def withheld(self, session: Session, event: StreamingEvent, text: str, kind: str, reason: str, index: int) -> None:
        """The bridge did not send the event's `index`th thing (of WhatsApp `kind`) for `reason`."""
        self.tell(session, text, notice_token(WITHHELD, kind, reason, event.message_id, index), reason)

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
        self.tell(session, text, notice_token(REFUSED_BY_WHATSAPP, sent_kind, reason, event.message_id, index), reason)

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
        token = notice_token(outcome, kind, notice_texts.FILE_REFUSED, event.message_id, index)
        self.tell(session, text, token, notice_texts.FILE_REFUSED)
