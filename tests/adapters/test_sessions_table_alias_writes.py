"""sessions: a write to a session found through the lagging `by-contact` index follows the alias a move left, on moto.

Why the outbound function can hold a moved session's old key, from botocore's DynamoDB model, Query `ConsistentRead`:
"Strongly consistent reads are not supported on global secondary indexes. If you query a global secondary index with
ConsistentRead set to true, you will receive a ValidationException." The Developer Guide (DynamoDB read consistency):
"All reads from GSIs and streams are eventually consistent" and "the responses may not reflect the results of a
recently completed write operation". moto's index answers what the table holds at once, so `lagging_index` makes it
answer what it held before the move, as DynamoDB may.
What the write reads back, from the same model, UpdateItem `ReturnValuesOnConditionCheckFailure`: "returns the item
attributes for an UpdateItem operation that failed a condition check. [...] No read capacity units are consumed."
ConditionalCheckFailedException `Item`: "Item which caused the ConditionalCheckFailedException."
"""

import pytest

from tests.fixtures.sessions import TABLE, a_session, sessions_table
from whatsapp_buffer.adapters.sessions_table import ALIAS_HOPS

OLD = "111222333#15550001111"
NEW = "111222333#15550009999"
NEWER = "111222333#15550005555"
NOW = 1_000_000_200.0


@pytest.fixture
def store():
    yield from sessions_table()


def session(contact_id="contact-1", conversation=OLD):
    return a_session(conversation, contact_id, customer_wrote_at=1_000_000_100.0, last_customer_message_id="wamid.1")


def raw(store, conversation):
    key = {"conversation": {"S": conversation}}
    return store._client.get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item")


def lagging_index(store, contact_id="contact-1"):
    """From now on, `by-contact` answers for `contact_id` what it holds now, whatever the table holds later."""
    then = store._client.query(
        TableName=TABLE,
        IndexName="by-contact",
        KeyConditionExpression="contact_id = :contact",
        ExpressionAttributeValues={":contact": {"S": contact_id}},
    )["Items"]

    def stale(parsed, **_):
        parsed["Items"], parsed["Count"] = [dict(item) for item in then], len(then)

    store._client.meta.events.register("after-call.dynamodb.Query", stale)


def update_calls(store):
    calls = []
    store._client.meta.events.register(
        "provide-client-params.dynamodb.UpdateItem", lambda params, **_: calls.append(dict(params))
    )
    return calls


WRITES_BY_CONTACT = {
    "the chat's end": (lambda s, key: s.end(key, "contact-1", NOW), "ended_at"),
    "a customer message": (lambda s, key: s.customer_wrote(key, "contact-1", NOW, "wamid.2"), "customer_wrote_at"),
    "numbered options": (lambda s, key: s.set_numbered_options(key, "contact-1", ("Yes", "No")), "numbered_options"),
    "the template's claim": (
        lambda s, key: s.claim_template(key, "contact-1", 1_000_000_100.0, NOW, "reply-1"),
        "template_sent_at",
    ),
    "a typing signal": (
        lambda s, key: s.claim_presence(key, "contact-1", "typing", "wamid.1", at=NOW, every=60.0),
        "typing_sent_at",
    ),
    "a read signal": (
        lambda s, key: s.claim_presence(key, "contact-1", "read", "wamid.1", at=NOW, every=float("inf")),
        "read_sent_for",
    ),
}


@pytest.mark.parametrize(("write", "attribute"), WRITES_BY_CONTACT.values(), ids=WRITES_BY_CONTACT.keys())
def test_a_write_to_the_key_a_lagging_index_gave_lands_on_the_moved_session(store, write, attribute):
    # GIVEN an open chat the index knows under the old number, moved to the new number since
    store.replace(session(), expected_contact_id=None)
    lagging_index(store)
    assert store.move(store.get(OLD), NEW, NOW) is not None
    found = store.get_by_contact("contact-1")
    assert found.conversation == OLD  # the index still answers the old key, now an alias
    # WHEN the outbound (or inbound) function writes to the key it got
    # THEN the write is made, on the session under the new number, and the old key stays an alias
    assert write(store, found.conversation) is True
    assert attribute in raw(store, NEW)
    assert set(raw(store, OLD)) == {"conversation", "alias_of", "expires_at"}


def test_the_template_release_and_settlement_follow_the_alias_too(store):
    store.replace(session(), expected_contact_id=None)
    assert store.claim_template(OLD, "contact-1", 1_000_000_100.0, NOW, "reply-1")
    lagging_index(store)
    assert store.move(store.get(OLD), NEW, NOW) is not None
    key = store.get_by_contact("contact-1").conversation
    assert store.settle_template(key, "contact-1", "reply-1", "sent") is True
    assert store.get(NEW).template_outcome == "sent"
    assert store.release_template(key, "contact-1", "reply-1") is True
    assert store.get(NEW).template_sent_at is None


def test_a_chat_moved_twice_is_found_through_both_aliases(store):
    # GIVEN a chat moved from the old number to the new one, then to a newer one
    store.replace(session(), expected_contact_id=None)
    lagging_index(store)
    moved = store.move(store.get(OLD), NEW, NOW)
    assert moved is not None and store.move(moved, NEWER, NOW) is not None
    calls = update_calls(store)
    # WHEN the chat ends, written to the key the lagging index gave
    assert store.end(store.get_by_contact("contact-1").conversation, "contact-1", NOW) is True
    # THEN the end lands under the newer number, after one write per key
    assert store.get(NEWER).ended_at == NOW
    assert [c["Key"]["conversation"]["S"] for c in calls] == [OLD, NEW, NEWER] and ALIAS_HOPS == 2


def test_an_alias_to_another_chat_is_not_written_through(store):
    # GIVEN the old number's chat moved, and the new number's session replaced by another chat since
    store.replace(session(), expected_contact_id=None)
    assert store.move(store.get(OLD), NEW, NOW) is not None
    assert store.end(NEW, "contact-1", NOW)
    store.replace(session("contact-2", conversation=NEW), expected_contact_id="contact-1")
    # WHEN a late write for the first chat reaches the old key
    # THEN it is refused there and at the alias: the other chat is left alone
    assert store.customer_wrote(OLD, "contact-1", NOW + 1, "wamid.9") is False
    assert store.get(NEW) == session("contact-2", conversation=NEW)


def test_a_refused_write_to_a_session_that_is_no_alias_is_not_tried_again(store):
    store.replace(session(), expected_contact_id=None)
    assert store.end(OLD, "contact-1", NOW)
    calls = update_calls(store)
    assert store.end(OLD, "contact-1", NOW + 1) is False
    assert len(calls) == 1 and store.get(OLD).ended_at == NOW


def test_a_connection_renewed_from_a_read_made_before_a_move_is_written_to_the_moved_session(store):
    # GIVEN a session read (a late transcript's delivery), then moved to the new number by a burst's delivery
    store.replace(session(), expected_contact_id=None)
    read = store.get(OLD)
    assert store.move(read, NEW, NOW) is not None
    # WHEN the first renews the connection of what it read
    store.renew_connection(read.with_connection("ctoken-2", 1_000_090_000.0))
    # THEN the moved session has the new connection, and the old key stays an alias
    assert store.get(NEW).connection_token == "ctoken-2"
    assert set(raw(store, OLD)) == {"conversation", "alias_of", "expires_at"}
