"""Pure: WhatsApp content that Connect cannot show natively, as short readable chat text.

Connect chat shows plain text and attachments. Everything else a customer can send (a location, a contact card,
a button reply, a Flow's answers, an order, a reaction, a WhatsApp notice) and every media item that could not be
delivered becomes text here, so the agent always sees that the customer sent something. So does what WhatsApp says
about a message (`preface`): the ad the customer came from, a forward, a reply, the product asked about.
No boto3, no clock.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from typing import Any

from whatsapp_buffer import attachments
from whatsapp_buffer.model import CONNECT_TEXT_LIMIT, NUMBER_CHANGES, USER_CHANGED_USER_ID, mask_customer, mask_phone

_ELLIPSIS = "…"

_KIND_NOUNS = {
    "image": "an image",
    "audio": "an audio file",
    "voice": "a voice note",
    "video": "a video",
    "document": "a document",
    "sticker": "a sticker",
}

# WhatsApp's media types, pinned because `mimetypes` answers differ between machines (audio/ogg: .oga or .ogg).
_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/aac": ".aac",
    "audio/amr": ".amr",
    "audio/mp4": ".m4a",
    "video/mp4": ".mp4",
    "video/3gpp": ".3gp",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "application/octet-stream": ".bin",
}

# Why a media item reached the agent as a notice instead of an attachment.
REJECTED = "rejected"
"""Connect refused the attachment (type or size not allowed on the instance)."""
UNAVAILABLE = "unavailable"
"""The media could not be fetched from WhatsApp."""
UNCONVERTIBLE = "unconvertible"
"""The file is of a type the bridge converts, but this one could not be converted (corrupt, or no usable stream)."""
CONVERTED_TOO_LARGE = "converted-size"
"""The file was converted to a type Connect accepts, but the result is over Connect's size limit."""

_REASONS = {
    REJECTED: "this file type or size is not accepted in this chat",
    UNAVAILABLE: "the file could not be downloaded from WhatsApp",
    UNCONVERTIBLE: "it could not be converted to a file type Connect chat accepts",
    CONVERTED_TOO_LARGE: "converted to a type Connect chat accepts, it is larger than the 20 MB it takes",
    attachments.TYPE_NOT_ACCEPTED: "Connect chat does not accept this file type",
    attachments.TOO_LARGE: "it is larger than the 20 MB Connect chat accepts",
}


def clip(text: str, limit: int = CONNECT_TEXT_LIMIT) -> str:
    """`text` cut to at most `limit` characters, marked with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + _ELLIPSIS


def bare_content_type(mime_type: str | None) -> str:
    """`audio/ogg; codecs=opus` -> `audio/ogg` (Connect matches attachment types without parameters)."""
    base = (mime_type or "").split(";", 1)[0].strip().lower()
    return base or "application/octet-stream"


def attachment_name(kind: str, content: Mapping[str, Any], index: int) -> str:
    """The file name the agent sees: the customer's own file name, else `<kind>-<n>.<ext>` from the MIME type."""
    filename = str(content.get("filename") or "").strip()
    if filename:
        return filename[:256]
    content_type = bare_content_type(content.get("mime_type"))
    extension = _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ""
    return f"{kind}-{index + 1}{extension}"


def file_size(size_bytes: int) -> str:
    """`12 KB`, `3.4 MB`: how big a file is, for a person."""
    if size_bytes < 1_000_000:
        return f"{max(1, round(size_bytes / 1000))} KB"
    return f"{size_bytes / 1_000_000:.1f} MB"


def media_notice(kind: str, reason: str, filename: str | None = None, size_bytes: int | None = None) -> str:
    """A short chat line telling the agent that a media item exists but could not be attached (name and size)."""
    noun = _KIND_NOUNS.get(kind, "a file")
    facts = [part for part in (filename, file_size(size_bytes) if size_bytes else None) if part]
    named = f" ({', '.join(facts)})" if facts else ""
    because = _REASONS.get(reason, reason)
    return clip(f"[The customer sent {noun}{named} that cannot be shown here: {because}.]")


def agent_file_notice(filename: str) -> str:
    """What the customer reads on WhatsApp when an agent's file cannot be forwarded."""
    return f"[The agent sent a file ({filename[:100]}) that could not be delivered here.]"


def item_text(kind: str, content: Mapping[str, Any]) -> str:
    """Readable text for a non-text, non-media item (location, contacts, interactive, button, order, reaction...),
    after its `preface` lines."""
    renderer = _RENDERERS.get(kind, _unsupported)
    return clip("\n".join(line for line in (preface(kind, content), renderer(content)) if line))


_ANSWERS_KINDS = frozenset({"interactive", "button"})
"""Kinds whose `context.id` is always the business message they answer (the buttons, the list, the Flow)."""
_AD_FIELD_CHARS = 150


def preface(kind: str, content: Mapping[str, Any]) -> str:
    """The lines the agent reads before a message: the ad it came from, that it was forwarded, that it replies to an
    earlier message, the catalog product it asks about ("" when WhatsApp said none of that)."""
    lines = []
    referral = content.get("referral")
    if isinstance(referral, Mapping) and referral:
        lines.append(_ad_line(referral))
    if content.get("edit_of"):
        lines.append(_edit({"quote": content.get("quote")}))
    context = content.get("context")
    if isinstance(context, Mapping):
        if context.get("frequently_forwarded"):
            lines.append("[Forwarded many times]")
        elif context.get("forwarded"):
            lines.append("[Forwarded]")
        product = context.get("referred_product")
        if isinstance(product, Mapping) and product.get("product_retailer_id"):
            catalog = f" of catalog {product['catalog_id']}" if product.get("catalog_id") else ""
            lines.append(f"[About the product '{product['product_retailer_id']}'{catalog}]")
        elif context.get("id") and kind not in _ANSWERS_KINDS:
            lines.append(_reply_line(context.get("quote")))
    return "\n".join(lines)


QUOTE_CHARS = 80
"""Longest quote of a replied-to message: enough to tell which one, never the whole of it."""
AGENT, CUSTOMER = "agent", "customer"


def quote(text: str) -> str:
    """A short clip of a message for a reply's quote: one line, at most QUOTE_CHARS characters."""
    return clip(" ".join(text.split()), QUOTE_CHARS)


def quoted_text(kind: str, content: Mapping[str, Any]) -> str:
    """What a quote of an earlier customer message shows: its text or caption, else what it was."""
    words = content.get("text") if kind == "text" else content.get("caption")
    if isinstance(words, str) and words.strip():
        return quote(words)
    return _KIND_NOUNS.get(kind) or ("a message" if kind == "text" else f"a {kind} message")


def _reply_line(quoted: Any) -> str:
    if not isinstance(quoted, Mapping) or not quoted.get("text"):
        return "[Replying to an earlier message]"
    whose = "the agent's message" if quoted.get("by") == AGENT else "their earlier message"
    return f'[Replying to {whose}: "{quote(str(quoted["text"]))}"]'


def _ad_line(referral: Mapping[str, Any]) -> str:
    source = str(referral.get("source_type") or "ad")
    noun = "an ad" if source == "ad" else f"a {source}" if source.isalpha() else "an ad"
    named = clip(str(referral.get("headline") or referral.get("body") or ""), _AD_FIELD_CHARS)
    facts = [f'"{named}"' if named else "", clip(str(referral.get("source_url") or ""), 300)]
    shown = " ".join(fact for fact in facts if fact)
    return f"[The customer came from {noun}{': ' + shown if shown else ''}]"


def _location(content: Mapping[str, Any]) -> str:
    latitude, longitude = content.get("latitude"), content.get("longitude")
    parts = [f"[Location] {latitude}, {longitude}"]
    label = ", ".join(str(content[key]) for key in ("name", "address") if content.get(key))
    if label:
        parts.append(label)
    if latitude is not None and longitude is not None:
        parts.append(f"https://maps.google.com/?q={latitude},{longitude}")
    if content.get("url"):
        parts.append(clip(str(content["url"]), 300))  # the place's own page (Meta: `location.url`)
    return "\n".join(parts)


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a stored list; nothing when it is not a list (an older ingest kept any type there)."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _contact_line(contact: Mapping[str, Any]) -> str:
    name = contact.get("name") or {}
    display = (name.get("formatted_name") if isinstance(name, Mapping) else None) or "(no name)"
    phones = [str(p.get("phone") or p.get("wa_id")) for p in _mappings(contact.get("phones"))]
    emails = [str(e.get("email")) for e in _mappings(contact.get("emails")) if e.get("email")]
    details = ", ".join(phones + emails)
    return f"- {display}: {details}" if details else f"- {display}"


def _contacts(content: Mapping[str, Any]) -> str:
    contacts = _mappings(content.get("contacts"))
    lines = ["[Shared contact]" if len(contacts) == 1 else f"[Shared contacts: {len(contacts)}]"]
    lines.extend(_contact_line(contact) for contact in contacts)
    return "\n".join(lines)


def _reply(content: Mapping[str, Any]) -> str:
    if content.get("interactive_type") == "nfm_reply" or "response" in content or "response_text" in content:
        return _flow_answers(content)
    return f"[Selected] {content.get('title') or content.get('id') or '(no title)'}"


_ANSWER_CHARS = 300
_ANSWERS_BUDGET = CONNECT_TEXT_LIMIT - 200
"""Room for a Flow's answers in one chat message, leaving some for the preface lines and the "more" note."""


def _flow_answers(content: Mapping[str, Any]) -> str:
    """A WhatsApp Flow's answers as `field: value` lines (nested fields as `parent.child`), as many as one chat
    message holds, then how many more there were."""
    response = content.get("response")
    if not isinstance(response, Mapping):
        text = str(content.get("response_text") or "").strip()
        return f"[Form answers]\n{text}" if text else f"[Form sent] {content.get('title') or ''}".rstrip()
    lines = [f"{field}: {clip(value, _ANSWER_CHARS)}" for field, value in _flatten(response)]
    if not lines:
        return "[Form sent with no answers]"
    shown: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > _ANSWERS_BUDGET:
            break
        shown.append(line)
        used += len(line) + 1
    more = len(lines) - len(shown)
    tail = [f"[{more} more answer{'s' if more != 1 else ''} not shown]"] if more else []
    return "\n".join(["[Form answers]", *shown, *tail])


def _flatten(value: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        pairs: list[tuple[str, str]] = []
        for key, inner in value.items():
            pairs.extend(_flatten(inner, f"{path}.{key}" if path else str(key)))
        return pairs or ([(path, "(empty)")] if path else [])
    if isinstance(value, list):
        if all(not isinstance(item, Mapping | list) for item in value):
            return [(path, ", ".join(_scalar(item) for item in value) or "(none)")]
        pairs = []
        for index, item in enumerate(value, start=1):
            pairs.extend(_flatten(item, f"{path}.{index}"))
        return pairs
    return [(path, _scalar(value))]


def _scalar(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None or value == "":
        return "(empty)"
    return " ".join(str(value).split("\n"))


def _reaction(content: Mapping[str, Any]) -> str:
    emoji = content.get("emoji")
    if not emoji:
        return "[Removed a reaction]"
    return f"[Reacted {emoji} to an earlier message]"


def _order(content: Mapping[str, Any]) -> str:
    items = _mappings(content.get("product_items"))
    lines = [f"[Order: {len(items)} item{'s' if len(items) != 1 else ''}]"]
    for item in items:
        price = f" at {item.get('item_price')} {item.get('currency') or ''}".rstrip() if item.get("item_price") else ""
        lines.append(f"- {item.get('quantity', 1)} x {item.get('product_retailer_id', '?')}{price}")
    if content.get("text"):
        lines.append(str(content["text"]))
    return "\n".join(lines)


def whatsapp_says(content: Mapping[str, Any]) -> str:
    """WhatsApp's own words about a message it could not pass on (its error's title and details), or ""."""
    error = str(content.get("error") or "")
    title = error.split(": ", 1)[1] if error[:1].isdigit() and ": " in error else error
    said = [part.strip().rstrip(".") for part in (title, str(content.get("error_details") or "")) if part.strip()]
    return f"WhatsApp says: {clip('. '.join(dict.fromkeys(said)), 300)}" if said else ""


def unavailable_reason(content: Mapping[str, Any]) -> str:
    """Why a media item could not be fetched, for `media_notice`: WhatsApp's error when it sent one."""
    return whatsapp_says(content) or UNAVAILABLE


def _unsupported(content: Mapping[str, Any]) -> str:
    original = content.get("original_type") or "unknown"
    line = f"[The customer sent a message of type '{original}' that this chat cannot show"
    said = whatsapp_says(content)
    return line + (f". {said}" if said else "") + ".]"


def _edit(content: Mapping[str, Any]) -> str:
    """An edit: the words as they are now, and what they replace when still known."""
    was = f' (it said: "{quote(str(content["quote"]))}")' if content.get("quote") else ""
    text = str(content.get("text") or "").strip()
    return f"[The customer edited an earlier message{was}]" + (f"\n{text}" if text else "")


def _revoke(content: Mapping[str, Any]) -> str:
    was = f': "{quote(str(content["quote"]))}"' if content.get("quote") else ""
    return f"[The customer deleted an earlier message{was}]"


def _system(content: Mapping[str, Any]) -> str:
    """A WhatsApp notice about the customer, with any phone number masked as in the logs."""
    system_type = str(content.get("system_type") or "unknown")
    if system_type in NUMBER_CHANGES:
        old, new = content.get("previous_wa_id"), content.get("new_wa_id")
        change = " ".join(
            part
            for part in (f"from {mask_phone(str(old))}" if old else "", f"to {mask_phone(str(new))}" if new else "")
            if part
        )
        return f"[WhatsApp notice: the customer changed their phone number{' ' + change if change else ''}.]"
    if system_type == USER_CHANGED_USER_ID:
        old, new = content.get("previous_user_id"), content.get("user_id")
        change = " ".join(
            part
            for part in (
                f"from {mask_customer(str(old))}" if old else "",
                f"to {mask_customer(str(new))}" if new else "",
            )
            if part
        )
        return f"[WhatsApp notice: the customer's WhatsApp user id (BSUID) changed{' ' + change if change else ''}.]"
    if system_type == "customer_identity_changed":
        return "[WhatsApp notice: the customer's WhatsApp identity (security code) changed.]"
    body = str(content.get("body") or "").strip()
    return f"[WhatsApp notice ({system_type}){': ' + body if body else ''}]"


_RENDERERS = {
    "location": _location,
    "contacts": _contacts,
    "interactive": _reply,
    "button": _reply,
    "reaction": _reaction,
    "order": _order,
    "system": _system,
    "edit": _edit,
    "revoke": _revoke,
    "unsupported": _unsupported,
}
