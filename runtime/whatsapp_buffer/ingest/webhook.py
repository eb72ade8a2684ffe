"""Parse End User Messaging Social events (the SNS `Message` of the in-topic) into `InboundMessage`s.

The SNS message's `whatsAppWebhookEntry` is a JSON string of one Meta webhook `entry`; its `changes[]` with `field ==
"messages"` carry the business number, the contacts and the messages. Errors name what is wrong, never quote a body or a
full phone number. Hostile input (tests/corpus/README.md) is rejected next to its good siblings, which are kept: ids
that are not short printable ASCII, content over `MAX_CONTENT_BYTES` or nested deeper than `MAX_DEPTH`, a business
number not in the event's `context`. What each kind keeps is `meta_content`'s. The event's shape:
docs/architecture.md#ingest.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from whatsapp_buffer.errors import MalformedEvent, UnsupportedEvent
from whatsapp_buffer.ingest.meta_content import MAX_DEPTH as MAX_DEPTH
from whatsapp_buffer.ingest.meta_content import MAX_TEXT_CHARS as MAX_TEXT_CHARS
from whatsapp_buffer.ingest.meta_content import as_float, clean, content_of
from whatsapp_buffer.model import NUMBER_CHANGES, USER_CHANGED_USER_ID, Conversation, InboundMessage, is_user_id

MESSAGES_FIELD = "messages"
_TIMESTAMP = re.compile(r"\d{1,12}(\.\d{1,9})?")
# Printable ASCII without space or "#": the conversation key "<phone_number_id>#<wa_id>" is a DynamoDB key and the SQS
# FIFO MessageGroupId (printable ASCII; `bursts_queue.message_group_id` digests a key over 128 characters), each part
# at most 63 characters, a BSUID at most 135 (`model.USER_ID`): a key of at most 199 bytes, far below DynamoDB's 2,048.
_ID_PART = re.compile(r"[!-\"$-~]{1,63}")
_MESSAGE_ID = re.compile(r"[!-~]{1,256}")
MAX_CONTENT_BYTES = 64 * 1024
"""Largest non-text content (a contact card, an order, a reply) kept; it travels in a burst under SQS's size limit."""


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
    """wa_id and BSUID -> the name the agent sees (profile name, and `@username` when there is one), from
    `value.contacts[]`."""
    messages: tuple[Any, ...]
    """The raw `value.messages[]` elements (parsed one by one so one bad message does not hide the others)."""
    statuses: int
    index: int = 0
    """Position in the entry's `changes[]` (for rejection reasons)."""
    sole_user_id: str | None = None
    """The BSUID of the change's only contact: Meta's usernames page shows a message without `from_user_id`
    beside `contacts[].user_id`, so a message without one takes its contact's (if the contact's `wa_id` is not
    another number)."""
    sole_wa_id: str | None = None
    failed: tuple[Any, ...] = ()
    """The raw `value.statuses[]` elements whose `status` is `failed` (what WhatsApp would not deliver)."""
    errors: tuple[Any, ...] = ()
    """`value.errors[]`: Meta's errors webhook puts WhatsApp's error beside `metadata`, outside any message."""


@dataclass(frozen=True)
class FailedStatus:
    """WhatsApp's word that a message the business sent was not delivered (`statuses[].status == "failed"`).

    Meta's status webhook: `{"id": <wamid>, "status": "failed", "timestamp", "recipient_id": <wa_id>,
    "errors": [{"code", "title", "message", "error_data": {"details"}}]}` beside `metadata.phone_number_id`; a
    customer known by BSUID only carries `recipient_user_id` (Meta, "Business-scoped user IDs")."""

    phone_number_id: str
    message_id: str
    recipients: tuple[str, ...]
    """Who the customer may be to the conversation key: `recipient_id` and/or `recipient_user_id`."""
    code: int | None
    title: str
    details: str


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
    failed: tuple[FailedStatus, ...] = ()

    def rejection_summary(self) -> str:
        return "; ".join(f"{r.position} ({r.message_id or 'no id'}): {r.reason}" for r in self.rejections)


def parse_sns_message(body: str, received_at: float) -> ParsedEvent:
    """Parse one SNS `Message`. Raises MalformedEvent / UnsupportedEvent when the envelope itself is unusable;
    a bad message inside a good entry is returned as a `Rejection` next to its valid siblings."""
    event = parse_envelope(body)
    messages: list[InboundMessage] = []
    rejections: list[Rejection] = list(event.bad_changes)
    webhook_index = 0
    for change in event.changes:
        origination = event.origination_for(change.phone_number_id)
        for message_index, raw in enumerate(change.messages):
            position = f"changes[{change.index}].messages[{message_index}]"
            try:
                if not origination:
                    raise MalformedEvent(
                        f"business number {change.phone_number_id} is not among the event's context.MetaPhoneNumberIds"
                    )
                messages.append(parse_message(raw, change, origination, received_at, webhook_index))
            except MalformedEvent as exc:
                message_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
                rejections.append(Rejection(position, _safe_id(message_id), str(exc)))
            webhook_index += 1
    failed = tuple(f for c in event.changes for raw in c.failed if (f := failed_status(raw, c)) is not None)
    return ParsedEvent(event, tuple(messages), tuple(rejections), sum(c.statuses for c in event.changes), failed)


def failed_status(raw: Any, change: MessagesChange) -> FailedStatus | None:
    """The failed status `raw` as the bridge reads it; None when it names no message or no recipient (nothing to
    look up: a status is never a customer message, so it is dropped, not dead-lettered). A recipient is kept only in
    the shape a sender must have (a number: a short printable id; a BSUID: `is_user_id`), and WhatsApp's words are
    cleaned as a message's are (`clean`): they go into a partition key, a table item and the agent's chat."""
    message_id = raw.get("id")
    number, user_id = raw.get("recipient_id"), raw.get("recipient_user_id")
    recipients = tuple(
        value
        for value in (
            number if isinstance(number, str) and _ID_PART.fullmatch(number) and "." not in number else None,
            user_id if is_user_id(user_id) else None,
        )
        if value
    )
    if (
        not isinstance(message_id, str)
        or not _MESSAGE_ID.fullmatch(message_id)
        or not recipients
        or not change.phone_number_id
    ):
        return None
    errors = raw.get("errors")
    error = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code = error.get("code")
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    title = error.get("title") or error.get("message")
    return FailedStatus(
        change.phone_number_id,
        message_id,
        recipients,
        code if isinstance(code, int) else None,
        clean(title[:200]) if isinstance(title, str) else "",
        clean(details[:300]) if isinstance(details, str) else "",
    )


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
                skipped.append(clean(str(field_name)[:40]))
                continue
            parsed.append(_messages_change(change.get("value"), index))
        except MalformedEvent as exc:
            bad.append((index, exc))
    if bad and not parsed:
        # Nothing in the entry is usable: the envelope as a whole is what is wrong.
        raise bad[0][1]
    return EumEvent(
        event_id=clean(str(data.get("messageId") or "")),
        phone_numbers=_phone_numbers(data.get("context")),
        entry_id=clean(str(entry.get("id") or "")),
        changes=tuple(parsed),
        skipped_fields=tuple(skipped),
        bad_changes=tuple(Rejection(f"changes[{index}]", None, str(exc)) for index, exc in bad),
    )


def _loads(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedEvent(f"{what} is not JSON ({exc.msg} at position {exc.pos})") from None
    except ValueError as exc:
        # JSON, but int() refuses a number of more than sys.get_int_max_str_digits() digits with a plain ValueError.
        raise MalformedEvent(f"{what} is not JSON the bridge can read ({str(exc).split(':', 1)[0]})") from None
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
    failed = tuple(s for s in statuses if isinstance(s, dict) and s.get("status") == "failed")
    phone_number_id = ""
    if messages or failed:
        metadata = value.get("metadata")
        found = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
        if not isinstance(found, str) or not _ID_PART.fullmatch(found):
            raise MalformedEvent(f"{where}.metadata.phone_number_id is missing or not a short printable id")
        phone_number_id = found
    names: dict[str, str] = {}
    contacts = value.get("contacts") or []
    contacts = contacts if isinstance(contacts, list) else []
    sole = contacts[0] if len(contacts) == 1 and isinstance(contacts[0], dict) else {}
    for contact in contacts:
        if not isinstance(contact, dict):
            continue
        profile = contact.get("profile")
        name = _display_name(profile) if isinstance(profile, dict) else None
        for key in ("wa_id", "user_id"):
            if isinstance(contact.get(key), str) and name:
                names[contact[key]] = name
    sole_user_id = sole.get("user_id") if isinstance(sole.get("user_id"), str) else None
    sole_wa_id = sole.get("wa_id") if isinstance(sole.get("wa_id"), str) else None
    errors = value.get("errors")
    errors = tuple(errors) if isinstance(errors, list) else ()
    return MessagesChange(
        phone_number_id, names, tuple(messages), len(statuses), index, sole_user_id, sole_wa_id, failed, errors
    )


def _display_name(profile: dict[str, Any]) -> str | None:
    """`Sheena Nelson (@sheena)`: a username is "displayed instead of their phone number in the app", so the agent
    sees it too; either part alone when the other is missing."""
    name = clean(profile["name"]).strip() if isinstance(profile.get("name"), str) else ""
    username = clean(profile["username"]).strip() if isinstance(profile.get("username"), str) else ""
    if username and not username.startswith("@"):
        username = f"@{username}"
    if name and username:
        return f"{name} ({username})"
    return name or username or None


def parse_message(
    raw: Any, change: MessagesChange, origination: str, received_at: float, webhook_index: int = 0
) -> InboundMessage:
    """One Meta `messages[]` element, the `webhook_index`-th message of its webhook (counted over every change) ->
    InboundMessage. Raises MalformedEvent naming what is wrong."""
    if not isinstance(raw, dict):
        raise MalformedEvent(f"message is a {type(raw).__name__}, not an object")
    message_id = _required_str(raw, "id")
    if not _MESSAGE_ID.fullmatch(message_id):
        raise MalformedEvent("message id is not printable ASCII of at most 256 characters")
    customer, user_id = _customer(raw, change)
    sent_at = parse_timestamp(raw.get("timestamp"))
    if not raw.get("errors") and change.errors:
        # The error WhatsApp put beside the message rather than in it explains the message all the same.
        raw = {**raw, "errors": list(change.errors)}
    original_type = raw.get("type")
    if not isinstance(original_type, str) or not original_type:
        if not raw.get("errors"):
            raise MalformedEvent("message has no type")
        original_type = "unknown"
    kind, content = content_of(original_type, raw)
    if kind != "text" or len(content) > 1:
        _check_size(kind, content)
    return InboundMessage(
        message_id=message_id,
        conversation=Conversation(change.phone_number_id, customer),
        kind=kind,
        sent_at=sent_at,
        content=content,
        origination_phone_number_id=origination,
        profile_name=change.profile_names.get(customer) or (change.profile_names.get(user_id) if user_id else None),
        received_at=received_at,
        webhook_index=webhook_index,
        user_id=user_id,
    )


def _customer(raw: dict[str, Any], change: MessagesChange) -> tuple[str, str | None]:
    """(who keys the conversation, the BSUID if any): the phone number (`from`) when the message has one, else the
    BSUID (`from_user_id`). Since 2026-03-31 Meta sends the BSUID with every message; a user with a username may
    come without `from` ("omitted if user's phone number is unavailable")."""
    sole = change.sole_user_id if change.sole_wa_id in (None, raw.get("from")) else None
    user_id = raw.get("from_user_id", sole)
    if raw.get("from") is None and user_id is None and _changed_user_id(raw):
        return _customer_changing_user_id(raw["system"], change)
    # A number change is keyed by the new number, whose messages follow it: one conversation, one FIFO group, the
    # notice first; its BSUID is the new one (`system.user_id`), which a number change regenerates.
    system = raw["system"] if raw.get("type") == "system" and isinstance(raw.get("system"), dict) else {}
    new_number = _number(system.get("wa_id") or system.get("new_wa_id"))  # `new_wa_id`: v11.0 and earlier
    if new_number and system.get("type") in NUMBER_CHANGES:
        return new_number, system["user_id"] if is_user_id(system.get("user_id")) else None
    valid_user_id = user_id if is_user_id(user_id) else None
    if raw.get("from") is None:
        if user_id is None:
            raise MalformedEvent("message has neither from nor from_user_id")
        if valid_user_id is None:
            raise MalformedEvent("message from_user_id is not a business-scoped user id (CC.alphanumerics)")
        customer = valid_user_id
    else:
        customer = _required_str(raw, "from")
        if not _ID_PART.fullmatch(customer) or "." in customer:
            raise MalformedEvent("message from is not a short printable id")
    # Beside a phone number a malformed BSUID is dropped, not the message: the number still reaches the customer.
    return customer, valid_user_id


def _number(value: Any) -> str | None:
    """`value` when it can key a conversation as a customer's phone number."""
    return value if isinstance(value, str) and _ID_PART.fullmatch(value) and "." not in value else None


def _changed_user_id(raw: dict[str, Any]) -> bool:
    system = raw.get("system")
    return raw.get("type") == "system" and isinstance(system, dict) and system.get("type") == USER_CHANGED_USER_ID


def _customer_changing_user_id(system: dict[str, Any], change: MessagesChange) -> tuple[str, str | None]:
    """A `user_changed_user_id` notice names no sender (no `from`, no `from_user_id`): the customer is the number in
    `system.wa_id` when WhatsApp shares it, else the new BSUID (`user_id`), whose messages follow the notice, else
    the one they had (`previous_user_id`). The new BSUID is the message's `user_id`: beside a number a malformed
    one is dropped, as a malformed `from_user_id` is; without one, where it would move the chat, it is rejected."""
    new = system.get("user_id")
    new_user_id = new if is_user_id(new) else None
    number = _number(system.get("wa_id"))
    previous = system.get("previous_user_id")
    if number:
        customer = number
    elif new is not None and new_user_id is None:
        raise MalformedEvent(
            "user_changed_user_id notice's user_id is not a business-scoped user id (CC.alphanumerics)"
        )
    elif new_user_id is not None:
        customer = new_user_id
    elif is_user_id(previous):
        customer = previous
    else:
        raise MalformedEvent("user_changed_user_id notice names no customer (system.wa_id, previous_user_id, user_id)")
    return customer, new_user_id


def parse_timestamp(value: Any) -> float:
    """Meta's `timestamp` is a string of epoch seconds; decimal strings and JSON numbers are accepted too."""
    if isinstance(value, bool):
        raise MalformedEvent("message timestamp is a boolean")
    if isinstance(value, int | float):
        number = as_float(value, "message timestamp")
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


def is_message_id(value: object) -> bool:
    """Whether `value` can be a WhatsApp message id as ingest accepts one (printable ASCII, 1-256 characters: what
    it stores, so what a reply, edit or revoke can name)."""
    return isinstance(value, str) and _MESSAGE_ID.fullmatch(value) is not None


def _safe_id(message_id: str | None) -> str | None:
    """A rejected message's id as far as it is safe to name in a reason."""
    if not message_id:
        return None
    return message_id if _MESSAGE_ID.fullmatch(message_id) else "unprintable id"


def _check_size(kind: str, content: dict[str, Any]) -> None:
    size = len(json.dumps(content, ensure_ascii=False).encode("utf-8"))
    if size > MAX_CONTENT_BYTES:
        raise MalformedEvent(f"{kind} content is {size // 1024} KiB, over the {MAX_CONTENT_BYTES // 1024} KiB kept")
