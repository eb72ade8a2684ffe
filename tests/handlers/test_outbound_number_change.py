"""Outbound handler after a customer's number change, while the `by-contact` index still answers the old key (all
reads of a global secondary index are eventually consistent: test_sessions_table_alias_writes quotes the sources).
moto's index is consistent, so `lagging_index` makes it answer as it did before the move."""

from __future__ import annotations

import dataclasses

import pytest
from moto import mock_aws

from tests.adapters.test_sessions_table_alias_writes import lagging_index
from tests.handlers.test_outbound import CONVERSATION, ORIGIN, T0, World
from whatsapp_buffer.entrypoints import outbound
from whatsapp_buffer.outbound.send_reply import ENDED, NO_SESSION, SENT

NEW = "111222333#15550009999"


@pytest.fixture
def world():
    with mock_aws():
        yield World()
    outbound.installed.reset()


@pytest.mark.parametrize("name", ["chat_ended", "customer_left"])
def test_a_chat_ended_right_after_a_number_change_marks_the_moved_session_ended(world, name):
    # GIVEN an open chat, moved to the customer's new number, that the index still finds under the old one
    contact = world.open_session()
    lagging_index(world.sessions, contact)
    assert world.sessions.move(world.sessions.get(CONVERSATION), NEW, world.now) is not None
    assert world.sessions.get_by_contact(contact).conversation == CONVERSATION
    # WHEN the chat ends
    world.now = T0 + 90
    assert world.handle(name) == [ENDED]
    # THEN the session under the new number is over (the next burst opens a new chat), and the old key still finds it
    assert world.sessions.get(NEW).ended_at == T0 + 90
    assert world.sessions.get(CONVERSATION) == world.sessions.get(NEW)


def moved(world, *keys):
    """The chat opened, then moved to each of `keys` in turn while the index still answers the old key as it was."""
    contact = world.open_session()
    lagging_index(world.sessions, contact)
    session = world.sessions.get(CONVERSATION)
    for key in keys:
        session = world.sessions.move(session, key, world.now)
        assert session is not None
    assert world.sessions.get_by_contact(contact).conversation == CONVERSATION
    return contact


def test_an_agent_reply_right_after_a_number_change_goes_to_the_new_number(world):
    # GIVEN an open chat moved to the customer's new number, the index still answering the old key's item
    moved(world, NEW)
    world.fake.services.customer_wrote(ORIGIN, "15550009999")
    # WHEN the agent replies
    assert world.handle("agent_text") == [SENT]
    # THEN the reply goes to the new number only
    assert [m["to"] for m in world.sent()] == ["15550009999"]


def test_a_reply_whose_session_is_an_alias_chain_over_the_hop_limit_is_not_sent(world):
    # GIVEN a chat moved three times, one alias more than a write to a session follows
    moved(world, NEW, "111222333#15550005555", "111222333#15550007777")
    # WHEN the agent replies, THEN nothing is sent, to no number: as for a contact with no session
    assert world.handle("agent_text") == [NO_SESSION]
    assert world.sent() == []


def test_a_reply_whose_session_is_gone_since_the_index_read_is_not_sent(world):
    # GIVEN a session the index still answers, deleted from the table since (TTL)
    contact = world.open_session()
    lagging_index(world.sessions, contact)
    world.dynamodb.delete_item(TableName="sessions", Key={"conversation": {"S": CONVERSATION}})
    # WHEN the agent replies, THEN nothing is sent: as for a contact with no session
    assert world.handle("agent_text") == [NO_SESSION]
    assert world.sent() == []


def test_a_reply_whose_key_is_another_chats_since_the_index_read_is_not_sent_to_it(world):
    # GIVEN the chat ended and its conversation's key taken by another chat, the index still answering the first
    contact = world.open_session()
    lagging_index(world.sessions, contact)
    assert world.sessions.end(CONVERSATION, contact, world.now)
    newer = dataclasses.replace(world.sessions.get(CONVERSATION), contact_id="newer-contact", ended_at=None)
    world.sessions.replace(newer, expected_contact_id=contact)
    # WHEN the first chat's agent replies, THEN nothing is sent, as once the index has caught up
    assert world.handle("agent_text") == [NO_SESSION]
    assert world.sent() == []
