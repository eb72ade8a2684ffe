"""Our buffering modelled in pure Python with the runtime's own decision code (`whatsapp_buffer.aggregator.debounce`).

The aggregator looks at a conversation at the end of every tumbling window (clock-aligned, `windowSeconds` long)
while it has pending messages, and flushes at the first window end at or after `debounce.due_at` (quiet for
`bufferSeconds`, or the oldest pending message waited `maxWaitSeconds`, or `maxMessages` pending). Messages that
arrive after a flush start a new burst. This is what the sandbox does minus the delivery path (queue, Connect calls),
so it is used for the wide sweep and checked against the sandbox where both ran (`delivery_offset`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from bench.metrics import Delivery
from bench.traces import Message
from whatsapp_buffer.aggregator import debounce, end_of_turn
from whatsapp_buffer.function_settings import BufferPolicy


def next_window_end(at: float, window_seconds: float) -> float:
    """The end of the window a record written at `at` falls in (a record exactly on an edge opens the next window)."""
    return (math.floor(at / window_seconds) + 1) * window_seconds


def debounce_deliveries(messages: Iterable[Message], policy: BufferPolicy) -> list[Delivery]:
    """A message's cue (`endOfTurn: cues`) is what ingest files for its kind and text."""
    by_customer: dict[str, list[Message]] = {}
    for message in sorted(messages, key=lambda m: (m.at, m.id)):
        by_customer.setdefault(message.customer, []).append(message)
    deliveries: list[Delivery] = []
    for customer, stream in by_customer.items():
        pending: list[Message] = []
        previous: float | None = None
        """Arrival of the customer's message before the latest pending one (what the control item keeps)."""
        last_at: float | None = None
        tick = 0.0
        for message in stream:
            if pending:
                flush_at = _flush_time(pending, previous, tick, policy)
                if flush_at <= message.at:
                    deliveries.append(Delivery(flush_at, customer, tuple(m.id for m in pending)))
                    pending = []
            if not pending:
                tick = next_window_end(message.at, policy.window_seconds)
            previous = last_at
            last_at = message.at
            pending.append(message)
        if pending:
            flush_at = _flush_time(pending, previous, tick, policy)
            deliveries.append(Delivery(flush_at, customer, tuple(m.id for m in pending)))
    return sorted(deliveries, key=lambda d: (d.at, d.customer))


def _flush_time(pending: list[Message], previous: float | None, first_tick: float, policy: BufferPolicy) -> float:
    control = debounce.ControlView(
        pending=len(pending),
        last_arrival=pending[-1].at,
        first_pending=pending[0].at,
        cue=end_of_turn.cue_of(pending[-1].kind, pending[-1].text),
        previous_arrival=previous,
    )
    due = debounce.due_at(control, policy)
    assert due is not None
    window = policy.window_seconds
    # Window ends come every `window` seconds from the first one after the burst began; the first at or after `due`.
    ticks_after = max(0, math.ceil((due - first_tick) / window - 1e-9))
    return max(first_tick + ticks_after * window, next_window_end(pending[-1].at, window))
