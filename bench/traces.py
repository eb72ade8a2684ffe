"""Seeded synthetic conversations with known ground truth, written as replay traces (docs/sandbox.md#tracejsonl).

Ground truth: a *true burst* is what the customer meant as one thought. The generator decides it, and writes it into
every trace line as the extra field `burst` ("c12-b3"; `read_trace` ignores extras). Inside a true burst the gaps
between messages are human typing gaps (lognormal, 0.5-6 s), and with probability `long_pause_rate` one gap is a
long mid-thought pause (8-15 s): it is *part* of the burst on purpose, to see whether a buffer keeps a hesitating
customer's thought together. Between bursts the customer thinks for 30-300 s, so every gap >= 30 s ends a burst
and every gap <= 15 s does not. Anything that splits a true burst, or merges two, is the buffer's doing.

Every message is a short text (well under Connect's 1,024 characters), so an intact burst reaches Connect as exactly
one message: media would become several Connect messages by design (attachment + caption) and blur the metric.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TYPING_GAP = (0.5, 6.0)
"""Seconds between two messages of one thought."""
LONG_PAUSE = (8.0, 15.0)
"""A customer who stops mid-thought (looking up an order number) and goes on: still the same burst."""
THINK_TIME = (30.0, 300.0)
"""Seconds between two thoughts of one customer: always a new burst."""
BURST_SIZES = {1: 20, 2: 20, 3: 17, 4: 14, 5: 10, 6: 8, 7: 6, 8: 5}
"""Messages per burst -> relative weight (many short bursts, a tail of long ones; mean ~3.4)."""
_WORDS = [
    "hi",
    "hello",
    "order",
    "lamp",
    "arrived",
    "broken",
    "box",
    "yesterday",
    "refund",
    "please",
    "tracking",
    "number",
    "still",
    "waiting",
    "the",
    "it",
    "was",
    "my",
    "address",
    "changed",
    "can",
    "you",
    "help",
    "thanks",
    "ok",
    "sorry",
    "also",
    "photo",
    "size",
    "wrong",
    "colour",
    "invoice",
]


@dataclass(frozen=True)
class Message:
    at: float
    """Trace seconds, rounded to the millisecond as written (so the models and the sandbox see the same time)."""
    customer: str
    burst: str
    text: str
    id: str = ""
    """WhatsApp message id, written into the trace so transcripts map back to messages (`_numbered` sets it)."""
    kind: str = "text"
    """The trace's `kind` (generated traces are all text; `bench advise` reads others from a trace)."""

    def to_line(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "type": "whatsapp",
            "from": self.customer,
            "id": self.id,
            "text": self.text,
            "burst": self.burst,
        }


def _numbered(messages: list[Message]) -> list[Message]:
    ordered = sorted(messages, key=lambda m: (m.at, m.customer, m.burst))
    return [
        Message(round(m.at, 3), m.customer, m.burst, m.text, f"wamid.BENCH{index:06d}")
        for index, m in enumerate(ordered)
    ]


def customer_id(index: int) -> str:
    return f"1555{index:07d}"


def _clamped_lognormal(rng: random.Random, low: float, high: float) -> float:
    # Median ~1.8 s: most follow-ups are quick, a few take a while to type.
    return min(high, max(low, rng.lognormvariate(math.log(1.8), 0.7)))


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 8)))


def _burst_size(rng: random.Random, sizes: dict[int, int]) -> int:
    return rng.choices(list(sizes), weights=list(sizes.values()))[0]


def conversations(
    *,
    customers: int,
    bursts_per_customer: tuple[int, int] = (2, 6),
    start_spread: float = 600.0,
    long_pause_rate: float = 0.1,
    sizes: dict[int, int] | None = None,
    seed: int = 8,
) -> list[Message]:
    """Every customer starts somewhere in [0, start_spread) and writes a few bursts; messages come back in time order."""
    rng = random.Random(seed)
    sizes = sizes or BURST_SIZES
    messages: list[Message] = []
    for c in range(customers):
        at = rng.uniform(0.0, start_spread)
        for b in range(rng.randint(*bursts_per_customer)):
            if b:
                at += rng.uniform(*THINK_TIME)
            size = _burst_size(rng, sizes)
            paused_gap = rng.randrange(1, size) if size > 1 and rng.random() < long_pause_rate else None
            for m in range(size):
                if m:
                    at += rng.uniform(*LONG_PAUSE) if m == paused_gap else _clamped_lognormal(rng, *TYPING_GAP)
                messages.append(Message(at, customer_id(c), f"c{c}-b{b}", _text(rng)))
    return _numbered(messages)


def rush(*, customers: int, window: float = 60.0, messages: tuple[int, int] = (1, 3), seed: int = 8) -> list[Message]:
    """Many customers at once: each sends one burst of 1-3 messages starting inside the same `window` seconds."""
    rng = random.Random(seed)
    out: list[Message] = []
    for c in range(customers):
        at = rng.uniform(0.0, window - 2 * TYPING_GAP[1])
        for m in range(rng.randint(*messages)):
            if m:
                at += _clamped_lognormal(rng, *TYPING_GAP)
            out.append(Message(at, customer_id(c), f"c{c}-b0", _text(rng)))
    return _numbered(out)


def true_bursts(messages: Iterable[Message]) -> dict[str, list[Message]]:
    """Burst id -> its messages in order."""
    bursts: dict[str, list[Message]] = {}
    for message in sorted(messages, key=lambda m: m.at):
        bursts.setdefault(message.burst, []).append(message)
    return bursts


def write(messages: Iterable[Message], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for message in messages:
            handle.write(json.dumps(message.to_line(), ensure_ascii=False) + "\n")
    return path
