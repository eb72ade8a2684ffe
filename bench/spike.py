"""A shard under a spike: 1,000 customers writing within 30 s, one stream shard, DynamoDB and SQS answering in a few ms.

The sandbox's virtual time stands still during an invoke, so it cannot show what a slow final invoke costs. Here the
real `Aggregator` (decision, lifecycle, merge, its concurrency) runs against an in-memory stand-in for its two
adapters that sleeps a modelled latency per call (`LATENCY_S`: assumptions, not measurements), with the shard's
final invokes one after another, as Lambda runs them: a window end longer than `windowSeconds` delays every later
window. The window's control images and ticks are merged as the handler merges them (`window.merge_view`).
Results and the model: docs/benchmarks.md#spike-on-one-shard.
"""

from __future__ import annotations

import contextlib
import io
import random
import statistics
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from whatsapp_buffer.adapters.raw_control import tick_chunks
from whatsapp_buffer.aggregator import flush
from whatsapp_buffer.aggregator.debounce import ControlView
from whatsapp_buffer.aggregator.lifecycle import CLAIMED, PENDING, SENT, BufferedMessage, Settlement
from whatsapp_buffer.aggregator.window import merge_view
from whatsapp_buffer.buffer_policy import BufferPolicy
from whatsapp_buffer.errors import ConcurrentUpdate
from whatsapp_buffer.ingest.accept import cue_of_message
from whatsapp_buffer.model import Burst, Conversation, InboundMessage, TypingSignal
from whatsapp_buffer.observability import logger

LATENCY_S = {
    "read_control": 0.004,
    "write_tick": 0.005,
    "unsent_messages": 0.005,
    "claim": 0.005,
    "mark_sent": 0.005,
    "settle_control": 0.005,
    "send": 0.010,
    "send_typing": 0.010,
}
PHONE_NUMBER_ID = "106540352242922"
T0 = 1_767_225_600.0


@dataclass
class _Control:
    pending: int = 0
    last_arrival: float | None = None
    first_pending: float | None = None
    version: int = 0
    cue: str | None = None
    previous_arrival: float | None = None

    def view(self) -> ControlView:
        return ControlView(
            self.pending, self.last_arrival, self.first_pending, self.version, self.cue, self.previous_arrival
        )


@dataclass
class ModelledShard:
    """The raw table as the aggregator sees it (control items, unsent messages) plus the stream's records and the
    bursts queue, each call sleeping its modelled latency. Thread-safe: the aggregator flushes on several threads."""

    latency: dict[str, float] = field(default_factory=lambda: dict(LATENCY_S))
    controls: dict[str, _Control] = field(default_factory=dict)
    messages: dict[str, dict[str, BufferedMessage]] = field(default_factory=dict)
    records: list[tuple[str, str, Any]] = field(default_factory=list)
    """The stream since the last `take_records`: ("control", key, its image) for a control item's write, ("tick",
    anchor, {key: image or None}) for a tick chunk."""
    ticks: int = 0
    """Tick chunks written."""
    sent: list[tuple[float, Burst]] = field(default_factory=list)
    """(wall clock of the send, burst)."""
    typing_signals: int = 0
    """Typing signals put on the bursts queue (an SQS SendMessage each, like a burst)."""
    calls: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    """The most calls that were waiting at once (how many conversations the aggregator really worked on at once)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _wait(self, call: str) -> None:
        with self._lock:
            self.calls += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        time.sleep(self.latency[call])
        with self._lock:
            self.in_flight -= 1

    def _record(self, key: str) -> None:
        """A stream record of the control item (called under the lock)."""
        c = self.controls[key]
        self.records.append(("control", key, c.view().as_view()))

    def take_records(self) -> list[tuple[str, str, Any]]:
        with self._lock:
            records, self.records = self.records, []
        return records

    # what ingest does (not timed: another function, another shard of work)
    def store(self, message: InboundMessage) -> None:
        key = message.conversation.key
        with self._lock:
            control = self.controls.setdefault(key, _Control())
            control.pending += 1
            control.previous_arrival = control.last_arrival or message.received_at
            control.cue = cue_of_message(message)
            control.last_arrival = message.received_at
            control.first_pending = control.first_pending or message.received_at
            control.version += 1
            sort_key = f"{message.sent_at:020.6f}#{message.message_id}"
            self.messages.setdefault(key, {})[sort_key] = BufferedMessage(message, sort_key)
            self._record(key)

    # the aggregator's RawStore port, as it calls it
    def read_control(self, conversation: Conversation) -> ControlView:
        self._wait("read_control")
        with self._lock:
            return self.controls.get(conversation.key, _Control()).view()

    def write_tick(self, anchor: Conversation, listed: Mapping[str, list[Any] | None], now: float) -> int:
        chunks = tick_chunks(listed)
        for chunk in chunks:
            self._wait("write_tick")
            with self._lock:
                self.ticks += 1
                self.records.append(("tick", anchor.key, dict(chunk)))
        return len(chunks)

    def unsent_messages(self, conversation: Conversation, start: str | None = None) -> list[BufferedMessage]:
        self._wait("unsent_messages")
        with self._lock:
            stored = self.messages.get(conversation.key, {})
            return [stored[k] for k in sorted(stored) if stored[k].status in (PENDING, CLAIMED)]

    def claim(
        self,
        conversation: Conversation,
        messages: Iterable[BufferedMessage],
        burst_id: str,
        claimed_at: float | None = None,
    ) -> None:
        self._transition(conversation, messages, burst_id, "claim", CLAIMED, claimed_at)

    def mark_sent(self, conversation: Conversation, messages: Iterable[BufferedMessage], burst_id: str) -> None:
        self._transition(conversation, messages, burst_id, "mark_sent", SENT)

    def _transition(
        self,
        conversation: Conversation,
        messages: Iterable[BufferedMessage],
        burst_id: str,
        call: str,
        status: str,
        claimed_at: float | None = None,
    ) -> None:
        """One conditional UpdateItem per message, in burst order, as the raw table adapter writes them."""
        ordered = list(messages)
        for index, message in enumerate(ordered):
            self._wait(call)
            with self._lock:
                stored = self.messages[conversation.key]
                k = message.store_key
                if status == CLAIMED:
                    if stored[k].status != PENDING and not (
                        stored[k].status == CLAIMED and stored[k].burst_id == burst_id
                    ):
                        raise ConcurrentUpdate("not pending")
                    stored[k] = BufferedMessage(stored[k].message, k, status, burst_id, index, len(ordered), claimed_at)
                else:
                    if stored[k].burst_id != burst_id:
                        raise ConcurrentUpdate("claimed under another burst")
                    stored[k] = BufferedMessage(stored[k].message, k, status, burst_id)

    def settle_control(self, conversation: Conversation, settlement: Settlement) -> bool:
        self._wait("settle_control")
        with self._lock:
            control = self.controls[conversation.key]
            if control.version != settlement.expected_version:
                return False
            control.pending, control.first_pending = settlement.pending, settlement.first_pending
            control.version += 1
            self._record(conversation.key)
            return True

    # the aggregator's BurstsQueue port
    def send(self, burst: Burst) -> str:
        self._wait("send")
        with self._lock:
            self.sent.append((time.perf_counter(), burst))
        return burst.burst_id

    def send_typing(self, signal: TypingSignal, slot: str) -> None:
        self._wait("send_typing")
        with self._lock:
            self.typing_signals += 1


def window_input(records: Iterable[tuple[str, str, Any]]) -> tuple[list[str], dict[str, list[Any]], list[str]]:
    """(conversation keys in first-seen order, their views, tick anchors) of a window's records, as the handler
    collects them (`Aggregator.handle`)."""
    seen: dict[str, None] = {}
    views: dict[str, list[Any]] = {}
    anchors: dict[str, None] = {}
    for kind, key, image in records:
        if kind == "control":
            seen.setdefault(key)
            merge_view(views, key, image, from_tick=False)
            continue
        anchors.setdefault(key)
        for listed, view in image.items():
            seen.setdefault(listed)
            merge_view(views, listed, view, from_tick=True)
    return list(seen), views, list(anchors)


def spike_messages(customers: int, spread_s: float, seed: int) -> list[InboundMessage]:
    """Each customer starts within `spread_s` and sends 1-3 short texts 0.5-6 s apart (one burst each)."""
    rng = random.Random(seed)
    messages = []
    for c in range(customers):
        conversation = Conversation(PHONE_NUMBER_ID, f"5511{c:09d}")
        at = T0 + rng.uniform(0, spread_s)
        for m in range(rng.randint(1, 3)):
            if m:
                at += rng.uniform(0.5, 6)
            messages.append(
                InboundMessage(
                    f"wamid.S{c:05d}M{m}",
                    conversation,
                    "text",
                    at,
                    {"text": "where is my order?"},
                    origination_phone_number_id="phone-number-id-0123",
                    received_at=at,
                )
            )
    return sorted(messages, key=lambda m: m.received_at)


def run_spike(
    customers: int = 1_000,
    spread_s: float = 30.0,
    buffer_s: float = 20,
    window_s: float = 1,
    concurrency: int = flush.FLUSH_CONCURRENCY,
    seed: int = 16,
) -> dict[str, Any]:
    """Replay the spike window by window on one shard; latency = burst on the queue - its last message."""
    policy = BufferPolicy(buffer_s, max(60, buffer_s), 50, window_s, "fixed")
    messages = spike_messages(customers, spread_s, seed)
    last_of = {}
    for message in messages:
        last_of[message.conversation.key] = message.received_at
    shard = ModelledShard()
    virtual = {"now": T0}
    aggregator = flush.Aggregator(
        store=shard,  # type: ignore[arg-type]  # no unreadable item in a spike: no count_failed_read, no set_aside
        queue=shard,
        policy=policy,
        now=lambda: virtual["now"],
    )
    level = logger.log_level
    logger.setLevel("WARNING")  # restored below: the Logger is the functions' one, shared by everything
    saved, flush.FLUSH_CONCURRENCY = flush.FLUSH_CONCURRENCY, concurrency
    pending_records: dict[int, list[tuple[str, str, Any]]] = {}
    flushed_at: dict[str, float] = {}
    durations: list[tuple[int, int, float]] = []
    shard_free = T0
    index, window = 0, int(T0 // window_s)
    try:
        while index < len(messages) or pending_records or shard.records:
            end = (window + 1) * window_s
            while index < len(messages) and messages[index].received_at < end:
                shard.store(messages[index])
                index += 1
            keys, views, anchors = window_input([*pending_records.pop(window, []), *shard.take_records()])
            if keys:
                start = max(end, shard_free)
                virtual["now"] = start
                before = len(shard.sent)
                wall = time.perf_counter()
                with contextlib.redirect_stdout(io.StringIO()):
                    aggregator.end_window([Conversation.from_key(k) for k in keys], views, anchors)
                took = time.perf_counter() - wall
                for sent_wall, burst in shard.sent[before:]:
                    flushed_at[burst.conversation.key] = start + (sent_wall - wall)
                shard_free = start + took
                durations.append((len(keys), len(shard.sent) - before, took))
                # What this invoke wrote lands in the window its end falls in (never an earlier one).
                later = max(window + 1, int(shard_free // window_s))
                pending_records.setdefault(later, []).extend(shard.take_records())
            window += 1
    finally:
        flush.FLUSH_CONCURRENCY = saved
        logger.setLevel(level)
    latencies = sorted(flushed_at[k] - last_of[k] for k in flushed_at)
    per_due = [took / due for _, due, took in durations if due]
    busiest = max(durations, key=lambda d: d[2])
    return {
        "customers": customers,
        "messages": len(messages),
        "spread_s": spread_s,
        "buffer_seconds": buffer_s,
        "window_seconds": window_s,
        "concurrency": concurrency,
        "bursts": len(flushed_at),
        "latency_p50_s": round(statistics.median(latencies), 2),
        "latency_p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
        "latency_max_s": round(latencies[-1], 2),
        "target_p95_s": buffer_s + window_s + 1,
        "final_invokes": len(durations),
        "longest_final_invoke_s": round(busiest[2], 3),
        "longest_final_invoke_conversations": busiest[0],
        "final_invoke_p95_s": round(sorted(d[2] for d in durations)[int(0.95 * (len(durations) - 1))], 3),
        "final_invokes_over_window": sum(1 for d in durations if d[2] > window_s),
        "ms_per_due_conversation_median": round(1000 * statistics.median(per_due), 2) if per_due else None,
        "ms_per_conversation_looked_at": round(1000 * sum(d[2] for d in durations) / sum(d[0] for d in durations), 2),
        "calls": shard.calls,
        "tick_writes": shard.ticks,
        "typing_signals": shard.typing_signals,
        "max_calls_at_once": shard.max_in_flight,
    }


def run() -> dict[str, Any]:
    """The spike at the defaults; one conversation at a time (a fifth of the customers: the full spike would take
    minutes of sleeping); bigger spikes to find where one shard stops keeping up, and what longer windows do there."""
    return {
        "latency_model_s": LATENCY_S,
        "default": run_spike(),
        "one_at_a_time": run_spike(concurrency=1, customers=200),
        "larger": [run_spike(customers=n) for n in (2_000, 4_000, 8_000)],
        "larger_windows": [run_spike(customers=n, window_s=w) for n, w in ((4_000, 2), (4_000, 5), (8_000, 2))],
    }


def lines(result: dict[str, Any]) -> list[str]:
    def one(r: dict[str, Any]) -> str:
        return (
            f"  {r['customers']:>5} customers in {r['spread_s']:g} s, {r['buffer_seconds']:g} x {r['window_seconds']:g}, "
            f"{r['concurrency']:>2} at a time: p50/p95/max {r['latency_p50_s']}/{r['latency_p95_s']}/"
            f"{r['latency_max_s']} s (target p95 {r['target_p95_s']:g}); longest final invoke {r['longest_final_invoke_s']} s "
            f"for {r['longest_final_invoke_conversations']} conversations (p95 {r['final_invoke_p95_s']} s), "
            f"{r['final_invokes_over_window']} of "
            f"{r['final_invokes']} over the window; {r['ms_per_due_conversation_median']} ms per due conversation "
            f"(median), {r['ms_per_conversation_looked_at']} ms per conversation looked at"
        )

    return [
        f"\nSpike on one shard (modelled call latencies {result['latency_model_s']})",
        one(result["default"]),
        one(result["one_at_a_time"]),
        *(one(r) for r in result["larger"]),
        *(one(r) for r in result["larger_windows"]),
    ]
