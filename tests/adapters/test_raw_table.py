"""The raw table adapter against moto's DynamoDB (and botocore's Stubber for errors moto cannot produce).

One moto for the module and a fresh table per test: starting moto for every test cost more than most tests take.
A backlog is seeded with batch writes where a test needs many items: moto snapshots
the whole table for every item of a TransactWriteItems, so hundreds of transactional writes took seconds.
"""

import itertools

import boto3
import pytest
from botocore.exceptions import ClientError, ParamValidationError
from botocore.stub import Stubber
from moto import mock_aws

from tests.fixtures.dynamodb_limits import apply_key_size_limits
from tests.fixtures.tables import create_raw_table
from whatsapp_buffer.adapters.raw_control import TICK_CHUNK_BYTES
from whatsapp_buffer.adapters.raw_messages import message_item, message_sort_key
from whatsapp_buffer.adapters.raw_table import RawTable
from whatsapp_buffer.aggregator.lifecycle import CLAIMED, PENDING, Settlement
from whatsapp_buffer.errors import (
    ConcurrentUpdate,
    ConfigurationError,
    MalformedEvent,
    ReadRefused,
    TransientAwsError,
)
from whatsapp_buffer.model import Conversation, InboundMessage
from whatsapp_buffer.storage_keys import conversation_from_stream_keys, tick_from_stream

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
    yield RawTable(name, dynamodb)
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
    # THEN the order is the timestamps' (the two of one time, received together, by id)
    assert [s.message.message_id for s in store.unsent_messages(CONV)] == ["wamid.a", "wamid.b1", "wamid.b2", "wamid.c"]


def test_messages_of_one_second_come_back_in_arrival_order_not_id_order(store):
    # GIVEN three messages of one WhatsApp second whose random ids sort against the order they came in: two webhooks
    # 0.6 s apart, the second carrying two messages (an album)
    first = msg("wamid.Z", received_at=T0 + 1.0)
    album = [
        InboundMessage("wamid.Y", CONV, "text", T0, {"text": "b"}, received_at=T0 + 1.6, webhook_index=0),
        InboundMessage("wamid.A", CONV, "text", T0, {"text": "c"}, received_at=T0 + 1.6, webhook_index=1),
    ]
    for message in [first, *album]:
        store.store_message(message, now=message.received_at, retention_hours=1)
    # THEN they come back as received: webhook by webhook, each in its messages[] order
    assert [s.message.message_id for s in store.unsent_messages(CONV)] == ["wamid.Z", "wamid.Y", "wamid.A"]
    keys = sorted(item["sk"]["S"] for item in raw_items(store) if item["sk"]["S"].startswith("MSG#"))
    assert [key.rsplit("#", 1)[1] for key in keys] == ["wamid.Z", "wamid.Y", "wamid.A"]


def test_an_item_of_the_older_layout_is_still_read_ordered_quoted_and_refused_again(store):
    # GIVEN a message stored as MSG#<sent_at>#<id> (before a deploy) and one of the same second stored after it
    older = msg("wamid.Z", received_at=T0 + 1.0)
    store.store_message(older, now=T0 + 1.0, retention_hours=1)
    (item,) = [i for i in raw_items(store) if i["sk"]["S"].startswith("MSG#")]
    store.client.delete_item(TableName=store.table_name, Key={"pk": item["pk"], "sk": item["sk"]})
    store.client.put_item(TableName=store.table_name, Item={**item, "sk": {"S": f"MSG#{T0:020.6f}#wamid.Z"}})
    store.store_message(msg("wamid.A", received_at=T0 + 1.5), now=T0 + 1.5, retention_hours=1)
    # THEN the flush reads both in arrival order, a reply still finds the older one, its redelivery is refused
    unsent = store.unsent_messages(CONV)
    assert [s.message.message_id for s in unsent] == ["wamid.Z", "wamid.A"]
    assert unsent[0].store_key == f"MSG#{T0:020.6f}#wamid.Z"
    assert store.stored_message(CONV, "wamid.Z", now=T0 + 2) == older
    assert not store.store_message(msg("wamid.Z", received_at=T0 + 3), now=T0 + 3, retention_hours=1)
    # AND its claim and mark address the item where it is
    store.claim(CONV, unsent, "burst-1")
    store.mark_sent(CONV, store.unsent_messages(CONV), "burst-1")
    assert store.unsent_messages(CONV) == []


def test_sort_key_is_fixed_width_so_lexical_order_is_numeric_order():
    assert message_sort_key(msg("x", sent_at=9.5)) < message_sort_key(msg("x", sent_at=10.0))
    assert message_sort_key(msg("x", received_at=9.5)) < message_sort_key(msg("x", received_at=10.0))
    assert message_sort_key(msg("x", sent_at=9.0, received_at=T0)) < message_sort_key(msg("x", sent_at=10.0))
    assert (
        message_sort_key(msg("x", sent_at=T0, received_at=T0 + 2))
        == "MSG#0001749416383.000000#0001749416385.000000#000000#x"
    )


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


def test_claim_and_mark_sent_are_plain_conditional_writes_half_the_units_of_a_transaction(store, transaction_sizes):
    # DynamoDB bills a transaction two underlying writes of every item, prepare and commit (Developer Guide,
    # transaction-apis.html, "Capacity management for transactions"; bench/cost.py prices it so): the claim and
    # the mark as one UpdateItem per message cost half the write units of the same writes in TransactWriteItems.
    seed_pending(store, [msg(f"wamid.{i:03d}", T0 + i) for i in range(10)], now=T0 + 200)
    unsent = store.unsent_messages(CONV)
    updates = []
    event = "provide-client-params.dynamodb.UpdateItem"
    store.client.meta.events.register(event, lambda params, **_: updates.append(params["Key"]["sk"]["S"]), "updates")
    try:
        # WHEN ten messages are claimed, then marked sent
        store.claim(CONV, unsent, "big")
        assert {(s.status, s.burst_id) for s in store.unsent_messages(CONV)} == {(CLAIMED, "big")}
        store.mark_sent(CONV, unsent, "big")
    finally:
        store.client.meta.events.unregister(event, unique_id="updates")
    # THEN no transaction was written: one UpdateItem per message and transition, in burst order
    assert transaction_sizes == []
    assert updates == [s.store_key for s in unsent] * 2
    assert store.unsent_messages(CONV) == []


def test_a_claim_records_each_message_place_in_its_burst(store):
    seed_pending(store, [msg(f"wamid.{i}", T0 + i) for i in range(3)], now=T0 + 200)
    store.claim(CONV, store.unsent_messages(CONV), "burst-1")
    assert [(s.burst_index, s.burst_size) for s in store.unsent_messages(CONV)] == [(0, 3), (1, 3), (2, 3)]


def test_a_claim_stopped_by_a_message_no_longer_pending_leaves_the_prefix_claimed(store):
    # GIVEN three pending messages, the third taken meanwhile by another burst
    seed_pending(store, [msg(f"wamid.{i}", T0 + i) for i in range(3)], now=T0 + 200)
    unsent = store.unsent_messages(CONV)
    store.claim(CONV, unsent[2:], "other")
    # WHEN the three are claimed together
    with pytest.raises(ConcurrentUpdate):
        store.claim(CONV, unsent, "burst-1")
    # THEN the first two stay claimed at places 0 and 1 (the next flush resends exactly that prefix under its id)
    assert [(s.burst_id, s.burst_index) for s in store.unsent_messages(CONV)] == [
        ("burst-1", 0),
        ("burst-1", 1),
        ("other", 0),
    ]


def test_repeating_a_claim_under_the_same_burst_id_is_not_a_conflict(store):
    # A request DynamoDB applied but whose answer was lost is retried by botocore: the item is then already ours.
    store.store_message(msg("wamid.1"), now=T0, retention_hours=1)
    unsent = store.unsent_messages(CONV)
    store.claim(CONV, unsent, "burst-1")
    store.claim(CONV, unsent, "burst-1")
    assert [(s.status, s.burst_id) for s in store.unsent_messages(CONV)] == [(CLAIMED, "burst-1")]


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


def tick_items(store):
    return sorted((i for i in raw_items(store) if i["sk"]["S"].startswith("TICK")), key=lambda i: i["sk"]["S"])


def listed(item):
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer().deserialize(item["listed"])


def test_a_tick_is_one_item_under_the_anchors_partition_listing_each_image_and_expiring_in_an_hour(store):
    other = Conversation("107000000000001", CONV.customer)
    chunks = store.write_tick(CONV, {CONV.key: [2, T0 + 3, T0 + 1, 7], other.key: None}, now=T0 + 10)
    (item,) = tick_items(store)
    assert chunks == 1
    assert (item["pk"]["S"], item["sk"]["S"], item["record_type"]["S"]) == (f"CONV#{CONV.key}", "TICK", "tick")
    assert listed(item) == {CONV.key: [2, T0 + 3, T0 + 1, 7], other.key: None}
    assert (float(item["written_at"]["N"]), int(item["expires_at"]["N"])) == (T0 + 10, int(T0 + 10 + 3600))
    # AND the control items are not written (a tick is no touch), and nothing else enters the pending-since index
    assert [i["sk"]["S"] for i in raw_items(store)] == ["TICK"]
    assert "waiting" not in item


def test_rewriting_the_same_tick_still_changes_the_item_so_it_writes_a_stream_record(store):
    """Assumed, not documented (no DynamoDB page found says so): a write that changes nothing emits no stream
    record. `written_at` makes two ticks with the same list two different items either way."""
    store.write_tick(CONV, {CONV.key: [1, T0, T0, 1]}, now=T0 + 1)
    (before,) = tick_items(store)
    store.write_tick(CONV, {CONV.key: [1, T0, T0, 1]}, now=T0 + 2)
    (after,) = tick_items(store)
    assert before != after


def test_a_large_tick_is_cut_in_chunks_each_under_the_item_size_limit_and_none_lost(store):
    """DynamoDB Developer Guide, "Service, account, and table quotas": "The maximum item size in DynamoDB is 400 KB,
    which includes both attribute name binary length (UTF-8 length) and attribute value lengths" (moto refuses a
    bigger item as DynamoDB does). A Lambda invoke payload is at most 6 MB, so a tick chunk stays near 300 KB."""
    from bench.dynamodb_units import item_size

    images = {
        f"{106540352242922 + i % 50}#{100000000000000 + i}": [50, 1767225601.123456, 1767225541.654321, 123456]
        for i in range(7_000)
    }
    chunks = store.write_tick(CONV, images, now=T0)
    items = tick_items(store)
    assert chunks == len(items) >= 2
    assert [i["sk"]["S"] for i in items] == sorted(f"TICK#{n}" for n in range(1, chunks + 1))
    assert all(item_size(i) < TICK_CHUNK_BYTES < 400 * 1024 for i in items)
    merged = {}
    for item in items:
        merged.update({k: [float(v) for v in image] for k, image in listed(item).items()})
    assert merged == images


def test_tick_records_name_their_anchor_and_list_other_records_are_no_ticks():
    image = {"pk": f"CONV#{CONV.key}", "sk": "TICK#2", "record_type": "tick", "listed": {CONV.key: None}}
    assert tick_from_stream({"pk": image["pk"], "sk": "TICK#2"}, image) == (CONV.key, {CONV.key: None})
    assert tick_from_stream({"pk": image["pk"], "sk": "CONTROL"}, image) is None
    assert tick_from_stream({"pk": image["pk"], "sk": "TICK"}, None) is None  # a REMOVE: no NewImage
    with pytest.raises(MalformedEvent):
        tick_from_stream({"pk": "OTHER#1", "sk": "TICK"}, image)


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
    return RawTable(TABLE, client), Stubber(client)


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


@pytest.mark.parametrize(
    ("operation", "use"),
    [
        ("get_item", lambda store: store.read_control(CONV)),
        ("query", lambda store: store.unsent_messages(CONV)),
        ("update_item", lambda store: store.touch(CONV)),
    ],
    ids=["read", "query", "conditional write"],
)
def test_a_request_the_sdk_refuses_reaches_the_handler_guard_as_it_is_not_as_unreachable(
    store, monkeypatch, operation, use
):
    # The contract (tests/adapters/test_aws_errors.py): "A ParamValidationError anywhere is a clear, logged failure, not
    # a silent retry loop": botocore raises it before sending, so the handler's guard must see it, not an "unreachable".
    refused = ParamValidationError(report="Unknown parameter in input")

    def refuse(**_: object) -> None:
        raise refused

    monkeypatch.setattr(store.client, operation, refuse)
    with pytest.raises(ParamValidationError) as raised:
        use(store)
    assert raised.value is refused


@pytest.fixture
def key_size_limits(store):
    remove = apply_key_size_limits(store.client)
    yield
    remove()


@pytest.mark.parametrize(("sort_key_bytes", "refused"), [(1024, False), (1025, True)])
def test_the_tests_dynamodb_refuses_a_read_of_a_sort_key_over_1024_bytes(
    store, key_size_limits, sort_key_bytes, refused
):
    """DynamoDB Developer Guide, "Constraints in Amazon DynamoDB": "The minimum length of a sort key value is 1 byte.
    The maximum length is 1024 bytes."; DynamoDB answers a GetItem over it "ValidationException: One or more parameter
    values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes" (captured in
    ExtendDB/extenddb pull request 194). botocore's model is silent (GetItem declares no ValidationException)."""
    key = {"pk": {"S": "CONV#x"}, "sk": {"S": "é" * (sort_key_bytes // 2) + "s" * (sort_key_bytes % 2)}}
    if not refused:
        assert "Item" not in store.client.get_item(TableName=store.table_name, Key=key)
        return
    with pytest.raises(ClientError, match="range keys has exceeded the size limit of 1024 bytes"):
        store.client.get_item(TableName=store.table_name, Key=key)


def test_a_quote_lookup_dynamodb_refuses_as_invalid_is_a_refused_read_not_a_botocore_error(store, key_size_limits):
    # GIVEN DynamoDB's key size limit WHEN a relayed message is looked up under an id of 256 four-byte characters
    with pytest.raises(ReadRefused) as raised:
        store.said(CONV, "\U0001f600" * 256, T0)
    # THEN the refusal is the project's error, naming the lookup and DynamoDB's code
    assert "read a relayed message" in str(raised.value) and raised.value.code == "ValidationException"
