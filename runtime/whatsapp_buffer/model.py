"""The domain: conversations, the messages customers send, the bursts that reach Amazon Connect, the chat session a
conversation talks to, the templates and outreach a business sends, and WhatsApp's refusal of a message the bridge
sent.

Pure data, no boto3. A `Burst` is the contract between the aggregator (which writes it to the bursts FIFO
queue as JSON) and the inbound function (which delivers it to Connect).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, TypeGuard

from whatsapp_buffer.errors import MalformedEvent
from whatsapp_buffer.queue_text import queue_json

TEXT = "text"
MEDIA_KINDS = frozenset({"image", "audio", "voice", "video", "document", "sticker"})
"""Kinds whose content carries a WhatsApp `media_id` to fetch through End User Messaging."""

KINDS = frozenset(
    {
        TEXT,
        "reaction",
        "location",
        "contacts",
        "interactive",
        "button",
        "order",
        "system",
        "edit",
        "revoke",
        "unsupported",
    }
    | MEDIA_KINDS
)
"""Every message kind the runtime keeps. Anything WhatsApp sends that is not listed becomes `unsupported`."""

CONNECT_TEXT_LIMIT = 1024
"""Amazon Connect participant SendMessage accepts at most 1,024 characters of text/plain."""

EUM_ID_PREFIX = "phone-number-id-"
"""A business number has two ids: Meta's phone number id (`Conversation.phone_number_id`) and End User Messaging's,
`phone-number-id-<id>` (ARN `…:phone-number-id/<id>`), which End User Messaging's calls and IAM grants name."""


def eum_number_suffix(number: str) -> str:
    """The `<id>` of an End User Messaging number named by its id (`phone-number-id-<id>`), its ARN
    (`…:phone-number-id/<id>`) or `<id>` alone: what its ARN ends with, what `whatsappPhoneNumberIds` compares."""
    return number.rsplit("/", 1)[-1].removeprefix(EUM_ID_PREFIX)


@dataclass(frozen=True, order=True)
class Conversation:
    """One customer writing to one business number. The key of everything the buffer stores."""

    phone_number_id: str
    """Meta's phone number id of the business number (webhook `metadata.phone_number_id`)."""
    customer: str
    """Who the customer is to WhatsApp: the phone number (`wa_id`, digits) when the webhook carries one, else the
    business-scoped user id (BSUID, `US.13491208655302741918`) of a customer whose number WhatsApp does not share."""

    @property
    def key(self) -> str:
        return f"{self.phone_number_id}#{self.customer}"

    @classmethod
    def from_key(cls, key: str) -> Conversation:
        phone_number_id, sep, customer = key.partition("#")
        if not sep or not phone_number_id or not customer:
            # The key holds a phone number: say what is wrong with it, never what it is.
            raise MalformedEvent(f"not a conversation key ({len(key)} characters, no '#' between two ids)")
        return cls(phone_number_id, customer)

    @property
    def masked_customer(self) -> str:
        """The customer's number (or BSUID) safe for logs and contact attributes: last four characters only."""
        return mask_customer(self.customer)

    @property
    def by_user_id(self) -> bool:
        """True when the conversation is keyed by a BSUID: replies then go to `recipient`, not `to`."""
        return is_user_id(self.customer)


WA_ID = re.compile(r"\d{6,20}")
"""A phone number as WhatsApp writes `wa_id`: digits only."""
USER_ID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")
"""Meta's business-scoped user id (BSUID): "a two-letter ISO country code, a period, and up to 128 alphanumeric
characters" (a parent BSUID has `ENT.` after the country code). Asked through `is_user_id`."""

NUMBER_CHANGES = frozenset({"user_changed_number", "customer_changed_number"})
"""WhatsApp `system` message types of a customer's new phone number: `user_changed_number` (the current reference),
`customer_changed_number` (webhooks v11 and earlier)."""
USER_CHANGED_USER_ID = "user_changed_user_id"
"""The WhatsApp `system` message type of a customer's new BSUID."""


def is_user_id(value: object) -> TypeGuard[str]:
    """Whether `value` is a BSUID as `USER_ID` spells it: the one test, for a webhook's field as for a customer id
    (a `wa_id` is digits only, so it never passes)."""
    return isinstance(value, str) and USER_ID.fullmatch(value) is not None


def mask_customer(customer: str) -> str:
    """`15550001111` -> `*******1111`; `US.13491208655302741918` -> `US.****************1918` (the country code is
    no secret, the rest identifies the person as much as a phone number does)."""
    if is_user_id(customer):
        prefix, _, rest = customer.rpartition(".")
        return f"{prefix}.{mask_phone(rest)}"
    return mask_phone(customer)


def mask_phone(number: str) -> str:
    """`15550001111` -> `*******1111`. Never log a full phone number."""
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]


@dataclass(frozen=True)
class InboundMessage:
    """One customer message as ingest stores it."""

    message_id: str
    conversation: Conversation
    kind: str
    sent_at: float
    """WhatsApp timestamp (epoch seconds, whole seconds as Meta sends it); bursts are ordered by `order_key`."""
    content: dict[str, Any] = field(default_factory=dict)
    """Kind-specific payload: text -> {"text"}; media -> {"media_id", "mime_type", "caption"?, "filename"?};
    reaction -> {"emoji", "reacted_to"}; location -> {"latitude", "longitude", "name"?, "address"?};
    contacts -> {"contacts": [...]}; interactive/button -> {"title", "id"?} (a Flow's answers: "response");
    order -> {...}; system -> {"system_type", "new_wa_id"?, "body"?}; edit -> {"original_id", "text"?};
    revoke -> {"original_id"}; unsupported -> {"original_type", "error"?}. An edit or revoke may carry "quote" (what the
    original said, when still known).
    Any kind may also carry "context" (reply, forward, referred product) and "referral" (the ad it came from):
    see `ingest.meta_content`."""
    origination_phone_number_id: str = ""
    """End User Messaging's id (or ARN) of the business number, needed to reply and to fetch media."""
    profile_name: str | None = None
    """What the agent sees as the customer's name: the WhatsApp profile name, with the username when there is one."""
    received_at: float = 0.0
    """When ingest stored it (the runtime clock). The debounce measures quiet time on arrivals."""
    webhook_index: int = 0
    """Its place among the `messages[]` of the webhook that carried it (0 = first): with `received_at`, the order of
    messages sent in the same second."""
    user_id: str | None = None
    """The customer's BSUID when WhatsApp sent one (every message since 2026-03-31), also when `conversation` is
    keyed by the phone number."""

    @property
    def order_key(self) -> tuple[float, float, int, str]:
        """The order the customer sent them in, as far as a webhook tells: the WhatsApp timestamp, then -- within
        one second -- the order the bridge received them (`received_at`, `webhook_index`), then the id
        (docs/architecture.md#the-merge)."""
        return (self.sent_at, self.received_at, self.webhook_index, self.message_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "conversation": self.conversation.key,
            "kind": self.kind,
            "sent_at": self.sent_at,
            "content": self.content,
            "origination_phone_number_id": self.origination_phone_number_id,
            "profile_name": self.profile_name,
            "received_at": self.received_at,
            **({"webhook_index": self.webhook_index} if self.webhook_index else {}),
            **({"user_id": self.user_id} if self.user_id else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InboundMessage:
        try:
            return cls(
                message_id=str(data["message_id"]),
                conversation=Conversation.from_key(str(data["conversation"])),
                kind=str(data["kind"]),
                sent_at=float(data["sent_at"]),
                content=dict(data.get("content") or {}),
                origination_phone_number_id=str(data.get("origination_phone_number_id") or ""),
                profile_name=data.get("profile_name"),
                received_at=float(data.get("received_at") or 0.0),
                webhook_index=int(data.get("webhook_index") or 0),
                user_id=str(data["user_id"]) if data.get("user_id") else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedEvent(f"not a stored message: {exc}") from exc


@dataclass(frozen=True)
class OutgoingItem:
    """One part of a burst as it will reach Connect: a text of at most 1,024 characters, or one non-text message."""

    kind: str
    message_ids: tuple[str, ...]
    text: str | None = None
    """For kind `text` only: the merged, already split text."""
    content: dict[str, Any] = field(default_factory=dict)
    """For other kinds: the original message content (see `InboundMessage.content`)."""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "message_ids": list(self.message_ids)}
        if self.text is not None:
            data["text"] = self.text
        if self.content:
            data["content"] = self.content
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutgoingItem:
        return cls(
            kind=str(data["kind"]),
            message_ids=tuple(str(m) for m in data["message_ids"]),
            text=data.get("text"),
            content=dict(data.get("content") or {}),
        )


def burst_id_for(message_ids: list[str] | tuple[str, ...]) -> str:
    """Deterministic id of a burst: the same messages always make the same id (the FIFO deduplication id)."""
    digest = hashlib.sha256("\n".join(message_ids).encode("utf-8")).hexdigest()
    return digest[:64]


@dataclass(frozen=True)
class Burst:
    """A customer's rapid messages, merged: what the aggregator puts on the bursts queue, one per flush."""

    burst_id: str
    conversation: Conversation
    items: tuple[OutgoingItem, ...]
    origination_phone_number_id: str = ""
    display_name: str | None = None
    first_received_at: float = 0.0
    last_received_at: float = 0.0
    flushed_at: float = 0.0
    user_id: str | None = None
    """The customer's BSUID as the burst's messages carry it (see `InboundMessage.user_id`)."""
    referral: dict[str, Any] | None = None
    """The click-to-WhatsApp ad (or post) the burst's first message from one came from (`ingest.meta_content`)."""

    @property
    def message_ids(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for item in self.items:
            for message_id in item.message_ids:
                seen.setdefault(message_id, None)
        return tuple(seen)

    def client_token(self, index: int, suffix: str = "") -> str:
        """Idempotency token for the Connect call that delivers item `index` (sandbox transcripts rely on it)."""
        return f"{self.burst_id}:{index}{':' + suffix if suffix else ''}"

    def to_json(self) -> str:
        """The queue message: JSON an SQS body may hold (`queue_text`), which `from_json` reads back as it was."""
        return queue_json(
            {
                "burst_id": self.burst_id,
                "conversation": self.conversation.key,
                "origination_phone_number_id": self.origination_phone_number_id,
                "display_name": self.display_name,
                "first_received_at": self.first_received_at,
                "last_received_at": self.last_received_at,
                "flushed_at": self.flushed_at,
                **({"user_id": self.user_id} if self.user_id else {}),
                **({"referral": self.referral} if self.referral else {}),
                "items": [item.to_dict() for item in self.items],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, body: str) -> Burst:
        try:
            data = json.loads(body)
            return cls(
                burst_id=str(data["burst_id"]),
                conversation=Conversation.from_key(str(data["conversation"])),
                items=tuple(OutgoingItem.from_dict(item) for item in data["items"]),
                origination_phone_number_id=str(data.get("origination_phone_number_id") or ""),
                display_name=data.get("display_name"),
                first_received_at=float(data.get("first_received_at") or 0.0),
                last_received_at=float(data.get("last_received_at") or 0.0),
                flushed_at=float(data.get("flushed_at") or 0.0),
                user_id=str(data["user_id"]) if data.get("user_id") else None,
                referral=dict(data["referral"]) if isinstance(data.get("referral"), dict) else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise MalformedEvent(f"not a burst: {type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class TypingSignal:
    """ "The customer is composing": what the aggregator puts on the bursts queue (same group as the conversation's
    bursts, so it is handled before the burst that follows) while it holds messages of a conversation."""

    conversation: Conversation
    at: float
    """When the aggregator saw the conversation waiting (a signal handled much later is stale and dropped)."""

    def to_json(self) -> str:
        return json.dumps({"typing": self.conversation.key, "at": self.at}, separators=(",", ":"))

    @classmethod
    def from_json(cls, body: str) -> TypingSignal | None:
        """The signal `body` carries, or None when it is not one (a burst)."""
        try:
            data = json.loads(body)
        except ValueError:
            return None
        if not isinstance(data, dict) or "typing" not in data:
            return None
        try:
            return cls(Conversation.from_key(str(data["typing"])), float(data["at"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedEvent(f"not a typing signal: {type(exc).__name__}") from exc


@dataclass(frozen=True)
class Session:
    """The live Connect chat of one conversation, and the credentials the bridge uses as its customer participant."""

    conversation: str
    """`Conversation.key`."""
    contact_id: str
    participant_id: str
    participant_token: str
    """From StartChatContact; needed to create (and refresh) the participant connection."""
    connection_token: str
    """From CreateParticipantConnection; authorises SendMessage and the attachment calls."""
    connection_expires_at: float
    """Epoch seconds after which `connection_token` no longer works."""
    started_at: float
    origination_phone_number_id: str
    """End User Messaging id (or ARN) of the business number replies must be sent from."""
    expires_at: int
    """Epoch seconds at which the chat's duration is over (and the TTL that eventually removes the item)."""
    ended_at: float | None = None
    """When Connect said the chat ended (agent or customer left); None while it is live."""
    customer_wrote_at: float | None = None
    """When the customer's latest message reached the bridge (epoch seconds): WhatsApp's 24-hour customer-service
    window runs from there. None when no burst of this chat recorded it."""
    template_sent_at: float | None = None
    """When the re-engagement template last went to the customer (once per closed window)."""
    template_event: str = ""
    """The streaming message id of the agent reply that claimed the template: its retries tell the agent the same."""
    template_outcome: str = ""
    """What became of that template's send (`notice_texts.TEMPLATE_SENT` or `TEMPLATE_REFUSED`), "" while not known
    (the send failed, or is in doubt)."""
    last_customer_message_id: str | None = None
    """The WhatsApp id of the customer's latest message in the chat: what a read receipt or typing indicator names."""
    numbered_options: tuple[str, ...] = ()
    """The options of the bot's or flow's question the outbound function last sent as numbered text (too many or too
    long for WhatsApp's buttons and lists), until the customer answers or the agent side sends something else: a
    customer's bare "2" then reaches the chat as the second option's title."""

    def chat_over(self, now: float) -> bool:
        """True once Connect ended the chat, or its configured duration has elapsed (Connect has ended it then too)."""
        return self.ended_at is not None or now >= self.expires_at

    def connection_valid(self, now: float, margin_seconds: float) -> bool:
        """True while the connection token stays usable for at least `margin_seconds` more."""
        return now + margin_seconds < self.connection_expires_at

    def with_connection(self, connection_token: str, expires_at: float) -> Session:
        return replace(self, connection_token=connection_token, connection_expires_at=expires_at)


@dataclass(frozen=True)
class Connection:
    token: str
    expires_at: float
    """Epoch seconds."""


WHATSAPP_TEXT_LIMIT = 4096
"""Meta's limit for a text message body: a longer reply is split before it gets here (`outbound.long_reply`), never
cut."""


def media_kind_for(content_type: str) -> str:
    """The WhatsApp message type that carries a file of `content_type`."""
    major = content_type.split("/", 1)[0].strip().lower()
    return major if major in {"image", "audio", "video"} else "document"


@dataclass(frozen=True)
class Template:
    """An approved WhatsApp message template: its name and language code (e.g. `en_US`)."""

    name: str
    language: str


OUTREACH_SENDING, OUTREACH_SENT, OUTREACH_REFUSED = "sending", "sent", "refused"
"""An outreach's states: claimed by one request, then sent (with the WhatsApp message id) or refused."""
OUTREACH_UNSENT = "unsent"
"""The send failed for a temporary reason (or is in doubt): the same request may claim the outreach again."""


@dataclass(frozen=True)
class OutreachRecord:
    """The latest template sent to one customer from one business number, and whether their chat's agent saw it."""

    conversation: str
    """`Conversation.key` (Meta's id of the business number, `#`, the customer)."""
    request: str
    """A digest of what was asked (contact, template, parameters): a repeated request is the same outreach."""
    template: str
    language: str
    shown_text: str
    """The template's body as the customer read it, for the agent (never logged)."""
    attributes: dict[str, str]
    sent_at: float
    expires_at: int
    state: str = OUTREACH_SENDING
    message_id: str = ""
    shown_in: str = ""


@dataclass(frozen=True)
class Refusal:
    """WhatsApp's report that a message the bridge sent did not arrive: what was sent, and WhatsApp's error."""

    message_id: str
    sent_kind: str
    clip: str
    """What the bridge kept of the message (`said`): its text's start, or the template's or file's name."""
    error_code: str
    """Meta's error code, or "" when the status named none."""
    error_title: str
    error_details: str
