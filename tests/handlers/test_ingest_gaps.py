"""Ingest reports each message's follow-up gap (`FollowUpGap`): seconds since the same customer's previous message to
the same business number, capped at maxWaitSeconds (120 in these tests), none for a conversation's first message, a
redelivery or an ignored message (moto)."""

from __future__ import annotations

import botocore.session
import pytest

from tests.fixtures import eum
from tests.fixtures.log_lines import log_lines
from tests.handlers.conftest import T0, emitted
from whatsapp_buffer.entrypoints import ingest as ingest_module
from whatsapp_buffer.environment import IngestSettings
from whatsapp_buffer.errors import TransientAwsError
from whatsapp_buffer.ingest.accept import follow_up_gap
from whatsapp_buffer.model import Conversation

OTHER_CUSTOMER = "16505559876"
OTHER_NUMBER = "107000000000001"


def deliver(*messages, phone_number_id: str = eum.PHONE_NUMBER_ID):
    webhook = eum.webhook_entry(*messages, phone_number_id=phone_number_id)
    return ingest_module.handler(eum.sns_event(eum.sns_message(webhook)), None)


def gaps(capsys) -> list[float]:
    return emitted(capsys).get("FollowUpGap", [])


def test_the_first_message_of_a_conversation_reports_no_gap_and_the_next_one_its_seconds(ingest, virtual_clock, capsys):
    # GIVEN a customer's first message
    deliver(eum.message("wamid.1"))
    assert gaps(capsys) == []
    # WHEN the next one arrives 7.25 s later
    virtual_clock.set(T0 + 7.25)
    deliver(eum.message("wamid.2"))
    # THEN its gap is 7.25 s, in seconds
    assert gaps(capsys) == [7.25]


def test_a_gap_longer_than_max_wait_is_reported_as_max_wait(ingest, virtual_clock, capsys):
    deliver(eum.message("wamid.1"))
    virtual_clock.set(T0 + 3600)
    deliver(eum.message("wamid.2"))

    assert gaps(capsys) == [120.0]


def test_a_redelivered_message_reports_no_gap_and_leaves_the_next_gap_measured_from_the_first_copy(
    ingest, virtual_clock, capsys
):
    # GIVEN a stored message, redelivered 5 s later
    deliver(eum.message("wamid.1"))
    virtual_clock.set(T0 + 5)
    deliver(eum.message("wamid.1"))
    assert gaps(capsys) == []
    # WHEN a new message arrives at 9 s
    virtual_clock.set(T0 + 9)
    deliver(eum.message("wamid.2"))
    # THEN its gap runs from the first copy's arrival
    assert gaps(capsys) == [9.0]


def test_gaps_are_per_conversation(ingest, virtual_clock, capsys):
    # GIVEN one customer writing at 0 s and 10 s, another customer and another business number in between
    deliver(eum.message("wamid.a1"))
    virtual_clock.set(T0 + 3)
    deliver(eum.message("wamid.b1", customer=OTHER_CUSTOMER))
    virtual_clock.set(T0 + 4)
    deliver(eum.message("wamid.c1"), phone_number_id=OTHER_NUMBER)
    assert gaps(capsys) == []
    virtual_clock.set(T0 + 10)
    deliver(eum.message("wamid.a2"))
    # THEN the first customer's gap to the same number is 10 s: the others' messages are no follow-ups of theirs
    assert gaps(capsys) == [10.0]


def test_messages_of_one_event_follow_each_other_with_no_gap_and_one_read_per_conversation(ingest, store, capsys):
    reads = []
    store.client.meta.events.register("provide-client-params.dynamodb.GetItem", lambda params, **_: reads.append(1))
    try:
        deliver(
            eum.message("wamid.1"),
            eum.message("wamid.2"),
            eum.message("wamid.b1", customer=OTHER_CUSTOMER),
            eum.message("wamid.3"),
        )
    finally:
        store.client.meta.events.unregister("provide-client-params.dynamodb.GetItem")

    assert gaps(capsys) == [0.0, 0.0]
    assert len(reads) == 2


def test_an_ignored_reaction_reports_no_gap_and_is_no_previous_message(store, virtual_clock, capsys):
    # GIVEN ingest ignoring reactions
    settings = IngestSettings(store.table_name, 1, ignore_reactions=True, ignore_stickers=True, max_wait_seconds=60)
    ingest_module.build(settings, store=store)
    try:
        deliver(eum.message("wamid.1"))
        virtual_clock.set(T0 + 4)
        deliver(eum.message("wamid.r", kind="reaction"))
        virtual_clock.set(T0 + 6)
        deliver(eum.message("wamid.2"))
    finally:
        ingest_module.installed.reset()
    # THEN only the second text reports a gap, from the first text
    assert gaps(capsys) == [6.0]


def test_a_failed_read_of_the_previous_arrival_costs_the_gap_not_the_message(ingest, store, virtual_clock, capsys):
    # GIVEN a conversation with a message, and DynamoDB failing the next read of its control item
    deliver(eum.message("wamid.1"))
    virtual_clock.set(T0 + 4)

    def unreadable(conversation):
        raise TransientAwsError("read a conversation's last arrival: throttled")

    store.last_arrival = unreadable
    # WHEN the next message arrives
    with log_lines() as lines:
        result = deliver(eum.message("wamid.2"))
    # THEN it is stored, reports no gap, and the log says why (naming no number)
    assert result["stored"] == 1
    assert gaps(capsys) == []
    (warning,) = [line for line in lines if line["level"] == "WARNING"]
    assert warning["message"] == "previous arrival not read; no follow-up gap"
    assert warning["reason"] == "TransientAwsError"
    assert eum.CUSTOMER not in str(warning)


def test_the_previous_arrival_is_read_consistently_and_only_its_time(ingest, store, virtual_clock):
    # GIVEN a stored message WHEN ingest reads the conversation's last arrival
    deliver(eum.message("wamid.1"))
    calls = []
    store.client.meta.events.register(
        "provide-client-params.dynamodb.GetItem", lambda params, **_: calls.append(params)
    )
    try:
        arrival = store.last_arrival(Conversation(eum.PHONE_NUMBER_ID, eum.CUSTOMER))
    finally:
        store.client.meta.events.unregister("provide-client-params.dynamodb.GetItem")
    # THEN it is the first message's arrival, read strongly consistent, projecting the time alone
    assert arrival == T0
    assert calls[0]["ConsistentRead"] is True
    assert calls[0]["ProjectionExpression"] == "last_arrival"
    assert store.last_arrival(Conversation(eum.PHONE_NUMBER_ID, OTHER_CUSTOMER)) is None


def test_a_transaction_cannot_return_the_previous_arrival_so_ingest_reads_it_first():
    """botocore's DynamoDB model: a TransactWriteItems `Update` has no `ReturnValues`, only
    `ReturnValuesOnConditionCheckFailure` ("to get the item attributes if the Update condition fails ... NONE and
    ALL_OLD"), which says nothing when the transaction succeeds. If a future model adds it, this fails and the read
    can go."""
    model = botocore.session.get_session().get_service_model("dynamodb")
    update = model.shape_for("Update")

    assert "ReturnValues" not in update.members
    assert (
        "if the <code>Update</code> condition fails"
        in update.members["ReturnValuesOnConditionCheckFailure"].documentation
    )


@pytest.mark.parametrize(
    ("previous", "now", "cap", "gap"),
    [
        (100.0, 107.5, 60, 7.5),
        (100.0, 100.0, 60, 0.0),
        (100.0, 99.2, 60, 0.0),  # stored out of order by two ingests at once: never negative
        (100.0, 160.0, 60, 60.0),
        (100.0, 1000.0, 60, 60.0),
        (100.0, 100.0004, 60, 0.0),
    ],
)
def test_follow_up_gap_is_the_time_since_the_previous_arrival_within_zero_and_the_cap(previous, now, cap, gap):
    assert follow_up_gap(previous, now, cap) == gap
