"""Parse End User Messaging Social events (the SNS `Message` of the in-topic) into `InboundMessage`s.

The SNS message is JSON: `context` (`MetaWabaIds`, `MetaPhoneNumberIds[{metaPhoneNumberId, arn}]`),
`whatsAppWebhookEntry` (a JSON *string* of one Meta webhook `entry`), `aws_account_id`, `message_timestamp`,
`messageId`. The entry's `changes[]` with `field == "messages"` carry `value.metadata.phone_number_id`,
`value.contacts[]` and `value.messages[]`; `value.statuses[]` and other fields are not customer messages.

Errors name what is wrong, never quote a body or a full phone number.

Hostile input (tests/corpus/README.md): ids must be short printable ASCII (they become DynamoDB keys, the SQS FIFO
message group and Connect client tokens downstream, where anything else fails on every retry); a text longer than
WhatsApp allows is cut with a visible note; any other content over MAX_CONTENT_BYTES or nested deeper than MAX_DEPTH
is rejected; a change for a business number that is not in the event's `context` is rejected (nothing could answer
or fetch media for it). A bad change or message is rejected next to its good siblings, which are kept.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from whatsapp_buffer.errors import MalformedEvent, UnsupportedEvent
from whatsapp_buffer.model import Conversation, InboundMessage

MESSAGES_FIELD = "messages"
_TIMESTAMP = re.compile(r"\d{1,12}(\.\d{1,9})?")
# C0/C1 controls other than tab, newline and carriage return, and lone UTF-16 surrogates (JSON "\ud800" decodes to
# one): they cannot be encoded to UTF-8 for DynamoDB/SQS or are rejected downstream, and never carry meaning.
_UNWANTED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|[\ud800-\udfff]")
_MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
# Printable ASCII without space or "#": the conversation key "<phone_number_id>#<wa_id>" is the SQS FIFO
# MessageGroupId (at most 128 characters of that alphabet) and a DynamoDB key, so each part stays at most 63.
_ID_PART = re.compile(r"[!-\"$-~]{1,63}")
_MESSAGE_ID = re.compile(r"[!-~]{1,256}")
MAX_TEXT_CHARS = 4096
"""WhatsApp's own limit for a text body; longer text did not come from WhatsApp and is cut."""
MAX_CONTENT_BYTES = 64 * 1024
"""Largest non-text content (a contact card, an order, a reply) kept; it travels in a burst under SQS's size limit."""
MAX_DEPTH = 16
"""Deepest nesting kept inside a message's content; real contact cards and orders are 4-5 levels deep."""


@dataclass(frozen=True)
class Rejection:
    """A message of an entry that could not be parsed: where it was and what is wrong (never its content)."""

    position: str
    message_id: str | None
    reason: str


@dataclass(frozen=True)
class PhoneNumberRef:
    """One business number in the event's `context`: Meta's id and End User Messaging's ARN for it."""

    meta_phone_number_id: str
    arn: str


@dataclass(frozen=True)
class MessagesChange:
    """One `changes[]` element with `field == "messages"`."""

    phone_number_id: str
    profile_names: dict[str, str]
    """wa_id -> profile name, from `value.contacts[]`."""
    messages: tuple[Any, ...]
    """The raw `value.messages[]` elements (parsed one by one so one bad message does not hide the others)."""
    statuses: int
    index: int = 0
    """Position in the entry's `changes[]` (for rejection reasons)."""


@dataclass(frozen=True)
class EumEvent:
    """An End User Messaging Social event with its webhook entry decoded."""

    event_id: str
    phone_numbers: tuple[PhoneNumberRef, ...]
    entry_id: str
    changes: tuple[MessagesChange, ...]
    skipped_fields: tuple[str, ...]
    bad_changes: tuple[Rejection, ...] = ()
    """`changes[]` elements that could not be read, next to at least one that could."""

    def origination_for(self, meta_phone_number_id: str) -> str:
        return next((p.arn for p in self.phone_numbers if p.meta_phone_number_id == meta_phone_number_id), "")


@dataclass(frozen=True)
class ParsedEvent:
    """Everything one SNS message yields: the good messages, and what was wrong with the bad ones."""

    event: EumEvent
    messages: tuple[InboundMessage, ...]
    rejections: tuple[Rejection, ...]
    statuses: int

    def rejection_summary(self) -> str:
        return "; ".join(f"{r.position} ({r.message_id or 'no id'}): {r.reason}" for r in self.rejections)


def parse_sns_message(body: str, received_at: float) -> ParsedEvent:
    """Parse one SNS `Message`. Raises MalformedEvent / UnsupportedEvent when the envelope itself is unusable;
    a bad message inside a good entry is returned as a `Rejection` next to its valid siblings."""
    event = parse_envelope(body)
    messages: list[InboundMessage] = []
    rejections: list[Rejection] = list(event.bad_changes)
    for change in event.changes:
        origination = event.origination_for(change.phone_number_id)
        for message_index, raw in enumerate(change.messages):
            position = f"changes[{change.index}].messages[{message_index}]"
            try:
                if not origination:
                    raise MalformedEvent(
                        f"business number {change.phone_number_id} is not among the event's context.MetaPhoneNumberIds"
                    )
                messages.append(parse_message(raw, change, origination, received_at))
            except MalformedEvent as exc:
                message_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
                rejections.append(Rejection(position, _safe_id(message_id), str(exc)))
    return ParsedEvent(event, tuple(messages), tuple(rejections), sum(c.statuses for c in event.changes))


def parse_envelope(body: str) -> EumEvent:
    if not isinstance(body, str):
        raise MalformedEvent(f"SNS message is a {type(body).__name__}, not a string")
    data = _loads(body, "SNS message")
    if not isinstance(data, dict) or not ({"context", "whatsAppWebhookEntry"} & data.keys()):
        raise UnsupportedEvent("SNS message is JSON but not an End User Messaging Social event")
    raw_entry = data.get("whatsAppWebhookEntry")
    if raw_entry is None:
        raise MalformedEvent("End User Messaging event has no whatsAppWebhookEntry")
    if isinstance(raw_entry, str):
        entry = _loads(raw_entry, "whatsAppWebhookEntry")
    else:
        raise MalformedEvent(f"whatsAppWebhookEntry is a {type(raw_entry).__name__}, not a JSON string")
    if not isinstance(entry, dict):
        raise MalformedEvent(f"whatsAppWebhookEntry decodes to a {type(entry).__name__}, not an object")
    changes = entry.get("changes", [])
    if not isinstance(changes, list):
        raise MalformedEvent("whatsAppWebhookEntry.changes is not a list")
    parsed: list[MessagesChange] = []
    skipped: list[str] = []
    bad: list[tuple[int, MalformedEvent]] = []
    for index, change in enumerate(changes):
        try:
            if not isinstance(change, dict):
                raise MalformedEvent(f"changes[{index}] is not an object")
            field_name = change.get("field")
            if field_name != MESSAGES_FIELD:
                skipped.append(_clean(str(field_name)[:40]))
                continue
            parsed.append(_messages_change(change.get("value"), index))
        except MalformedEvent as exc:
            bad.append((index, exc))
    if bad and not parsed:
        # Nothing in the entry is usable: the envelope as a whole is what is wrong.
        raise bad[0][1]
    return EumEvent(
        event_id=_clean(str(data.get("messageId") or "")),
        phone_numbers=_phone_numbers(data.get("context")),
        entry_id=_clean(str(entry.get("id") or "")),
        changes=tuple(parsed),
        skipped_fields=tuple(skipped),
        bad_changes=tuple(Rejection(f"changes[{index}]", None, str(exc)) for index, exc in bad),
    )


def _loads(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise MalformedEvent(f"{what} is not JSON ({exc.msg} at position {exc.pos})") from None
    except RecursionError:
        raise MalformedEvent(f"{what} is nested too deeply to parse") from None


def _phone_numbers(context: Any) -> tuple[PhoneNumberRef, ...]:
    if context is None:
        return ()
    if not isinstance(context, dict):
        raise MalformedEvent("context is not an object")
    refs = context.get("MetaPhoneNumberIds") or []
    if not isinstance(refs, list):
        raise MalformedEvent("context.MetaPhoneNumberIds is not a list")
    result = []
    for ref in refs:
        if isinstance(ref, dict) and isinstance(ref.get("metaPhoneNumberId"), str) and isinstance(ref.get("arn"), str):
            result.append(PhoneNumberRef(ref["metaPhoneNumberId"], ref["arn"]))
    return tuple(result)


def _messages_change(value: Any, index: int) -> MessagesChange:
    where = f"changes[{index}].value"
    if not isinstance(value, dict):
        raise MalformedEvent(f"{where} is not an object")
    messages = value.get("messages") or []
    statuses = value.get("statuses") or []
    if not isinstance(messages, list) or not isinstance(statuses, list):
        raise MalformedEvent(f"{where}.messages/statuses is not a list")
    phone_number_id = ""
    if messages:
        metadata = value.get("metadata")
        phone_number_id = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
        if not isinstance(phone_number_id, str) or not _ID_PART.fullmatch(phone_number_id):
            raise MalformedEvent(f"{where}.metadata.phone_number_id is missing or not a short printable id")
    names: dict[str, str] = {}
    contacts = value.get("contacts") or []
    for contact in contacts if isinstance(contacts, list) else []:
        if not isinstance(contact, dict):
            continue
        profile = contact.get("profile")
        name = profile.get("name") if isinstance(profile, dict) else None
        if isinstance(contact.get("wa_id"), str) and isinstance(name, str):
            names[contact["wa_id"]] = _clean(name)
    return MessagesChange(phone_number_id, names, tuple(messages), len(statuses), index)


def parse_message(raw: Any, change: MessagesChange, origination: str, received_at: float) -> InboundMessage:
    """One Meta `messages[]` element -> InboundMessage. Raises MalformedEvent naming what is wrong."""
    if not isinstance(raw, dict):
        raise MalformedEvent(f"message is a {type(raw).__name__}, not an object")
    message_id = _required_str(raw, "id")
    if not _MESSAGE_ID.fullmatch(message_id):
        raise MalformedEvent("message id is not printable ASCII of at most 256 characters")
    customer = _required_str(raw, "from")
    if not _ID_PART.fullmatch(customer):
        raise MalformedEvent("message from is not a short printable id")
    sent_at = parse_timestamp(raw.get("timestamp"))
    original_type = raw.get("type")
    if not isinstance(original_type, str) or not original_type:
        raise MalformedEvent("message has no type")
    kind, content = _content(original_type, raw)
    if kind != "text":
        _check_size(kind, content)
    return InboundMessage(
        message_id=message_id,
        conversation=Conversation(change.phone_number_id, customer),
        kind=kind,
        sent_at=sent_at,
        content=content,
        origination_phone_number_id=origination,
        profile_name=change.profile_names.get(customer),
        received_at=received_at,
    )


def parse_timestamp(value: Any) -> float:
    """Meta's `timestamp` is a string of epoch seconds; decimal strings and JSON numbers are accepted too."""
    if isinstance(value, bool):
        raise MalformedEvent("message timestamp is a boolean")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and _TIMESTAMP.fullmatch(value.strip()):
        number = float(value.strip())
    elif value is None:
        raise MalformedEvent("message has no timestamp")
    else:
        raise MalformedEvent("message timestamp is not epoch seconds")
    if not math.isfinite(number) or number < 0 or number >= 1e12:
        raise MalformedEvent("message timestamp is out of range")
    return number


def _required_str(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if value is None:
        raise MalformedEvent(f"message has no {key}")
    if not isinstance(value, str) or not value.strip():
        raise MalformedEvent(f"message {key} is not a non-empty string")
    return value


def _content(original_type: str, raw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    body = raw.get(original_type)
    if original_type == "text":
        text = _object(body, "text").get("body")
        if not isinstance(text, str):
            raise MalformedEvent("text message has no text.body string")
        return "text", {"text": _cut(_clean(text))}
    if original_type in _MEDIA_TYPES:
        return _media(original_type, _object(body, original_type))
    if original_type == "reaction":
        reaction = _object(body, "reaction")
        # An empty or missing emoji is WhatsApp's "reaction removed"; it is still a customer action worth keeping.
        return "reaction", {
            "emoji": _clean(str(reaction.get("emoji") or "")),
            "reacted_to": _clean(str(reaction.get("message_id") or "")),
        }
    if original_type == "location":
        return "location", _location(_object(body, "location"))
    if original_type == "contacts":
        if not isinstance(body, list):
            raise MalformedEvent("contacts message has no contacts list")
        return "contacts", {"contacts": _clean_tree(body)}
    if original_type == "interactive":
        return "interactive", _interactive(_object(body, "interactive"))
    if original_type == "button":
        button = _object(body, "button")
        return "button", _drop_none({"title": _opt_str(button.get("text")), "payload": _opt_str(button.get("payload"))})
    if original_type == "order":
        return "order", _clean_tree(_object(body, "order"))
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
        "media_id": _clean(media_id),
        "mime_type": _opt_str(media.get("mime_type")) or "application/octet-stream",
        "caption": _opt_str(media.get("caption")),
        "filename": _opt_str(media.get("filename")),
        "sha256": _opt_str(media.get("sha256")),
        "animated": media.get("animated") if isinstance(media.get("animated"), bool) else None,
    }
    return kind, _drop_none(content)


def _location(location: dict[str, Any]) -> dict[str, Any]:
    latitude, longitude = location.get("latitude"), location.get("longitude")
    for name, value in (("latitude", latitude), ("longitude", longitude)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise MalformedEvent(f"location message has no numeric {name}")
    return _drop_none(
        {
            "latitude": float(latitude),
            "longitude": float(longitude),
            "name": _opt_str(location.get("name")),
            "address": _opt_str(location.get("address")),
            "url": _opt_str(location.get("url")),
        }
    )


def _interactive(interactive: dict[str, Any]) -> dict[str, Any]:
    reply_type = interactive.get("type")
    reply = interactive.get(reply_type) if isinstance(reply_type, str) else None
    if not isinstance(reply, dict):
        raise MalformedEvent("interactive message has no reply object of its type")
    if reply_type in ("button_reply", "list_reply"):
        return _drop_none(
            {
                "title": _opt_str(reply.get("title")) or "",
                "id": _opt_str(reply.get("id")),
                "description": _opt_str(reply.get("description")),
            }
        )
    # Flow replies (nfm_reply) and future reply types: keep what a human can read plus the raw reply.
    return _drop_none(
        {
            "title": _opt_str(reply.get("body")) or _opt_str(reply.get("title")) or _opt_str(reply.get("name")) or "",
            "interactive_type": _clean(reply_type),
            "reply": _clean_tree(reply),
        }
    )


def _unsupported(original_type: str, raw: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = {"original_type": _clean(original_type[:40])}
    errors = raw.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        detail = first.get("title") or first.get("message")
        code = first.get("code")
        content["error"] = _clean(f"{code}: {detail}" if code is not None else str(detail))
    return content


def _opt_str(value: Any) -> str | None:
    return _clean(value) if isinstance(value, str) else None


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def _clean(text: str) -> str:
    return _UNWANTED.sub("\ufffd", text) if _UNWANTED.search(text) else text


def _safe_id(message_id: str | None) -> str | None:
    """A rejected message's id as far as it is safe to name in a reason."""
    if not message_id:
        return None
    return message_id if _MESSAGE_ID.fullmatch(message_id) else "unprintable id"


def _cut(text: str) -> str:
    if len(text) <= MAX_TEXT_CHARS:
        return text
    note = f"\n[{len(text) - MAX_TEXT_CHARS + 80:,} more characters not shown: over WhatsApp's text limit]"
    return text[: MAX_TEXT_CHARS - 80] + note


def _check_size(kind: str, content: dict[str, Any]) -> None:
    size = len(json.dumps(content, ensure_ascii=False).encode("utf-8"))
    if size > MAX_CONTENT_BYTES:
        raise MalformedEvent(f"{kind} content is {size // 1024} KiB, over the {MAX_CONTENT_BYTES // 1024} KiB kept")


def _clean_tree(value: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise MalformedEvent(f"message content is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, dict):
        return {_clean(str(k)): _clean_tree(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_tree(v, depth + 1) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
