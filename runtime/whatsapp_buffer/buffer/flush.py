"""Flush the buffer: at each tumbling window's end, one burst per conversation that is due (the debounce).

The tumbling window is the timer. Records of control items arrive during a window; their conversation keys are
collected in the window state with the newest control image their records carried ({"c": [keys], "v": {key:
[pending, last_arrival, first_pending, version]}, "a": [tick anchors]}, about 120 bytes a conversation: ~8,700 per
shard-window under Lambda's 1 MB state limit). At the window's final invoke each conversation is decided with
`debounce.flush_due`, on its image first: not yet due -> it stays waiting (no read); nothing pending -> dropped (the
loop ends); looks due -> the control item is read consistently and the decision made again on the truth: due ->
flushed here.

Lambda drops a window's state after its final invoke ("After processing, the window completes and your final
invocation completes, and then the state is dropped": Lambda Developer Guide, "Tumbling windows" for DynamoDB
streams), so what is still waiting must come back through a new stream record. The final invoke writes ONE tick item
(`RawStore.write_tick`, chunked when large) listing every conversation it leaves waiting with the control image it was
decided on (None for one whose flush failed: read it at the next end). The tick's record lands in the next window, and
each listed conversation counts as seen there, with that image. A flushed conversation with messages left is not
listed: its settle wrote the control item, whose own record brings it back.

Where the tick lands: a stream record goes to the shard of its item's partition, so the tick is written under the
partition key of one of the waiting conversations (the anchor: the previous window's anchor while it still waits,
so the same item is overwritten window after window; else the smallest key). The conversations of one shard arrived
through it, so their tick comes back to it. After a shard split the tick may land in another shard than some of its
conversations' own records, and two aggregators may then flush one conversation at once; that stays safe because
every step below is conditional (claims, marks, the versioned settle) and idempotent under one burst id.

Merging views: a control record's image replaces a view of the same or a lower version (versions only grow; a
record Lambda processes again may come out of order); a tick's image only fills an absent view or replaces one of a strictly lower version. A tick never lists a
conversation with nothing pending, so a stale tick cannot make a conversation look idle, and an image that looks due
is always checked against a consistent read before anything is sent.

Latency (from a burst's last message reaching the table to the burst on the queue), with B = bufferSeconds and
W = windowSeconds: conversations are only looked at at window ends, so a quiet-period flush happens at the first
window end at least B after the last arrival: B <= latency < B + W, plus the stream's propagation delay and the final
invoke's own duration (typically well under a second each). No message waits more than maxWaitSeconds + W for its
burst, and maxMessages pending flush at the next window end (< W). Each window end that leaves conversations waiting
costs one tick PutItem (1 WRU per started KB: ~17 conversations a KB) instead of one UpdateItem per waiting
conversation.

Flush, idempotent at every step (a retried final invoke resends the same burst id, which SQS FIFO and the bridge's
idempotency both drop): decide on the control item (read with its version), then, on the unsent messages read after
it (`lifecycle.ConversationBuffer`, which owns the states and transitions): claim the next burst (a claimed-but-unsent
one is resent first -- or, when its marks had begun, only marked sent --, else up to `max_messages` pending ones),
send it, mark it sent (claim and mark: one conditional UpdateItem per message), and settle the control item's
pending count only if its version is unchanged -- a message that arrived meanwhile moved the version, so the count is
recomputed and that message stays pending for its own burst.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from whatsapp_buffer import clock
from whatsapp_buffer.adapters.bursts_queue import BurstsQueue
from whatsapp_buffer.adapters.raw_control import conversation_from_stream_keys, tick_from_stream
from whatsapp_buffer.adapters.raw_table import RawStore
from whatsapp_buffer.buffer import debounce, merge
from whatsapp_buffer.buffer.debounce import ControlView
from whatsapp_buffer.buffer.lifecycle import ClaimInFlight, ConversationBuffer
from whatsapp_buffer.errors import ConcurrentUpdate, MalformedEvent, TransientAwsError, UnreadableMessages
from whatsapp_buffer.model import Burst, Conversation, TypingSignal
from whatsapp_buffer.observability import logger, metrics
from whatsapp_buffer.settings import BufferPolicy

STATE_KEY = "c"
"""Window state: {"c": [conversation keys in first-seen order], "v": {key: [pending, last_arrival, first_pending,
version]}, "a": [anchors of the ticks this window carried]}."""
VIEWS_KEY = "v"
"""The newest control image each conversation's records carried this window (the stream's NEW_IMAGE, or a tick's
listed image; see the module docstring for how they merge): enough to decide WAIT or IDLE without reading the control
item again. Records of one item arrive in order, so a control record's image is the newest write the stream has
delivered; a newer one only makes the conversation less due by quiet, and its own record brings it to a later window.
A due-looking image is always checked against a consistent read before anything is sent. A window state written by
the code before versions were kept holds 3-element views: they read as version 0."""
ANCHORS_KEY = "a"
"""The conversations whose partitions this window's tick records came from: the next tick keeps one of them as its
anchor while it still waits, so one tick item is overwritten window after window."""
NO_IMAGE = None
"""A tick's image of a conversation whose flush failed: no image, read the control item at the next window end."""
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


def window_state(
    keys: Iterable[str], views: dict[str, list[Any]] | None = None, anchors: Iterable[str] = ()
) -> dict[str, Any]:
    state: dict[str, Any] = {STATE_KEY: list(dict.fromkeys(keys))}
    if views:
        state[VIEWS_KEY] = {key: views[key] for key in state[STATE_KEY] if key in views}
    anchors = [a for a in dict.fromkeys(anchors) if a in state[STATE_KEY]]
    if anchors:
        state[ANCHORS_KEY] = anchors
    return state


def control_view(image: dict[str, Any] | None) -> list[Any] | None:
    """[pending, last_arrival, first_pending, version] from a control record's (deserialized) NewImage; None if
    unusable. An image without `version` (none is written without one) reads as version 0."""
    if not image or "pending" not in image or "last_arrival" not in image:
        return None
    try:
        first = image.get("first_pending")
        return [
            int(image["pending"]),
            float(image["last_arrival"]),
            None if first is None else float(first),
            int(image.get("version") or 0),
        ]
    except (TypeError, ValueError):
        return None


def listed_view(image: Any) -> list[Any] | None:
    """A tick's or a window state's view as [pending, last_arrival, first_pending, version]; a 3-element one (a window
    state written before versions were kept) reads as version 0. None when it is not a view."""
    if not isinstance(image, list) or len(image) not in (3, 4):
        return None
    pending, last_arrival, first_pending, *version = image
    return control_view(
        {
            "pending": pending,
            "last_arrival": last_arrival,
            "first_pending": first_pending,
            "version": (version or [0])[0],
        }
    )


def merge_view(views: dict[str, list[Any]], key: str, view: list[Any] | None, *, from_tick: bool) -> None:
    """Merge one record's image of conversation `key` into the window's views. A control record's image replaces
    one of the same or a lower version (None: unusable, read it at the end); a tick's only fills an absent view or
    replaces a strictly older one (None, a failed flush's entry, changes nothing: a view the window has is newer than the failure)."""
    if not from_tick:
        current = views.get(key)
        if view is None:
            views.pop(key, None)
        elif current is None or current[3] <= view[3]:
            # Versions only grow, so a lower one is an older write: a record processed again, which Lambda may then
            # deliver out of order ("If records are processed more than once, they might be processed out of
            # order": Lambda Developer Guide, tumbling windows). Keeping the newer image keeps a conversation with
            # messages pending from looking idle.
            views[key] = view
        return
    if view is None:
        return
    current = views.get(key)
    if current is None or current[3] < view[3]:
        views[key] = view


def choose_anchor(waiting: Iterable[str], previous: Iterable[str]) -> str:
    """The conversation whose partition the next tick is written under: the smallest previous anchor still waiting
    (the same item overwritten window after window), else the smallest waiting key."""
    waiting = set(waiting)
    kept = sorted(a for a in previous if a in waiting)
    return kept[0] if kept else min(waiting)


def conversation_of(record: DynamoDBRecord) -> Conversation | None:
    """The conversation a control record belongs to; None for records of other items (the filter should drop them)."""
    stream = record.dynamodb
    if stream is None:
        raise MalformedEvent("stream record has no dynamodb section")
    return conversation_from_stream_keys(stream.keys or {})


def tick_of(record: DynamoDBRecord) -> tuple[str, dict[str, list[Any] | None]] | None:
    """(anchor, {conversation key: view or None}) of a tick record; None for records of other items. An entry that
    is not a conversation key or not a view is dropped with a warning (the sweeper finds its conversation)."""
    stream = record.dynamodb
    if stream is None:
        raise MalformedEvent("stream record has no dynamodb section")
    tick = tick_from_stream(stream.keys or {}, stream.new_image)
    if tick is None:
        return None
    anchor, listed = tick
    views: dict[str, list[Any] | None] = {}
    for key, image in listed.items():
        view = None if image is None else listed_view(list(image) if isinstance(image, (list, tuple)) else image)
        try:
            key = Conversation.from_key(str(key)).key
        except MalformedEvent:
            view, image = None, "unreadable"
        if image is not None and view is None:
            logger.warning("dropped an unreadable tick entry")
            _count("TickEntriesDropped")
            continue
        views[key] = view
    return anchor, views


@dataclass
class Aggregator:
    store: RawStore
    queue: BurstsQueue
    policy: BufferPolicy
    now: Callable[[], float] = clock.now

    def handle(self, event: DynamoDBStreamEvent) -> dict[str, Any]:
        seen = dict.fromkeys(self._state_keys(event.state))
        views = self._state_views(event.state, seen)
        anchors = self._state_anchors(event.state, seen)

        def collect(record: DynamoDBRecord) -> None:
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
        not block the others. `views`: the control images the window's records carried (see VIEWS_KEY); `anchors`:
        where this window's ticks came from (see ANCHORS_KEY). Ends by writing the tick of what is left waiting."""
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
        control, now = ControlView(view[0], view[1], view[2], view[3]), self.now()
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
                return sent, [control.pending, control.last_arrival, control.first_pending, control.version]
            if not decision.flush:
                # After a flush the settled control item already wrote the record the next window needs.
                return sent, _NOT_LISTED
            burst, left = self._flush_once(conversation, control, now)
            if burst is None:
                return sent, _NOT_LISTED
            logger.info(
                "burst sent",
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
        buffer = self._buffer(conversation, control.version)
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
        self.queue.send(burst)
        self.store.mark_sent(conversation, claim.messages, claim.burst_id)
        return burst, self._settle(conversation, buffer.claimed(claim).sent(claim))

    def _buffer(self, conversation: Conversation, version: int) -> ConversationBuffer:
        """The unsent messages, read after the control item's version (see ConversationBuffer for why). A message
        that cannot be read back fails the flush (the conversation is listed in the tick and tried again next window) until it
        has failed MAX_READ_FAILURES times; then it is set aside with its reason and the rest are read again."""
        try:
            return ConversationBuffer.of(version, self.store.unsent_messages(conversation))
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
        return ConversationBuffer.of(version, self.store.unsent_messages(conversation))

    def _settle(self, conversation: Conversation, buffer: ConversationBuffer) -> int:
        """Write the buffer's settlement; how many messages it left unsent."""
        for _ in range(SETTLE_ATTEMPTS):
            settlement = buffer.settlement()
            if self.store.settle_control(conversation, settlement):
                return settlement.pending
            # A message arrived during the flush: it is pending in the table; count it from the truth.
            buffer = self._buffer(conversation, self.store.read_control(conversation).version)
        raise ConcurrentUpdate("the control item kept changing while settling a flush")

    @staticmethod
    def _state_views(state: dict[str, Any], seen: dict[str, None]) -> dict[str, list[Any]]:
        views = state.get(VIEWS_KEY) if isinstance(state, dict) else None
        if not isinstance(views, dict):
            return {}
        valid = {key: listed_view(view) for key, view in views.items() if key in seen}
        return {key: view for key, view in valid.items() if view is not None}

    @staticmethod
    def _state_anchors(state: dict[str, Any], seen: dict[str, None]) -> dict[str, None]:
        anchors = state.get(ANCHORS_KEY) if isinstance(state, dict) else None
        return (
            dict.fromkeys(a for a in anchors if isinstance(a, str) and a in seen) if isinstance(anchors, list) else {}
        )

    @staticmethod
    def _state_keys(state: dict[str, Any]) -> list[str]:
        keys = state.get(STATE_KEY) or []
        valid = []
        for key in keys if isinstance(keys, list) else []:
            try:
                valid.append(Conversation.from_key(str(key)).key)
            except MalformedEvent:
                logger.warning("dropped an unreadable window state entry")
        return valid


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


def _count(name: str, value: float = 1, unit: str = MetricUnit.Count) -> None:
    with _METRICS:
        metrics.add_metric(name=name, unit=unit, value=value)


def _count_flush(burst: Burst) -> None:
    _count("BurstsFlushed")
    _count("MessagesPerBurst", len(burst.message_ids))
    # From the burst's last message reaching the table to its flush: bufferSeconds plus up to one window when
    # healthy; growth here means windows end late (iterator age) or flushes fail and retry.
    _count("FlushLatency", max(0.0, burst.flushed_at - burst.last_received_at), MetricUnit.Seconds)


def _ids(conversation: Conversation) -> dict[str, str]:
    return {"phone_number_id": conversation.phone_number_id, "customer": conversation.masked_customer}
