"""Flush: at each tumbling window's end, one burst per conversation that is due (the debounce).

At the window's final invoke each conversation the window saw (`window`) is decided with `debounce.flush_due` on its
view first: not yet due -> it stays waiting (no read) and is listed in the tick; nothing pending -> it leaves the loop;
looks due -> the control item is read consistently and the decision made again. A due conversation's flush, idempotent
at every step: claim the next burst (`lifecycle.ConversationBuffer` owns the states), send it, mark it sent, settle the
control item only at the version read. `FLUSH_CONCURRENCY` conversations at once, each on one thread. The flush, its
latency bound and its costs: docs/architecture.md#how-the-aggregator-works.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from whatsapp_buffer import clock
from whatsapp_buffer.aggregator import debounce, merge
from whatsapp_buffer.aggregator.debounce import ControlView
from whatsapp_buffer.aggregator.lifecycle import BufferedMessage, Claim, ClaimInFlight, ConversationBuffer
from whatsapp_buffer.aggregator.ports import BurstsQueue, RawStore
from whatsapp_buffer.aggregator.window import (
    NO_IMAGE,
    choose_anchor,
    control_view,
    conversation_of,
    listed_view,
    merge_view,
    state_anchors,
    state_keys,
    state_views,
    tick_of,
    window_state,
)
from whatsapp_buffer.buffer_policy import BufferPolicy
from whatsapp_buffer.errors import ConcurrentUpdate, MalformedEvent, QueueRefused, TransientAwsError, UnreadableMessages
from whatsapp_buffer.model import Burst, Conversation, TypingSignal
from whatsapp_buffer.observability import count, logger

MAX_BURSTS_PER_CONVERSATION = 10
"""Bursts one final invoke may send for one conversation (a backlog over max_messages drains in several)."""
SETTLE_ATTEMPTS = 5
TYPING_REFRESH_SECONDS = 10.0
"""How often "the customer is typing" is refreshed while messages wait: Connect's chat interface shows a typing event
for 12 s (amazon-connect-chat-interface, ChatSession._handleTypingEvent: setTimeout(..., 12 * 1000)), so a refresh
every 10 s keeps it showing without a gap, at one SQS message per waiting conversation per 10 s."""
FLUSH_CONCURRENCY = 16
"""Conversations one final invoke decides and flushes at once. The final invoke is synchronous: the shard waits for
it, so its duration adds to every burst's latency. One conversation's work is a few sequential calls of a few ms
each (read control, query, claim, send, mark sent, settle; a waiting one: none, its image decides and the window's
one tick lists it), so a window end with 1,000 conversations takes seconds one at a time and a fraction of a second 16 at a time (`python -m bench spike`). Each
conversation stays on one thread: its bursts are still sent in order."""
MAX_READ_FAILURES = 3
"""Flushes a stored message may fail to be read back in before it is set aside and the rest of its conversation
flushes without it. Below this the conversation waits for it (the order of the burst is WhatsApp's)."""
MAX_SEND_REFUSALS = 3
"""Flushes in which the bursts queue may refuse a burst for what it holds (QueueRefused) before a notice goes to the
agent in its place and its messages are set aside; below this the conversation waits for it, as for a read."""


@dataclass
class Aggregator:
    store: RawStore
    queue: BurstsQueue
    policy: BufferPolicy
    now: Callable[[], float] = clock.now

    def handle(self, event: DynamoDBStreamEvent) -> dict[str, Any]:
        seen = dict.fromkeys(state_keys(event.state))
        views = state_views(event.state, seen)
        anchors = state_anchors(event.state, seen)

        def collect(record: DynamoDBRecord) -> None:
            try:
                read(record)
            except Exception as exc:
                _log_refused(record, exc)
                raise  # Powertools reports it in batchItemFailures

        def read(record: DynamoDBRecord) -> None:
            conversation = conversation_of(record)
            if conversation is not None:
                seen.setdefault(conversation.key)
                image = record.dynamodb.new_image if record.dynamodb else None
                merge_view(views, conversation.key, control_view(image), from_tick=False)
                return
            tick = tick_of(record)
            if tick is not None:
                anchor, listed = tick
                for key, view in listed.items():
                    seen.setdefault(key)
                    merge_view(views, key, view, from_tick=True)
                anchors.setdefault(anchor)

        failures: list[Any] = []
        if event.raw_event.get("Records"):  # final invokes often carry none, which Powertools refuses as a batch
            # No `logger=`: Powertools would log the exception's message and traceback, which a bug's error may fill
            # with a key (a customer's number); `collect` logs what is safe instead.
            processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
            response = process_partial_response(event=event.raw_event, record_handler=collect, processor=processor)
            failures = list(response["batchItemFailures"])
        if not event.is_final_invoke_for_window:
            return {"state": window_state(seen, views, anchors), "batchItemFailures": failures}
        self.end_window([Conversation.from_key(key) for key in seen], views, anchors)
        return {"state": {}, "batchItemFailures": failures}

    def end_window(
        self,
        conversations: list[Conversation],
        views: dict[str, list[Any]] | None = None,
        anchors: Iterable[str] = (),
    ) -> list[Burst]:
        """Decide and act for every conversation seen in the window, FLUSH_CONCURRENCY at a time; one failing does
        not block the others. `views`: the control images the window's records carried (see window.VIEWS_KEY); `anchors`:
        where this window's ticks came from (see window.ANCHORS_KEY). Ends by writing the tick of what is left waiting."""
        if not conversations:
            return []
        views = {key: view for key, view in ((k, listed_view(v)) for k, v in (views or {}).items()) if view is not None}
        sent: list[Burst] = []
        waiting: dict[str, list[Any] | None] = {}
        with ThreadPoolExecutor(max_workers=min(FLUSH_CONCURRENCY, len(conversations))) as pool:
            results = pool.map(lambda c: self._end_for(c, views.get(c.key)), conversations)
            for conversation, (bursts, listed) in zip(conversations, results, strict=True):
                sent.extend(bursts)
                if listed is not _NOT_LISTED:
                    waiting[conversation.key] = listed
        if waiting:
            anchor = choose_anchor(waiting, anchors)
            try:
                self.store.write_tick(Conversation.from_key(anchor), waiting, self.now())
            except Exception as exc:
                # Failing the final invoke makes Lambda retry the whole window; every step above is idempotent.
                logger.exception("tick not written", waiting=len(waiting))
                raise TransientAwsError(
                    f"the tick of {len(waiting)} waiting conversation(s) could not be written"
                ) from exc
            _count("ConversationsWaiting", sum(1 for image in waiting.values() if image is not NO_IMAGE))
        return sent

    def _end_for(self, conversation: Conversation, view: list[Any] | None) -> tuple[list[Burst], Any]:
        """One conversation's window end: its bursts, and what the tick lists for it -- the image it waits on, NO_IMAGE
        when its flush failed (read it at the next end), or _NOT_LISTED (idle, or brought back by its settle)."""
        try:
            if view is not None:
                outcome = self._decided_by_view(conversation, view)
                if outcome is not _LOOKS_DUE:
                    return [], outcome
            return self.flush_conversation(conversation)
        except ClaimInFlight:
            # Another flush (a retried window, or an aggregator of another shard after a split) is claiming a burst
            # of this conversation: look again next window; past the claim's lease it is taken over.
            logger.warning("a burst is being claimed by another flush; next window", **_ids(conversation))
            _count("ClaimsInFlight")
            return [], NO_IMAGE
        except Exception:
            logger.exception("flush failed; listed in the tick to retry next window", **_ids(conversation))
            _count("FlushFailures")
            return [], NO_IMAGE

    def _decided_by_view(self, conversation: Conversation, view: list[Any]) -> Any:
        """WAIT or IDLE by the record's image, without reading the control item: the image to list (WAIT) or
        _NOT_LISTED (IDLE). _LOOKS_DUE when the image looks due: the flush reads the truth."""
        control, now = ControlView.from_view(view), self.now()
        decision = debounce.flush_due(control, now, self.policy)
        if decision.outcome is debounce.Outcome.WAIT:
            self._signal_typing(conversation, control, now)
            return list(view)
        if decision.outcome is debounce.Outcome.IDLE:
            return _NOT_LISTED
        return _LOOKS_DUE

    def flush_conversation(self, conversation: Conversation) -> tuple[list[Burst], Any]:
        """Flush what is due; the bursts sent, and the image to list in the tick when the conversation is left
        waiting on a read it made (_NOT_LISTED otherwise: idle, or its settle's record brings it back)."""
        sent: list[Burst] = []
        for _ in range(MAX_BURSTS_PER_CONVERSATION):
            control = self.store.read_control(conversation)
            now = self.now()
            decision = debounce.flush_due(control, now, self.policy)
            if decision.outcome is debounce.Outcome.WAIT and not sent:
                self._signal_typing(conversation, control, now)
                return sent, control.as_view()
            if not decision.flush:
                # After a flush the settled control item already wrote the record the next window needs.
                return sent, _NOT_LISTED
            burst, left = self._flush_once(conversation, control, now)
            if burst is None:
                return sent, _NOT_LISTED
            logger.info(
                "burst flushed",
                reason=decision.reason,
                burst_id=burst.burst_id,
                messages=len(burst.message_ids),
                **_ids(conversation),
            )
            _count_flush(burst)
            sent.append(burst)
            if left == 0:
                # The settle wrote "nothing pending" at the version it read: a message stored since then writes the
                # control item again, and that record brings the conversation to the next window. No read needed.
                return sent, _NOT_LISTED
        return sent, _NOT_LISTED

    def _signal_typing(self, conversation: Conversation, control: debounce.ControlView, now: float) -> None:
        """At the first window end of a wait, then every TYPING_REFRESH_SECONDS. Best effort: a lost
        signal costs a moment of "typing", never a message."""
        slot = typing_slot(control.first_pending, now, self.policy.window_seconds)
        if slot is None:
            return
        try:
            self.queue.send_typing(TypingSignal(conversation, now), slot)
        except Exception:
            logger.warning("typing signal not sent", **_ids(conversation))

    def _flush_once(
        self, conversation: Conversation, control: debounce.ControlView, now: float
    ) -> tuple[Burst | None, int]:
        """The next burst sent (None when there was none) and how many messages the settle left unsent."""
        buffer = self._buffer(conversation, control)
        claim = buffer.next_claim(self.policy.max_messages, now)
        if claim is not None and claim.sent_already:
            # A flush died half-way through marking this burst sent: it is on the queue; finish the marks only.
            self.store.mark_sent(conversation, claim.messages, claim.burst_id)
            _count("BurstsMarkedAfterPartialMark")
            buffer = buffer.sent(claim)
            claim = buffer.next_claim(self.policy.max_messages, now)
        if claim is None:
            return None, self._settle(conversation, buffer)
        if not claim.resend:
            self.store.claim(conversation, claim.messages, claim.burst_id, claimed_at=now)
        burst = merge.build_burst(claim.inbound, now, claim.burst_id)
        try:
            self.queue.send(burst)
        except QueueRefused as refused:
            burst = self._set_aside_refused(conversation, claim, refused, now)
        else:
            self.store.mark_sent(conversation, claim.messages, claim.burst_id)
        return burst, self._settle(conversation, buffer.claimed(claim).sent(claim))

    def _set_aside_refused(self, conversation: Conversation, claim: Claim, refused: QueueRefused, now: float) -> Burst:
        """A burst the queue refused for what it holds, counted on its first message. Below MAX_SEND_REFUSALS the
        flush fails (the conversation is tried again next window); at it, a notice goes to the agent in its place (same
        id, no customer words), then its messages are set aside with the reason. The notice sent."""
        reason = f"the bursts queue refused the burst ({refused.code or 'refused'})"
        if self.store.count_refused_send(conversation, claim.messages[0].store_key, reason) < MAX_SEND_REFUSALS:
            raise refused
        notice = merge.refused_notice(claim.inbound, now, claim.burst_id, refused.code)
        self.queue.send(notice)
        for buffered in claim.messages:
            self.store.set_aside(conversation, buffered.store_key, reason)
        logger.error(
            "the bursts queue refused a burst; the agent was told and its messages set aside",
            reason=reason,
            burst_id=claim.burst_id,
            messages=len(claim.messages),
            **_ids(conversation),
        )
        _count("BurstsRefused")
        _count("MessagesSetAside", len(claim.messages))
        return notice

    def _buffer(self, conversation: Conversation, control: ControlView) -> ConversationBuffer:
        """The unsent messages, read after the control item (its version: see ConversationBuffer for why; where they
        start: the read skips the sent history kept for quotes). A message
        that cannot be read back fails the flush (the conversation is listed in the tick and tried again next window) until it
        has failed MAX_READ_FAILURES times; then it is set aside with its reason and the rest are read again."""
        try:
            return ConversationBuffer.of(control.version, self._unsent(conversation, control))
        except UnreadableMessages as unreadable:
            waiting = False
            for store_key, reason in unreadable.items:
                if self.store.count_failed_read(conversation, store_key, reason) < MAX_READ_FAILURES:
                    waiting = True
                    continue
                self.store.set_aside(conversation, store_key, reason)
                logger.error("a stored message could not be read back; set aside", reason=reason, **_ids(conversation))
                _count("MessagesSetAside")
            if waiting:
                raise
        return ConversationBuffer.of(control.version, self._unsent(conversation, control))

    def _unsent(self, conversation: Conversation, control: ControlView) -> list[BufferedMessage]:
        """The unsent messages from where the control item says they start; all of them when that read finds fewer
        than its `pending` count, which every version of ingest keeps: a message stored by one that keeps no
        `stored_since` (while `pulumi up` updates the functions one by one, or after a rollback) sorts before
        `unsent_from`."""
        messages = self.store.unsent_messages(conversation, control.unsent_from)
        if control.unsent_from is not None and len(messages) < control.pending:
            logger.info("unsent messages before the recorded start; all read", **_ids(conversation))
            messages = self.store.unsent_messages(conversation, None)
        return messages

    def _settle(self, conversation: Conversation, buffer: ConversationBuffer) -> int:
        """Write the buffer's settlement; how many messages it left unsent."""
        for _ in range(SETTLE_ATTEMPTS):
            settlement = buffer.settlement()
            if self.store.settle_control(conversation, settlement):
                return settlement.pending
            # A message arrived during the flush: it is pending in the table; count it from the truth.
            buffer = self._buffer(conversation, self.store.read_control(conversation))
        raise ConcurrentUpdate("the control item kept changing while settling a flush")


def typing_slot(first_pending: float | None, now: float, window_seconds: float) -> str | None:
    """Which typing refresh the window end at `now` sends ("<first pending>:<n>"), or None when the previous window
    end already sent this one. Pure: the wait's start and the window length say it, no state is kept."""
    if first_pending is None or now < first_pending:
        return None
    refresh = int((now - first_pending) // TYPING_REFRESH_SECONDS)
    previous = now - window_seconds
    if previous >= first_pending and int((previous - first_pending) // TYPING_REFRESH_SECONDS) == refresh:
        return None
    return f"{first_pending!r}:{refresh}"


_NOT_LISTED = object()
"""Not in the tick: idle, or flushed with messages left (its settle's own record brings it back)."""
_LOOKS_DUE = object()
"""The image looks due: read the control item and decide on the truth."""

_METRICS = threading.Lock()
"""Conversations flush on several threads; Powertools' Metrics keeps one unguarded set per invocation."""


def _count(name: str, value: float = 1, unit: MetricUnit = MetricUnit.Count) -> None:
    with _METRICS:
        count(name, value, unit)


def _log_refused(record: DynamoDBRecord, exc: Exception) -> None:
    """Why a stream record is refused, with the sequence number the failures queue keeps; never the record, nor an
    unexpected error's message (either may hold a customer's number or words): its type and where it was raised."""
    if isinstance(exc, MalformedEvent):
        reason = str(exc)  # the project's parse errors name what is wrong, never a key or a body
    else:
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "an unknown place"
        reason = f"{type(exc).__name__} at {where}"
    stream = record.dynamodb
    logger.warning(
        "stream record refused",
        reason=reason,
        exception_name=type(exc).__name__,
        sequence_number=stream.sequence_number if stream else None,
        event_id=record.event_id,
    )
    _count("StreamRecordsRefused")


def _count_flush(burst: Burst) -> None:
    _count("BurstsFlushed")
    _count("MessagesPerBurst", len(burst.message_ids))
    # From the burst's last message reaching the table to its flush: bufferSeconds plus up to one window when
    # healthy; growth here means windows end late (iterator age) or flushes fail and retry.
    _count("FlushLatency", max(0.0, burst.flushed_at - burst.last_received_at), MetricUnit.Seconds)


def _ids(conversation: Conversation) -> dict[str, Any]:
    return {"phone_number_id": conversation.phone_number_id, "customer": conversation.masked_customer}
