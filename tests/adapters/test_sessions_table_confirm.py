"""sessions: what the lagging `by-contact` index gives is confirmed by a strongly consistent read of the table, on moto.

The index may answer an item as it was before a move, from botocore's DynamoDB model, Query `ConsistentRead`:
"Strongly consistent reads are not supported on global secondary indexes." The Developer Guide (DynamoDB read
consistency): "All reads from GSIs and streams are eventually consistent" and, of such reads, "the responses may not
reflect the results of a recently completed write operation"; the table's own read is current: "If you set
ConsistentRead to true, DynamoDB returns a response with the most up-to-date data, reflecting the updates from all
prior write operations that were successful." moto's index is consistent, so `lagging_index` makes it answer the item
as it was before the move. Cost, Developer Guide (read and write operations): "A strongly consistent read request of
an item up to 4 KB requires one read unit."
"""

import pytest

from tests.adapters.test_sessions_table_alias_writes import NEW, NEWER, NOW, OLD, lagging_index, session
from tests.fixtures.sessions import TABLE, sessions_table
from whatsapp_buffer.adapters.sessions_table import ALIAS_HOPS

NEWEST = "111222333#15550007777"


@pytest.fixture
def store():
    yield from sessions_table()


def get_calls(store):
    calls = []
    store._client.meta.events.register(
        "provide-client-params.dynamodb.GetItem", lambda params, **_: calls.append(dict(params))
    )
    return calls


def moved_through(store, *keys):
    """The chat of `session()` under OLD, moved to each of `keys` in turn while the index still answers OLD."""
    store.replace(session(), expected_contact_id=None)
    lagging_index(store)
    moved = store.get(OLD)
    for key in keys:
        moved = store.move(moved, key, NOW)
        assert moved is not None
    return moved


def test_an_unmoved_session_is_confirmed_by_one_consistent_read_of_its_key(store):
    store.replace(session(), expected_contact_id=None)
    found = store.get_by_contact("contact-1")
    calls = get_calls(store)
    assert store.confirm(found) == found
    assert calls == [{"TableName": TABLE, "Key": {"conversation": {"S": OLD}}, "ConsistentRead": True}]


def test_a_session_the_lagging_index_gives_under_the_old_number_is_confirmed_under_the_new_one(store):
    # GIVEN a chat moved to the new number, the index still answering the old key's item as it was before the move
    moved = moved_through(store, NEW)
    found = store.get_by_contact("contact-1")
    assert found.conversation == OLD and found == session()  # a whole session, not the alias the old key is now
    calls = get_calls(store)
    # WHEN the session is confirmed
    # THEN it is the moved one, under the new number, after one read of each key
    assert store.confirm(found) == moved
    assert moved.conversation == NEW
    assert [c["Key"]["conversation"]["S"] for c in calls] == [OLD, NEW]


def test_a_chat_moved_as_often_as_a_write_follows_is_confirmed_where_it_is(store):
    moved = moved_through(store, NEW, NEWER)
    assert store.confirm(store.get_by_contact("contact-1")) == moved and ALIAS_HOPS == 2


def test_an_alias_chain_longer_than_the_hop_limit_confirms_nothing(store):
    # GIVEN a chat moved three times: the old key is an alias of an alias of an alias
    moved_through(store, NEW, NEWER, NEWEST)
    calls = get_calls(store)
    # WHEN the session the index gives under the old key is confirmed
    # THEN it is not: the reads stop after ALIAS_HOPS aliases, as a write's do
    assert store.confirm(store.get_by_contact("contact-1")) is None
    assert [c["Key"]["conversation"]["S"] for c in calls] == [OLD, NEW, NEWER]


def test_a_session_gone_since_the_index_read_confirms_nothing(store):
    # GIVEN a session the index still answers, deleted from the table since (TTL)
    store.replace(session(), expected_contact_id=None)
    lagging_index(store)
    store._client.delete_item(TableName=TABLE, Key={"conversation": {"S": OLD}})
    # THEN it is not confirmed
    assert store.confirm(store.get_by_contact("contact-1")) is None


def test_a_key_that_is_another_chats_by_now_confirms_nothing(store):
    # GIVEN the old key's chat ended and replaced by another chat, the index still answering the first
    store.replace(session(), expected_contact_id=None)
    lagging_index(store)
    assert store.end(OLD, "contact-1", NOW)
    store.replace(session("contact-2"), expected_contact_id="contact-1")
    # THEN the first chat's session is not confirmed: its key is another chat's
    assert store.confirm(store.get_by_contact("contact-1")) is None


def test_an_alias_to_a_key_that_is_another_chats_by_now_confirms_nothing(store):
    # GIVEN the chat moved to the new number, whose session is another chat's since
    moved_through(store, NEW)
    assert store.end(NEW, "contact-1", NOW)
    store.replace(session("contact-2", conversation=NEW), expected_contact_id="contact-1")
    # THEN the first chat's session is not confirmed
    assert store.confirm(store.get_by_contact("contact-1")) is None
