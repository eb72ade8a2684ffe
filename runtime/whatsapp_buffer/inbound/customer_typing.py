"""Show the agent that the customer is composing while the buffer holds their messages.

The aggregator, which alone knows that a conversation is waiting, puts a `TypingSignal` on the bursts FIFO queue in
the conversation's group at the first window end of a wait and then every 10 s (`aggregator.flush.typing_slot`); the
inbound function, which holds the chat's connection token, sends Connect Participant SendEvent
`application/vnd.amazonaws.connect.event.typing` into the open chat. Being in the same FIFO group, a signal is always
handled before the burst that ends the wait, and none follows it: the burst's message clears the indicator (Connect's
chat interface drops a participant's typing on their next message, else after 12 s).

Only into a chat that is open: no session, an ended chat or an expired connection token means nothing to show (the
burst will open or renew the chat). A signal that waited longer than the indicator lasts is stale and dropped. Best
effort throughout: a failed lookup or a refused event is logged, never retried, never fails the batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from whatsapp_buffer import clock
from whatsapp_buffer.adapters.connect_chat import ChatParticipant
from whatsapp_buffer.adapters.sessions_table import SessionStore
from whatsapp_buffer.model import TypingSignal
from whatsapp_buffer.observability import count, logger

SHOWN_SECONDS = 12.0
"""How long Connect's chat interface shows one typing event (amazon-connect-chat-interface, ChatSession.js:
`setTimeout(() => this._removeTypingParticipant(...), 12 * 1000)`)."""


class CustomerTyping:
    def __init__(
        self, *, sessions: SessionStore, participant: ChatParticipant, now: Callable[[], float] = clock.now
    ) -> None:
        self._sessions = sessions
        self._participant = participant
        self._now = now

    def show(self, signal: TypingSignal) -> dict[str, Any]:
        now = self._now()
        if now - signal.at > SHOWN_SECONDS:
            return {"typing": "stale"}
        try:
            session = self._sessions.get(signal.conversation.key)
            if session is None or session.chat_over(now) or not session.connection_valid(now, 0.0):
                return {"typing": "no open chat"}
            self._participant.send_typing(session.connection_token)
        except Exception as exc:
            # Never retried: a retry would hold the conversation's next burst behind a stale indicator, and a
            # signal that kept failing would end on the DLQ as if it were a lost burst.
            logger.info("typing event not shown", reason=type(exc).__name__)
            return {"typing": "failed"}
        count("TypingShown")
        return {"typing": "shown", "contact_id": session.contact_id}
