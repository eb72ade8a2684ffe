"""Transcripts that finish after their burst was delivered: owed to the chat, posted there once, after the recording.

The delivery that gave up waiting records a debt and checks the job once more; Transcribe's completion event and the
every-minute `sweep` of the `owed-since` index (debts older than `SWEEP_AFTER_SECONDS`) settle it the
same way through `settle`: claim by conditional write, post under the recorded ClientToken, mark paid. A failed post
releases its claim and raises (Lambda retries); a claim held elsewhere raises `TranscriptClaimedElsewhere`; a job still
running `GIVE_UP_SECONDS` after its debt is settled with the line saying there is no transcript (`STUCK`); a chat
already over gets nothing (`LateTranscriptsChatEnded`). With `echoTranscripts` the transcript goes back to the customer
at most once. Every case, and the bound on a lost event: docs/architecture.md#transcript-debts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from whatsapp_buffer import clock, render
from whatsapp_buffer.errors import ChatSessionGone, EchoRefused, TranscriptClaimedElsewhere, TransientAwsError
from whatsapp_buffer.inbound.burst_transcripts import Transcripts, echo_text, line_token, missing_line
from whatsapp_buffer.inbound.ports import (
    CLAIMED,
    PAID,
    ChatParticipant,
    SessionStore,
    TranscriptDebt,
    TranscriptDebts,
    WhatsApp,
)
from whatsapp_buffer.model import Conversation, Session
from whatsapp_buffer.observability import count, logger
from whatsapp_buffer.settings import TRANSCRIPTS_SWEEP_EVENT
from whatsapp_buffer.storage_keys import TRANSCRIBE_EVENT_DETAIL_TYPE, TRANSCRIBE_EVENT_SOURCE

DEBT_SECONDS = 7 * 24 * 3600
"""How long a debt is kept (TTL): a chat lasts at most 7 days (Connect's chat duration maximum, 10,080 minutes)."""
CLAIM_LEASE_SECONDS = 120.0
"""A claim older than this is taken over (its claimant died between claiming and paying)."""

SWEEP_AFTER_SECONDS = 120.0
"""A debt younger than this is left to its event, which normally comes within seconds of the job's end (and the
delivery checks the job once more right after recording it); the sweep only catches the ones the event missed."""
GIVE_UP_SECONDS = 15 * 60.0
"""A job still IN_PROGRESS this long after its debt was recorded is given up. Transcribe states no batch turnaround;
its quotas allow 4 hours of audio per job, but what reaches a job here is one WAV a chat can hold (Connect's 20 MB
attachment limit: about 11 minutes of 16 kHz 16-bit mono), and the burst already waited transcriptWaitSeconds. Nor
does a job wait in a queue: `adapters/transcribe` does not set JobExecutionSettings.AllowDeferredExecution (botocore:
"If AllowDeferredExecution is set to false and the number of transcription job requests exceed the concurrent request
limit, you get a LimitExceededException error"), so a started job is running, not queued.
Fifteen minutes is several times the turnaround such a recording needs, and short enough that an agent still in the
chat learns there will be no transcript."""
STUCK = "was not transcribed within 15 minutes"

POSTED = "posted"
CHAT_ENDED = "chat ended"
CLAIMED_ELSEWHERE = "claimed elsewhere"


def pending_line(label: str) -> str:
    """The burst's line at the recording's place when its transcript is not ready in time."""
    return f"🔊 (the transcript of {label} is not ready yet; it follows in this chat)"


def late_line(label: str, line: str) -> str:
    """`🔊 "…"` (or the no-transcript line) naming the recording it belongs to: later bursts may stand in between."""
    return render.clip(f"🔊 {label}: {line.removeprefix('🔊 ')}")


def is_transcribe_event(event: dict[str, Any]) -> bool:
    return event.get("source") == TRANSCRIBE_EVENT_SOURCE and event.get("detail-type") == TRANSCRIBE_EVENT_DETAIL_TYPE


def is_sweep_event(event: dict[str, Any]) -> bool:
    return all(event.get(key) == value for key, value in TRANSCRIPTS_SWEEP_EVENT.items())


class LateTranscripts:
    """Records the transcripts a burst was delivered without, and posts each one once, when its job is done."""

    def __init__(
        self,
        *,
        debts: TranscriptDebts,
        sessions: SessionStore,
        participant: ChatParticipant,
        transcripts: Transcripts,
        job_prefix: str,
        whatsapp: WhatsApp | None = None,
        echo_transcripts: bool = False,
        now: Callable[[], float] = clock.now,
    ) -> None:
        self._debts = debts
        self._sessions = sessions
        self._participant = participant
        self._transcripts = transcripts
        self._job_prefix = job_prefix
        self._whatsapp = whatsapp if echo_transcripts else None
        self._now = now

    def already_owed(self, job: str) -> bool:
        """True when an earlier delivery of the burst gave up on this job (its slot keeps its "follows" line)."""
        return self._debts.get(job) is not None

    def owe(
        self, *, job: str, conversation: str, contact_id: str, client_token: str, label: str, reply_to: str = ""
    ) -> str:
        """After the burst is in the chat: record the debt, then check the job one last time."""
        debt = TranscriptDebt(
            job=job,
            conversation=conversation,
            contact_id=contact_id,
            client_token=client_token,
            label=label,
            expires_at=int(self._now() + DEBT_SECONDS),
            owed_at=self._now(),
            reply_to=reply_to,
        )
        if self._debts.record(debt):
            count("LateTranscriptsOwed")
        return self.settle(job)

    def on_event(self, event: dict[str, Any]) -> dict[str, str]:
        """A "Transcribe Job State Change" event: the job's debt settled, if this stack owes one."""
        job = str((event.get("detail") or {}).get("TranscriptionJobName") or "")
        if not job.startswith(self._job_prefix):
            logger.warning("transcription event for another stack's job ignored")
            count("TranscriptEventsIgnored")
            return {"outcome": "not ours"}
        outcome = self.settle(job)
        if outcome == CLAIMED_ELSEWHERE:
            # Usually the delivery posting it right now; if that claimant died, Lambda's retries (1 and 2 minutes
            # later) outlast its lease and take the debt over.
            raise TranscriptClaimedElsewhere(f"transcript {job} is being posted by another invocation")
        return {"outcome": outcome}

    def sweep(self) -> dict[str, int]:
        """The fallback for events that never came: settle every debt still open SWEEP_AFTER_SECONDS after it was
        recorded. One debt that fails (a post throttled) does not stop the others; the next sweep tries it again."""
        now = self._now()
        settled = failed = 0
        for job, owed_at in self._debts.owed_before(now - SWEEP_AFTER_SECONDS):
            try:
                outcome = self.settle(job, give_up=now - owed_at >= GIVE_UP_SECONDS)
            except Exception:
                logger.exception("a transcript owed could not be settled; the next sweep tries again")
                failed += 1
                continue
            if outcome in (POSTED, CHAT_ENDED):
                settled += 1
        if settled:
            # Each one is a completion event that did not come (or came later than the sweep): worth watching.
            count("LateTranscriptsSwept", settled)
        if failed:
            count("LateTranscriptSweepFailures", failed)
        return {"settled": settled, "failed": failed}

    def settle(self, job: str, *, give_up: bool = False) -> str:
        """Post the job's transcript into the chat that is owed it, once; what happened, as a word. `give_up`: a job
        still running is settled with the line saying there is no transcript."""
        owed = self._debts.get(job)
        if owed is None or owed.state == PAID:
            count("LateTranscriptsNotOwed")
            return "not owed"
        line, words = self._transcripts.settled(job)
        if line is None and give_up:
            logger.warning("transcription still running long after its burst; the agent is told there is none")
            count("TranscriptsGivenUp")
            line = missing_line(STUCK)
        if line is None:
            return "running"
        debt = self._debts.claim(job, self._now(), CLAIM_LEASE_SECONDS)
        if debt is None:
            current = self._debts.get(job)
            if current is not None and current.state == CLAIMED:
                return CLAIMED_ELSEWHERE
            count("LateTranscriptsNotOwed")
            return "not owed"
        try:
            text = late_line(debt.label, line)
            outcome, session = self._post(debt, text, line_token(debt.client_token, text, words))
        except Exception:
            self._debts.release(job)
            raise
        self._debts.pay(job, outcome)
        if outcome == POSTED and words and session is not None:
            self._echo(debt, session, words)
        return outcome

    def _echo(self, debt: TranscriptDebt, session: Session, words: str) -> None:
        if self._whatsapp is None or not debt.reply_to:
            return
        customer = Conversation.from_key(debt.conversation).customer
        try:
            self._whatsapp.echo_transcript(
                session.origination_phone_number_id, customer, echo_text(words), debt.reply_to
            )
        except (TransientAwsError, EchoRefused):
            logger.warning("late transcript echo failed", contact_id=debt.contact_id)
            count("TranscriptEchoesFailed")

    def _post(self, debt: TranscriptDebt, text: str, token: str) -> tuple[str, Session | None]:
        session = self._sessions.get(debt.conversation)
        if session is None or session.contact_id != debt.contact_id or session.chat_over(self._now()):
            count("LateTranscriptsChatEnded")
            logger.info("late transcript not posted: the chat has ended", contact_id=debt.contact_id)
            return CHAT_ENDED, None
        try:
            self._participant.send_text(session.connection_token, text, token)
        except ChatSessionGone:
            try:
                connection = self._participant.connect(session.participant_token)
            except ChatSessionGone:
                count("LateTranscriptsChatEnded")
                logger.info("late transcript not posted: the chat has ended", contact_id=debt.contact_id)
                return CHAT_ENDED, None
            refreshed = session.with_connection(connection.token, connection.expires_at)
            self._sessions.renew_connection(refreshed)
            self._participant.send_text(refreshed.connection_token, text, token)
        count("LateTranscriptsPosted")
        logger.info("late transcript posted", contact_id=debt.contact_id)
        return POSTED, session
