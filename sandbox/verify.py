"""Audit a replay: was every accepted message delivered to Connect exactly once, in order, and every reply once?

The promises of the bridge, checked from the outside (trace in, transcript out), whatever faults were injected.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from sandbox.trace import TraceEvent, assign_message_ids

MEDIA = frozenset({"image", "audio", "voice", "video", "document", "sticker"})
"""The runtime's model.MEDIA_KINDS (the sandbox's parent process does not import the Lambda runtime)."""
RECORDINGS = frozenset({"voice", "audio"})
"""Kinds that are transcribed: the replay contract lets their id stand in up to three connect[] items (attachment, the
transcript's place, and a transcript posted late after the line saying it follows; WhatsApp audio has no caption)."""


@dataclass
class Audit:
    messages: int
    """Accepted WhatsApp messages (distinct ids that are not ignored reactions/stickers)."""
    lost: int
    duplicated: int
    """Extra deliveries beyond one per message (an attachment and its caption count as one; a recording may also show
    its transcript's place and a late transcript)."""
    reordered: int
    """Messages the bridge had stored before a message the customer typed later (the trace's order) reached the agent,
    yet showed after it."""
    late: int
    """Messages that reached the bridge only after later-sent ones had left the buffer (a retried ingest: AWS retries
    a failed async invoke a minute later); shown as soon as they can be, which is all a bridge can do. A burst leaves
    the buffer when the aggregator puts it on the FIFO queue (transcript `queued_at`; without it, when it was shown):
    a message stored after that can only follow it, however long the queue then holds the burst (a failed delivery
    waits out the queue's visibility timeout)."""
    dead_lettered: int
    replies: int
    replies_lost: int
    replies_duplicated: int
    replies_in_doubt: int = 0
    """WhatsApp sends an injected fault killed before anything recorded them (transcript `stats.whatsapp_sends_in_doubt`):
    SendWhatsAppMessage takes no idempotency token, so the retry of such an invocation cannot know the customer has the
    reply and may send it again. At most this many duplicated replies are the API's, not the bridge's."""

    @property
    def replies_duplicated_by_the_bridge(self) -> int:
        return max(0, self.replies_duplicated - self.replies_in_doubt)

    @property
    def clean(self) -> bool:
        return not (
            self.lost or self.duplicated or self.reordered or self.replies_lost or self.replies_duplicated_by_the_bridge
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def audit(
    events: list[TraceEvent],
    transcript: dict[str, Any],
    *,
    ignored_kinds: frozenset[str] = frozenset({"reaction", "sticker"}),
) -> Audit:
    ids = assign_message_ids(events)
    # The order the customer typed: the trace's `sent_at` (default `at`; not cut to WhatsApp's whole seconds), then
    # the trace's line order -- never the message id, which tells nothing of order (Meta's are random).
    sent: dict[str, tuple[float, int, str]] = {}
    kinds: dict[str, str] = {}
    for event in events:
        if event.type != "whatsapp":
            continue
        kind = event.data.get("kind", "text")
        if kind in ignored_kinds:
            continue
        message_id = ids[event.line]
        conversation = f"{event.phone_number_id}#{event.customer}"
        sent.setdefault(message_id, (float(event.data.get("sent_at", event.at)), event.line, conversation))
        kinds[message_id] = kind

    deliveries: dict[str, list[str]] = defaultdict(list)
    texts: dict[str, list[str]] = defaultdict(list)
    delivered_at: dict[str, list[tuple[float, str]]] = defaultdict(list)
    order: dict[str, list[str]] = defaultdict(list)
    for message in sorted(transcript["connect"], key=lambda m: m["at"]):
        for message_id in message["message_ids"]:
            deliveries[message_id].append(message["kind"])
            if message["kind"] == "text":
                texts[message_id].append(str(message.get("content")))
            delivered_at[message_id].append((message["at"], message["kind"]))
            if message_id in sent and message_id not in order[sent[message_id][2]]:
                order[sent[message_id][2]].append(message_id)

    lost = sum(1 for message_id in sent if message_id not in deliveries)
    duplicated = 0
    for message_id, shown in deliveries.items():
        expected = {"attachment": 1, "text": 1} if kinds.get(message_id) in MEDIA else {"text": 1}
        if kinds.get(message_id) in MEDIA and "attachment" not in shown:
            expected = {"text": 2}  # a media notice (fetch failed / type refused) then its caption
        if kinds.get(message_id) in RECORDINGS and "attachment" in shown:
            # the transcript's place and a late transcript: two different lines; the same line twice is a duplicate
            expected = {"attachment": 1, "text": 2}
            duplicated += len(texts[message_id]) - len(set(texts[message_id]))
        for kind in set(shown):
            duplicated += max(0, shown.count(kind) - expected.get(kind, 0))

    stored_at = transcript.get("stored_at", {})
    first_shown = {message_id: min(at for at, _ in shown) for message_id, shown in delivered_at.items()}
    queued_at = transcript.get("queued_at", {})
    left_buffer = {m: min(queued_at.get(m, at), at) for m, at in first_shown.items()}
    reordered = late = 0
    for delivered in order.values():
        for position, message_id in enumerate(delivered):
            overtaken_by = [m for m in delivered[:position] if sent[m][:2] > sent[message_id][:2]]
            if not overtaken_by:
                continue
            if stored_at.get(message_id, float("-inf")) > min(left_buffer[m] for m in overtaken_by):
                late += 1
            else:
                reordered += 1

    # An agent line the trace sent while the customer had no open chat never reached Connect: not the bridge's to relay.
    skipped = {entry.get("line") for entry in transcript.get("skipped", [])}
    replies: dict[tuple[str, str], int] = defaultdict(int)
    for event in events:
        if event.type == "agent" and event.line not in skipped:
            replies[(event.customer, str(event.data["text"]))] += 1
    received: dict[tuple[str, str], int] = defaultdict(int)
    for message in transcript["whatsapp_out"]:
        received[(str(message.get("to")), str(message.get("text")))] += 1
    replies_lost = sum(max(0, n - received.get(key, 0)) for key, n in replies.items())
    replies_duplicated = sum(max(0, received.get(key, 0) - n) for key, n in replies.items())

    return Audit(
        messages=len(sent),
        lost=lost,
        duplicated=duplicated,
        reordered=reordered,
        late=late,
        dead_lettered=len(transcript["rejected"]),
        replies=sum(replies.values()),
        replies_lost=replies_lost,
        replies_duplicated=replies_duplicated,
        replies_in_doubt=int(transcript.get("stats", {}).get("whatsapp_sends_in_doubt", 0)),
    )
