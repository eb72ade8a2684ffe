"""Pure: a conversation's pending messages -> the items of one burst.

Messages are put in the order the customer sent them (`InboundMessage.order_key`) and de-duplicated by id.
Consecutive texts are joined with "\\n" into one text item; every other kind keeps its place as its own item. A text
longer than Connect accepts is split into parts of at most `CONNECT_TEXT_LIMIT` (`text_split`). What WhatsApp says
about a message (`render.preface`: an ad, a forward, a reply) travels with it in the same chat message. The rules:
docs/architecture.md#the-merge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from whatsapp_buffer.model import (
    MEDIA_KINDS,
    TEXT,
    Burst,
    InboundMessage,
    OutgoingItem,
    burst_id_for,
)
from whatsapp_buffer.render import preface
from whatsapp_buffer.text_split import split_points


def ordered_unique(messages: Iterable[InboundMessage]) -> list[InboundMessage]:
    """Sending order (`order_key`), one message per id (a redelivered copy is dropped, the first in order is kept)."""
    seen: set[str] = set()
    result = []
    for message in sorted(messages, key=lambda m: m.order_key):
        if message.message_id not in seen:
            seen.add(message.message_id)
            result.append(message)
    return result


def merge_burst(messages: Iterable[InboundMessage], now: float | None = None) -> tuple[OutgoingItem, ...]:
    """The outgoing items for these messages. `now` is part of the documented call; merging does not depend on it."""
    items: list[OutgoingItem] = []
    run: list[InboundMessage] = []
    for message in ordered_unique(messages):
        if message.kind == TEXT:
            run.append(message)
            continue
        items.extend(_text_items(run))
        run = []
        items.append(OutgoingItem(kind=message.kind, message_ids=(message.message_id,), content=_content(message)))
    items.extend(_text_items(run))
    return tuple(items)


def build_burst(messages: Sequence[InboundMessage], now: float, burst_id: str | None = None) -> Burst:
    """The burst for these messages, flushed at `now`. Its id derives from the ordered ids unless one is given
    (a claimed burst being resent keeps the id it was claimed under)."""
    ordered = ordered_unique(messages)
    if not ordered:
        raise ValueError("a burst needs at least one message")
    ids = [m.message_id for m in ordered]
    origination = next((m.origination_phone_number_id for m in reversed(ordered) if m.origination_phone_number_id), "")
    display_name = next((m.profile_name for m in reversed(ordered) if m.profile_name), None)
    received = [m.received_at for m in ordered]
    return Burst(
        burst_id=burst_id or burst_id_for(ids),
        conversation=ordered[0].conversation,
        items=merge_burst(ordered, now),
        origination_phone_number_id=origination,
        display_name=display_name,
        first_received_at=min(received),
        last_received_at=max(received),
        flushed_at=now,
        user_id=next((m.user_id for m in reversed(ordered) if m.user_id), None),
        referral=next((m.content["referral"] for m in ordered if m.content.get("referral")), None),
    )


def refused_notice(messages: Sequence[InboundMessage], now: float, burst_id: str, code: str) -> Burst:
    """What goes to the agent in place of a burst the bursts queue refused for what it holds (`code`, SQS's error):
    one line saying how many messages could not be passed on, under the burst's id and message ids, carrying nothing
    the customer wrote (no text, display name or ad), so the queue takes it."""
    ordered = ordered_unique(messages)
    if not ordered:
        raise ValueError("a burst needs at least one message")
    ids = tuple(m.message_id for m in ordered)
    text = (
        f"[WhatsApp bridge] The customer sent {len(ids)} message(s) that could not be passed on to this chat: the "
        f"bridge's queue refused them ({code or 'refused'}). They are kept for the operator until they expire."
    )
    received = [m.received_at for m in ordered]
    return Burst(
        burst_id=burst_id,
        conversation=ordered[0].conversation,
        items=(OutgoingItem(kind=TEXT, message_ids=ids, text=text),),
        origination_phone_number_id=next(
            (m.origination_phone_number_id for m in reversed(ordered) if m.origination_phone_number_id), ""
        ),
        first_received_at=min(received),
        last_received_at=max(received),
        flushed_at=now,
        user_id=next((m.user_id for m in reversed(ordered) if m.user_id), None),
    )


def _text_items(run: list[InboundMessage]) -> list[OutgoingItem]:
    if not run:
        return []
    spans: list[tuple[str, int, int]] = []
    pieces: list[str] = []
    position = 0
    for index, message in enumerate(run):
        if index:
            pieces.append("\n")
            position += 1
        body = _with_preface(message, str(message.content.get("text", "")))
        spans.append((message.message_id, position, position + len(body)))
        pieces.append(body)
        position += len(body)
    text = "".join(pieces)
    items = []
    for start, end in split_points(text):
        ids = tuple(mid for mid, s, e in spans if _overlaps(s, e, start, end, len(text)))
        items.append(OutgoingItem(kind=TEXT, message_ids=ids, text=text[start:end]))
    return items


def _with_preface(message: InboundMessage, text: str) -> str:
    lines = preface(message.kind, message.content)
    return f"{lines}\n{text}" if lines and text else lines or text


def _content(message: InboundMessage) -> dict[str, Any]:
    """The item's content; a media item's caption starts with the message's preface lines."""
    if message.kind not in MEDIA_KINDS or not preface(message.kind, message.content):
        return message.content
    return {**message.content, "caption": _with_preface(message, str(message.content.get("caption") or ""))}


def _overlaps(s: int, e: int, start: int, end: int, total: int) -> bool:
    if s == e:  # an empty text belongs to the part its position falls in
        return start <= s < end or (s == end == total)
    return s < end and e > start
