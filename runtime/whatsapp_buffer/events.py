"""Parse End User Messaging Social events (the SNS `Message` of the in-topic) into `InboundMessage`s.

The SNS message is JSON: `context` (`MetaWabaIds`, `MetaPhoneNumberIds[{metaPhoneNumberId, arn}]`),
`whatsAppWebhookEntry` (a JSON *string* of one Meta webhook `entry`), `aws_account_id`, `message_timestamp`,
`messageId`. The entry's `changes[]` with `field == "messages"` carry `value.metadata.phone_number_id`,
`value.contacts[]` and `value.messages[]`; `value.statuses[]` and other fields are not customer messages.

Errors name what is wrong, never quote a body or a full phone number.
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


@dataclass(frozen=True)
class EumEvent:
    """An End User Messaging Social event with its webhook entry decoded."""

    event_id: str
    phone_numbers: tuple[PhoneNumberRef, ...]
    entry_id: str
    changes: tuple[MessagesChange, ...]
    skipped_fields: tuple[str, ...]

    def origination_for(self, meta_phone_number_id: str) -> str:
        return next((p.arn for p in self.phone_numbers if p.meta_phone_number_id == meta_phone_number_id), "")


@dataclass(frozen=True)
class Rejection:
    """A message of an entry that could not be parsed: where it was and what is wrong (never its content)."""

    position: str
    message_id: str | None
    reason: str


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
    rejections: list[Rejection] = []
    for change_index, change in enumerate(event.changes):
        origination = event.origination_for(change.phone_number_id)
        for message_index, raw in enumerate(change.messages):
            position = f"changes[{change_index}].messages[{message_index}]"
            try:
                messages.append(parse_message(raw, change, origination, received_at))
            except MalformedEvent as exc:
                message_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
                rejections.append(Rejection(position, _clean(message_id) if message_id else None, str(exc)))
    return ParsedEvent(event, tuple(messages), tuple(rejections), sum(c.statuses for c in event.changes))


def parse_envelope(body: str) -> EumEvent:
    if not isinstance(body, str):
        raise MalformedEvent(f"SNS message is a {type(body).__name__}, not a string")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise MalformedEvent(f"SNS message is not JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(data, dict) or not ({"context", "whatsAppWebhookEntry"} & data.keys()):
        raise UnsupportedEvent("SNS message is JSON but not an End User Messaging Social event")
    raw_entry = data.get("whatsAppWebhookEntry")
    if raw_entry is None:
        raise MalformedEvent("End User Messaging event has no whatsAppWebhookEntry")
    if isinstance(raw_entry, str):
        try:
            entry = json.loads(raw_entry)
        except ValueError as exc:
            raise MalformedEvent(f"whatsAppWebhookEntry is not JSON ({exc.msg} at position {exc.pos})") from None
    else:
        raise MalformedEvent(f"whatsAppWebhookEntry is a {type(raw_entry).__name__}, not a JSON string")
    if not isinstance(entry, dict):
        raise MalformedEvent(f"whatsAppWebhookEntry decodes to a {type(entry).__name__}, not an object")
    changes = entry.get("changes", [])
    if not isinstance(changes, list):
        raise MalformedEvent("whatsAppWebhookEntry.changes is not a list")
    parsed: list[MessagesChange] = []
    skipped: list[str] = []
    for index, change in enumerate(changes):
        if not isinstance(change, dict):
            raise MalformedEvent(f"changes[{index}] is not an object")
        field_name = change.get("field")
        if field_name != MESSAGES_FIELD:
            skipped.append(str(field_name)[:40])
            continue
        parsed.append(_messages_change(change.get("value"), index))
    return EumEvent(
        event_id=_clean(str(data.get("messageId") or "")),
        phone_numbers=_phone_numbers(data.get("context")),
        entry_id=_clean(str(entry.get("id") or "")),
        changes=tuple(parsed),
        skipped_fields=tuple(skipped),
    )


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
        if not isinstance(phone_number_id, str) or not phone_number_id or "#" in phone_number_id:
            raise MalformedEvent(f"{where}.metadata.phone_number_id is missing or not a plain string")
    names: dict[str, str] = {}
    contacts = value.get("contacts") or []
    for contact in contacts if isinstance(contacts, list) else []:
        if not isinstance(contact, dict):
            continue
        profile = contact.get("profile")
        name = profile.get("name") if isinstance(profile, dict) else None
        if isinstance(contact.get("wa_id"), str) and isinstance(name, str):
            names[contact["wa_id"]] = _clean(name)
    return MessagesChange(phone_number_id, names, tuple(messages), len(statuses))


def parse_message(raw: Any, change: MessagesChange, origination: str, received_at: float) -> InboundMessage:
    """One Meta `messages[]` element -> InboundMessage. Raises MalformedEvent naming what is wrong."""
    if not isinstance(raw, dict):
        raise MalformedEvent(f"message is a {type(raw).__name__}, not an object")
    message_id = _required_str(raw, "id")
    customer = _required_str(raw, "from")
    sent_at = parse_timestamp(raw.get("timestamp"))
    original_type = raw.get("type")
    if not isinstance(original_type, str) or not original_type:
        raise MalformedEvent("message has no type")
    kind, content = _content(original_type, raw)
    return InboundMessage(
        message_id=_clean(message_id),
        conversation=Conversation(change.phone_number_id, _clean(customer)),
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
        return "text", {"text": _clean(text)}
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


def _clean_tree(value: Any) -> Any:
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, dict):
        return {_clean(str(k)): _clean_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_tree(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
