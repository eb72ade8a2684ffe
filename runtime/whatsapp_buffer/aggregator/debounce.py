"""Pure: should a conversation's pending messages become a burst now?

A quiet-period debounce with two caps (the quiet period itself from `end_of_turn`), decided from the conversation's control item and the time passed in.
No boto3, no clock, no environment: the aggregator reads the control item and `clock.now()` and asks here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from whatsapp_buffer import end_of_turn
from whatsapp_buffer.buffer_policy import BufferPolicy


class Outcome(enum.Enum):
    FLUSH = "flush"
    """Due: read the pending messages back and send them as one burst."""
    WAIT = "wait"
    """Messages are pending but not due: look again at the next window's end."""
    IDLE = "idle"
    """Nothing pending: stop looking (this is how a conversation leaves the loop)."""


QUIET = "quiet"
MAX_WAIT = "max_wait"
MAX_MESSAGES = "max_messages"
NOT_DUE = "not_due"
NOTHING_PENDING = "nothing_pending"


@dataclass(frozen=True)
class ControlView:
    """What the control item says about a conversation (`adapters/raw_control.py`)."""

    pending: int
    last_arrival: float | None
    """When the latest message was stored (runtime clock), whatever its WhatsApp timestamp."""
    first_pending: float | None
    """When the oldest message still pending was stored."""
    version: int = 0
    cue: str | None = None
    """The latest message's `end_of_turn.Cue`, filed by ingest (None on an item that holds none)."""
    previous_arrival: float | None = None
    """When the message before the latest was stored (None for a conversation's first message)."""
    unsent_from: str | None = field(default=None, metadata={"in_view": False})
    """Where the store's read of the unsent messages may start, as the store keeps it (None: at the first message).
    Not part of a window view (`as_view`): only a consistent read of the control item gives it, with its version."""

    @classmethod
    def from_image(cls, image: Mapping[str, Any]) -> ControlView:
        """From the control item's attributes as plain values (`image_view`)."""
        return cls(*image_view(image))

    @classmethod
    def from_view(cls, view: list[Any]) -> ControlView:
        """From a window view, `as_view()`'s six fields in their order (`window.listed_view` reads older views)."""
        return cls(*view)

    def as_view(self) -> list[Any]:
        return [self.pending, self.last_arrival, self.first_pending, self.version, self.cue, self.previous_arrival]

    @property
    def previous_gap(self) -> float | None:
        """Seconds between the latest two messages when both are pending, else None."""
        if self.previous_arrival is None or self.last_arrival is None or self.first_pending is None:
            return None
        if self.previous_arrival < self.first_pending:
            return None
        return self.last_arrival - self.previous_arrival


def image_view(image: Mapping[str, Any]) -> list[Any]:
    """`ControlView.as_view()` of the control item's attributes as plain values (a stream record's deserialized
    NewImage, or the item read back and deserialized the same way): absent `pending` and `version` read as 0, absent
    times and cue as None. TypeError or ValueError when an attribute is not of its type. A list, not a ControlView,
    because the aggregator keeps every record's image as one (`window.control_view`)."""
    pending, last, first = image.get("pending"), image.get("last_arrival"), image.get("first_pending")
    cue, previous = image.get("cue"), image.get("previous_arrival")
    return [
        0 if pending is None else int(pending),
        None if last is None else float(last),
        None if first is None else float(first),
        int(image.get("version") or 0),
        cue if isinstance(cue, str) else None,
        None if previous is None else float(previous),
    ]


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    """One of QUIET, MAX_WAIT, MAX_MESSAGES (FLUSH), NOT_DUE (WAIT), NOTHING_PENDING (IDLE)."""

    @property
    def flush(self) -> bool:
        return self.outcome is Outcome.FLUSH


def flush_due(control: ControlView, now: float, policy: BufferPolicy) -> Decision:
    """Decide for one conversation. When several reasons hold, the cap that tripped is named before `quiet`."""
    if control.pending <= 0:
        return Decision(Outcome.IDLE, NOTHING_PENDING)
    if control.pending >= policy.max_messages:
        return Decision(Outcome.FLUSH, MAX_MESSAGES)
    # A control item without times is inconsistent (ingest always writes them): flushing it is the safe
    # choice, since waiting on a time that never comes would strand its messages.
    first_pending = control.first_pending if control.first_pending is not None else control.last_arrival
    # Deadlines are computed exactly as `due_at` computes them, so the decision flips at the very instant it names.
    if first_pending is None or now >= first_pending + policy.max_wait_seconds:
        return Decision(Outcome.FLUSH, MAX_WAIT)
    last_arrival = control.last_arrival if control.last_arrival is not None else first_pending
    if now >= last_arrival + quiet_seconds(control, policy):
        return Decision(Outcome.FLUSH, QUIET)
    return Decision(Outcome.WAIT, NOT_DUE)


def due_at(control: ControlView, policy: BufferPolicy) -> float | None:
    """The earliest time `flush_due` says FLUSH if nothing else arrives; None when nothing is pending.

    The aggregator only looks at window ends, so the burst leaves at the first window end at or after this time.
    """
    if control.pending <= 0:
        return None
    if control.pending >= policy.max_messages:
        return float("-inf")
    first_pending = control.first_pending if control.first_pending is not None else control.last_arrival
    if first_pending is None:
        return float("-inf")
    last_arrival = control.last_arrival if control.last_arrival is not None else first_pending
    return min(last_arrival + quiet_seconds(control, policy), first_pending + policy.max_wait_seconds)


def quiet_seconds(control: ControlView, policy: BufferPolicy) -> float:
    """The quiet period after the latest message: `bufferSeconds`, or by its cue under `endOfTurn: cues`."""
    return end_of_turn.quiet_seconds(control.cue, control.previous_gap, policy)
