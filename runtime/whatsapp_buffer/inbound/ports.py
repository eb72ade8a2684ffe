"""What the inbound use cases need from the services, and the records they exchange (docs/architecture.md#layers)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from whatsapp_buffer.inbound.chat_routing import ChatLink
from whatsapp_buffer.model import Connection, OutreachRecord, Session
from whatsapp_buffer.shared_ports import ChatTexts


@dataclass(frozen=True)
class ChatStart:
    """A chat to start: in which flow, as whom, under which ClientToken, tied to the customer's previous chat how."""

    contact_flow_id: str
    """The business number's flow (`ContactFlows.for_number`)."""
    display_name: str
    attributes: Mapping[str, str]
    client_token: str
    link: ChatLink = ChatLink()


@dataclass(frozen=True)
class StartedChat:
    contact_id: str
    participant_id: str
    participant_token: str
    continued_from: str | None = None
    """StartChatContact's ContinuedFromContactId: "populated only for persistent chats"."""


COMPLETED = "COMPLETED"


FAILED = "FAILED"


@dataclass(frozen=True)
class JobState:
    status: str
    failure: str | None = None

    @property
    def done(self) -> bool:
        return self.status in (COMPLETED, FAILED)


OWED = "owed"


CLAIMED = "claimed"


PAID = "paid"


@dataclass(frozen=True)
class TranscriptDebt:
    """A recording's transcript its burst was delivered without: owed to the chat that got the recording."""

    job: str
    """The Transcribe job name."""
    conversation: str
    contact_id: str
    """The chat that got the recording (its agent is the one waiting for the transcript)."""
    client_token: str
    """The ClientToken of the late transcript's SendMessage (deterministic: `burst.client_token(i, "late-transcript")`)."""
    label: str
    """Which recording it is, for the agent: the WAV's attachment name."""
    expires_at: int
    state: str = OWED
    owed_at: float = 0.0
    """When the delivery recorded it (the fallback sweep gives up on a job still running long after)."""
    reply_to: str = ""
    """The recording's WhatsApp message id (`echoTranscripts` replies to it); empty when the debt item holds none."""


@dataclass(frozen=True)
class MediaInfo:
    """GetWhatsAppMessageMedia's answer: "The MIME type of the media" and "The size of the media file, in KB"."""

    mime_type: str | None
    size_kb: int | None

    @property
    def least_bytes(self) -> int:
        """The smallest size `size_kb` can stand for (KB read as 1,000 bytes; the documentation does not say): what
        decides that a file is too large, so a file within Connect's limit is never refused."""
        return int(self.size_kb or 0) * 1000

    @property
    def approx_bytes(self) -> int:
        """The size to tell a person (KB read as 1,024 bytes)."""
        return int(self.size_kb or 0) * 1024


class SessionStore(Protocol):
    """Which Connect chat each conversation talks to (`adapters.sessions_table`)."""

    def get(self, conversation: str) -> Session | None: ...
    def alias(self, conversation: str, of: str, expires_at: int, now: float) -> bool: ...
    def remember_past_chat(self, conversation: str, contact_id: str, chat_expires_at: int) -> None: ...
    def past_chat(self, conversation: str) -> str | None: ...
    def replace(self, new: Session, expected_contact_id: str | None) -> None: ...
    def renew_connection(self, renewed: Session) -> None: ...
    def move(self, session: Session, to: str, now: float) -> Session | None: ...
    def customer_wrote(self, conversation: str, contact_id: str, at: float, message_id: str | None = ...) -> bool: ...
    def set_numbered_options(self, conversation: str, contact_id: str, options: tuple[str, ...]) -> bool: ...


class ChatContacts(Protocol):
    """Amazon Connect's chat contacts: started, stopped, their attributes (`adapters.connect_chat`)."""

    def start_chat(self, start: ChatStart) -> StartedChat:
        """A chat started (continuing the ended one `start.link` names, else `PersistentChatRefused`; related to it,
        else `RelatedChatRefused`)."""
        ...

    def stop(self, contact_id: str) -> None:
        """The contact ended (`ContactNotFound` when Connect no longer has it, `ContactNotStopped` if it refuses)."""
        ...

    def update_attributes(self, contact_id: str, attributes: Mapping[str, str]) -> None: ...


class ChatParticipant(ChatTexts, Protocol):
    """The bridge as the customer participant of a chat (`adapters.connect_chat`)."""

    def connect(self, participant_token: str) -> Connection: ...
    def send_typing(self, connection_token: str) -> None: ...
    def send_attachment(
        self,
        connection_token: str,
        name: str,
        content_type: str,
        data: bytes,
        client_token: str,
    ) -> str: ...


class WhatsApp(Protocol):
    """End User Messaging Social, for a customer's media, read receipts and echoed transcripts
    (`adapters.end_user_messaging`)."""

    def echo_transcript(self, origination_phone_number_id: str, to: str, text: str, reply_to: str) -> str: ...
    def mark_read(self, origination_phone_number_id: str, message_id: str, typing: bool = ...) -> None: ...
    def media_info(self, media_id: str, origination_phone_number_id: str) -> MediaInfo: ...
    def fetch_media(
        self,
        media_id: str,
        origination_phone_number_id: str,
        upload_url: str,
        content_type: str,
    ) -> None: ...
    def fetch_media_under(self, media_id: str, origination_phone_number_id: str, bucket: str, prefix: str) -> None: ...
    @property
    def upload_url_limit(self) -> int: ...


class MediaStore(Protocol):
    """The media bucket (`adapters.media_bucket`)."""

    def get(self, key: str) -> bytes: ...
    def get_unlisted(self, key: str) -> bytes: ...
    def download(self, key: str, path: str) -> None: ...
    @property
    def bucket(self) -> str: ...

    def upload_url(self, key: str, expires_seconds: int = ...) -> str: ...
    def only_key(self, prefix: str) -> str: ...
    def exists(self, key: str) -> bool: ...
    def put(self, key: str, data: bytes, content_type: str) -> None: ...


class Transcriber(Protocol):
    """Amazon Transcribe's jobs (`adapters.transcribe`)."""

    @property
    def bucket(self) -> str: ...

    def start(
        self,
        job_name: str,
        media_key: str,
        media_format: str,
        languages: tuple[str, ...],
        output_key: str,
    ) -> bool: ...
    def state(self, job_name: str) -> JobState: ...


class TranscriptDebts(Protocol):
    """The transcripts owed to chats (`adapters.transcript_debts`)."""

    def record(self, debt: TranscriptDebt) -> bool: ...
    def get(self, job: str) -> TranscriptDebt | None: ...
    def owed_before(self, cutoff: float) -> list[tuple[str, float]]: ...
    def claim(self, job: str, now: float, lease_seconds: float) -> TranscriptDebt | None: ...
    def release(self, job: str) -> None: ...
    def pay(self, job: str, outcome: str) -> None: ...


class OutreachRecords(Protocol):
    """The outreach sent to each customer, marked once its chat's agent saw it (`adapters.outreach_records`)."""

    def get(self, conversation: str) -> OutreachRecord | None: ...
    def mark_shown(self, conversation: str, message_id: str, contact_id: str) -> bool: ...
