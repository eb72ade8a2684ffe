"""The state Amazon Connect chat and the Connect Participant Service share: contacts, their participants and what the
chat shows, and the streaming events Connect publishes about them.

Streaming payloads follow the Amazon Connect Administrator Guide, "Use the Amazon SNS payload after enabling
message streaming" (message attributes InitialContactId, ContactId, ParticipantRole, InstanceId, AccountId, Type,
ContentType, MessageVisibility; body AbsoluteTime, Content, ContentType, Id, Type, ParticipantId, DisplayName,
ParticipantRole, InitialContactId, ContactId) and, for attachments, the `Attachments[]` items documented by
amazon-connect-chatjs (ContentType, AttachmentId, AttachmentName, Status).
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field, fields
from typing import Any

from sandbox.fakes.records import Ids, Published, iso8601

EVENT = "application/vnd.amazonaws.connect.event."
PARTICIPANT_JOINED = EVENT + "participant.joined"
PARTICIPANT_LEFT = EVENT + "participant.left"
TYPING = EVENT + "typing"
CHAT_ENDED = EVENT + "chat.ended"
ATTACHMENT_CONTENT_TYPE = "application/vnd.amazonaws.connect.message.attachment"
"""Connect's content type of an attachment message (chat websocket); used as the SNS `ContentType` attribute."""


class ContactNotActive(LookupError):
    """The sandbox asked the agent to act on a contact that does not exist or has ended."""


@dataclass(frozen=True)
class ChatItem:
    """A message or attachment that reached a chat, in the order the chat shows them."""

    at: float
    contact_id: str
    participant_role: str
    """CUSTOMER (sent through the participant API) or AGENT (sent by the sandbox's agent)."""
    kind: str
    """`text` or `attachment`."""
    message_id: str
    client_token: str | None = None
    content_type: str | None = None
    """For text: the message ContentType; for attachments: the file's MIME type."""
    content: str | None = None
    attachment_id: str | None = None
    attachment_name: str | None = None
    size: int | None = None
    upload_client_token: str | None = None
    """For customer attachments: the StartAttachmentUpload ClientToken (`client_token` is CompleteAttachmentUpload's)."""


@dataclass
class Participant:
    participant_id: str
    role: str
    display_name: str
    token: str | None = None
    joined: bool = False
    left: bool = False
    connected: bool = False
    """CreateParticipantConnection has succeeded at least once."""


@dataclass(kw_only=True)
class ContactFacts:
    """What a contact and its view share: what StartChatContact set, and how the contact ended."""

    contact_id: str
    instance_id: str
    contact_flow_id: str
    display_name: str
    attributes: dict[str, str]
    started_at: float
    ends_at: float
    related_contact_id: str | None
    customer_id: str | None
    continued_from_contact_id: str | None = None
    """The ended contact this persistent chat continues (StartChatContact's ContinuedFromContactId)."""
    ended_at: float | None = None
    ended_reason: str | None = None


@dataclass(kw_only=True)
class ContactView(ContactFacts):
    """A copy of a contact for the sandbox's readers: changing it changes nothing in the fake."""

    streaming_endpoints: tuple[str, ...]


@dataclass(kw_only=True)
class Contact(ContactFacts):
    customer: Participant
    continued_by: str | None = None
    """The persistent chat that continued this contact (a SourceContactId is continued once)."""
    agent: Participant | None = None
    bot: Participant | None = None
    streaming: dict[str, str] = field(default_factory=dict)
    """Streaming endpoint ARN -> StreamingId."""
    sent_tokens: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    """(participant id, operation, ClientToken) -> the first answer; replays return it unchanged."""
    content_types: frozenset[str] = frozenset({"text/plain"})
    """The message content types the customer may send (StartChatContact's SupportedMessagingContentTypes)."""

    @property
    def active(self) -> bool:
        return self.ended_at is None

    def view(self) -> ContactView:
        facts = {f.name: getattr(self, f.name) for f in fields(ContactFacts)}
        return ContactView(**{**facts, "attributes": dict(self.attributes)}, streaming_endpoints=tuple(self.streaming))


@dataclass
class Attachment:
    attachment_id: str
    contact_id: str
    participant_id: str
    name: str
    content_type: str
    declared_size: int
    upload_client_token: str | None
    data: bytes | None = None
    completed: bool = False


class Chats:
    """Every contact of the fake account, what its chat shows, and the streaming events waiting to be published."""

    def __init__(self, ids: Ids, account_id: str, agent_name: str) -> None:
        self.ids = ids
        self.account_id = account_id
        self.agent_name = agent_name
        self.contacts: dict[str, Contact] = {}
        self.attachments: dict[str, Attachment] = {}
        self.items: list[ChatItem] = []
        self.published: list[Published] = []
        self.outbox: deque[Published] = deque()

    def active_contact(self, contact_id: str) -> Contact:
        contact = self.contacts.get(contact_id)
        if contact is None or not contact.active:
            raise ContactNotActive(f"contact {contact_id} is not active")
        return contact

    def agent_joins(self, contact: Contact, at: float) -> Participant:
        if contact.agent is None:
            contact.agent = Participant(self.ids.new_id(), "AGENT", self.agent_name, joined=True)
            self.emit_event(contact, contact.agent, at, PARTICIPANT_JOINED)
        return contact.agent

    def end(self, contact: Contact, at: float, reason: str, leaving: Participant | None) -> None:
        if leaving is not None and not leaving.left:
            leaving.left = True
            self.emit_event(contact, leaving, at, PARTICIPANT_LEFT)
        contact.ended_at = at
        contact.ended_reason = reason
        self.emit_event(contact, None, at, CHAT_ENDED)

    def expire_due(self, now: float) -> list[str]:
        """End the chats whose ChatDurationInMinutes elapsed; their ids."""
        due = sorted(
            (c for c in self.contacts.values() if c.active and c.ends_at <= now),
            key=lambda c: (c.ends_at, c.contact_id),
        )
        for contact in due:
            self.end(contact, contact.ends_at, "EXPIRED", leaving=None)
        return [contact.contact_id for contact in due]

    def stream(self, contact: Contact, arn: str) -> str:
        streaming_id = contact.streaming.get(arn) or self.ids.new_id()
        contact.streaming[arn] = streaming_id
        return streaming_id

    def add_text(
        self,
        contact: Contact,
        participant: Participant,
        at: float,
        content_type: str,
        content: str,
        *,
        client_token: str | None = None,
        visibility: str = "ALL",
    ) -> str:
        message_id = self.ids.new_id()
        self.items.append(
            ChatItem(
                at,
                contact.contact_id,
                participant.role,
                "text",
                message_id,
                client_token=client_token,
                content_type=content_type,
                content=content,
            )
        )
        body = {"AbsoluteTime": iso8601(at), "Content": content, "ContentType": content_type, "Id": message_id}
        self._emit(contact, participant, at, "MESSAGE", content_type, body, visibility)
        return message_id

    def add_streamed_text(self, contact: Contact, participant: Participant, at: float, chunks: list[str]) -> str:
        """An AI agent answering in streaming mode (amazon-connect-chatjs `src/core/PartialMessageUtil.js`): each
        chunk is a MESSAGE with `MessageMetadata` {`MessageCompleted`: false, `ChunkNumber`: 1, 2, ...}, then the
        completed message (`MessageCompleted`: true) carries them concatenated; all share one `Id`. The chat shows
        the completed message only."""
        message_id = self.ids.new_id()
        content = "".join(chunks)
        self.items.append(
            ChatItem(
                at, contact.contact_id, participant.role, "text", message_id, content_type="text/plain", content=content
            )
        )
        parts: list[tuple[str, dict[str, Any]]] = [
            (chunk, {"MessageCompleted": False, "ChunkNumber": n}) for n, chunk in enumerate(chunks, start=1)
        ]
        for text, metadata in [*parts, (content, {"MessageCompleted": True})]:
            body = {
                "AbsoluteTime": iso8601(at),
                "Content": text,
                "ContentType": "text/plain",
                "Id": message_id,
                "MessageMetadata": {"MessageId": message_id, **metadata},
            }
            self._emit(contact, participant, at, "MESSAGE", "text/plain", body, "ALL")
        return message_id

    def bot_joins(self, contact: Contact, at: float) -> Participant:
        """The flow's AI agent: a SYSTEM participant (chatjs reads partial messages from SYSTEM only)."""
        if contact.bot is None:
            contact.bot = Participant(self.ids.new_id(), "SYSTEM", "BOT", joined=True)
        return contact.bot

    def add_attachment(self, attachment: Attachment, participant: Participant, at: float, token: str | None) -> None:
        contact = self.contacts[attachment.contact_id]
        message_id = self.ids.new_id()
        self.items.append(
            ChatItem(
                at,
                attachment.contact_id,
                participant.role,
                "attachment",
                message_id,
                client_token=token,
                content_type=attachment.content_type,
                attachment_id=attachment.attachment_id,
                attachment_name=attachment.name,
                size=len(attachment.data or b""),
                upload_client_token=attachment.upload_client_token,
            )
        )
        body = {
            "AbsoluteTime": iso8601(at),
            "Attachments": [
                {
                    "ContentType": attachment.content_type,
                    "AttachmentId": attachment.attachment_id,
                    "AttachmentName": attachment.name,
                    "Status": "APPROVED",
                }
            ],
            "Id": message_id,
        }
        self._emit(contact, participant, at, "ATTACHMENT", ATTACHMENT_CONTENT_TYPE, body, "ALL")

    def emit_event(
        self,
        contact: Contact,
        participant: Participant | None,
        at: float,
        content_type: str,
        *,
        event_id: str | None = None,
    ) -> None:
        body = {"AbsoluteTime": iso8601(at), "ContentType": content_type, "Id": event_id or self.ids.new_id()}
        self._emit(contact, participant, at, "EVENT", content_type, body, "ALL")

    def _emit(
        self,
        contact: Contact,
        participant: Participant | None,
        at: float,
        kind: str,
        content_type: str,
        body: dict[str, Any],
        visibility: str,
    ) -> None:
        if not contact.streaming:
            return
        body["Type"] = kind
        attributes = {
            "InitialContactId": contact.contact_id,
            "MessageVisibility": visibility,
            "Type": kind,
            "AccountId": self.account_id,
            "ContentType": content_type,
            "InstanceId": contact.instance_id,
            "ContactId": contact.contact_id,
        }
        if participant is not None:
            body.update(
                ParticipantId=participant.participant_id,
                DisplayName=participant.display_name,
                ParticipantRole=participant.role,
            )
            attributes["ParticipantRole"] = participant.role
        body.update(InitialContactId=contact.contact_id, ContactId=contact.contact_id)
        message = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        for arn in contact.streaming:
            event = Published(at, arn, message, dict(attributes))
            self.published.append(event)
            self.outbox.append(event)
