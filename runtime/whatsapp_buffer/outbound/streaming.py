"""Parse Amazon Connect chat streaming messages (delivered through the SNS out-topic) into typed events.

The SNS `Message` is a JSON object (`Type`, `ContentType`, `Content`, `Id`, `ContactId`, `ParticipantRole`, …, and
`Attachments[]` for an attachment); `MessageAttributes` carry `MessageVisibility`. A customer may see what is visible to
CUSTOMER or ALL and not from the customer; a message without MessageVisibility is never relayed (an agent-only whisper
must not leak). A chunk of a streamed answer is told apart by `MessageMetadata.MessageCompleted` (`message_completed`),
where amazon-connect-chatjs reads it. The payload and its sources, with one example of each in
tests/fixtures/connect/streaming_events.json: docs/architecture.md#outbound.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from whatsapp_buffer.errors import MalformedEvent

MESSAGE = "MESSAGE"
EVENT = "EVENT"
ATTACHMENT = "ATTACHMENT"

CUSTOMER = "CUSTOMER"
VISIBLE_TO_CUSTOMER = frozenset({"CUSTOMER", "ALL"})

CHAT_ENDED = "application/vnd.amazonaws.connect.event.chat.ended"
TYPING = "application/vnd.amazonaws.connect.event.typing"
INTERACTIVE = "application/vnd.amazonaws.connect.message.interactive"
AGENT = "AGENT"
PARTICIPANT_LEFT = "application/vnd.amazonaws.connect.event.participant.left"
MARKDOWN = "text/markdown"
TEXT_CONTENT_TYPES = frozenset({"text/plain", MARKDOWN})

APPROVED = "APPROVED"

# A lone UTF-16 surrogate (JSON "\ud800") cannot be encoded for End User Messaging; it never carries meaning.
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Attachment:
    attachment_id: str
    name: str
    content_type: str
    status: str


@dataclass(frozen=True)
class StreamingEvent:
    """One Connect chat streaming message."""

    message_id: str
    type: str
    content_type: str
    contact_id: str
    initial_contact_id: str
    participant_role: str
    visibility: str | None
    content: str | None = None
    participant_id: str = ""
    display_name: str = ""
    absolute_time: str = ""
    attachments: tuple[Attachment, ...] = ()
    read_by: tuple[str, ...] = ()
    """MESSAGEMETADATA: the participants whose receipt says they read the message (`Receipts[].ReadTimestamp`)."""
    message_completed: bool | None = None
    """A streamed message: False for a chunk, True for the completed message; None for a message sent whole."""
    chunk_number: int | None = None

    @property
    def sent_at(self) -> float | None:
        """`AbsoluteTime` in epoch seconds, the same on every delivery of the message (botocore connectparticipant
        Item.AbsoluteTime: "The time when the message or event was sent. It's specified in ISO 8601 format:
        yyyy-MM-ddThh:mm:ss.SSSZ."); None when absent or not such a time."""
        try:
            moment = datetime.fromisoformat(self.absolute_time.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment.timestamp() if moment.tzinfo is not None else None

    @property
    def is_chunk(self) -> bool:
        """A part of a message still being streamed: the completed message that follows carries all of it."""
        return self.message_completed is False

    @property
    def contact_ids(self) -> tuple[str, ...]:
        """Contacts to look the session up by: the chat the bridge started first (a transfer changes ContactId)."""
        ids = [self.initial_contact_id, self.contact_id]
        return tuple(dict.fromkeys(i for i in ids if i))

    @property
    def ends_session(self) -> bool:
        """The chat is over for the customer: the next customer message must open a new chat."""
        if self.content_type == CHAT_ENDED:
            return True
        return self.content_type == PARTICIPANT_LEFT and self.participant_role == CUSTOMER

    @property
    def for_customer(self) -> bool:
        return self.visibility in VISIBLE_TO_CUSTOMER and self.participant_role != CUSTOMER

    @property
    def is_interactive(self) -> bool:
        return self.type == MESSAGE and self.content_type == INTERACTIVE and bool(self.content)

    @property
    def agent_typing(self) -> bool:
        return self.type == EVENT and self.content_type == TYPING and self.participant_role == AGENT

    @property
    def is_text(self) -> bool:
        return self.type == MESSAGE and self.content_type in TEXT_CONTENT_TYPES and bool(self.content)


def _attribute_values(attributes: Mapping[str, Any] | None) -> dict[str, str]:
    """Accept both Lambda's `{"Name": {"Type", "Value"}}` and a plain `{"Name": "value"}` mapping."""
    values: dict[str, str] = {}
    if not isinstance(attributes, Mapping):
        return values
    for name, attribute in attributes.items():
        value = attribute.get("Value") if isinstance(attribute, Mapping) else attribute
        if value is not None:
            values[str(name)] = str(value)
    return values


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    return _SURROGATE.sub("\ufffd", value) if isinstance(value, str) else ""


def _attachments(raw: Any) -> tuple[Attachment, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(a, Mapping) and a.get("AttachmentId") for a in raw):
        raise MalformedEvent("streaming message: Attachments is not a list of attachments")
    return tuple(
        Attachment(
            attachment_id=str(a["AttachmentId"]),
            name=str(a.get("AttachmentName") or a["AttachmentId"]),
            content_type=str(a.get("ContentType") or "application/octet-stream"),
            status=str(a.get("Status") or ""),
        )
        for a in raw
    )


def _read_by(metadata: Any) -> tuple[str, ...]:
    receipts = metadata.get("Receipts") if isinstance(metadata, Mapping) else None
    if not isinstance(receipts, list):
        return ()
    return tuple(
        str(r["RecipientParticipantId"])
        for r in receipts
        if isinstance(r, Mapping) and r.get("ReadTimestamp") and r.get("RecipientParticipantId")
    )


def _streamed(metadata: Any) -> tuple[bool | None, int | None]:
    """(MessageCompleted, ChunkNumber) of a streamed message; (None, None) for one sent whole."""
    if not isinstance(metadata, Mapping) or metadata.get("MessageCompleted") is None:
        return None, None
    completed = metadata["MessageCompleted"]
    if isinstance(completed, str) and completed.lower() in ("true", "false"):
        completed = completed.lower() == "true"
    if not isinstance(completed, bool):
        raise MalformedEvent("streaming message: MessageMetadata.MessageCompleted is not true or false")
    number = metadata.get("ChunkNumber")
    if isinstance(number, str) and number.isdigit():
        number = int(number)
    return completed, number if isinstance(number, int) and not isinstance(number, bool) else None


def parse(message: str, attributes: Mapping[str, Any] | None = None) -> StreamingEvent:
    """One SNS `Message` string (+ its MessageAttributes) -> `StreamingEvent`; `MalformedEvent` when it is not one."""
    try:
        body = json.loads(message)
    except (TypeError, ValueError) as exc:
        raise MalformedEvent("streaming message is not JSON") from exc
    except RecursionError:
        raise MalformedEvent("streaming message is nested too deeply to parse") from None
    if not isinstance(body, dict):
        raise MalformedEvent("streaming message is not a JSON object")
    values = _attribute_values(attributes)
    event_type = _text(body, "Type") or values.get("Type", "")
    contact_id = _text(body, "ContactId") or values.get("ContactId", "")
    initial_contact_id = _text(body, "InitialContactId") or values.get("InitialContactId", "")
    if not event_type:
        raise MalformedEvent("streaming message has no Type")
    if not (contact_id or initial_contact_id):
        raise MalformedEvent("streaming message has no ContactId")
    completed, chunk_number = _streamed(body.get("MessageMetadata"))
    return StreamingEvent(
        message_id=_text(body, "Id"),
        type=event_type,
        content_type=_text(body, "ContentType") or values.get("ContentType", ""),
        contact_id=contact_id or initial_contact_id,
        initial_contact_id=initial_contact_id or contact_id,
        participant_role=_text(body, "ParticipantRole") or values.get("ParticipantRole", ""),
        visibility=values.get("MessageVisibility") or _text(body, "MessageVisibility") or None,
        content=_text(body, "Content") or None,
        participant_id=_text(body, "ParticipantId"),
        display_name=_text(body, "DisplayName"),
        absolute_time=_text(body, "AbsoluteTime"),
        attachments=_attachments(body.get("Attachments")),
        read_by=_read_by(body.get("MessageMetadata")),
        message_completed=completed,
        chunk_number=chunk_number,
    )
