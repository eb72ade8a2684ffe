"""Pure: what reached the agent, scored against the trace's true bursts.

A *delivery* is one Connect message (transcript `connect[]` item) with the WhatsApp message ids it carries. A true
burst is *intact* when exactly one delivery carries any of its messages, all of them and no other burst's; *split*
when its messages reached the agent in two or more, *merged* when one carried (part of) another burst too. *Added
latency*: the (last) Connect message carrying the burst's last message, minus when that message reached the system.
Connect messages per 1,000 WhatsApp messages are priced at `CONNECT_PRICE` (docs/benchmarks.md#traces).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.traces import Message

CONNECT_PRICE = 0.004
"""US$ per Connect chat message (the AWS sample's cost table)."""


@dataclass(frozen=True)
class Delivery:
    at: float
    """Trace seconds."""
    customer: str
    message_ids: tuple[str, ...]


def deliveries_from_transcript(transcript: Mapping[str, Any]) -> list[Delivery]:
    return [
        Delivery(float(c["at"]), str(c.get("customer") or ""), tuple(c.get("message_ids") or ()))
        for c in transcript["connect"]
    ]


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def score(messages: Iterable[Message], deliveries: Iterable[Delivery]) -> dict[str, Any]:
    """Integrity, latency and volume of one run (see the module docstring for the definitions)."""
    messages = list(messages)
    deliveries = list(deliveries)
    burst_of = {m.id: m.burst for m in messages}
    bursts: dict[str, list[Message]] = {}
    for message in sorted(messages, key=lambda m: (m.at, m.id)):
        bursts.setdefault(message.burst, []).append(message)
    carriers: dict[str, list[int]] = {}
    for index, delivery in enumerate(deliveries):
        for message_id in delivery.message_ids:
            carriers.setdefault(message_id, []).append(index)

    intact = split = merged = lost = 0
    latencies: list[float] = []
    for burst, members in bursts.items():
        used = sorted({i for m in members for i in carriers.get(m.id, [])})
        if any(m.id not in carriers for m in members):
            lost += 1
        foreign = any(burst_of.get(mid) != burst for i in used for mid in deliveries[i].message_ids)
        split += len(used) > 1
        merged += foreign
        if len(used) == 1 and not foreign and all(m.id in carriers for m in members):
            intact += 1
        last = members[-1]
        if last.id in carriers:
            latencies.append(max(deliveries[i].at for i in carriers[last.id]) - last.at)

    total_bursts = len(bursts)
    connect_messages = len(deliveries)
    per_thousand = 1000 * connect_messages / len(messages) if messages else math.nan
    return {
        "whatsapp_messages": len(messages),
        "true_bursts": total_bursts,
        "connect_messages": connect_messages,
        "intact_bursts": intact,
        "split_bursts": split,
        "merged_bursts": merged,
        "lost_bursts": lost,
        "integrity_pct": round(100 * intact / total_bursts, 2) if total_bursts else math.nan,
        "latency_mean_s": round(sum(latencies) / len(latencies), 3) if latencies else math.nan,
        "latency_p50_s": round(percentile(latencies, 50), 3),
        "latency_p95_s": round(percentile(latencies, 95), 3),
        "latency_max_s": round(max(latencies), 3) if latencies else math.nan,
        "connect_per_1000": round(per_thousand, 1),
        "messages_per_connect": round(len(messages) / connect_messages, 3) if connect_messages else math.nan,
        "connect_cost_per_1000_usd": round(per_thousand * CONNECT_PRICE, 3),
    }
