"""An agent's long reply as WhatsApp text messages, split and never cut (pure).

Meta's text body is at most 4,096 characters (`WHATSAPP_TEXT_LIMIT`; End User Messaging passes the message through
and the fake refuses a longer body). A longer reply becomes several messages, in order: whole paragraphs packed
together while they fit, a paragraph too long for one message split at its line, then word boundaries — the
aggregator's `merge.split_text`, which counts UTF-16 units (never more than Meta's characters, however it counts them)
and never cuts inside a character sequence. The whitespace at a boundary is the only thing dropped.
"""

from __future__ import annotations

from whatsapp_buffer.adapters.end_user_messaging import WHATSAPP_TEXT_LIMIT
from whatsapp_buffer.aggregator.merge import split_text

PARAGRAPH = "\n\n"


def utf16_length(text: str) -> int:
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def split_reply(text: str, limit: int = WHATSAPP_TEXT_LIMIT) -> list[str]:
    """The messages `text` is sent as; one message when it fits."""
    if utf16_length(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for paragraph in text.split(PARAGRAPH):
        joined = f"{current}{PARAGRAPH}{paragraph}" if current else paragraph
        if utf16_length(joined) <= limit:
            current = joined
            continue
        if current:
            parts.append(current)
        if utf16_length(paragraph) <= limit:
            current = paragraph
            continue
        pieces = [piece.strip() for piece in split_text(paragraph, limit)]
        parts.extend(piece for piece in pieces[:-1] if piece)
        current = pieces[-1]
    if current.strip():
        parts.append(current)
    return [part.strip("\n") for part in parts]
