"""`chat_notice.post_notice`: how the inbound and outbound functions post a notice to the agent, under the ClientToken
`notice_texts.notice_token` builds."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest

from whatsapp_buffer import chat_notice
from whatsapp_buffer.errors import ChatSessionGone
from whatsapp_buffer.model import Session
from whatsapp_buffer.notice_texts import notice_token

T = TypeVar("T")
SESSION = Session(
    conversation="whatsapp|phone-number-id-1|+15550100",
    contact_id="contact-1",
    participant_id="participant-1",
    participant_token="participant-token",
    connection_token="connection-token",
    connection_expires_at=0.0,
    started_at=0.0,
    origination_phone_number_id="phone-number-id-1",
    expires_at=0,
)


class Participant:
    def __init__(self, gone: bool = False) -> None:
        self.gone = gone
        self.renewed: list[tuple[str, str]] = []
        self.sent: list[tuple[str, str, str]] = []

    def send_text(self, connection_token: str, text: str, client_token: str) -> str:
        if self.gone:
            raise ChatSessionGone("the chat has ended")
        self.sent.append((connection_token, text, client_token))
        return "message-1"

    def with_renewed_connection(self, connection_token: str, participant_token: str, call: Callable[[str], T]) -> T:
        self.renewed.append((connection_token, participant_token))
        return call(connection_token)


@pytest.fixture
def counted(monkeypatch):
    names: list[str] = []
    monkeypatch.setattr(chat_notice, "count", lambda name: names.append(name))
    return names


def test_a_notice_is_posted_through_the_customer_participants_renewed_connection(counted):
    participant = Participant()
    assert chat_notice.post_notice(participant, SESSION, "[WhatsApp bridge] not delivered", "bridge-notice|x") is True
    assert participant.renewed == [("connection-token", "participant-token")]
    assert participant.sent == [("connection-token", "[WhatsApp bridge] not delivered", "bridge-notice|x")]
    assert counted == []


def test_a_notice_to_a_chat_that_has_ended_is_not_posted_and_counted_undeliverable(counted):
    participant = Participant(gone=True)
    assert chat_notice.post_notice(participant, SESSION, "[WhatsApp bridge] not delivered", "bridge-notice|x") is False
    assert participant.sent == []
    assert counted == ["NoticesUndeliverable"]


def test_a_notice_token_says_outcome_kind_reason_and_what_it_is_about():
    assert (
        notice_token("failed", "text", "undeliverable", "wamid.HBgL")
        == "bridge-notice|failed|text|undeliverable|wamid.HBgL"
    )
    assert notice_token("withheld", "image", "file_refused", "event-1#2") == (
        "bridge-notice|withheld|image|file_refused|event-1#2"
    )


def test_a_notice_token_is_cut_to_the_500_characters_a_client_token_may_have():
    """botocore (connectparticipant SendMessage): ClientToken is a string of at most 500 characters."""
    token = notice_token("outreach", "template", "t" * 512, "wamid.HBgL")
    assert len(token) == 500 and token.startswith("bridge-notice|outreach|template|ttt")
