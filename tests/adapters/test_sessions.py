"""sessions: the one-session-per-conversation table, on moto."""

import boto3
import pytest
from moto import mock_aws

from tests.fixtures.tables import create_sessions_table
from whatsapp_buffer.adapters.sessions_table import Session, SessionStore
from whatsapp_buffer.errors import ConcurrentUpdate

TABLE = "sessions"
CONVERSATION = "111222333#15550001111"


@pytest.fixture
def store():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_sessions_table(client, TABLE)
        yield SessionStore(TABLE, client)


def session(contact_id="contact-1", **overrides):
    values = {
        "conversation": CONVERSATION,
        "contact_id": contact_id,
        "participant_id": "participant-1",
        "participant_token": "ptoken",
        "connection_token": "ctoken",
        "connection_expires_at": 1_000_086_400.5,
        "started_at": 1_000_000_000.25,
        "origination_phone_number_id": "phone-number-id-abc",
        "expires_at": 1_000_003_600,
    }
    values.update(overrides)
    return Session(**values)


def test_a_new_session_round_trips(store):
    store.replace(session(), expected_contact_id=None)
    assert store.get(CONVERSATION) == session()
    assert store.get_by_contact("contact-1") == session()


def test_unknown_conversation_and_contact_have_no_session(store):
    assert store.get(CONVERSATION) is None
    assert store.get_by_contact("nobody") is None


def test_a_second_first_session_for_a_conversation_is_refused(store):
    store.replace(session("contact-1"), expected_contact_id=None)
    with pytest.raises(ConcurrentUpdate):
        store.replace(session("contact-2"), expected_contact_id=None)
    assert store.get(CONVERSATION).contact_id == "contact-1"


def test_replacing_requires_the_expected_contact(store):
    store.replace(session("contact-1"), expected_contact_id=None)
    with pytest.raises(ConcurrentUpdate):
        store.replace(session("contact-3"), expected_contact_id="contact-2")
    store.replace(session("contact-2"), expected_contact_id="contact-1")
    assert store.get(CONVERSATION).contact_id == "contact-2"
    assert store.get_by_contact("contact-1") is None


def test_end_only_ends_the_named_contacts_session_and_keeps_it_findable(store):
    store.replace(session("contact-2"), expected_contact_id=None)
    assert store.end(CONVERSATION, "contact-1", at=5.0) is False
    assert store.get(CONVERSATION).ended_at is None
    assert store.end(CONVERSATION, "contact-2", at=5.0) is True
    ended = store.get(CONVERSATION)
    assert ended.ended_at == 5.0 and ended.chat_over(0)
    assert store.get_by_contact("contact-2") == ended
    assert store.end(CONVERSATION, "contact-2", at=6.0) is False
    # the next chat replaces the ended one as usual
    store.replace(session("contact-3"), expected_contact_id="contact-2")
    assert store.get(CONVERSATION).ended_at is None


@pytest.mark.parametrize(("now", "over"), [(1_000_003_599, False), (1_000_003_600, True)])
def test_a_chat_is_over_once_its_duration_elapsed(now, over):
    assert session().chat_over(now) is over


@pytest.mark.parametrize(("now", "valid"), [(1_000_086_000.0, True), (1_000_086_200.0, False)])
def test_a_connection_about_to_expire_is_not_valid(now, valid):
    assert session().connection_valid(now, margin_seconds=300) is valid


def test_the_customers_last_message_time_only_moves_forward_and_survives_a_connection_refresh(store):
    store.replace(session(), expected_contact_id=None)

    assert store.customer_wrote(CONVERSATION, "contact-1", 1_000_000_100.0)
    assert not store.customer_wrote(CONVERSATION, "contact-1", 1_000_000_050.0)
    refreshed = store.get(CONVERSATION).with_connection("ctoken-2", 1_000_090_000.0)
    store.replace(refreshed, expected_contact_id="contact-1")

    assert store.get(CONVERSATION).customer_wrote_at == 1_000_000_100.0


def test_the_customers_last_message_is_not_recorded_on_a_chat_that_was_replaced(store):
    store.replace(session(), expected_contact_id=None)
    store.replace(session("contact-2"), expected_contact_id="contact-1")

    assert not store.customer_wrote(CONVERSATION, "contact-1", 1_000_000_100.0)
    assert store.get(CONVERSATION).customer_wrote_at is None
