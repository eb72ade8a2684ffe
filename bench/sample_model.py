"""The AWS sample's buffering (its CDK stack, linked from README.md), modelled in pure Python over the same trace.

The sample stores each message in DynamoDB and lets the stream's tumbling window of `BUFFER_IN_SECONDS` be the
buffer: windows are clock-aligned ([k*B, (k+1)*B)), and at a window's end the aggregator groups whatever of one sender
landed in that window into one message for Connect. So a thought that straddles a window edge reaches the agent as
two messages, and a lone "Hi" waits until its window closes: on a text-only trace, one Connect message per (sender, window), at its end.
Modelled faithfully, and deliberately generous to the AWS sample: no stream propagation delay, no invoke time, no
Connect call latency (our figures from the sandbox include all of those), and no 1,024-character split (bench traces
are short). The results keep the key they were first recorded under, `seed`: `seed_model` and `seed_on_same_trace` in
bench/results.json, the rows `seed <n>s` and the `seed` entries in bench/real_timing.json are this model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from bench.metrics import Delivery
from bench.traces import Message


def window_start(at: float, buffer_seconds: float) -> float:
    return math.floor(at / buffer_seconds) * buffer_seconds


def sample_deliveries(messages: Iterable[Message], buffer_seconds: float) -> list[Delivery]:
    """One Connect message per sender per clock-aligned window, at the window's end, in WhatsApp order."""
    groups: dict[tuple[str, float], list[Message]] = {}
    for message in sorted(messages, key=lambda m: (m.at, m.id)):
        groups.setdefault((message.customer, window_start(message.at, buffer_seconds)), []).append(message)
    deliveries = [
        Delivery(at=start + buffer_seconds, customer=customer, message_ids=tuple(m.id for m in group))
        for (customer, start), group in groups.items()
    ]
    return sorted(deliveries, key=lambda d: (d.at, d.customer))


def unbuffered_deliveries(messages: Iterable[Message]) -> list[Delivery]:
    """Forwarding each message as it comes (the AWS sample's "without buffering" column)."""
    return [Delivery(at=m.at, customer=m.customer, message_ids=(m.id,)) for m in messages]
