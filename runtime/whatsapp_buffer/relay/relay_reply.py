"""Relay an agent's reply to WhatsApp: Connect chat streaming (SNS out-topic) -> SendWhatsAppMessage.

Relays to the customer only what Connect marks visible to them (MessageVisibility CUSTOMER or ALL) and did not come
from the customer (no echo of the bridge's own messages, no typing or read events). `chat.ended`, and the customer
participant leaving, remove the session so the next customer message opens a new chat. Each relay is idempotent on
the streaming message Id (SNS may deliver twice). A malformed body raises `MalformedEvent`: SNS invokes
asynchronously, so Lambda's retries and the function's DLQ keep it.

Nothing the agent sends fails silently: what WhatsApp will not take — a free-form reply after the 24-hour window
(`service_window`), a message End User Messaging refuses, a file WhatsApp does not accept — is told to the agent in the
same chat (`notices`), counted as `RepliesRefused` (by `Reason`), and not retried or dead-lettered.

Where the notice comes from: Connect's documented way for a party other than the customer and the agent to speak
in a chat is a custom participant (CreateParticipant, ParticipantRole CUSTOM_BOT), but the Admin Guide ("Customize
chat flow experiences by integrating custom participants") says "A custom participant cannot be added to a chat when
an agent or Amazon Lex bot is already present on the contact", that it is disconnected when an agent or Lex bot
joins, and that a contact has one custom participant at a time — so it cannot speak while an agent is in the chat,
which is exactly when a reply is refused. The bridge therefore posts the notice through the participant connection it
already holds, marked `notices.PREFIX` so the agent reads it as the bridge's, with a ClientToken starting
`NOTICE_MARK` (idempotent per streaming event). Connect streams it back with ParticipantRole CUSTOMER, which the
relay never sends to WhatsApp (`for_customer`).
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from whatsapp_buffer import clock
from whatsapp_buffer.adapters.connect_chat import ChatParticipant
from whatsapp_buffer.adapters.end_user_messaging import Template, WhatsApp, media_kind_for
from whatsapp_buffer.adapters.media_bucket import MediaStore, outbound_key
from whatsapp_buffer.adapters.sessions_table import Session, SessionStore
from whatsapp_buffer.deliver import convert, render
from whatsapp_buffer.errors import (
    ChatSessionGone,
    MalformedEvent,
    MediaUnavailable,
    ReadReceiptRefused,
    TransientAwsError,
    WhatsAppBufferError,
    WhatsAppRefused,
)
from whatsapp_buffer.model import Conversation
from whatsapp_buffer.observability import logger, metrics
from whatsapp_buffer.relay import (
    agent_files,
    interactive,
    long_reply,
    notices,
    service_window,
    streaming,
    whatsapp_format,
)
from whatsapp_buffer.relay.streaming import Attachment, StreamingEvent

ENDED = "session_ended"
SENT = "sent"
REFUSED = "refused"
IGNORED = "ignored"
NO_SESSION = "no_session"
PRESENCE = "presence"

TYPING_EVERY_SECONDS = 20.0
"""WhatsApp dismisses a typing indicator "once you respond, or after 25 seconds": an agent still typing refreshes it
a little before that; Connect streams a typing event per keystroke burst, most of which send nothing."""

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


class ReplyRelay:
    """Turns one streaming event into what the customer sees on WhatsApp (or into the end of the session)."""

    def __init__(
        self,
        *,
        sessions: SessionStore,
        participant: ChatParticipant,
        whatsapp: WhatsApp,
        media: MediaStore,
        now: Callable[[], float] = clock.now,
        template: Template | None = None,
        presence: bool = False,
        remember_said: Callable[[str, str, str, str], None] | None = None,
    ) -> None:
        """`remember_said(conversation key, WhatsApp message id, text, kind)` keeps what the bridge sent (every kind:
        text, interactive, template, image/audio/video/document), so a customer's reply to it can quote it and a
        `failed` status of it can be told to the agent (`ingest.accept`)."""
        self._remember_said = remember_said
        self._said: list[tuple[str, str, str, str]] = []
        """What the last relay sent, kept for `remember_said` once the relay is recorded done."""
        self._template = template
        self.presence = presence
        """Agent typing -> WhatsApp typing indicator, agent read -> read receipt (`agentPresence`)."""
        self.send_part_once: Callable[..., str] = self.send_part
        """`send_part`, idempotent on the part's message id once the composition root installs that."""
        self._sessions = sessions
        self._participant = participant
        self._whatsapp = whatsapp
        self._media = media
        self._now = now

    def _session(self, event: StreamingEvent) -> Session | None:
        for contact_id in event.contact_ids:
            session = self._sessions.get_by_contact(contact_id)
            if session is not None:
                return session
        return None

    def end_session(self, event: StreamingEvent) -> str:
        session = self._session(event)
        if session is None:
            return NO_SESSION
        ended = self._sessions.end(session.conversation, session.contact_id, self._now())
        logger.info("session ended", contact_id=session.contact_id, marked=ended)
        return ENDED

    def relay(self, event: StreamingEvent) -> str:
        session = self._session(event)
        if session is None:
            logger.warning("no session for contact; not relayed", contact_id=event.contact_id)
            metrics.add_metric(name="RepliesDropped", unit=MetricUnit.Count, value=1)
            return NO_SESSION
        to = Conversation.from_key(session.conversation).customer
        now = self._now()
        if not service_window.window_open(session.customer_wrote_at, now):
            hours = service_window.hours_since(session.customer_wrote_at or now, now)
            kind = "text" if event.is_text or event.is_interactive else "file"
            template = self._reengage(session, to, now)
            for index, (name, sent_kind) in enumerate(self._what_was_sent(event)):
                text = notices.not_delivered(
                    kind,
                    notices.WINDOW_CLOSED,
                    hours=hours,
                    name=name,
                    template=template,
                    template_name=self._template.name if self._template else "",
                )
                self._tell_agent(
                    session,
                    event,
                    text,
                    notice_token(WITHHELD, sent_kind, notices.WINDOW_CLOSED, event.message_id, index),
                )
                count_refusal(notices.WINDOW_CLOSED)
            logger.info("reply withheld: the 24-hour window is closed", contact_id=session.contact_id, hours=hours)
            return REFUSED
        outcome = SENT
        question = interactive.parse(event.content or "") if event.is_interactive else None
        if event.is_interactive and question is None:
            # A template WhatsApp has no counterpart for (time picker, panel, carousel, ...): never raw JSON.
            logger.warning("interactive message of a template WhatsApp cannot show", contact_id=session.contact_id)
            text = notices.not_delivered("text", notices.UNSUPPORTED)
            self._tell_agent(
                session, event, text, notice_token(WITHHELD, "text", notices.UNSUPPORTED, event.message_id, 0)
            )
            count_refusal(notices.UNSUPPORTED)
            return REFUSED
        if question is not None:
            kind, body = interactive.as_whatsapp(question)
            try:
                if kind == "interactive":
                    sent_id = self._whatsapp.send_interactive(session.origination_phone_number_id, to, body)
                    self._said.append((session.conversation, sent_id, question.body, "interactive"))
                else:
                    sent_id = self._whatsapp.send_text(session.origination_phone_number_id, to, body["body"])
                    self._said.append((session.conversation, sent_id, question.body, "text"))
                self._remember_numbered(session, tuple(t for t, _ in question.options) if kind == "text" else ())
            except WhatsAppRefused as refused:
                self._refused(session, event, refused, "text", None, 0)
                outcome = REFUSED
        elif event.is_text:
            self._remember_numbered(session, ())
            texts = long_reply.split_reply(customer_text(event))
            # A reply in several messages: each is sent once even when a later one fails and the event is retried.
            send = self.send_part if len(texts) == 1 else self.send_part_once
            try:
                for index, text in enumerate(texts):
                    part = {"message_id": f"{event.message_id}#{index}", "to": to, "text": text}
                    sent_id = send(part={**part, "origination": session.origination_phone_number_id})
                    self._said.append((session.conversation, sent_id, text, "text"))
            except WhatsAppRefused as refused:
                self._refused(session, event, refused, "text", None, 0)
                outcome = REFUSED
            if len(texts) > 1:
                metrics.add_metric(name="RepliesSplit", unit=MetricUnit.Count, value=1)
        else:
            for index, attachment in enumerate(event.attachments):
                if not self._relay_attachment(session, to, event, attachment, index):
                    outcome = REFUSED
        if outcome == SENT:
            metrics.add_metric(name="RepliesRelayed", unit=MetricUnit.Count, value=1)
        return outcome

    def signal_presence(self, event: StreamingEvent) -> str:
        """The agent types (typing indicator, at most every `TYPING_EVERY_SECONDS`) or read the customer's messages
        (read receipt for the latest, once): both name the customer's latest WhatsApp message, and WhatsApp marks
        the earlier ones read with it. Not worth a retry: a failure is logged and dropped."""
        session = self._session(event)
        if session is None or not session.last_customer_message_id:
            return IGNORED
        if event.agent_typing:
            what, every = "typing", TYPING_EVERY_SECONDS
        elif any(reader != session.participant_id for reader in event.read_by):
            what, every = "read", float("inf")
        else:
            return IGNORED
        message_id = session.last_customer_message_id
        if not self._sessions.claim_presence(
            session.conversation, session.contact_id, what, message_id, at=self._now(), every=every
        ):
            return IGNORED
        try:
            self._whatsapp.mark_read(session.origination_phone_number_id, message_id, typing=what == "typing")
        except (ReadReceiptRefused, TransientAwsError) as failed:
            logger.warning("presence not shown on WhatsApp", what=what, error=str(failed))
            return IGNORED
        metrics.add_metric(
            name="TypingShown" if what == "typing" else "ReadReceiptsSent", unit=MetricUnit.Count, value=1
        )
        return PRESENCE

    def remember_said(self) -> None:
        """Keep what the last relay sent for the quotes of replies to it. Called after the relay is recorded done, so
        nothing that happens here (a failure, a timeout) can make the reply go out twice."""
        said, self._said = self._said, []
        if self._remember_said is None:
            return
        for conversation, message_id, text, kind in said:
            if not message_id:
                continue
            try:
                self._remember_said(conversation, message_id, text, kind)
            except Exception as exc:  # whatever it is, the reply is out: only its quote is lost
                logger.warning(
                    "relayed message not remembered for quotes", message_id=message_id, reason=type(exc).__name__
                )

    def _remember_numbered(self, session: Session, options: tuple[str, ...]) -> None:
        """Keep the options of a question sent as numbered text (so the customer's "2" answers it), or forget them
        once something else was sent. Best effort: a failure only leaves "2" passed on as typed."""
        if options == session.numbered_options:
            return
        try:
            self._sessions.set_numbered_options(session.conversation, session.contact_id, options)
        except WhatsAppBufferError as exc:
            logger.warning("numbered question not recorded", contact_id=session.contact_id, reason=type(exc).__name__)

    def send_part(self, *, part: dict[str, str]) -> str:
        """Send one text message of a reply: `part` = {message_id, origination, to, text}."""
        return self._whatsapp.send_text(part["origination"], part["to"], part["text"])

    def _reengage(self, session: Session, to: str, now: float) -> str | None:
        """Send the re-engagement template once per closed window; what became of it (None: none configured)."""
        if self._template is None or session.customer_wrote_at is None:
            return None
        if not self._sessions.claim_template(session.conversation, session.contact_id, session.customer_wrote_at, now):
            return notices.TEMPLATE_ALREADY_SENT
        try:
            sent_id = self._whatsapp.send_template(session.origination_phone_number_id, to, self._template)
            self._said.append((session.conversation, sent_id, self._template.name, "template"))
        except WhatsAppRefused as refused:
            logger.warning("re-engagement template refused", contact_id=session.contact_id, error=str(refused))
            return notices.TEMPLATE_REFUSED
        metrics.add_metric(name="TemplatesSent", unit=MetricUnit.Count, value=1)
        return notices.TEMPLATE_SENT

    @staticmethod
    def _what_was_sent(event: StreamingEvent) -> list[tuple[str | None, str]]:
        """One (file name, WhatsApp kind) per thing the customer would have received: the text, or each file."""
        if event.is_text or event.is_interactive:
            return [(None, "text")]
        return [(a.name, media_kind_for(a.content_type)) for a in event.attachments if a.status == streaming.APPROVED]

    def _refused(
        self,
        session: Session,
        event: StreamingEvent,
        refused: WhatsAppRefused,
        kind: str,
        name: str | None,
        index: int,
        content_type: str | None = None,
    ) -> None:
        reason = notices.WINDOW_CLOSED if refused.window_closed else notices.WHATSAPP_REFUSED
        logger.warning(
            "WhatsApp refused the agent's reply", contact_id=session.contact_id, reason=reason, error=str(refused)
        )
        text = notices.not_delivered(kind, reason, name=name)
        sent_kind = media_kind_for(content_type) if content_type else kind
        self._tell_agent(
            session, event, text, notice_token(REFUSED_BY_WHATSAPP, sent_kind, reason, event.message_id, index)
        )
        count_refusal(reason)

    def _tell_agent(self, session: Session, event: StreamingEvent, text: str, client_token: str) -> None:
        """Post the bridge's notice in the chat (never relayed to WhatsApp: Connect streams it as the customer's role)."""
        try:
            try:
                self._participant.send_text(session.connection_token, text, client_token)
            except ChatSessionGone:
                # The stored connection may have expired on a long chat; the participant token outlives it.
                connection = self._participant.connect(session.participant_token)
                self._participant.send_text(connection.token, text, client_token)
        except ChatSessionGone:
            # The chat is over: nobody is left to read the notice. Logged and counted, not retried.
            logger.warning("notice not posted: the chat has ended", contact_id=session.contact_id)
            metrics.add_metric(name="NoticesUndeliverable", unit=MetricUnit.Count, value=1)

    def _relay_attachment(
        self, session: Session, to: str, event: StreamingEvent, attachment: Attachment, index: int
    ) -> bool:
        """Send one agent file (converted when WhatsApp needs another type); False when it did not reach the
        customer (the agent is told why)."""
        origination = session.origination_phone_number_id
        if attachment.status != streaming.APPROVED:
            logger.info("attachment not approved; skipped", attachment_id=attachment.attachment_id)
            return True
        try:
            data = self._download(session, attachment.attachment_id)
        except (ChatSessionGone, MediaUnavailable):
            logger.warning("agent attachment not downloadable", attachment_id=attachment.attachment_id)
            self._file_refused(session, event, attachment, index, None)
            try:
                self._whatsapp.send_text(origination, to, render.agent_file_notice(attachment.name))
            except WhatsAppRefused:
                logger.warning("file notice to the customer refused", attachment_id=attachment.attachment_id)
            return False
        plan = agent_files.plan(attachment.content_type, len(data))
        if plan.refusal:
            self._file_refused(session, event, attachment, index, plan.refusal)
            return False
        content_type, name = attachment.content_type, attachment.name
        if plan.conversion is not None:
            try:
                data = _convert(data, plan.conversion, plan.limit(content_type))
            except convert.ConvertedTooLarge as too_large:
                self._file_refused(
                    session,
                    event,
                    attachment,
                    index,
                    agent_files.too_large(plan.conversion.content_type, too_large.size_bytes),
                )
                return False
            except convert.ConversionFailed:
                self._file_refused(
                    session, event, attachment, index, "it could not be converted to a type WhatsApp accepts"
                )
                return False
            content_type = plan.conversion.content_type
            name = convert.converted_name(name, plan.conversion.extension)
            metrics.add_metric(name="AgentFilesConverted", unit=MetricUnit.Count, value=1)
        try:
            key = outbound_key(event.contact_id, attachment.attachment_id)
            self._media.put(key, data, content_type)
            media_id = self._whatsapp.post_media(origination, self._media.bucket, key)
        except MediaUnavailable:
            self._file_refused(session, event, attachment, index, None, REFUSED_BY_WHATSAPP)
            return False
        try:
            sent_id = self._whatsapp.send_media(origination, to, media_kind_for(content_type), media_id, filename=name)
            self._said.append((session.conversation, sent_id, name or attachment.name, media_kind_for(content_type)))
        except WhatsAppRefused as refused:
            self._refused(session, event, refused, "file", attachment.name, index, content_type)
            return False
        return True

    def _file_refused(
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
        text = notices.not_delivered("file", notices.FILE_REFUSED, name=attachment.name, detail=detail)
        kind = media_kind_for(attachment.content_type)
        token = notice_token(outcome, kind, notices.FILE_REFUSED, event.message_id, index)
        self._tell_agent(session, event, text, token)
        count_refusal(notices.FILE_REFUSED)

    def _download(self, session: Session, attachment_id: str) -> bytes:
        try:
            return self._participant.get_attachment(session.connection_token, attachment_id)
        except ChatSessionGone:
            # The stored connection may have expired on a long chat; the participant token outlives it.
            connection = self._participant.connect(session.participant_token)
            return self._participant.get_attachment(connection.token, attachment_id)


def _convert(data: bytes, conversion: convert.Conversion, max_bytes: int) -> bytes:
    """Run a conversion file to file in the function's /tmp (the libraries read and write files)."""
    with tempfile.TemporaryDirectory() as directory:
        source, target = Path(directory) / "source", Path(directory) / f"target{conversion.extension}"
        source.write_bytes(data)
        conversion.run(source, target, max_bytes)
        return target.read_bytes()


def customer_text(event: StreamingEvent) -> str:
    """The agent's text as the customer reads it on WhatsApp: Connect's rich text in WhatsApp's formatting."""
    content = event.content or ""
    return whatsapp_format.to_whatsapp(content) if event.content_type == streaming.MARKDOWN else content


def parse_record(record: Any) -> StreamingEvent:
    """An SNS record -> event; the SNS MessageId stands in for a streaming message without an Id."""
    raw = record.raw_event.get("Sns") or {}
    if not isinstance(raw.get("Message"), str):
        raise MalformedEvent("SNS record without a Message")
    event = streaming.parse(raw["Message"], raw.get("MessageAttributes"))
    if not event.message_id:
        event = dataclasses.replace(event, message_id=str(raw.get("MessageId") or ""))
    return event


@dataclass(frozen=True)
class Outbound:
    """The outbound function's use case: what one streaming event means for the customer."""

    relay: ReplyRelay
    relay_once: Callable[..., str]
    """`relay.relay`, idempotent on the streaming message id."""
    idempotency: Any

    def process(self, event: StreamingEvent) -> str:
        if event.ends_session:
            return self.relay.end_session(event)
        if event.for_customer and (event.is_text or event.is_interactive or event.type == streaming.ATTACHMENT):
            outcome = self.relay_once(event=event)
            self.relay.remember_said()
            return outcome
        if self.relay.presence and (event.agent_typing or event.read_by):
            return self.relay.signal_presence(event)
        logger.info(
            "streaming event not relayed", type=event.type, content_type=event.content_type, role=event.participant_role
        )
        return IGNORED
