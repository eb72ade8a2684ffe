"""Outbound handler after a customer's number change, while the `by-contact` index still answers the old key (all
reads of a global secondary index are eventually consistent: test_sessions_table_alias_writes quotes the sources).
moto's index is consistent, so `lagging_index` makes it answer as it did before the move."""

from __future__ import annotations

import pytest
from moto import mock_aws

from tests.adapters.test_sessions_table_alias_writes import lagging_index
from tests.handlers.test_outbound import CONVERSATION, T0, World
from whatsapp_buffer.entrypoints import outbound
from whatsapp_buffer.outbound.send_reply import ENDED

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
