"""Pure: a conversation's pending messages -> the items of one burst.

Messages are put in WhatsApp order (sent_at, message_id) and de-duplicated by id. Consecutive texts are joined with
"\\n" into one text item; every other kind keeps its place as its own item. A text longer than Connect accepts is
split into parts, each at most `CONNECT_TEXT_LIMIT` long, cut after the last newline in the second half of the allowed
length, else after the last whitespace there, else by a hard cut that does not break a user-perceived character where
that is cheap to see (see `_safe_cut`).

Length is measured in UTF-16 code units, not Python characters: a part within that bound is also within it when
counted in characters, and it stays within Connect's limit even if the service counts the way Java strings do
(an emoji outside the BMP is 1 Python character but 2 UTF-16 units).

Concatenating a text's parts ("".join) gives back the merged text exactly: the newline or space a cut is made after
stays at the end of the earlier part.

What WhatsApp says about a message (the ad it came from, a forward, a reply: `render.preface`) travels with it in the
same chat message: as the first line(s) of a text, at the head of a media item's caption (the agent sees the file,
then its caption), and in the rendered line of any other kind (`render.item_text`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from whatsapp_buffer.inbound.render import preface
from whatsapp_buffer.model import (
    CONNECT_TEXT_LIMIT,
    MEDIA_KINDS,
    TEXT,
    Burst,
    InboundMessage,
    OutgoingItem,
    burst_id_for,
)

_ZWJ = "\u200d"
_MAX_BACKOFF = 32
"""How far a hard cut may move back to stay out of a grapheme cluster before giving up and cutting anyway."""


def ordered_unique(messages: Iterable[InboundMessage]) -> list[InboundMessage]:
    """WhatsApp order, one message per id (a redelivered copy is dropped, the first in order is kept)."""
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


def split_text(text: str, limit: int = CONNECT_TEXT_LIMIT) -> list[str]:
    """`text` cut into parts of at most `limit` UTF-16 units; "".join(parts) == text."""
    return [text[start:end] for start, end in split_points(text, limit)]


def split_points(text: str, limit: int = CONNECT_TEXT_LIMIT) -> list[tuple[int, int]]:
    """The (start, end) character ranges of `split_text`'s parts."""
    if limit < 2:
        raise ValueError("limit must leave room for a character outside the BMP")
    units = [0]
    for char in text:
        units.append(units[-1] + (2 if ord(char) > 0xFFFF else 1))
    parts: list[tuple[int, int]] = []
    start = 0
    while start < len(text) or not parts:
        end = _furthest_end(units, start, limit)
        if end < len(text):
            end = _best_cut(text, start, end)
        parts.append((start, end))
        start = end
    return parts


def _furthest_end(units: list[int], start: int, limit: int) -> int:
    end = start
    while end + 1 < len(units) and units[end + 1] - units[start] <= limit:
        end += 1
    return end


def _best_cut(text: str, start: int, end: int) -> int:
    # A boundary is only worth taking in the window's second half: an earlier one would cost an extra Connect message
    # (each is billed) for a part that is mostly empty; an unbroken run that long gets a hard cut instead.
    window = text[start:end]
    half = len(window) // 2
    newline = window.rfind("\n")
    if newline + 1 >= half and newline > 0:
        return start + newline + 1
    for offset in range(len(window) - 1, max(half - 2, 0), -1):
        if window[offset].isspace():
            return start + offset + 1
    return _safe_cut(text, start, end)


def _safe_cut(text: str, start: int, end: int) -> int:
    """Move a hard cut back out of combining sequences, emoji ZWJ sequences, modifiers, tags and flag pairs."""
    for cut in range(end, max(start, end - _MAX_BACKOFF), -1):
        if not _inside_cluster(text, cut):
            return cut
    return end


def _inside_cluster(text: str, cut: int) -> bool:
    before, after = text[cut - 1], text[cut]
    code = ord(after)
    if before == _ZWJ or after == _ZWJ:
        return True
    if unicodedata.combining(after) or unicodedata.category(after) in ("Mn", "Me", "Mc"):
        return True
    if 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:
        return True
    if before == "\r" and after == "\n":
        return True
    if _regional_indicator(after) and _regional_indicator(before):
        run = 0
        index = cut - 1
        while index >= 0 and _regional_indicator(text[index]):
            run += 1
            index -= 1
        return run % 2 == 1
    return False


def _regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF
