"""Where a chat is started: the conversation's Amazon Connect chat, opened, kept connected, renewed or replaced.

One chat contact per conversation at a time, started in the business number's flow (`chat_routing`). A chat that is over
is replaced by a new one that continues it (persistent chat) or, when Connect refuses, is related to it; a connection
token near its end is renewed in the same chat. One customer, one chat, whatever WhatsApp calls them: a phone number and
a BSUID of the same customer, or an old and a new number, reach one chat through alias items. How:
docs/architecture.md#inbound; what the agent sees: docs/behaviour.md#which-flow-and-the-past-conversation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from whatsapp_buffer import clock
from whatsapp_buffer.errors import (
    ChatSessionGone,
    ContactNotFound,
    PersistentChatRefused,
    RelatedChatRefused,
    TransientAwsError,
    WhatsAppBufferError,
)
from whatsapp_buffer.inbound.chat_routing import ChatLink, ContactFlows, business_number_attributes, link_to_previous
from whatsapp_buffer.inbound.ports import ChatContacts, ChatParticipant, ChatStart, SessionStore, StartedChat
from whatsapp_buffer.model import NUMBER_CHANGES, USER_CHANGED_USER_ID, WA_ID, Burst, Conversation, Session, is_user_id
from whatsapp_buffer.observability import count, logger

MAX_CHAT_STARTS = 6
"""Chats one delivery may start for a burst before it gives up (the burst then fails and is retried). A start whose
first connection is refused (botocore StartChatContact: "clients must subscribe to the participant's connection for
the created chat within 5 minutes"; the delivery's retries come later than that, after the bursts queue's visibility
timeout) is followed by another; each earlier attempt of the burst that died between the two calls left one such
chat, and the queue hands a burst out at most maxReceiveCount (5) times: at most 5 refused chats and a new one."""
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
        flows: ContactFlows,
        now: Callable[[], float] = clock.now,
    ) -> None:
        self._chat_duration_minutes = chat_duration_minutes
        self._flows = flows
        self._sessions = sessions
        self._contacts = contacts
        self._participant = participant
        self._now = now

    def for_burst(self, burst: Burst, carried: Mapping[str, str] | None = None) -> Session:
        """A session whose connection stays valid for the whole delivery: the current chat, or a new one. `carried`:
        contact attributes the chat must have (an outreach's, which the burst answers)."""
        session, continued = self._current(burst)
        if session is None or session.chat_over(self._now()):
            session = self._open_chat(burst, replacing=session, carried=carried, continued=continued)
        else:
            session = self._connected(session, burst, carried)
            self._note_ad(session, burst)
            # The bridge's own attributes win, as on a new chat (`_start`): an outreach cannot rename the channel or
            # the customer.
            own = chat_attributes(burst)
            added = {name: value for name, value in (carried or {}).items() if name not in own}
            if added:
                self._contacts.update_attributes(session.contact_id, added)
                count("ContactAttributesUpdated")
        session = self._follow_number_change(burst, session)
        self._alias_new_user_id(burst, session)
        return session

    def _end_orphan(self, contact_id: str) -> None:
        """The chat an earlier attempt started and nobody can connect to any more would wait in the agents' queue
        with no customer behind it: ended once its replacement is connected. Best effort: the burst is delivered
        either way, and a chat Connect no longer has (ContactNotFoundException) needs nothing."""
        try:
            self._contacts.stop(contact_id)
        except ContactNotFound:
            return
        except WhatsAppBufferError as exc:
            self._orphan_left_open(contact_id, exc)
            return
        count("OrphanedChatsEnded")
        logger.info("orphaned chat ended", contact_id=contact_id)

    @staticmethod
    def _orphan_left_open(contact_id: str, exc: Exception) -> None:
        count("OrphanedChatsLeftOpen")
        logger.warning("orphaned chat could not be ended", contact_id=contact_id, error=type(exc).__name__)

    def _note_ad(self, session: Session, burst: Burst) -> None:
        """A customer already in a chat who taps another ad: the contact's ad attributes follow the latest ad (the
        chat's text names it too). A failed update fails the delivery, which is retried whole under its tokens."""
        attributes = ad_attributes(burst.referral)
        if attributes:
            self._contacts.update_attributes(session.contact_id, attributes)
            count("ContactAttributesUpdated")

    def _current(self, burst: Burst) -> tuple[Session | None, bool]:
        """The conversation's session (through an alias), or the live chat the customer's BSUID already has, or the
        chat of the key a number change notice of the burst leaves (`_before_change`); and whether that chat, when
        it is over, is the customer's to continue."""
        session, continued = self._sessions.get(burst.conversation.key), True
        if session is None or session.chat_over(self._now()):
            session, continued = self._before_change(burst, session)
        other = _user_id_key(burst)
        if other and (session is None or session.chat_over(self._now())):
            theirs = self._sessions.get(other)
            if theirs is not None and not theirs.chat_over(self._now()):
                logger.info("burst joins the chat of the customer's user id", contact_id=theirs.contact_id)
                return theirs, True
        return session, continued

    def _before_change(self, burst: Burst, session: Session | None) -> tuple[Session | None, bool]:
        """A number (or BSUID) change notice is keyed by the new key, whose messages follow it: when that key has no
        live chat, the notice joins the old key's chat (live, or ended: then continued), which `_follow_number_change`
        then moves. An ended chat under the new key (`session`) is never continued for it, a recycled number's key
        holds its previous owner's: it is only replaced, by a chat that continues the one remembered under the old
        key (False)."""
        previous = _previous_key(burst)
        if previous is None:
            return session, True
        old = self._sessions.get(previous)
        return (session, False) if old is None else (old, True)

    def _follow_number_change(self, burst: Burst, session: Session) -> Session:
        new_number = _new_number(burst) or _new_user_id(burst, Conversation.from_key(session.conversation))
        if not new_number or Conversation.from_key(session.conversation).customer == new_number:
            return session
        to = Conversation(burst.conversation.phone_number_id, new_number).key
        moved = self._sessions.move(session, to, self._now())
        if moved is None:
            # The new number already has a live chat of its own (it wrote before the notice was delivered), or the
            # old key no longer holds this chat (replaced or expired meanwhile): nothing moved.
            logger.warning(
                "number change: session not moved (the new number has a live chat, or the old one holds another chat)",
                contact_id=session.contact_id,
            )
            return session
        count("SessionsMoved")
        logger.info("number change: session moved to the new number", contact_id=session.contact_id)
        return moved

    def _alias_new_user_id(self, burst: Burst, session: Session) -> None:
        """A number or BSUID change notice brings the customer's new BSUID (a number change regenerates it), which no
        key finds yet: its key is made an alias of the chat's, so a burst by username only (number hidden) joins that
        chat. Once per change, on the notice's burst, and only when the chat followed the change; an alias item gives
        way, a live chat of that key's own never."""
        if not burst.user_id or not _changes_identity(burst):
            return
        customer = Conversation.from_key(session.conversation)
        changed_to = _new_number(burst) or _new_user_id(burst, customer)
        if changed_to and customer.customer != changed_to:
            return  # the chat did not follow the change: the new key's own chat keeps the new BSUID
        key = Conversation(burst.conversation.phone_number_id, burst.user_id).key
        if key != session.conversation and self._sessions.alias(
            key, of=session.conversation, expires_at=session.expires_at, now=self._now()
        ):
            logger.info("identity change: the new user id finds the chat", contact_id=session.contact_id)

    def recover(self, session: Session, burst: Burst, carried: Mapping[str, str] | None = None) -> Session:
        """A send was refused. A lost connection token is renewed and the burst goes on in the same chat (ClientTokens
        keep what the agent already saw from showing twice); only a chat that is really over is replaced."""
        try:
            connection = self._participant.connect(session.participant_token)
        except ChatSessionGone:
            logger.info("chat gone mid-delivery; starting a new one", contact_id=session.contact_id)
            return self._open_chat(burst, replacing=session, carried=carried)
        logger.info("connection renewed mid-delivery", contact_id=session.contact_id)
        refreshed = session.with_connection(connection.token, connection.expires_at)
        self._sessions.renew_connection(refreshed)
        return refreshed

    def _open_chat(
        self,
        burst: Burst,
        replacing: Session | None,
        carried: Mapping[str, str] | None = None,
        continued: bool = True,
    ) -> Session:
        """A new chat whose session replaces `replacing` (None: the key has none) and continues its chat, unless that
        chat is not the customer's (`continued` False)."""
        replaced_contact = replacing.contact_id if replacing else None
        conversation = burst.conversation
        # A chat replaced through an alias stays where its session is kept, so the alias keeps finding it.
        key = replacing.conversation if replacing else conversation.key
        # The session item of a chat that ended days ago may be gone (TTL): the chat it continues is remembered apart,
        # under the customer's key before a number change the burst reports (the new key's may be a previous owner's).
        previous = (replaced_contact if continued else None) or self._sessions.past_chat(_previous_key(burst) or key)
        unconnected: list[str] = []
        for attempt in range(MAX_CHAT_STARTS):
            last = unconnected[-1] if unconnected else None
            started = self._start(burst, previous, start_chat_token(burst.burst_id, replaced_contact, last), carried)
            try:
                connection = self._participant.connect(started.participant_token)
                break
            except ChatSessionGone:
                # An earlier attempt of this delivery started the chat (the ClientToken found it again) and ended before
                # connecting to it, and its first connection is now refused: another chat, under a token of its own.
                if attempt + 1 == MAX_CHAT_STARTS:
                    raise
                unconnected.append(started.contact_id)
                count("UnconnectedChatsReplaced")
                logger.warning("started chat could not be connected; starting another", contact_id=started.contact_id)
        # Each earlier attempt that died left one: every one is ended, not only the last.
        for orphan in unconnected:
            self._end_orphan(orphan)
        now = self._now()
        session = Session(
            conversation=key,
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
        self._remember(key, session)
        other = _user_id_key(burst)
        if other and other != key:
            self._sessions.alias(other, of=key, expires_at=session.expires_at, now=now)
        count("ChatsStarted")
        logger.info(
            "chat started", contact_id=started.contact_id, replaced_contact_id=replaced_contact, burst_id=burst.burst_id
        )
        return session

    def _start(
        self,
        burst: Burst,
        previous_contact_id: str | None,
        client_token: str,
        carried: Mapping[str, str] | None = None,
    ) -> StartedChat:
        """StartChatContact in the number's flow: a chat replacing an ended one continues it (persistent chat); if
        Connect refuses, the same request goes again related to it instead (`_start_related`), so no burst waits on
        the transcript."""
        conversation = burst.conversation
        start = ChatStart(
            contact_flow_id=self._flows.for_number(conversation.phone_number_id, burst.origination_phone_number_id),
            display_name=burst.display_name or conversation.masked_customer,
            attributes={**(carried or {}), **chat_attributes(burst)},
            client_token=client_token,
            link=link_to_previous(previous_contact_id),
        )
        previous = start.link.continue_from
        if previous is None:
            return self._contacts.start_chat(start)
        try:
            started = self._contacts.start_chat(start)
        except PersistentChatRefused as refused:
            count("PersistentChatsRefused")
            logger.warning(
                "persistent chat refused; the new chat is related to the previous one instead",
                contact_id=previous,
                reason=str(refused),
            )
            return self._start_related(start, previous)
        if started.continued_from:
            count("PersistentChatsStarted")
        return started

    def _remember(self, key: str, session: Session) -> None:
        """Best effort: a chat not remembered only means the customer's next chat after its session item is gone
        starts without it; the burst is delivered either way."""
        try:
            self._sessions.remember_past_chat(key, session.contact_id, session.expires_at)
        except TransientAwsError as exc:
            logger.warning(
                "chat not remembered for a later persistent chat", contact_id=session.contact_id, error=str(exc)
            )

    def _start_related(self, start: ChatStart, previous_contact_id: str) -> StartedChat:
        """The chat related to the previous one, under the refused start's ClientToken, so a delivery retried after
        this finds that chat again rather than starting a second one. Should Connect refuse that (it holds the token
        against the refused request, or no longer has the previous contact: neither is documented), under a token of
        its own, and at last with no link at all: the burst is never held back."""
        link = link_to_previous(previous_contact_id, persistent_refused=True)
        token = start.client_token
        attempts = (
            replace(start, link=link),
            replace(start, client_token=start_chat_token(token, link.related_to), link=link),
            replace(start, client_token=start_chat_token(token, None), link=ChatLink()),
        )
        for attempt in attempts[:-1]:
            try:
                return self._contacts.start_chat(attempt)
            except RelatedChatRefused as refused:
                logger.warning(
                    "related chat refused; starting it again", contact_id=link.related_to, error=refused.code
                )
        return self._contacts.start_chat(attempts[-1])

    def _connected(self, session: Session, burst: Burst, carried: Mapping[str, str] | None = None) -> Session:
        """The session with a connection token that stays valid for the whole delivery (a new chat if it cannot)."""
        if session.connection_valid(self._now(), CONNECTION_REFRESH_MARGIN_SECONDS):
            return session
        try:
            connection = self._participant.connect(session.participant_token)
        except ChatSessionGone:
            return self._open_chat(burst, replacing=session, carried=carried)
        refreshed = session.with_connection(connection.token, connection.expires_at)
        self._sessions.renew_connection(refreshed)
        return refreshed


def _user_id_key(burst: Burst) -> str | None:
    """The key the customer's BSUID has when the burst is keyed by their phone number."""
    if not burst.user_id or burst.conversation.by_user_id:
        return None
    return Conversation(burst.conversation.phone_number_id, burst.user_id).key


def _changes_identity(burst: Burst) -> bool:
    """Whether the burst holds a number or BSUID change notice."""
    changes = NUMBER_CHANGES | {USER_CHANGED_USER_ID}
    return any(item.kind == "system" and item.content.get("system_type") in changes for item in burst.items)


def _previous_key(burst: Burst) -> str | None:
    """The key the customer had before the number or BSUID change a notice of the burst reports (the first one)."""
    for item in burst.items:
        if item.kind != "system":
            continue
        for field in ("previous_wa_id", "previous_user_id"):
            old = item.content.get(field)
            if (
                isinstance(old, str)
                and old != burst.conversation.customer
                and (WA_ID.fullmatch(old) or is_user_id(old))
            ):
                return Conversation(burst.conversation.phone_number_id, old).key
    return None


def _new_number(burst: Burst) -> str | None:
    """The number a `user_changed_number` notice of the burst moves the customer to (the last one, if several)."""
    new = None
    for item in burst.items:
        number = item.content.get("new_wa_id") if item.kind == "system" else None
        if isinstance(number, str) and WA_ID.fullmatch(number):
            new = number
    return new


def _new_user_id(burst: Burst, conversation: Conversation) -> str | None:
    """The BSUID a `user_changed_user_id` notice of the burst moves a customer known only by BSUID to (a customer
    keyed by phone number keeps that key)."""
    if not conversation.by_user_id:
        return None
    new = None
    for item in burst.items:
        if item.kind == "system" and item.content.get("system_type") == USER_CHANGED_USER_ID:
            user_id = item.content.get("user_id")
            if is_user_id(user_id):
                new = user_id
    return new


def chat_attributes(burst: Burst) -> dict[str, str]:
    """A new chat's contact attributes (StartChatContact `Attributes`), assembled here only: the channel, the masked
    customer, the business number (both ids, `chat_routing`) and the ad the burst came from."""
    conversation = burst.conversation
    return {
        "channel": "WhatsApp",
        "customer": conversation.masked_customer,
        **business_number_attributes(conversation.phone_number_id, burst.origination_phone_number_id),
        **ad_attributes(burst.referral),
    }


AD_ATTRIBUTES = {
    "source_id": "adSourceId",
    "source_type": "adSourceType",
    "ctwa_clid": "adClickId",
    "source_url": "adSourceUrl",
    "headline": "adHeadline",
}
"""Meta's referral field -> the contact attribute flows and reports read (keys: "only alphanumeric, dash, and
underscore characters", botocore StartChatContact.Attributes)."""
AD_ATTRIBUTE_CHARS = 1000
"""Longest value kept per ad attribute (Meta's are an id, a click id, a URL or a headline: well under this), so the
contact's attributes stay far inside Connect's 32,768 bytes."""


def ad_attributes(referral: Mapping[str, Any] | None) -> dict[str, str]:
    """The ad a chat's first burst came from, as StartChatContact `Attributes` (empty when it came from none)."""
    if not referral:
        return {}
    return {
        name: str(referral[field])[:AD_ATTRIBUTE_CHARS]
        for field, name in AD_ATTRIBUTES.items()
        if isinstance(referral.get(field), str) and referral[field]
    }


def start_chat_token(burst_id: str, replaced_contact_id: str | None, unconnected_contact_id: str | None = None) -> str:
    """StartChatContact idempotency token: a retried burst finds the chat it already started, while a burst that
    has to replace an ended chat (a different `replaced_contact_id`) gets a new one, and so does a burst whose
    earlier attempt started a chat it could not connect to in time (`unconnected_contact_id`)."""
    seed = f"{burst_id}\n{replaced_contact_id or '-'}"
    if unconnected_contact_id:
        seed += f"\nunconnected {unconnected_contact_id}"
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()
