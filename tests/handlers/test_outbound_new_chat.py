"""Outbound handler, the first seconds of a chat: the chat streams from StartChatContact on, while the inbound function
writes its session after CreateParticipantConnection and the `by-contact` index lags that write. A young reply the
index has no session for is read again, then failed for Lambda's retry; an old one is dropped as before. Same world
as tests/handlers/test_outbound.py: its waits move the test's clock on."""

from __future__ import annotations

import pytest
from moto import mock_aws

from components.functions import FUNCTIONS
from sandbox.fakes.records import iso8601
from tests.fixtures.log_lines import log_lines
from tests.handlers.conftest import emitted
from tests.handlers.test_outbound import RECORDS, T0, World
from whatsapp_buffer.entrypoints import outbound
from whatsapp_buffer.errors import SessionNotYetFound
from whatsapp_buffer.outbound.send_reply import NO_SESSION, SENT, SESSION_REREADS_AFTER, YOUNG_EVENT_SECONDS
from whatsapp_buffer.outbound.streaming import parse
from whatsapp_buffer.settings import OUTBOUND

LAMBDA_RETRY_AFTER = 60.0
"""Lambda docs, "How Lambda handles errors and retries with asynchronous invocation": "If the function returns an
error, by default Lambda attempts to run it two more times, with a one-minute wait between the first two attempts,
and two minutes between the second and third attempts." SNS invokes the outbound function asynchronously."""


@pytest.fixture
def world():
    with mock_aws():
        yield World()
    outbound.installed.reset()


def held_session_write(world):
    """The inbound function's session write, held back until the returned function lands it."""
    real_replace, pending = world.sessions.replace, []
    world.sessions.replace = lambda new, expected_contact_id: pending.append((new, expected_contact_id))

    def land():
        for new, expected in pending:
            real_replace(new, expected_contact_id=expected)

    return land


def lagging_index(world, misses):
    """The `by-contact` index answers no session for its first `misses` reads, then what the table holds."""
    real, reads = world.sessions.get_by_contact, []

    def get_by_contact(contact_id):
        reads.append(contact_id)
        return None if len(reads) <= misses else real(contact_id)

    world.sessions.get_by_contact = get_by_contact
    return reads


def message_id(name):
    return parse(RECORDS[name]["Sns"]["Message"]).message_id


def test_the_flows_welcome_streamed_before_the_session_is_written_is_sent_by_lambdas_retry_once(world):
    # GIVEN the chat is started and connected, and its session write has not landed yet
    land = held_session_write(world)
    world.open_session()
    # WHEN the flow's welcome streams meanwhile
    with pytest.raises(SessionNotYetFound):
        world.handle("system_text")
    # THEN it was read again after each wait, then failed, nothing sent
    assert world.slept == list(SESSION_REREADS_AFTER)
    assert world.sent() == []
    # WHEN the write lands and Lambda retries the event a minute later, and SNS delivers it once more
    land()
    world.now += LAMBDA_RETRY_AFTER
    assert world.handle("system_text") == [SENT]
    assert world.handle("system_text") == [SENT]
    # THEN the customer gets the welcome once
    assert [m["text"]["body"] for m in world.sent()] == ["Thanks for contacting us."]


def test_a_session_the_index_shows_on_its_second_read_sends_the_reply_in_the_same_invocation(world, capsys):
    world.open_session()
    reads = lagging_index(world, misses=1)
    capsys.readouterr()
    with log_lines() as lines:
        assert world.handle("agent_text") == [SENT]
    assert len(reads) == 2 and world.slept == [SESSION_REREADS_AFTER[0]]
    assert [m["text"]["body"] for m in world.sent()] == ["Hi, I'm Ana. How can I help?"]
    waited = [line for line in lines if line["message"] == "session found after waiting"]
    assert [line["waited_seconds"] for line in waited] == [SESSION_REREADS_AFTER[0]]
    assert emitted(capsys)["RepliesWaitedForSession"] == [1.0]


def test_a_session_the_index_shows_late_but_the_table_no_longer_holds_is_not_waited_for_further(world):
    # GIVEN a chat whose session the index shows only on its second read, deleted from the table by then
    world.open_session()
    stale, answers = world.sessions.get_by_contact(world.contact_id), [None]
    world.sessions.get_by_contact = lambda contact_id: answers.pop() if answers else stale
    world.dynamodb.delete_item(TableName="sessions", Key={"conversation": {"S": stale.conversation}})
    # WHEN the agent replies, THEN nothing is sent, to no number, and no further read is made
    assert world.handle("agent_text") == [NO_SESSION]
    assert world.slept == [SESSION_REREADS_AFTER[0]] and world.sent() == []


def test_an_old_message_for_an_unknown_contact_is_dropped_quietly_without_waiting(world, capsys):
    world.written[message_id("agent_text")] = iso8601(T0 - YOUNG_EVENT_SECONDS)
    capsys.readouterr()
    assert world.handle("agent_text") == [NO_SESSION]
    assert world.slept == [] and world.sent() == []
    assert emitted(capsys)["RepliesDropped"] == [1.0]


def test_a_young_reply_whose_session_never_comes_is_dropped_at_lambdas_first_retry(world, capsys):
    # GIVEN a reply of a contact the sessions table will never know, streamed just now
    capsys.readouterr()
    with pytest.raises(SessionNotYetFound):
        world.handle("agent_text")
    assert emitted(capsys)["RepliesRetriedForSession"] == [1.0]
    # WHEN Lambda retries it a minute later
    world.now += LAMBDA_RETRY_AFTER
    # THEN it is old: dropped as before, with no second wait and no third attempt
    assert world.handle("agent_text") == [NO_SESSION]
    assert world.slept == list(SESSION_REREADS_AFTER) and world.sent() == []
    assert emitted(capsys)["RepliesDropped"] == [1.0]


def test_the_waits_stay_far_inside_the_functions_timeout_and_lambdas_first_retry_finds_the_event_old():
    assert sum(SESSION_REREADS_AFTER) * 10 <= FUNCTIONS[OUTBOUND].timeout_seconds
    assert YOUNG_EVENT_SECONDS <= LAMBDA_RETRY_AFTER
