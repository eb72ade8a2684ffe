"""What each kind of Meta `messages[]` element carries, kept as the `content` of an `InboundMessage`.

Pure: a message (already checked for id, sender and timestamp by `webhook`) -> (kind, content). Every string is cleaned
of characters that cannot travel on (see `clean`); a shape that breaks what a kind needs raises MalformedEvent naming
the field, never quoting it, and an optional field of the wrong type is dropped. Where Meta's documentation and real
payloads disagree, both shapes are read (the tests quote each source). Any message may also carry `context` (a reply,
a forward, a catalog product) and `referral` (the click-to-WhatsApp ad it came from): docs/architecture.md#ingest.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from whatsapp_buffer.errors import MalformedEvent
from whatsapp_buffer.model import NUMBER_CHANGES, is_user_id

MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
MAX_TEXT_CHARS = 4096
"""WhatsApp's own limit for a text body; longer text did not come from WhatsApp and is cut."""
MAX_DEPTH = 16
"""Deepest nesting kept inside a message's content; real contact cards and orders are 4-5 levels deep."""
MAX_FIELD_CHARS = 2000
"""Longest ad field, error text or system notice kept (Meta's are a sentence or a URL; more is not from Meta)."""
SYSTEM = "system"

# C0/C1 controls other than tab, newline and carriage return, lone UTF-16 surrogates (JSON "\ud800" decodes to
# one) and the noncharacters U+FFFE/U+FFFF: they cannot be encoded to UTF-8 for DynamoDB/SQS or are rejected
# downstream (SQS allows only XML 1.0's characters in a body: "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD |
# #x10000 to #x10FFFF", botocore sqs SendMessage), and never carry meaning. Each becomes U+FFFD.
_UNWANTED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|[\ud800-\udfff]|[\ufffe\uffff]")
# A phone number inside free text (Meta's system notices spell out the old and the new number): 7+ digits,
# optionally with a leading "+" and the usual separators.
_PHONE_IN_TEXT = re.compile(r"\+?\d(?:[ ().-]{0,2}\d){6,}")
_CARD_LISTS = ("addresses", "emails", "phones", "urls")
"""The properties of a shared contact card that Meta's contacts reference gives as arrays."""
_REFERRAL_FIELDS = ("headline", "body", "source_url", "source_type", "source_id", "ctwa_clid", "media_type")


def content_of(original_type: str, raw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The kind and content of one message of Meta type `original_type`, with its context and referral."""
    kind, content = _kind_content(original_type, raw)
    context = _context(raw.get("context"))
    if context:
        content["context"] = context
    referral = _referral(raw.get("referral"))
    if referral:
        content["referral"] = referral
    return kind, content


def _kind_content(original_type: str, raw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    body = raw.get(original_type)
    if body is None and _first_error(raw):
        # WhatsApp names a type but sends no object of it, and says why in `errors`: the agent is told the customer
        # sent something this chat cannot show, with WhatsApp's words, rather than the message being dead-lettered.
        return "unsupported", _unsupported(original_type, raw)
    if original_type == "text":
        text = _object(body, "text").get("body")
        if not isinstance(text, str):
            raise MalformedEvent("text message has no text.body string")
        return "text", {"text": cut(clean(text))}
    if original_type in MEDIA_TYPES:
        media = _object(body, original_type)
        if not media.get("id") and _first_error(raw):
            return "unsupported", _unsupported(original_type, raw)
        kind, content = _media(original_type, media)
        # WhatsApp's own error beside the media (e.g. 131052 "Media download error") tells the agent why a file
        # cannot be fetched better than the bridge can.
        return kind, {**content, **_whatsapp_error(raw)}
    if original_type == "reaction":
        reaction = _object(body, "reaction")
        # An empty or missing emoji is WhatsApp's "reaction removed"; it is still a customer action worth keeping.
        return "reaction", {
            "emoji": clean(str(reaction.get("emoji") or "")),
            "reacted_to": clean(str(reaction.get("message_id") or "")),
        }
    if original_type == "location":
        return "location", _location(_object(body, "location"))
    if original_type == "contacts":
        if not isinstance(body, list):
            raise MalformedEvent("contacts message has no contacts list")
        return "contacts", {"contacts": [_card(card) for card in clean_tree(body)]}
    if original_type == "interactive":
        return "interactive", _interactive(_object(body, "interactive"))
    if original_type == "button":
        button = _object(body, "button")
        return "button", drop_none({"title": opt_str(button.get("text")), "payload": opt_str(button.get("payload"))})
    if original_type == "order":
        order = _object(body, "order")
        if "product_items" in order and not isinstance(order["product_items"], list):
            raise MalformedEvent("order message has no product_items list")
        return "order", clean_tree(order)
    if original_type == SYSTEM and isinstance(body, dict):
        return SYSTEM, _system(body, raw)
    if original_type in ("edit", "revoke") and isinstance(body, dict) and _short(body.get("original_message_id")):
        edited_media = _edited_media(body) if original_type == "edit" else None
        if edited_media:
            # The picture (or video, document) as edited travels as media, so the agent sees it again with its new
            # caption; the edit line says it replaces an earlier message.
            kind, content = _media(*edited_media)
            return kind, {**content, "edit_of": clean(str(body["original_message_id"])[:256])}
        return original_type, _edit_or_revoke(original_type, body)
    return "unsupported", _unsupported(original_type, raw)


def _object(body: Any, name: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise MalformedEvent(f"{name} message has no {name} object")
    return body


def _media(original_type: str, media: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    media_id = media.get("id")
    if not isinstance(media_id, str) or not media_id:
        raise MalformedEvent(f"{original_type} message has no media id")
    kind = "voice" if original_type == "audio" and media.get("voice") is True else original_type
    content = {
        "media_id": clean(media_id),
        "mime_type": opt_str(media.get("mime_type")) or "application/octet-stream",
        "caption": opt_str(media.get("caption")),
        "filename": opt_str(media.get("filename")),
        "sha256": opt_str(media.get("sha256")),
        "animated": media.get("animated") if isinstance(media.get("animated"), bool) else None,
    }
    return kind, drop_none(content)


def _card(card: Any) -> Any:
    """A shared contact card without a `_CARD_LISTS` property that is not a list: Meta's contacts reference says any
    property may be omitted, so the card is kept without it, as a caption that is not a string is dropped."""
    if not isinstance(card, dict):
        return card
    return {key: value for key, value in card.items() if key not in _CARD_LISTS or isinstance(value, list)}


def _location(location: dict[str, Any]) -> dict[str, Any]:
    coordinates = []
    for name in ("latitude", "longitude"):
        value = location.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise MalformedEvent(f"location message has no numeric {name}")
        coordinate = as_float(value, f"location message's {name}")
        if not math.isfinite(coordinate):
            raise MalformedEvent(f"location message has no numeric {name}")
        coordinates.append(coordinate)
    latitude, longitude = coordinates
    return drop_none(
        {
            "latitude": latitude,
            "longitude": longitude,
            "name": opt_str(location.get("name")),
            "address": opt_str(location.get("address")),
            "url": opt_str(location.get("url")),
        }
    )


def _interactive(interactive: dict[str, Any]) -> dict[str, Any]:
    reply_type = interactive.get("type")
    reply = interactive.get(reply_type) if isinstance(reply_type, str) else None
    if not isinstance(reply_type, str) or not isinstance(reply, dict):
        raise MalformedEvent("interactive message has no reply object of its type")
    if reply_type in ("button_reply", "list_reply"):
        return drop_none(
            {
                "title": opt_str(reply.get("title")) or "",
                "id": opt_str(reply.get("id")),
                "description": opt_str(reply.get("description")),
            }
        )
    content = {
        "title": opt_str(reply.get("body")) or opt_str(reply.get("title")) or opt_str(reply.get("name")) or "",
        "interactive_type": clean(reply_type),
    }
    if reply_type == "nfm_reply":
        # A WhatsApp Flow's answers: `response_json` is a JSON *string* whose shape the Flow defines.
        content.update(_flow_response(reply.get("response_json")))
        reply = {key: value for key, value in reply.items() if key != "response_json"}
    # Flow replies and future reply types: keep what a human can read plus the raw reply.
    content["reply"] = clean_tree(reply)
    return content


def _flow_response(response_json: Any) -> dict[str, Any]:
    """`{"response": {...}}` without the `flow_token` (the business's own correlation id, nothing the customer said);
    `{"response_text": ...}` when it is not a JSON object, so the agent still sees what came."""
    if response_json is None:
        return {}
    if isinstance(response_json, dict):
        parsed: Any = response_json
    elif isinstance(response_json, str):
        try:
            parsed = json.loads(response_json)
        except ValueError:
            return {"response_text": clean(response_json[:MAX_FIELD_CHARS])}
        except RecursionError:
            raise MalformedEvent("flow response_json is nested too deeply to parse") from None
    else:
        raise MalformedEvent("flow response_json is neither a JSON string nor an object")
    if not isinstance(parsed, dict):
        return {"response_text": clean(str(response_json)[:MAX_FIELD_CHARS])}
    return {"response": clean_tree({key: value for key, value in parsed.items() if key != "flow_token"})}


def _unsupported(original_type: str, raw: dict[str, Any]) -> dict[str, Any]:
    # The current reference names the unsupported type in `unsupported.type` (e.g. `poll_creation`); older
    # payloads carry only `type` (`unsupported`, `unknown`) and the error.
    inner = raw.get("unsupported")
    inner_type = inner.get("type") if isinstance(inner, dict) else None
    shown_type = inner_type if isinstance(inner_type, str) and inner_type else original_type
    return {"original_type": clean(shown_type[:40]), **_whatsapp_error(raw)}


def _whatsapp_error(raw: dict[str, Any]) -> dict[str, Any]:
    """`error` ("<code>: <title>") and `error_details` of the message's first WhatsApp error; {} without one."""
    first = _first_error(raw)
    if not first:
        return {}
    detail = first.get("title") or first.get("message")
    code = first.get("code")
    content = {"error": clean(f"{code}: {detail}" if code is not None else str(detail))}
    error_data = first.get("error_data")
    details = _short(error_data.get("details") if isinstance(error_data, dict) else None) or _short(
        first.get("details")
    )
    if details:
        content["error_details"] = details
    return content


def _first_error(raw: dict[str, Any]) -> dict[str, Any]:
    errors = raw.get("errors")
    return errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}


def _system(system: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """A notice WhatsApp sends on the customer's behalf. The new number is kept whole (the conversation may have to
    follow it), and each BSUID only when it is one (`model.is_user_id`: a chat may follow it too); the notice's own
    text is kept with every phone number in it masked."""
    system_type = _short(system.get("type")) or "unknown"
    content: dict[str, Any] = {"system_type": system_type[:40]}
    if system_type in NUMBER_CHANGES:
        # `wa_id` in the current reference (and v12.0 on), `new_wa_id` in v11.0 and earlier.
        new = system.get("wa_id") or system.get("new_wa_id")
        old = system.get("customer") or raw.get("from")
        content.update(drop_none({"new_wa_id": _short(new), "previous_wa_id": _short(old)}))
    for key in ("user_id", "parent_user_id", "previous_user_id"):
        if is_user_id(value := system.get(key)):
            content[key] = value
    body = _short(system.get("body"))
    if body:
        content["body"] = mask_numbers(body)
    return content


def _edited_media(body: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The media object of an edited media message, when it names its media (`id`): Meta's edit reference says a
    user may edit "media with caption", and the copy read does not show whether the object carries its id again;
    without one the edit is read as words only."""
    message = body.get("message")
    if not isinstance(message, dict):
        return None
    media_type = message.get("type")
    types = [media_type] if media_type in MEDIA_TYPES else [t for t in MEDIA_TYPES if t in message]
    for name in types:
        media = message.get(name)
        if isinstance(media, dict) and isinstance(media.get("id"), str) and media["id"]:
            return name, media
    return None


def _edit_or_revoke(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """Meta's edit / revoke messages webhooks ("only available to WhatsApp Business app users (aka Coexistence)"):
    `edit.original_message_id` + `edit.message` (the message as edited: a text, or media with a caption);
    `revoke.original_message_id`. The edited words are read from `message.text.body`, else any `caption`."""
    content: dict[str, Any] = {"original_id": clean(str(body["original_message_id"])[:256])}
    message = body.get("message")
    if kind == "edit" and isinstance(message, dict):
        text = message.get("text")
        words = text.get("body") if isinstance(text, dict) else None
        if not isinstance(words, str):
            inner = next((v for v in message.values() if isinstance(v, dict) and isinstance(v.get("caption"), str)), {})
            words = inner.get("caption")
        if isinstance(words, str) and words:
            content["text"] = cut(clean(words))
    return content


def _context(context: Any) -> dict[str, Any]:
    if not isinstance(context, dict):
        return {}
    kept: dict[str, Any] = {}
    replied_to = context.get("id") or context.get("message_id")
    if isinstance(replied_to, str) and replied_to:
        kept["id"] = clean(replied_to[:256])
    for flag in ("forwarded", "frequently_forwarded"):
        if context.get(flag) is True:
            kept[flag] = True
    product = context.get("referred_product")
    if isinstance(product, dict):
        named = drop_none(
            {
                "catalog_id": _short(product.get("catalog_id")),
                "product_retailer_id": _short(product.get("product_retailer_id")),
            }
        )
        if named:
            kept["referred_product"] = named
    return kept


def _referral(referral: Any) -> dict[str, Any]:
    if not isinstance(referral, dict):
        return {}
    return drop_none({key: _short(referral.get(key)) for key in _REFERRAL_FIELDS})


def mask_numbers(text: str) -> str:
    """Every phone number in `text` with all but its last four digits starred, as `model.mask_phone` does."""

    def masked(match: re.Match[str]) -> str:
        number = match.group(0)
        digits = sum(char.isdigit() for char in number)
        seen = 0
        out = []
        for char in number:
            if char.isdigit():
                seen += 1
                out.append(char if seen > digits - 4 else "*")
            else:
                out.append(char)
        return "".join(out)

    return _PHONE_IN_TEXT.sub(masked, text)


def _short(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = clean(str(value)).strip()
    return text[:MAX_FIELD_CHARS] or None


def as_float(value: int | float, what: str) -> float:
    """`value` as a float; a JSON integer too big for one (json reads up to 4,300 digits) is out of range."""
    try:
        return float(value)
    except OverflowError:
        raise MalformedEvent(f"{what} is out of range") from None


def opt_str(value: Any) -> str | None:
    return clean(value) if isinstance(value, str) else None


def drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def clean(text: str) -> str:
    return _UNWANTED.sub("\ufffd", text) if _UNWANTED.search(text) else text


def cut(text: str) -> str:
    if len(text) <= MAX_TEXT_CHARS:
        return text
    note = f"\n[{len(text) - MAX_TEXT_CHARS + 80:,} more characters not shown: over WhatsApp's text limit]"
    return text[: MAX_TEXT_CHARS - 80] + note


def clean_tree(value: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise MalformedEvent(f"message content is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(str(k)): clean_tree(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_tree(v, depth + 1) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
