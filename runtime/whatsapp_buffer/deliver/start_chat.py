"""Where a chat is started: the conversation's Amazon Connect chat, opened, kept connected, renewed or replaced.

One chat contact per conversation at a time. A session whose chat is over (its duration elapsed, the agent ended it,
the participant token no longer works) is replaced by a new chat linked to the old one (RelatedContactId); a
connection token near its end is renewed with the participant token, in the same chat.
"""

from __future__ import annotations

from collections.abc import Callable

from whatsapp_buffer import clock
from whatsapp_buffer.adapters.connect_chat import ChatContacts, ChatParticipant, start_chat_token
from whatsapp_buffer.adapters.sessions_table import Session, SessionStore
from whatsapp_buffer.errors import ChatSessionGone
from whatsapp_buffer.model import Burst
from whatsapp_buffer.observability import count, logger

CONNECTION_REFRESH_MARGIN_SECONDS = 300.0
"""Refresh the participant connection when it has less than this left, so no send meets an expired token."""


class Chats:
    """The conversation's chat session for one delivery."""

    def __init__(
        self,
        *,
        chat_duration_minutes: int,
        sessions: SessionStore,
        contacts: ChatContacts,
        participant: ChatParticipant,
        now: Callable[[], float] = clock.now,
    ) -> None:
        self._chat_duration_minutes = chat_duration_minutes
        self._sessions = sessions
        self._contacts = contacts
        self._participant = participant
        self._now = now

    def for_burst(self, burst: Burst) -> Session:
        """A session whose connection stays valid for the whole delivery: the current chat, or a new one."""
        session = self._sessions.get(burst.conversation.key)
        if session is None or session.chat_over(self._now()):
            return self._open_chat(burst, replacing=session)
        return self._connected(session, burst)

    def recover(self, session: Session, burst: Burst) -> Session:
        """A send was refused. A lost connection token is renewed and the burst goes on in the same chat (ClientTokens
        keep what the agent already saw from showing twice); only a chat that is really over is replaced."""
        try:
            connection = self._participant.connect(session.participant_token)
        except ChatSessionGone:
            logger.info("chat gone mid-delivery; starting a new one", contact_id=session.contact_id)
            return self._open_chat(burst, replacing=session)
        logger.info("connection renewed mid-delivery", contact_id=session.contact_id)
        refreshed = session.with_connection(connection.token, connection.expires_at)
        self._sessions.replace(refreshed, expected_contact_id=session.contact_id)
        return refreshed

    def _open_chat(self, burst: Burst, replacing: Session | None) -> Session:
        replaced_contact = replacing.contact_id if replacing else None
        conversation = burst.conversation
        started = self._contacts.start_chat(
            display_name=burst.display_name or conversation.masked_customer,
            attributes={
                "channel": "WhatsApp",
                "customer": conversation.masked_customer,
                "whatsappPhoneNumberId": conversation.phone_number_id,
            },
            client_token=start_chat_token(burst.burst_id, replaced_contact),
            related_contact_id=replaced_contact,
        )
        connection = self._participant.connect(started.participant_token)
        now = self._now()
        session = Session(
            conversation=conversation.key,
            contact_id=started.contact_id,
            participant_id=started.participant_id,
            participant_token=started.participant_token,
            connection_token=connection.token,
            connection_expires_at=connection.expires_at,
            started_at=now,
            origination_phone_number_id=burst.origination_phone_number_id,
            expires_at=int(now + self._chat_duration_minutes * 60),
        )
        self._sessions.replace(session, expected_contact_id=replaced_contact)
        count("ChatsStarted")
        logger.info(
            "chat started", contact_id=started.contact_id, replaced_contact_id=replaced_contact, burst_id=burst.burst_id
        )
        return session

    def _connected(self, session: Session, burst: Burst) -> Session:
        """The session with a connection token that stays valid for the whole delivery (a new chat if it cannot)."""
        if session.connection_valid(self._now(), CONNECTION_REFRESH_MARGIN_SECONDS):
            return session
        try:
            connection = self._participant.connect(session.participant_token)
        except ChatSessionGone:
            return self._open_chat(burst, replacing=session)
        refreshed = session.with_connection(connection.token, connection.expires_at)
        self._sessions.replace(refreshed, expected_contact_id=session.contact_id)
        return refreshed
