"""sessions: a customer's number change moves the session to the new key, on moto.

What the move relies on, from botocore's DynamoDB model:
* GetItem `ConsistentRead`: "If set to true, then the operation uses strongly consistent reads; otherwise, the
  operation uses eventually consistent reads." The move reads the item it carries that way, right before writing.
* TransactWriteItems: "The actions are completed atomically so that either all of them succeed, or all of them
  fail", and "DynamoDB rejects the entire TransactWriteItems request if any of the following is true: A condition in
  one of the condition expressions is not met." TransactionCanceledException: "Transaction cancellation reasons are
  ordered in the order of requested items", so the move tells the new key's condition from the old key's.
* Condition (ComparisonOperator): "EQ : Equal. EQ is supported for all data types, including lists and maps." The
  model's ConditionExpression says only "A condition that must be satisfied in order for a conditional update to
  succeed" of `=`: silent on types; the old key's "unchanged" condition compares a list (`numbered_options`) with `=`.
"""

import boto3
import pytest

from tests.fixtures.sessions import TABLE, a_session, sessions_table
from tests.fixtures.tables import create_sessions_table
from whatsapp_buffer.adapters.sessions_table import ALIAS_HOPS, MOVE_ATTEMPTS, SESSION_ATTRIBUTES, SessionsTable
from whatsapp_buffer.errors import ConcurrentUpdate

OLD = "111222333#15550001111"
NEW = "111222333#15550009999"
NOW = 1_000_000_200.0


@pytest.fixture
def store():
    yield from sessions_table()


def session(contact_id="contact-1", conversation=OLD):
    return a_session(conversation, contact_id)


def raw(store, conversation):
    return store._client.get_item(TableName=TABLE, Key={"conversation": {"S": conversation}}, ConsistentRead=True).get(
        "Item"
    )


def before_each_transaction(store, write):
    """Run `write` (another function's write) after the move read the item, before its transaction is sent."""
    calls = []

    def hook(**_):
        calls.append(write(len(calls)))

    store._client.meta.events.register("before-call.dynamodb.TransactWriteItems", hook)
    return calls


def outbound_and_inbound_write_everything(store, contact="contact-1"):
    assert store.customer_wrote(OLD, contact, 1_000_000_100.0, "wamid.NEW")
    assert store.claim_template(OLD, contact, 1_000_000_100.0, 1_000_000_160.0, "reply-1")
    assert store.settle_template(OLD, contact, "reply-1", "sent")
    assert store.claim_presence(OLD, contact, "read", "wamid.NEW", at=1_000_000_161.0, every=60.0)
    assert store.claim_presence(OLD, contact, "typing", "wamid.NEW", at=1_000_000_162.0, every=60.0)
    assert store.set_numbered_options(OLD, contact, ("Yes", "No"))
    store.renew_connection(store.get(OLD).with_connection("ctoken-2", 1_000_090_000.0))
    assert store.end(OLD, contact, 1_000_000_170.0)


def test_a_move_carries_every_attribute_other_writers_wrote_after_the_session_was_read(store):
    # GIVEN a delivery that read the session, then every other writer wrote to it
    store.replace(session(), expected_contact_id=None)
    read = store.get(OLD)
    outbound_and_inbound_write_everything(store)
    current = raw(store, OLD)
    assert set(current) == set(SESSION_ATTRIBUTES)
    # WHEN the delivery moves the session it read to the new number
    moved = store.move(read, NEW, NOW)
    # THEN the new key holds the current item, every attribute of it, and the old key is only an alias
    assert raw(store, NEW) == {**current, "conversation": {"S": NEW}}
    assert moved == store.get(NEW)
    assert moved.ended_at == 1_000_000_170.0 and moved.connection_token == "ctoken-2"
    assert raw(store, OLD) == {"conversation": {"S": OLD}, "alias_of": {"S": NEW}, "expires_at": current["expires_at"]}
    assert store.get(OLD) == moved
    assert store.get_by_contact("contact-1") == moved


WRITES_DURING_A_MOVE = {
    "the template's first claim": lambda s: s.claim_template(OLD, "contact-1", 1.0, NOW, "reply-2"),
    "the chat's end": lambda s: s.end(OLD, "contact-1", NOW),
    "a later customer message": lambda s: s.customer_wrote(OLD, "contact-1", NOW, "wamid.LATER"),
    "the first read signal": lambda s: s.claim_presence(OLD, "contact-1", "read", "wamid.1", at=NOW, every=60.0),
    "other numbered options": lambda s: s.set_numbered_options(OLD, "contact-1", ("Yes", "Maybe")),
    "no numbered options": lambda s: s.set_numbered_options(OLD, "contact-1", ()),
    "a renewed connection": lambda s: s.renew_connection(s.get(OLD).with_connection("ctoken-3", NOW + 3600)),
}


@pytest.mark.parametrize("write", WRITES_DURING_A_MOVE.values(), ids=WRITES_DURING_A_MOVE.keys())
def test_a_write_landing_between_the_moves_read_and_its_transaction_is_carried_too(store, write):
    # GIVEN a session with numbered options, and a write another function makes while the move is under way
    store.replace(session(), expected_contact_id=None)
    assert store.set_numbered_options(OLD, "contact-1", ("Yes", "No"))
    calls = before_each_transaction(store, lambda n: write(store) if n == 0 else None)
    # WHEN the session is moved
    moved = store.move(store.get(OLD), NEW, NOW)
    # THEN the new key carries the write: the first transaction was refused (the old item changed), a second went
    assert raw(store, NEW) == {**raw_after(write), "conversation": {"S": NEW}}
    assert len(calls) == 2
    assert moved == store.get(NEW) and raw(store, OLD)["alias_of"] == {"S": NEW}


def raw_after(write):
    """The old item as it is after `write`, on a table of its own."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_sessions_table(client, "expected")
    expected = SessionsTable("expected", client)
    expected.replace(session(), expected_contact_id=None)
    assert expected.set_numbered_options(OLD, "contact-1", ("Yes", "No"))
    write(expected)
    return client.get_item(TableName="expected", Key={"conversation": {"S": OLD}})["Item"]


def test_a_session_that_keeps_changing_is_not_moved_and_the_move_fails_for_a_retry(store):
    # GIVEN a session the outbound function writes to again whenever the move is about to write
    store.replace(session(), expected_contact_id=None)
    read = store.get(OLD)
    calls = before_each_transaction(
        store, lambda n: store.customer_wrote(OLD, "contact-1", 1_000_000_100.0 + n, f"wamid.{n}")
    )
    # WHEN the session is moved THEN the move gives up after a bounded number of attempts, having written nothing
    with pytest.raises(ConcurrentUpdate):
        store.move(read, NEW, NOW)
    assert len(calls) == MOVE_ATTEMPTS
    assert raw(store, NEW) is None
    assert store.get(OLD).last_customer_message_id == f"wamid.{MOVE_ATTEMPTS - 1}"


def test_two_moves_of_one_session_to_one_number_write_it_once_and_both_return_it(store):
    # GIVEN two deliveries that read the same session; the other one moves it while this one is moving it
    store.replace(session(), expected_contact_id=None)
    read = store.get(OLD)
    other: list = []

    def other_delivery_moves(n):
        if n == 0 and not other:
            other.append(None)
            other[0] = store.move(read, NEW, NOW)

    calls = before_each_transaction(store, other_delivery_moves)
    # WHEN this one's move goes on
    moved = store.move(read, NEW, NOW)
    # THEN both found the session at the new number, moved once
    assert moved == other[0] == store.get(NEW) == store.get(OLD)
    assert moved.conversation == NEW and len(calls) == 2
    # AND a later move of the old read to yet another number finds the session gone from its key: nothing moves
    assert store.move(read, "111222333#15550005555", NOW) is None
    assert store.get(NEW) == moved


def test_a_session_deleted_or_replaced_while_it_is_moved_is_not_moved_nor_written_back(store):
    # GIVEN a session that TTL deletes while the move is under way
    store.replace(session(), expected_contact_id=None)
    read = store.get(OLD)
    deleted = before_each_transaction(
        store, lambda n: n == 0 and store._client.delete_item(TableName=TABLE, Key={"conversation": {"S": OLD}})
    )
    # THEN the move writes nothing: no session under either key
    assert store.move(read, NEW, NOW) is None
    assert (raw(store, OLD), raw(store, NEW), len(deleted)) == (None, None, 1)
    # GIVEN a new chat for the old number (the old read is stale)
    store.replace(session("contact-2"), expected_contact_id=None)
    # THEN the move leaves that chat where it is
    assert store.move(read, NEW, NOW) is None
    assert store.get(OLD) == session("contact-2") and raw(store, NEW) is None


USER_ID = "111222333#US.13491208655302741918"


def test_a_bsuid_alias_to_a_number_that_moved_finds_the_moved_chat_through_both_aliases(store):
    # GIVEN a chat opened under the old number with an alias at the customer's BSUID, then moved to the new number
    store.replace(session(), expected_contact_id=None)
    assert store.alias(USER_ID, of=OLD, expires_at=1_000_003_600, now=NOW)
    moved = store.move(store.get(OLD), NEW, NOW)
    # WHEN the BSUID's key is read (BSUID -> old number -> new number)
    # THEN it finds the moved chat, as a write to that key would
    assert moved is not None and store.get(USER_ID) == moved == store.get(NEW)


def test_an_alias_chain_longer_than_a_write_follows_finds_no_session(store):
    store.replace(session(), expected_contact_id=None)
    chain = [f"111222333#1555000{n:04d}" for n in range(ALIAS_HOPS + 1)]
    for key, target in zip(chain, [*chain[1:], OLD], strict=True):
        assert store.alias(key, of=target, expires_at=1_000_003_600, now=NOW)
    assert store.get(chain[1]) == store.get(OLD) and store.get(chain[0]) is None
