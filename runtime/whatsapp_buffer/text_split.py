"""Pure: a text too long for one chat or WhatsApp message, cut into parts that each fit.

A part is at most `limit` long, cut after the last newline in the second half of the allowed length, else after the
last whitespace there, else by a hard cut that does not break a user-perceived character where that is cheap to see
(see `_safe_cut`). Length is measured in UTF-16 code units, not Python characters: a part within that bound is also
within it counted in characters, and within the limit of a service that counts the way Java strings do (an emoji
outside the BMP is 1 Python character but 2 UTF-16 units). Concatenating the parts ("".join) gives back the text
exactly: the newline or space a cut is made after stays at the end of the earlier part.
"""

from __future__ import annotations

import unicodedata

from whatsapp_buffer.model import CONNECT_TEXT_LIMIT

_ZWJ = "\u200d"
_MAX_BACKOFF = 32
"""How far a hard cut may move back to stay out of a grapheme cluster before giving up and cutting anyway."""


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
