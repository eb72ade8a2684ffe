"""Relay an agent's reply to WhatsApp: Connect chat streaming (SNS out-topic) -> SendWhatsAppMessage.

Relays only what Connect marks visible to the customer and did not come from the customer; `chat.ended`, and the
customer participant leaving, end the session. Each relay is idempotent on the streaming message Id (SNS may deliver
twice); an AI agent's answer streamed in chunks reaches WhatsApp once, whole. A malformed body raises `MalformedEvent`
(Lambda's retries and the DLQ keep it). What WhatsApp will not take is told to the agent in the same chat
(`tell_agent`), counted as `RepliesRefused`, and not retried; a shared file goes through `send_file`. What the customer
gets: docs/behaviour.md#what-the-agent-sends-as-the-customer-gets-it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from whatsapp_buffer import clock, notice_texts
from whatsapp_buffer.errors import (
    MalformedEvent,
    ReadReceiptRefused,
    SessionNotYetFound,
    TransientAwsError,
    WhatsAppBufferError,
    WhatsAppRefused,
)
from whatsapp_buffer.model import Conversation, Session, Template, media_kind_for
from whatsapp_buffer.observability import count, logger
from whatsapp_buffer.outbound import interactive, long_reply, service_window, streaming, whatsapp_format
from whatsapp_buffer.outbound.ports import ChatParticipant, MediaStore, SessionStore, WhatsApp
from whatsapp_buffer.outbound.send_file import FileSender
from whatsapp_buffer.outbound.streaming import StreamingEvent
from whatsapp_buffer.outbound.tell_agent import AgentNotices

ENDED = "session_ended"
SENT = "sent"
REFUSED = "refused"
IGNORED = "ignored"
NO_SESSION = "no_session"
PRESENCE = "presence"
STREAMED_CHUNK = "streamed_chunk"

TYPING_EVERY_SECONDS = 20.0
"""WhatsApp dismisses a typing indicator "once you respond, or after 25 seconds": an agent still typing refreshes it
a little before that; Connect streams a typing event per keystroke burst, most of which send nothing."""

YOUNG_EVENT_SECONDS = 60.0
"""A reply without a session is waited for only this young (its `AbsoluteTime` to the function's clock): the inbound
function writes a chat's session after the chat streams, and the contact index lags that write by about a second.
Lambda's first retry of a failed asynchronous invoke comes a minute later, so it finds the event old: a contact
that never gets a session costs one retry, and never reaches the dead-letter queue."""
SESSION_REREADS_AFTER = (0.1, 0.2, 0.4, 0.8, 1.5)
"""The waits before each read again of a young reply's missing session (3 s in all, in a 120 s function timeout);
short at first, so a reply streamed right after it overtakes it as rarely as possible."""


class ReplySender:
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
        sleep: Callable[[float], None] = clock.sleep,
    ) -> None:
        """`remember_said(conversation key, WhatsApp message id, text, kind)` keeps what the bridge sent (every kind:
        text, interactive, template, image/audio/video/document), so a customer's reply to it can quote it and a
        `failed` status of it can be told to the agent (`ingest.accept`)."""
        self._remember_said = remember_said
        self._said: list[tuple[str, str, str, str]] = []
        """What the last `relay` call sent, kept for `remember_said` once that call is recorded done."""
        self._template = template
        self.presence = presence
        """Agent typing -> WhatsApp typing indicator, agent read -> read receipt (`agentPresence`)."""
        self.send_part_once: Callable[..., str] = self.send_part
        """`send_part`, idempotent on the part's message id once the composition root installs that."""
        self._sessions = sessions
        self._whatsapp = whatsapp
        self._now = now
        self._sleep = sleep
        self._notices = AgentNotices(participant)
        self._files = FileSender(
            participant=participant, whatsapp=whatsapp, media=media, notices=self._notices, note_said=self._note_said
        )

    def _session(self, event: StreamingEvent, *, confirmed: bool = False) -> Session | None:
        """The session of the event's chat, as the contact index gives it; `confirmed`: as the table holds it now,
        where a number change moved it (what a reply is sent by: the index lags a move, and its old key's item would
        send the reply to the customer's old number)."""
        return self._lookup(event, confirmed=confirmed)[0]

    def _lookup(self, event: StreamingEvent, *, confirmed: bool) -> tuple[Session | None, bool]:
        """`_session`, and whether the index answered any session (one the table may no longer confirm)."""
        indexed = False
        for contact_id in event.contact_ids:
            session = self._sessions.get_by_contact(contact_id)
            indexed = indexed or session is not None
            if session is not None and confirmed:
                session = self._sessions.confirm(session)
            if session is not None:
                return session, True
        return None, indexed

    def _session_written_since(self, event: StreamingEvent) -> Session | None:
        """The session of a young reply's chat the index had none for yet: read again after each wait. Not there by
        then, `SessionNotYetFound` fails the invocation, so the idempotency record of the reply is deleted and Lambda
        tries it again. An old reply's chat, or one the index answers but the table no longer confirms, has none."""
        written = event.sent_at
        if written is None or abs(self._now() - written) >= YOUNG_EVENT_SECONDS:
            return None
        waited = 0.0
        for wait in SESSION_REREADS_AFTER:
            self._sleep(wait)
            waited = round(waited + wait, 3)
            session, indexed = self._lookup(event, confirmed=True)
            if session is not None:
                logger.info("session found after waiting", contact_id=session.contact_id, waited_seconds=waited)
                count("RepliesWaitedForSession")
            if indexed:
                return session
        logger.warning(
            "no session for contact yet; failed for a retry", contact_id=event.contact_id, waited_seconds=waited
        )
        count("RepliesRetriedForSession")
        raise SessionNotYetFound(f"no session for contact {event.contact_id} after {waited:g} s")

    def end_session(self, event: StreamingEvent) -> str:
        session = self._session(event)
        if session is None:
            return NO_SESSION
        ended = self._sessions.end(session.conversation, session.contact_id, self._now())
        logger.info("session ended", contact_id=session.contact_id, marked=ended)
        return ENDED

    def relay(self, event: StreamingEvent) -> str:
        session, indexed = self._lookup(event, confirmed=True)
        if not indexed:
            session = self._session_written_since(event)
        if session is None:
            logger.warning("no session for contact; not relayed", contact_id=event.contact_id)
            count("RepliesDropped")
            return NO_SESSION
        to = Conversation.from_key(session.conversation).customer
        now = self._now()
        if not service_window.window_open(session.customer_wrote_at, now):
            kind = "text" if event.is_text or event.is_interactive else "file"
            template, claimed_at = self._reengage(session, to, now, event.message_id)
            # Counted to when the agent wrote, not to this attempt's clock: a retry's notice, under the same
            # ClientToken, must carry the same text. Never fewer than the window's hours: a reply written inside the
            # window and relayed after it is withheld all the same.
            written = event.sent_at if event.sent_at is not None else claimed_at
            hours = max(service_window.hours_since(session.customer_wrote_at or now, written), service_window.HOURS)
            for index, (name, sent_kind) in enumerate(self._what_was_sent(event)):
                text = notice_texts.not_delivered(
                    kind,
                    notice_texts.WINDOW_CLOSED,
                    hours=hours,
                    name=name,
                    template=template,
                    template_name=self._template.name if self._template else "",
                )
                self._notices.withheld(session, event, text, sent_kind, notice_texts.WINDOW_CLOSED, index)
            logger.info("reply withheld: the 24-hour window is closed", contact_id=session.contact_id, hours=hours)
            return REFUSED
        outcome = SENT
        question = interactive.parse(event.content or "") if event.is_interactive else None
        if event.is_interactive and question is None:
            # A template WhatsApp has no counterpart for (time picker, panel, carousel, ...): never raw JSON.
            logger.warning("interactive message of a template WhatsApp cannot show", contact_id=session.contact_id)
            text = notice_texts.not_delivered("text", notice_texts.UNSUPPORTED)
            self._notices.withheld(session, event, text, "text", notice_texts.UNSUPPORTED, 0)
            return REFUSED
        if question is not None:
            kind, body = interactive.as_whatsapp(question)
            try:
                if kind == "interactive":
                    sent_id = self._whatsapp.send_interactive(session.origination_phone_number_id, to, body)
                    self._note_said(session.conversation, sent_id, question.body, "interactive")
                else:
                    sent_id = self._whatsapp.send_text(session.origination_phone_number_id, to, body["body"])
                    self._note_said(session.conversation, sent_id, question.body, "text")
                self._remember_numbered(session, tuple(t for t, _ in question.options) if kind == "text" else ())
            except WhatsAppRefused as refused:
                self._notices.refused(session, event, refused, "text", None, 0)
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
                    self._note_said(session.conversation, sent_id, text, "text")
            except WhatsAppRefused as refused:
                self._notices.refused(session, event, refused, "text", None, 0)
                outcome = REFUSED
            if len(texts) > 1:
                count("RepliesSplit")
        else:
            for index, attachment in enumerate(event.attachments):
                if not self._files.relay(session, to, event, attachment, index):
                    outcome = REFUSED
        if outcome == SENT:
            count("RepliesRelayed")
        return outcome

    def signal_presence(self, event: StreamingEvent) -> str:
        """The agent types (typing indicator, at most every `TYPING_EVERY_SECONDS`) or read the customer's messages
        (read receipt for the latest, once): both name the customer's latest WhatsApp message, and WhatsApp marks
        the earlier ones read with it. Not worth a retry: a temporary failure (recording the claim or sending) or
        WhatsApp's refusal is logged and dropped."""
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
        try:
            if not self._sessions.claim_presence(
                session.conversation, session.contact_id, what, message_id, at=self._now(), every=every
            ):
                return IGNORED
            self._whatsapp.mark_read(session.origination_phone_number_id, message_id, typing=what == "typing")
        except (ReadReceiptRefused, TransientAwsError) as failed:
            logger.warning("presence not shown on WhatsApp", what=what, error=str(failed))
            return IGNORED
        count("TypingShown" if what == "typing" else "ReadReceiptsSent")
        return PRESENCE

    def remember_said(self) -> None:
        """Keep what the last `relay` call sent for the quotes of replies to it. Called after that call is recorded
        done, so nothing that happens here (a failure, a timeout) can make the reply go out twice."""
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

    def _note_said(self, conversation: str, message_id: str, text: str, kind: str) -> None:
        self._said.append((conversation, message_id, text, kind))

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

    def _reengage(self, session: Session, to: str, now: float, event_id: str) -> tuple[str | None, float]:
        """Send the re-engagement template once per closed window: what became of it (None: none configured) and
        the claim's time (what the notice counts the hours to when the reply carries no AbsoluteTime). The claim
        names the reply (`event_id`) and records the outcome, so a retry of that reply gets the first attempt's
        answer and time (its notice, under the same ClientToken, says the same) and never sends a template that
        went."""
        if self._template is None or session.customer_wrote_at is None:
            return None, now
        conversation, contact_id = session.conversation, session.contact_id
        claimed = session.template_sent_at
        if session.template_event == event_id and claimed is not None and claimed >= session.customer_wrote_at:
            if session.template_outcome:
                return session.template_outcome, claimed
            # This reply's earlier attempt claimed it and never learnt the outcome: sent again (below), as in doubt.
            now = claimed
        elif not self._sessions.claim_template(conversation, contact_id, session.customer_wrote_at, now, event_id):
            return _earlier_reply_template(session), now
        try:
            sent_id = self._whatsapp.send_template(session.origination_phone_number_id, to, self._template)
            self._note_said(conversation, sent_id, self._template.name, "template")
        except WhatsAppRefused as refused:
            logger.warning("re-engagement template refused", contact_id=contact_id, error=str(refused))
            self._settle_template(session, event_id, notice_texts.TEMPLATE_REFUSED)
            return notice_texts.TEMPLATE_REFUSED, now
        except Exception:
            # Not sent (throttled, unreachable) or in doubt (a read timeout: WhatsApp may have taken it, and its send
            # has no idempotency key). As for an agent reply in doubt (docs/faults.md), the retry sends it again: a
            # template twice rather than none. Released so the next reply may claim it too.
            self._release_template(session, event_id)
            raise
        self._settle_template(session, event_id, notice_texts.TEMPLATE_SENT)
        count("TemplatesSent")
        return notice_texts.TEMPLATE_SENT, now

    def _release_template(self, session: Session, event_id: str) -> None:
        """Best effort: unreleased, only this reply's retry claims it again."""
        try:
            self._sessions.release_template(session.conversation, session.contact_id, event_id)
        except WhatsAppBufferError as exc:
            logger.warning("re-engagement template claim not released", reason=type(exc).__name__)

    def _settle_template(self, session: Session, event_id: str, outcome: str) -> None:
        """Best effort: unsettled, a retry of this reply would send the template again."""
        try:
            self._sessions.settle_template(session.conversation, session.contact_id, event_id, outcome)
        except WhatsAppBufferError as exc:
            logger.warning("re-engagement template outcome not recorded", reason=type(exc).__name__)

    @staticmethod
    def _what_was_sent(event: StreamingEvent) -> list[tuple[str | None, str]]:
        """One (file name, WhatsApp kind) per thing the customer would have received: the text, or each file."""
        if event.is_text or event.is_interactive:
            return [(None, "text")]
        return [(a.name, media_kind_for(a.content_type)) for a in event.attachments if a.status == streaming.APPROVED]


def _earlier_reply_template(session: Session) -> str:
    """What became of the template another reply claimed in this closed window, as the session read says: sent, or
    refused (WhatsApp will not take it: not tried again before the customer writes); being sent while that reply has
    recorded no outcome (in flight, or in doubt: its retry sends it), or when the claim came after the session read."""
    claimed, wrote = session.template_sent_at, session.customer_wrote_at
    this_window = claimed is not None and wrote is not None and claimed >= wrote
    outcome = session.template_outcome if this_window else ""
    if outcome == notice_texts.TEMPLATE_REFUSED:
        return notice_texts.TEMPLATE_REFUSED_EARLIER
    if outcome == notice_texts.TEMPLATE_SENT:
        return notice_texts.TEMPLATE_ALREADY_SENT
    return notice_texts.TEMPLATE_BEING_SENT


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

    sender: ReplySender
    relay_once: Callable[..., str]
    """`sender.relay`, idempotent on the streaming message id."""
    idempotency: Any

    def process(self, event: StreamingEvent) -> str:
        if event.ends_session:
            return self.sender.end_session(event)
        if event.is_chunk:
            # Never to WhatsApp: the completed message (same Id) carries the whole answer, and relay_once keys on Id.
            logger.info("streamed chunk not relayed", contact_id=event.contact_id, chunk=event.chunk_number)
            return STREAMED_CHUNK
        if event.for_customer and (event.is_text or event.is_interactive or event.type == streaming.ATTACHMENT):
            outcome = self.relay_once(event=event)
            self.sender.remember_said()
            return outcome
        if self.sender.presence and (event.agent_typing or event.read_by):
            return self.sender.signal_presence(event)
        logger.info(
            "streaming event not relayed", type=event.type, content_type=event.content_type, role=event.participant_role
        )
        return IGNORED
