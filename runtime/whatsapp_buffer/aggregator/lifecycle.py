"""Pure: the burst lifecycle of one conversation -- its unsent messages' states and the control item's version.

Ingest stores a message `pending`; a flush claims some under a burst id (`claimed`), sends the burst, then marks them
`sent`. Claims go in WhatsApp order, at most `max_messages` and one queue message's worth at a time; a flush ends by
settling the control item on the version it read. The raw table adapter persists each transition as one conditional
write per message, in burst order, each claim recording its place (`burst_index` of `burst_size`), so a flush that died
half-way is told apart: a claimed prefix is completed into the same burst id (or, once its claim is older than
`CLAIM_LEASE_SECONDS`, sent alone), a claimed suffix is only marked sent. Why each rule:
docs/architecture.md#the-claim-lease. No boto3, no clock: the flush reads the table and hands the buffer in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from whatsapp_buffer.model import InboundMessage, burst_id_for
from whatsapp_buffer.queue_text import queue_json

PENDING = "pending"
"""Stored, waiting for a burst."""
CLAIMED = "claimed"
"""Taken into a burst (its `burst_id` set) that is being sent or was sent but not yet marked so."""
SENT = "sent"
"""On the bursts queue; the item stays in the table until its TTL so a redelivery is still refused."""

CLAIM_LEASE_SECONDS = 300.0
"""How long a claim's writer may still be at work: longer than the aggregator's Lambda timeout (Lambda ends an
invocation at its timeout, so a flush older than that is over), checked against the component's timeout in
tests/infra. Only a half-claimed burst that cannot be completed waits for it (see `next_claim`)."""


class ClaimInFlight(Exception):
    """A half-claimed burst whose writer may still be claiming and sending it: leave the conversation for a later
    window (the flush lists it in the tick without an image)."""


MAX_BURST_CONTENT_BYTES = 160_000
"""A burst is one SQS message: the messages' content in one burst stays under this, as the queue body will hold it
(`queue_text`: long non-Latin texts take three bytes a character, an escaped character six), whatever maxMessages
says; the rest follow in the next burst. Well under SQS's limit, whether a queue's is the 1 MiB botocore's model now
documents ("The maximum size is 1 MiB or 1,048,576 bytes") or the 256 KiB it documented before."""


@dataclass(frozen=True)
class BufferedMessage:
    """One unsent message of the conversation and where it stands in the lifecycle."""

    message: InboundMessage
    store_key: str
    """Where the store keeps it (the raw table's sort key); the lifecycle only uses it to tell messages apart."""
    status: str = PENDING
    burst_id: str | None = None
    """The burst it is claimed under; None while pending."""
    burst_index: int | None = None
    """Its place in that burst (0 = first), written with the claim; None while pending or claimed before places."""
    burst_size: int | None = None
    """How many messages that burst claimed."""
    claimed_at: float | None = None
    """When the claim was written (runtime clock); None while pending, or on a claim that holds no time."""


@dataclass(frozen=True)
class Claim:
    """The messages of the next burst and the burst id they are claimed under."""

    burst_id: str
    messages: tuple[BufferedMessage, ...]
    resend: bool = False
    """Claimed by an earlier flush that never marked them sent: send them again as they are, do not claim again."""
    sent_already: bool = False
    """A resend whose burst was sent and partly marked (its first places are sent, the rest still claimed): mark the
    rest sent, never send it again."""

    @property
    def inbound(self) -> list[InboundMessage]:
        return [buffered.message for buffered in self.messages]


@dataclass(frozen=True)
class Settlement:
    """What the control item says after a flush, written only if its version is still `expected_version`."""

    expected_version: int
    pending: int
    """Messages still unsent (pending, or claimed by a burst not yet marked sent)."""
    first_pending: float | None
    """When the oldest of them arrived; None when there are none."""
    unsent_keys: tuple[str, ...] | None = None
    """Their `store_key`s, so the store can tell where a read of the unsent messages may start; None: not known."""


@dataclass(frozen=True)
class ConversationBuffer:
    """A conversation's unsent messages in WhatsApp order, read after the control item at `version`.

    The order matters: a message stored after the version was read moves the version, so a settlement that does not
    count it is refused and the flush counts again from the table.
    """

    version: int
    messages: tuple[BufferedMessage, ...] = ()

    @classmethod
    def of(cls, version: int, messages: Iterable[BufferedMessage]) -> ConversationBuffer:
        return cls(version, tuple(messages))

    @property
    def pending(self) -> tuple[BufferedMessage, ...]:
        return tuple(m for m in self.messages if m.status == PENDING)

    @property
    def claimed_unsent(self) -> tuple[BufferedMessage, ...]:
        return tuple(m for m in self.messages if m.status == CLAIMED)

    def next_claim(self, max_messages: int, now: float | None = None) -> Claim | None:
        """The next burst to send: a claimed-but-unsent burst first (exactly that burst, under its id), else the
        first `max_messages` pending messages that fit one queue message. None when nothing is pending.

        A claimed prefix that can no longer be completed into its burst (a message with an earlier WhatsApp time came
        between) is sent alone under its id -- but only once its claim is older than CLAIM_LEASE_SECONDS at `now`:
        until then the flush that wrote it may still be claiming the rest and about to send the whole burst under that
        same id, and SQS FIFO and the inbound function keep only the first copy of an id. Raises ClaimInFlight then."""
        claimed = self.claimed_unsent
        if claimed:
            burst_id = claimed[0].burst_id or ""
            group = tuple(m for m in claimed if m.burst_id == burst_id)
            whole = self._completed(group, burst_id)
            if whole is not None:
                return Claim(burst_id, whole)
            if partly_claimed(group) and now is not None and _claimed_within(group, now, CLAIM_LEASE_SECONDS):
                raise ClaimInFlight(f"burst {burst_id} is half claimed, {len(group)} of {group[0].burst_size}")
            return Claim(burst_id, group, resend=True, sent_already=partly_marked(group))
        batch = _within_size(self.pending[:max_messages])
        if not batch:
            return None
        return Claim(burst_id_for([m.message.message_id for m in batch]), batch)

    def _completed(self, group: tuple[BufferedMessage, ...], burst_id: str) -> tuple[BufferedMessage, ...] | None:
        """The whole burst a partial claim (places 0..j-1 of n) began: its prefix and the next n-j pending messages,
        when those make `burst_id` again; None for anything else (see the module docstring)."""
        if not partly_claimed(group):
            return None
        size = group[0].burst_size or 0
        prefix = tuple(sorted(group, key=lambda m: m.burst_index or 0))
        whole = prefix + self.pending[: size - len(group)]
        if len(whole) != size or burst_id_for([m.message.message_id for m in whole]) != burst_id:
            return None
        return whole

    def claimed(self, claim: Claim) -> ConversationBuffer:
        """pending -> claimed under the claim's burst id (a resend is claimed already: the buffer stays as it is)."""
        keys = self._keys_of(claim)
        for buffered in self.messages:
            if buffered.store_key in keys and not _claimable(buffered, claim):
                raise ValueError(f"cannot claim a {buffered.status} message under burst {claim.burst_id}")
        return replace(
            self,
            messages=tuple(
                replace(m, status=CLAIMED, burst_id=claim.burst_id) if m.store_key in keys else m for m in self.messages
            ),
        )

    def sent(self, claim: Claim) -> ConversationBuffer:
        """claimed -> sent: the claim's messages leave the buffer. Only messages claimed under its burst id."""
        keys = self._keys_of(claim)
        for buffered in self.messages:
            if buffered.store_key in keys and (buffered.status != CLAIMED or buffered.burst_id != claim.burst_id):
                raise ValueError(f"cannot mark a {buffered.status} message sent under burst {claim.burst_id}")
        return replace(self, messages=tuple(m for m in self.messages if m.store_key not in keys))

    def settlement(self) -> Settlement:
        """The control item's recomputed count and first pending time, conditional on the version read."""
        first_pending = min((m.message.received_at for m in self.messages), default=None)
        return Settlement(self.version, len(self.messages), first_pending, tuple(m.store_key for m in self.messages))

    def _keys_of(self, claim: Claim) -> set[str]:
        keys = {m.store_key for m in claim.messages}
        if not keys <= {m.store_key for m in self.messages}:
            raise ValueError(f"burst {claim.burst_id} holds messages this buffer does not")
        return keys


def partly_marked(group: tuple[BufferedMessage, ...]) -> bool:
    """True when the claimed messages of one burst are exactly the last places of it (j..n-1, j >= 1): its marks
    (which go in burst order, after the send) reached places 0..j-1. A prefix (a partial claim), the whole burst, or
    messages claimed without places (an older flush's transaction, all or nothing) are not."""
    size, places = _places(group)
    return len(group) < size and places == list(range(size - len(group), size))


def partly_claimed(group: tuple[BufferedMessage, ...]) -> bool:
    """True when the claimed messages of one burst are exactly its first places (0..j-1 of n, j < n): its claims
    (which go in burst order, before the send) stopped at place j."""
    size, places = _places(group)
    return len(group) < size and places == list(range(len(group)))


def _places(group: tuple[BufferedMessage, ...]) -> tuple[int, list[int]]:
    """(n, the places in order) of a group whose every message carries its place in one burst of n; (0, []) for one
    that is empty, mixes burst sizes or holds a message claimed without a place: neither partly claimed nor marked."""
    sizes = {m.burst_size for m in group}
    if not group or len(sizes) != 1 or None in sizes or any(m.burst_index is None for m in group):
        return 0, []
    return next(iter(sizes)) or 0, sorted(m.burst_index or 0 for m in group)


def _claimed_within(group: tuple[BufferedMessage, ...], now: float, seconds: float) -> bool:
    """True when the newest claim of the group was written less than `seconds` before `now` (a claim without a time
    is old)."""
    times = [m.claimed_at for m in group if m.claimed_at is not None]
    return bool(times) and now - max(times) < seconds


def _claimable(buffered: BufferedMessage, claim: Claim) -> bool:
    already = buffered.status == CLAIMED and buffered.burst_id == claim.burst_id
    if claim.resend:
        return already
    # A claim repeated under its own id is no conflict (the raw table's condition says the same).
    return buffered.status == PENDING or already


def _within_size(messages: tuple[BufferedMessage, ...]) -> tuple[BufferedMessage, ...]:
    """The longest prefix whose content fits one queue message (always at least one message)."""
    total = 0
    for count, buffered in enumerate(messages):
        total += len(queue_json(buffered.message.content).encode("utf-8"))
        if count and total > MAX_BURST_CONTENT_BYTES:
            return messages[:count]
    return messages
