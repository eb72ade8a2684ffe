"""sessions: the one-session-per-conversation table, on moto."""

import pytest

from tests.fixtures.sessions import TABLE, a_session, sessions_table
from tests.fixtures.stubbed import stubbed
from whatsapp_buffer.adapters.sessions_table import PAST_CHAT_DAYS, SessionsTable
from whatsapp_buffer.adapters.transcript_debts import TranscriptDebtItems
from whatsapp_buffer.errors import ConcurrentUpdate
from whatsapp_buffer.inbound.ports import TranscriptDebt

CONVERSATION = "111222333#15550001111"


@pytest.fixture
def store():
    yield from sessions_table()


def session(contact_id="contact-1", **overrides):
    return a_session(CONVERSATION, contact_id, **overrides)


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


def debt(**overrides):
    values = {
        "job": "media-bucket-5550007",
        "conversation": CONVERSATION,
        "contact_id": "contact-1",
        "client_token": "burst-1:1:late-transcript",
        "label": "voice-2.wav",
        "expires_at": 1_000_604_800,
    }
    values.update(overrides)
    return TranscriptDebt(**values)


@pytest.fixture
def debts(store):
    return TranscriptDebtItems(TABLE, store._client)


def test_a_transcript_owed_is_recorded_once_and_claimed_by_one_caller_only(debts):
    assert debts.record(debt()) is True
    assert debts.record(debt()) is False  # a redelivered burst finds it recorded
    first = debts.claim("media-bucket-5550007", now=1_000_000_100.0, lease_seconds=120)
    assert first is not None and first.state == "claimed" and first.label == "voice-2.wav"
    assert debts.claim("media-bucket-5550007", now=1_000_000_101.0, lease_seconds=120) is None
    debts.pay("media-bucket-5550007", "posted")
    assert debts.claim("media-bucket-5550007", now=1_000_009_000.0, lease_seconds=120) is None
    assert debts.get("media-bucket-5550007").state == "paid"


def test_a_claim_whose_claimant_died_is_taken_over_after_the_lease_and_a_released_one_at_once(debts):
    debts.record(debt())
    assert debts.claim("media-bucket-5550007", now=1_000_000_100.0, lease_seconds=120) is not None
    assert debts.claim("media-bucket-5550007", now=1_000_000_221.0, lease_seconds=120) is not None
    debts.release("media-bucket-5550007")
    assert debts.claim("media-bucket-5550007", now=1_000_000_222.0, lease_seconds=120) is not None


def test_a_job_nobody_owes_cannot_be_claimed(debts):
    assert debts.claim("media-bucket-unknown", now=1_000_000_100.0, lease_seconds=120) is None
    assert debts.get("media-bucket-unknown") is None


def test_a_transcript_owed_never_passes_for_the_chat_session_it_is_owed_to(store, debts):
    # The debt names its chat in `owed_contact`, not `contact_id`: the by-contact index (which the outbound function
    # queries for a chat's session, Limit 1) never holds it, and the conversation's own session item is untouched.
    store.replace(session(), expected_contact_id=None)
    debts.record(debt())
    assert store.get_by_contact("contact-1") == session()
    assert store.get(CONVERSATION) == session()


def test_the_customers_last_message_time_only_moves_forward_and_survives_a_connection_refresh(store):
    store.replace(session(), expected_contact_id=None)

    assert store.customer_wrote(CONVERSATION, "contact-1", 1_000_000_100.0)
    assert not store.customer_wrote(CONVERSATION, "contact-1", 1_000_000_050.0)
    refreshed = store.get(CONVERSATION).with_connection("ctoken-2", 1_000_090_000.0)
    store.renew_connection(refreshed)

    assert store.get(CONVERSATION).customer_wrote_at == 1_000_000_100.0


def test_renewing_a_chats_connection_keeps_the_customers_last_message_time_and_the_template_claim(store):
    # GIVEN a delivery that read the session before other writers wrote to it
    store.replace(session(), expected_contact_id=None)
    read = store.get(CONVERSATION)
    assert store.customer_wrote(CONVERSATION, "contact-1", 1_000_000_100.0, "wamid.NEW")
    assert store.claim_template(CONVERSATION, "contact-1", 1_000_000_100.0, 1_000_000_160.0, "reply-1")
    assert store.claim_presence(CONVERSATION, "contact-1", "read", "wamid.NEW", at=1_000_000_161.0, every=60.0)
    assert store.set_numbered_options(CONVERSATION, "contact-1", ("Yes", "No"))
    assert store.end(CONVERSATION, "contact-1", 1_000_000_170.0)
    # WHEN it renews the chat's connection with what it read
    store.renew_connection(read.with_connection("ctoken-2", 1_000_090_000.0))
    # THEN only the connection changed
    assert store.get(CONVERSATION) == session(
        connection_token="ctoken-2",
        connection_expires_at=1_000_090_000.0,
        customer_wrote_at=1_000_000_100.0,
        last_customer_message_id="wamid.NEW",
        template_sent_at=1_000_000_160.0,
        template_event="reply-1",
        numbered_options=("Yes", "No"),
        ended_at=1_000_000_170.0,
    )
    item = store._client.get_item(TableName=TABLE, Key={"conversation": {"S": CONVERSATION}})["Item"]
    assert (item["read_sent_for"], item["read_sent_at"]) == ({"S": "wamid.NEW"}, {"N": "1000000161.0"})


def test_a_connection_is_renewed_only_while_the_conversation_still_has_its_chat(store):
    stale = session().with_connection("ctoken-2", 1_000_090_000.0)
    with pytest.raises(ConcurrentUpdate):
        store.renew_connection(stale)  # no session: none is created
    assert store.get(CONVERSATION) is None
    store.replace(session(), expected_contact_id=None)
    store.replace(session("contact-2"), expected_contact_id="contact-1")
    with pytest.raises(ConcurrentUpdate):
        store.renew_connection(stale)  # a newer chat keeps its own connection
    assert store.get(CONVERSATION) == session("contact-2")


def test_a_template_claim_names_its_reply_which_alone_may_settle_or_release_it(store):
    store.replace(session(customer_wrote_at=1_000_000_000.0), expected_contact_id=None)

    assert store.claim_template(CONVERSATION, "contact-1", 1_000_000_000.0, 1_000_090_000.0, "reply-1")
    assert not store.claim_template(CONVERSATION, "contact-1", 1_000_000_000.0, 1_000_090_001.0, "reply-2")
    assert not store.settle_template(CONVERSATION, "contact-1", "reply-2", "sent")
    assert not store.release_template(CONVERSATION, "contact-1", "reply-2")
    assert store.settle_template(CONVERSATION, "contact-1", "reply-1", "refused")
    claimed = store.get(CONVERSATION)
    assert (claimed.template_sent_at, claimed.template_event, claimed.template_outcome) == (
        1_000_090_000.0,
        "reply-1",
        "refused",
    )

    assert store.release_template(CONVERSATION, "contact-1", "reply-1")
    released = store.get(CONVERSATION)
    assert (released.template_sent_at, released.template_event, released.template_outcome) == (None, "", "")
    assert store.claim_template(CONVERSATION, "contact-1", 1_000_000_000.0, 1_000_090_002.0, "reply-2")
    assert store.get(CONVERSATION).template_outcome == ""


def test_the_customers_last_message_is_not_recorded_on_a_chat_that_was_replaced(store):
    store.replace(session(), expected_contact_id=None)
    store.replace(session("contact-2"), expected_contact_id="contact-1")

    assert not store.customer_wrote(CONVERSATION, "contact-1", 1_000_000_100.0)
    assert store.get(CONVERSATION).customer_wrote_at is None


def test_the_sweep_reads_only_the_debts_still_open_and_recorded_before_its_cutoff_oldest_first(store, debts):
    # DynamoDB developer guide, "Take advantage of sparse indexes": "DynamoDB writes a corresponding index entry only
    # if the index sort key value is present in the item" -- a paid debt drops `debt_open` and leaves `owed-since`.
    store.replace(session(), expected_contact_id=None)  # a session item is never in the index
    debts.record(debt(job="media-bucket-new", owed_at=1_000_000_500.0))
    debts.record(debt(job="media-bucket-old", owed_at=1_000_000_100.0))
    debts.record(debt(job="media-bucket-paid", owed_at=1_000_000_050.0))
    debts.record(debt(job="media-bucket-claimed", owed_at=1_000_000_060.0))
    assert debts.claim("media-bucket-paid", now=1_000_000_200.0, lease_seconds=120) is not None
    debts.pay("media-bucket-paid", "posted")
    assert debts.claim("media-bucket-claimed", now=1_000_000_200.0, lease_seconds=120) is not None

    assert debts.owed_before(1_000_000_400.0) == [
        ("media-bucket-claimed", 1_000_000_060.0),
        ("media-bucket-old", 1_000_000_100.0),
    ]
    assert debts.get("media-bucket-old").owed_at == 1_000_000_100.0


def test_a_past_chat_is_remembered_apart_from_the_session_for_ninety_days_after_the_chat_ends(store):
    store.replace(session(), expected_contact_id=None)
    store.remember_past_chat(CONVERSATION, "contact-1", chat_expires_at=1_000_003_600)
    store.remember_past_chat(CONVERSATION, "contact-2", chat_expires_at=1_000_090_000)

    assert store.past_chat(CONVERSATION) == "contact-2"
    assert store.past_chat("111222333#15550009999") is None
    item = store._client.get_item(TableName=TABLE, Key={"conversation": {"S": f"past-chat#{CONVERSATION}"}})["Item"]
    assert int(item["expires_at"]["N"]) == 1_000_090_000 + PAST_CHAT_DAYS * 86_400
    # Not a session: neither the conversation's nor one the by-contact index finds.
    assert store.get(CONVERSATION) == session()
    assert store.get_by_contact("contact-2") is None


def test_a_read_signal_is_claimed_once_per_message_with_a_condition_that_needs_no_infinite_number():
    """A read receipt goes once per message (`every` infinite): its claim must not send `at - every` (-inf), which
    is no DynamoDB Number (Developer Guide, Supported data types: "Numbers can have up to 38 digits of precision",
    from 1E-130 to 9.9999999999999999999999999999999999999E+125 either side of zero). Stubber checks the request
    against these expected parameters and botocore's model; moto would store the condition's -inf unchecked."""
    with stubbed("dynamodb") as (client, stubber):
        stubber.add_response(
            "update_item",
            {},
            {
                "TableName": TABLE,
                "Key": {"conversation": {"S": CONVERSATION}},
                "UpdateExpression": "SET #sent = :value, #sent_at = :at",
                "ConditionExpression": "contact_id = :contact AND (attribute_not_exists(#sent) OR #sent <> :value)",
                "ExpressionAttributeNames": {"#sent": "read_sent_for", "#sent_at": "read_sent_at"},
                "ExpressionAttributeValues": {
                    ":contact": {"S": "contact-1"},
                    ":value": {"S": "wamid.LAST"},
                    ":at": {"N": "1000000060.5"},
                },
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
        )
        claimed = SessionsTable(TABLE, client).claim_presence(
            CONVERSATION, "contact-1", "read", "wamid.LAST", at=1_000_000_060.5, every=float("inf")
        )
    assert claimed
