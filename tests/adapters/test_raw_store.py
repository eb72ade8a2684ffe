"""The raw table adapter against moto's DynamoDB (and botocore's Stubber for errors moto cannot produce).

One moto for the module and a fresh table per test: starting moto for every test cost more than most tests take.
A backlog is seeded with batch writes and the transaction limit lowered where a test needs many items: moto snapshots
the whole table for every item of a TransactWriteItems, so hundreds of transactional writes took seconds.
"""

import itertools

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tests.fixtures.tables import create_raw_table
from whatsapp_buffer.adapters import raw_table
from whatsapp_buffer.adapters.raw_table import (
    TRANSACTION_LIMIT,
    RawStore,
    conversation_from_stream_keys,
    message_item,
    message_sort_key,
)
from whatsapp_buffer.buffer.lifecycle import CLAIMED, PENDING, Settlement
from whatsapp_buffer.errors import ConcurrentUpdate, ConfigurationError, MalformedEvent, TransientAwsError
from whatsapp_buffer.model import Conversation, InboundMessage

TABLE = "raw-test"
CONV = Conversation("106540352242922", "16505551234")
T0 = 1_749_416_383.0


_tables = itertools.count()


@pytest.fixture(scope="module")
def dynamodb():
    with mock_aws():
        yield boto3.client("dynamodb")


@pytest.fixture
def store(dynamodb):
    name = f"{TABLE}-{next(_tables)}"
    create_raw_table(dynamodb, name)
    yield RawStore(name, dynamodb)
    dynamodb.delete_table(TableName=name)


def msg(message_id, sent_at=T0, body="hi", received_at=T0 + 2, conversation=CONV):
    return InboundMessage(message_id, conversation, "text", sent_at, {"text": body}, received_at=received_at)


def raw_items(store):
    return store.client.scan(TableName=store.table_name, ConsistentRead=True)["Items"]


def seed_pending(store, messages, now, retention_hours=1):
    """Message items exactly as ingest writes them, in bulk (no control item: the claim path does not read it)."""
    requests = [{"PutRequest": {"Item": message_item(m, now, retention_hours)}} for m in messages]
    for start in range(0, len(requests), 25):
        store.client.batch_write_item(RequestItems={store.table_name: requests[start : start + 25]})


@pytest.fixture
def transaction_sizes(store):
    """The number of items of every TransactWriteItems call the store makes during the test."""
    sizes = []
    event = "provide-client-params.dynamodb.TransactWriteItems"
    store.client.meta.events.register(event, lambda params, **_: sizes.append(len(params["TransactItems"])), "sizes")
    yield sizes
    store.client.meta.events.unregister(event, unique_id="sizes")


def test_first_delivery_is_stored_and_counted_pending_on_the_control_item(store):
    # WHEN a message is stored
    assert store.store_message(msg("wamid.1"), now=T0 + 2, retention_hours=24) is True
    # THEN the control item counts it pending from its arrival
    control = store.read_control(CONV)
    assert (control.pending, control.last_arrival, control.first_pending, control.version) == (1, T0 + 2, T0 + 2, 1)
    # AND the message item has a numeric TTL of arrival + retention
    (item,) = [i for i in raw_items(store) if i["sk"]["S"].startswith("MSG#")]
    assert item["expires_at"] == {"N": str(int(T0 + 2 + 24 * 3600))}
    assert item["status"] == {"S": PENDING}
    assert item["record_type"] == {"S": "message"}


def test_redelivered_message_is_a_no_op_on_both_items(store):
    store.store_message(msg("wamid.1"), now=T0 + 2, retention_hours=24)
    assert store.store_message(msg("wamid.1", body="changed"), now=T0 + 9, retention_hours=24) is False
    control = store.read_control(CONV)
    assert (control.pending, control.last_arrival, control.version) == (1, T0 + 2, 1)
    (stored,) = store.unsent_messages(CONV)
    assert stored.message.content == {"text": "hi"}


def test_a_redelivery_with_another_timestamp_is_still_recognised_by_its_id(store):
    # GIVEN a message stored and already sent
    store.store_message(msg("wamid.1", sent_at=T0), now=T0 + 2, retention_hours=24)
    (stored,) = store.unsent_messages(CONV)
    store.claim(CONV, [stored], "burst-1")
    store.mark_sent(CONV, [stored], "burst-1")
    # WHEN a copy of it comes back carrying a different WhatsApp timestamp
    # THEN it is a duplicate: nothing new is pending, so it can never be sent twice
    assert store.store_message(msg("wamid.1", sent_at=T0 + 5), now=T0 + 60, retention_hours=24) is False
    assert store.unsent_messages(CONV) == []
    assert store.read_control(CONV).version == 1  # the copy did not touch the control item either


def test_later_arrivals_move_last_arrival_but_keep_first_pending(store):
    store.store_message(msg("wamid.1"), now=T0 + 2, retention_hours=24)
    store.store_message(msg("wamid.2", sent_at=T0 + 1), now=T0 + 7, retention_hours=24)
    control = store.read_control(CONV)
    assert (control.pending, control.first_pending, control.last_arrival, control.version) == (2, T0 + 2, T0 + 7, 2)


def test_unsent_messages_come_back_in_whatsapp_order_whatever_the_arrival_order(store):
    # GIVEN messages stored in an arrival order that differs from their WhatsApp timestamps (one a decimal)
    for message_id, sent_at in [("wamid.c", T0 + 10), ("wamid.a", T0), ("wamid.b2", T0 + 5.5), ("wamid.b1", T0 + 5.5)]:
        store.store_message(msg(message_id, sent_at), now=T0 + 20, retention_hours=1)
    # THEN the table's order is (sent_at, message_id)
    assert [s.message.message_id for s in store.unsent_messages(CONV)] == ["wamid.a", "wamid.b1", "wamid.b2", "wamid.c"]


def test_sort_key_is_fixed_width_so_lexical_order_is_numeric_order():
    assert message_sort_key(msg("x", sent_at=9.5)) < message_sort_key(msg("x", sent_at=10.0))
    assert message_sort_key(msg("x", sent_at=T0)) == "MSG#0001749416383.000000#x"


def test_claim_then_mark_sent_leaves_nothing_unsent(store):
    store.store_message(msg("wamid.1"), now=T0, retention_hours=1)
    unsent = store.unsent_messages(CONV)
    store.claim(CONV, unsent, "burst-1")
    assert [(s.status, s.burst_id) for s in store.unsent_messages(CONV)] == [(CLAIMED, "burst-1")]
    store.mark_sent(CONV, unsent, "burst-1")
    store.mark_sent(CONV, unsent, "burst-1")  # repeating it after a retry is harmless
    assert store.unsent_messages(CONV) == []


def test_claiming_an_already_claimed_message_is_a_concurrent_update(store):
    store.store_message(msg("wamid.1"), now=T0, retention_hours=1)
    unsent = store.unsent_messages(CONV)
    store.claim(CONV, unsent, "burst-1")
    with pytest.raises(ConcurrentUpdate):
        store.claim(CONV, unsent, "burst-2")


def test_mark_sent_under_another_burst_id_is_refused(store):
    store.store_message(msg("wamid.1"), now=T0, retention_hours=1)
    unsent = store.unsent_messages(CONV)
    store.claim(CONV, unsent, "burst-1")
    with pytest.raises(ConcurrentUpdate):
        store.mark_sent(CONV, unsent, "burst-other")


def test_claims_over_the_transaction_limit_go_in_several_transactions(store, transaction_sizes, monkeypatch):
    # GIVEN more pending messages than one transaction may write (a lower limit: see the module's docstring)
    monkeypatch.setattr(raw_table, "TRANSACTION_LIMIT", 4)
    seed_pending(store, [msg(f"wamid.{i:03d}", T0 + i) for i in range(10)], now=T0 + 200)
    unsent = store.unsent_messages(CONV)
    assert [s.status for s in unsent] == [PENDING] * 10
    # WHEN they are claimed, then marked sent
    store.claim(CONV, unsent, "big")
    # THEN every one is claimed, in transactions within the limit
    assert {(s.status, s.burst_id) for s in store.unsent_messages(CONV)} == {(CLAIMED, "big")}
    assert len(store.unsent_messages(CONV)) == 10
    store.mark_sent(CONV, unsent, "big")
    assert store.unsent_messages(CONV) == []
    assert transaction_sizes == [4, 4, 2, 4, 4, 2]


def test_the_transaction_limit_is_the_one_dynamodb_declares():
    # botocore does not check a list's maximum, so the service (and moto) would refuse a larger transaction
    shape = boto3.client("dynamodb").meta.service_model.shape_for("TransactWriteItemList")
    assert TRANSACTION_LIMIT == shape.metadata["max"] == 100


def test_settle_writes_the_recomputed_count_only_at_the_expected_version(store):
    store.store_message(msg("wamid.1"), now=T0, retention_hours=1)
    version = store.read_control(CONV).version
    # GIVEN a message arrives after the version was read
    store.store_message(msg("wamid.2"), now=T0 + 3, retention_hours=1)
    # THEN settling on the old version is refused, and on the new one succeeds
    assert store.settle_control(CONV, Settlement(version, pending=0, first_pending=None)) is False
    assert store.read_control(CONV).pending == 2
    assert store.settle_control(CONV, Settlement(version + 1, pending=1, first_pending=T0 + 3)) is True
    control = store.read_control(CONV)
    assert (control.pending, control.first_pending, control.last_arrival) == (1, T0 + 3, T0 + 3)


def test_settle_to_zero_removes_first_pending(store):
    store.store_message(msg("wamid.1"), now=T0, retention_hours=1)
    assert store.settle_control(CONV, Settlement(1, pending=0, first_pending=None)) is True
    control = store.read_control(CONV)
    assert (control.pending, control.first_pending, control.version) == (0, None, 2)


def test_touch_changes_the_control_item_without_changing_what_it_means(store):
    store.store_message(msg("wamid.1"), now=T0, retention_hours=1)
    before = store.read_control(CONV)
    store.touch(CONV)
    assert store.read_control(CONV) == before
    (control_item,) = [i for i in raw_items(store) if i["sk"]["S"] == "CONTROL"]
    assert control_item["tick"] == {"N": "1"}


def test_touching_a_conversation_that_was_never_stored_creates_nothing(store):
    store.touch(CONV)
    assert raw_items(store) == []
    assert store.read_control(CONV).pending == 0


def test_two_numbers_with_one_customer_are_two_conversations(store):
    other = Conversation("107000000000001", CONV.customer)
    store.store_message(msg("wamid.1"), now=T0, retention_hours=1)
    store.store_message(msg("wamid.2", conversation=other), now=T0, retention_hours=1)
    assert [s.message.message_id for s in store.unsent_messages(CONV)] == ["wamid.1"]
    assert [s.message.message_id for s in store.unsent_messages(other)] == ["wamid.2"]


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"pk": "CONV#106540352242922#16505551234", "sk": "CONTROL"}, CONV),
        ({"pk": "CONV#106540352242922#16505551234", "sk": "MSG#0001749416383.000000#x"}, None),
    ],
)
def test_stream_keys_name_the_conversation_of_control_records(keys, expected):
    assert conversation_from_stream_keys(keys) == expected


@pytest.mark.parametrize("keys", [{}, {"pk": "OTHER#1", "sk": "CONTROL"}, {"pk": "CONV#nohash", "sk": "CONTROL"}])
def test_foreign_stream_keys_are_malformed(keys):
    with pytest.raises(MalformedEvent):
        conversation_from_stream_keys(keys)


def stubbed_store():
    client = boto3.client("dynamodb", region_name="us-east-1")
    return RawStore(TABLE, client), Stubber(client)


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("ProvisionedThroughputExceededException", 400, TransientAwsError),
        ("ThrottlingException", 400, TransientAwsError),
        ("InternalServerError", 500, TransientAwsError),
        ("ResourceNotFoundException", 400, ConfigurationError),
    ],
)
def test_aws_failures_are_translated(code, status, error):
    store, stubber = stubbed_store()
    stubber.add_client_error("transact_write_items", service_error_code=code, http_status_code=status)
    with stubber, pytest.raises(error):
        store.store_message(msg("wamid.1"), now=T0, retention_hours=1)


def test_a_transaction_cancelled_by_throttling_is_transient_not_a_duplicate():
    store, stubber = stubbed_store()
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        http_status_code=400,
        response_meta={},
        modeled_fields={"CancellationReasons": [{"Code": "ThrottlingError"}, {"Code": "None"}]},
    )
    with stubber, pytest.raises(TransientAwsError):
        store.store_message(msg("wamid.1"), now=T0, retention_hours=1)
