"""Deliver a burst to the conversation's Amazon Connect chat (`start_chat`), each item in order (media:
`customer_media`).

A burst is delivered at most once per chat: Powertools idempotency keyed on `burst_id` (see `bootstrap`), and
ClientToken `burst.client_token(i[, suffix])` on every participant call that delivers item i. When the chat is over a
new chat is started and the WHOLE burst delivered on it: its agent has seen none of it. A voice note or audio file
attached as WAV is followed by its transcript line (`burst_transcripts`) when the stack transcribes; one not ready in
time is owed to the chat (`late_transcripts`). Tokens: docs/architecture.md#connect-calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor

from whatsapp_buffer import clock, render
from whatsapp_buffer.environment import InboundSettings
from whatsapp_buffer.errors import ChatSessionGone, EchoRefused, ReadReceiptRefused, TransientAwsError
from whatsapp_buffer.inbound.burst_transcripts import TRANSCRIBED_KINDS, Pending, Transcripts, echo_text, line_token
from whatsapp_buffer.inbound.chat_routing import ContactFlows
from whatsapp_buffer.inbound.customer_media import CustomerMedia, Part
from whatsapp_buffer.inbound.customer_typing import CustomerTyping
from whatsapp_buffer.inbound.late_transcripts import LateTranscripts, pending_line
from whatsapp_buffer.inbound.outreach_reply import OutreachReplies, notice_text, outreach_token
from whatsapp_buffer.inbound.ports import ChatContacts, ChatParticipant, MediaStore, SessionStore, WhatsApp
from whatsapp_buffer.inbound.prepare import Preparation
from whatsapp_buffer.inbound.refusal_notices import RefusalNotices
from whatsapp_buffer.inbound.start_chat import Chats
from whatsapp_buffer.model import MEDIA_KINDS, TEXT, Burst, Session, TypingSignal
from whatsapp_buffer.observability import count, logger


class BurstSender:
    """Delivers bursts to the conversation's Connect chat, starting or replacing the chat when needed."""

    def __init__(
        self,
        *,
        settings: InboundSettings,
        sessions: SessionStore,
        contacts: ChatContacts,
        participant: ChatParticipant,
        whatsapp: WhatsApp,
        media: MediaStore,
        transcripts: Transcripts | None = None,
        late_transcripts: LateTranscripts | None = None,
        outreach: OutreachReplies | None = None,
        now: Callable[[], float] = clock.now,
    ) -> None:
        self._settings = settings
        self._outreach = outreach
        self._now = now
        self._transcripts = transcripts if transcripts is not None and transcripts.enabled else None
        self._late = late_transcripts if self._transcripts is not None else None
        self._sessions = sessions
        self._participant = participant
        self._whatsapp = whatsapp
        self._chats = Chats(
            chat_duration_minutes=settings.chat_duration_minutes,
            sessions=sessions,
            contacts=contacts,
            participant=participant,
            flows=ContactFlows(settings.contact_flow_id, settings.contact_flows),
            now=now,
        )
        self._media = CustomerMedia(
            whatsapp=whatsapp, media=media, participant=participant, reuse_prepared=self._transcripts is not None
        )
        self.typing = CustomerTyping(sessions=sessions, participant=participant, now=now)
        self.refusals = RefusalNotices(sessions=sessions, participant=participant)

    def deliver(self, burst: Burst) -> dict[str, Any]:
        # A reply to an outreach: the chat carries its attributes, and its agent reads first what was sent.
        outreach = self._outreach.pending(burst) if self._outreach is not None else None
        carried = outreach.attributes if outreach is not None else None
        session = self._chats.for_burst(burst, carried)
        echoes: list[tuple[str, str]] = []
        owed: list[tuple[str, int, str, str]] = []
        answered: list[int] = []
        parts = self._prepare(burst, echoes, owed, session.numbered_options, answered)
        if outreach is not None:
            parts.insert(0, Part(outreach_token(outreach), text=notice_text(outreach)))
        try:
            self._send(session, parts)
        except ChatSessionGone:
            session = self._chats.recover(session, burst, carried)
            self._send(session, parts)
        if outreach is not None and self._outreach is not None:
            self._outreach.shown(burst, outreach, session.contact_id)
        if burst.first_received_at:
            # What buffering costs the customer: from the burst's first message reaching the table to its last part
            # reaching Connect (bufferSeconds, the window end, the queue and the delivery itself).
            count("AddedLatency", max(0.0, self._now() - burst.first_received_at), MetricUnit.Seconds)
        if answered:
            self._answered(session)
        self._owe(burst, session, owed)
        if burst.last_received_at:
            # The outbound function reads it to know whether WhatsApp's 24-hour window is still open.
            last_id = burst.message_ids[-1] if burst.message_ids else None
            self._sessions.customer_wrote(session.conversation, session.contact_id, burst.last_received_at, last_id)
        self._mark_read(burst)
        self._echo(burst, echoes)
        count("BurstsDelivered")
        return {"contact_id": session.contact_id, "parts": len(parts)}

    def _prepare(
        self,
        burst: Burst,
        echoes: list[tuple[str, str]],
        owed: list[tuple[str, int, str, str]],
        options: tuple[str, ...] = (),
        answered: list[int] | None = None,
    ) -> list[Part]:
        """The burst's participant calls in order; `echoes` gets (recording's message id, transcript) for each
        transcript placed, `owed` (job, item index, WAV name, recording's message id) for each transcript the burst
        goes without; `options` those of a question sent as numbered text, whose number the customer may answer with
        (`answered` gets the index of the first such answer)."""
        parts: list[Part] = []
        transcripts: list[tuple[int, int, str, Pending, str]] = []
        for index, item in enumerate(burst.items):
            token = burst.client_token(index)
            if item.kind == TEXT:
                choice = _numbered_choice(item.text, options) if answered is not None and not answered else None
                if choice is not None and answered is not None:
                    # Sent as Connect's chat widget sends a selection: exactly the option's title.
                    answered.append(index)
                    parts.append(Part(token, text=choice))
                elif item.text:
                    parts.append(Part(token, text=item.text))
            elif item.kind in MEDIA_KINDS:
                part = self._media.fetch(burst, index, item)
                parts.append(part)
                if self._transcripts is not None and item.kind in TRANSCRIBED_KINDS and _is_wav(part):
                    assert part.media is not None
                    pending = self._transcripts.start(str(item.content.get("media_id")), part.media.key)
                    transcripts.append((len(parts), index, part.media.name, pending, item.message_ids[-1]))
                    parts.append(Part(token))  # its place, filled once the transcripts are known
                caption = str(item.content.get("caption") or "")
                if caption:
                    parts.append(Part(burst.client_token(index, "caption"), text=render.clip(caption)))
            elif item.kind == "interactive" and _is_choice(item.content):
                # The answer to a bot's or flow's question goes as Connect's own chat widget sends it, so Lex or the
                # flow can match it: text/plain holding exactly the chosen option's title.
                parts.append(Part(token, text=render.clip(str(item.content["title"]))))
            else:
                parts.append(Part(token, text=render.item_text(item.kind, item.content)))
        if transcripts:
            assert self._transcripts is not None
            self._transcripts.wait([pending for _, _, _, pending, _ in transcripts])
            for place, index, name, pending, message_id in transcripts:
                if self._late is not None and (pending.late or self._late.already_owed(pending.job)):
                    parts[place] = Part(burst.client_token(index, "transcript-pending"), text=pending_line(name))
                    owed.append((pending.job, index, name, message_id))
                    continue
                line = pending.line or ""
                parts[place] = Part(line_token(burst.client_token(index, "transcript"), line, pending.words), text=line)
                if pending.words:
                    echoes.append((message_id, pending.words))
        return parts

    def _answered(self, session: Session) -> None:
        """The numbered question is answered: a later "2" is the customer's own words again. Best effort."""
        try:
            self._sessions.set_numbered_options(session.conversation, session.contact_id, ())
        except TransientAwsError:
            logger.warning("numbered question not cleared")

    def _owe(self, burst: Burst, session: Session, owed: list[tuple[str, int, str, str]]) -> None:
        """The transcripts the burst went without, owed to the chat that now has their recordings."""
        if self._late is None:
            return
        for job, index, name, message_id in owed:
            self._late.owe(
                job=job,
                conversation=burst.conversation.key,
                contact_id=session.contact_id,
                client_token=burst.client_token(index, "late-transcript"),
                label=name,
                reply_to=message_id,
            )

    def _send(self, session: Session, parts: list[Part]) -> None:
        token = session.connection_token
        for part in parts:
            if part.media is None:
                self._participant.send_text(token, part.text or "", part.client_token)
                continue
            notice = self._media.attach(token, part.media, part.client_token)
            if notice:
                count("MediaNotices")
                self._participant.send_text(token, notice, part.client_token)

    def _echo(self, burst: Burst, echoes: list[tuple[str, str]]) -> None:
        """With `echoTranscripts`, each placed transcript back to the customer as a reply to their recording, after
        the burst is in the chat; a refusal is logged, never a reason to deliver the burst again."""
        if not self._settings.echo_transcripts:
            return
        for message_id, words in echoes:
            try:
                self._whatsapp.echo_transcript(
                    burst.origination_phone_number_id, burst.conversation.customer, echo_text(words), message_id
                )
            except (TransientAwsError, EchoRefused):
                logger.warning("transcript echo failed", burst_id=burst.burst_id)
                count("TranscriptEchoesFailed")

    def _mark_read(self, burst: Burst) -> None:
        if not self._settings.mark_as_read or not burst.message_ids:
            return
        try:
            self._whatsapp.mark_read(burst.origination_phone_number_id, burst.message_ids[-1])
        except (TransientAwsError, ReadReceiptRefused):
            # The burst is in the chat already; a missing blue tick is not worth redelivering it.
            logger.warning("mark as read failed", burst_id=burst.burst_id)


def _numbered_choice(text: str | None, options: tuple[str, ...]) -> str | None:
    """The option a bare number answers ("2", "2.", " 2 ") of a question sent as numbered text, else None."""
    number = (text or "").strip().rstrip(".)")
    if not options or not number.isdigit() or not 1 <= int(number) <= len(options):
        return None
    return options[int(number) - 1]


def _is_choice(content: dict[str, Any]) -> bool:
    """A tapped reply button or list row (a WhatsApp interactive `button_reply` / `list_reply`, which the outbound
    function sends for Connect quick replies and list pickers with each option's own title), not a Flow's answers.

    Connect's customer chat widget answers a QuickReply or ListPicker with the selected element's title as a plain
    message (amazon-connect-chat-interface, src/utils/helper.js `createInteractiveMessagePayload`: `const payload =
    { text: selectedElement.title }`; only the SHOW_MORE / PREVIOUS_OPTIONS action buttons send
    `application/vnd.amazonaws.connect.message.interactive.response`)."""
    title = content.get("title")
    return (
        isinstance(title, str)
        and bool(title.strip())
        and "interactive_type" not in content
        and not any(key in content for key in ("response", "response_text"))
    )


def _is_wav(part: Part) -> bool:
    return part.media is not None and part.media.content_type == "audio/wav"


def _fifo_processor() -> SqsFifoPartialProcessor:
    """A failing burst and every later burst of its conversation in the batch are batch item failures; an all-failed
    batch is reported like any other, not raised."""
    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    processor.raise_on_entire_batch_failure = False
    return processor


@dataclass(frozen=True)
class Inbound:
    """The inbound function's use case: deliver a burst, at most once per burst id; and its other triggers' work
    (recordings and refusals off the raw table's stream, owed transcripts)."""

    sender: BurstSender
    deliver_once: Callable[..., dict[str, Any]]
    idempotency: Any
    processor: SqsFifoPartialProcessor = field(default_factory=_fifo_processor)
    preparation: Preparation | None = None
    """Early preparation of recordings from the raw table's stream (a stack that transcribes)."""
    late_transcripts: LateTranscripts | None = None
    """Transcripts owed to chats, settled on Transcribe's job state change events (a stack that transcribes)."""

    def transcription_finished(self, event: dict[str, Any]) -> dict[str, str]:
        """A "Transcribe Job State Change" event from EventBridge: the transcript posted if a chat is owed it."""
        if self.late_transcripts is None:
            return {"outcome": "not transcribing"}
        return self.late_transcripts.on_event(event)

    def prepare(self, event: dict[str, Any]) -> dict[str, int]:
        """A raw-table stream batch: its voice notes and audio files prepared for their transcripts (a stack that
        transcribes), and what WhatsApp reported failed told to the agent (`inbound.refusal_notices`)."""
        result = self.preparation.handle(event) if self.preparation is not None else {"prepared": 0}
        return {**result, **self.sender.refusals.handle(event)}

    def deliver_body(self, body: str) -> dict[str, Any]:
        """One queue message: the burst it carries, delivered once (its log lines carry the burst id as correlation
        id), or a typing signal, shown if the chat is open (not held to once: showing it twice is harmless)."""
        signal = TypingSignal.from_json(body)
        if signal is not None:
            return self.sender.typing.show(signal)
        burst = Burst.from_json(body)
        logger.set_correlation_id(burst.burst_id)
        logger.append_keys(customer=burst.conversation.masked_customer)
        return self.deliver_once(burst=burst)
